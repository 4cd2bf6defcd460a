/** Write one bench capture: node dist-bench/bench/gen-cli.js OUT SIP_MESSAGES [RTP_PER_SIP] (for profiling by hand). */
import { generateCapture } from './capture.js';

const [out, n, rtp] = process.argv.slice(2);
if (out === undefined || n === undefined) {
  process.stderr.write('usage: gen-cli OUT SIP_MESSAGES [RTP_PER_SIP]\n');
  process.exit(2);
}
const t0 = Date.now();
const g = generateCapture(out, { sipMessages: Number(n), rtpPerSip: Number(rtp ?? '0') });
process.stdout.write(JSON.stringify({ ...g, ms: Date.now() - t0 }) + '\n');
