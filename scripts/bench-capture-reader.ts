/**
 * Quick throughput check of the capture reader (not a timed test; these machines are noisy).
 * Generates ~100 MB captures (pcapng, pcap, pcapng.gz) of SIP-sized packets and reads them with each API.
 *
 *   npx tsc --outDir /tmp/swbench --rootDir . --module nodenext --target es2022 --strict --skipLibCheck \
 *     scripts/bench-capture-reader.ts && node /tmp/swbench/scripts/bench-capture-reader.js [dir]
 */
import { createWriteStream, mkdirSync, statSync, createReadStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { openCapture, readCapture } from '../src/sources/capture/open.js';
import { CaptureParser } from '../src/sources/capture/parser.js';
import { PcapngWriter, PcapWriter, type CaptureSink } from '../src/sources/capture/writer.js';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

const dir = process.argv[2] ?? 'bench/work';
mkdirSync(dir, { recursive: true });
const TARGET = 100 * 1024 * 1024;
/** Incompressible payload pool, so the gzip case measures real inflate work (SIP text compresses ~4x). */
const POOL = randomBytes(4 << 20);
/** Packet sizes: 400..999 bytes like SIP over UDP, or 60..119 with `small` for the per-frame ceiling. */
const small = process.argv[3] === 'small';

async function generate(path: string, make: (sink: CaptureSink) => { add(i: number, b: Buffer): boolean }): Promise<number> {
  const out = createWriteStream(path);
  const w = make(out);
  let bytes = 0;
  let i = 0;
  while (bytes < TARGET) {
    const len = small ? 60 + (i % 60) : 400 + ((i * 7919) % 600);
    const at = (i * 104729) % (POOL.length - 1000);
    const b = POOL.subarray(at, at + len);
    if (!w.add(i, b)) await once(out, 'drain');
    bytes += len + 32;
    i++;
  }
  out.end();
  await once(out, 'finish');
  return i;
}

async function time(label: string, path: string, run: () => Promise<number>): Promise<void> {
  const size = statSync(path).size;
  const t0 = process.hrtime.bigint();
  const frames = await run();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `${label.padEnd(34)} ${frames} frames  ${(size / 1048576).toFixed(0)} MiB on disk  ${s.toFixed(3)} s  ` +
      `${(frames / s / 1000).toFixed(0)}k frames/s  ${(size / 1048576 / s).toFixed(0)} MiB/s`,
  );
}

const ng = join(dir, 'bench.pcapng');
const pc = join(dir, 'bench.pcap');
const gz = join(dir, 'bench.pcapng.gz');
const n = await generate(ng, (sink) => {
  const w = new PcapngWriter({}, sink);
  return { add: (i, b) => w.add({ ts: { sec: 1700000000 + (i >> 10), nsec: (i & 1023) * 1000 }, bytes: b, linkType: 1 }) };
});
await generate(pc, (sink) => {
  const w = new PcapWriter({ linkType: 1, resolution: 'ns' }, sink);
  return { add: (i, b) => w.add({ ts: { sec: 1700000000 + (i >> 10), nsec: (i & 1023) * 1000 }, bytes: b }) };
});
await pipeline(createReadStream(ng), createGzip({ level: 1 }), createWriteStream(gz));
console.log(`gzip file ${(statSync(gz).size / 1048576).toFixed(0)} MiB`);
console.log(`generated ${n} packets per file`);

for (let round = 0; round < 2; round++) {
  const buf = readFileSync(ng);
  await time('parser only, in-memory pcapng, 1 MiB', ng, async () => {
    let c = 0;
    const p = new CaptureParser(() => c++);
    for (let o = 0; o < buf.length; o += 1 << 20) p.push(buf.subarray(o, o + (1 << 20)));
    p.end();
    return c;
  });
  await time('readCapture pcapng (callback)', ng, async () => (await readCapture(ng, () => {})).frames);
  await time('readCapture pcap ns (callback)', pc, async () => (await readCapture(pc, () => {})).frames);
  await time('batches() pcapng', ng, async () => {
    let c = 0;
    for await (const b of openCapture(ng).batches()) c += b.length;
    return c;
  });
  await time('for await frame pcapng', ng, async () => {
    let c = 0;
    for await (const f of openCapture(ng)) c += f.number > 0 ? 1 : 0;
    return c;
  });
  await time('readCapture pcapng.gz (callback)', gz, async () => (await readCapture(gz, () => {})).frames);
}
