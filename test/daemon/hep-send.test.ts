/** `spoofwatch hep-send` (used by docker-compose's HEP senders) delivers a capture to the daemon as HEP v3. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { labConfig, quietDaemon, SCENARIO_PCAP, tempDir, waitFor } from './helpers.js';

describe('hep-send → daemon', () => {
  for (const tcp of [false, true]) {
    it(`over ${tcp ? 'TCP' : 'UDP'}: the daemon raises exactly the offline alerts of the capture`, async () => {
      const t = tempDir();
      const config = labConfig({ store: join(t.dir, 'a.db') });
      const d = await quietDaemon(config);
      try {
        const port = tcp ? d.ports.hepTcp! : d.ports.hepUdp!;
        // async: the daemon runs in this process and must keep reading while the sender runs
        const child = spawn(process.execPath, ['dist/cli.js', 'hep-send', SCENARIO_PCAP, '--to', `127.0.0.1:${port}`, ...(tcp ? ['--tcp'] : []), '--rate', '2000']);
        let stderr = '';
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        const code = await new Promise<number | null>((res) => child.once('exit', res));
        const r = { status: code, stderr };
        expect(r.status).toBe(0);
        expect(r.stderr).toBe(`sent 150 HEP packets to 127.0.0.1:${port} over ${tcp ? 'TCP' : 'UDP'}\n`);
        const offline = await analyzeFiles([SCENARIO_PCAP], config);
        const want = offline.alerts.map((a) => `${a.call.callId} ${a.rule} ${a.severity}`).sort();
        await waitFor(() => d.store.lastSeq() >= want.length, 10_000, 'alerts stored');
        const got = d.store.query({ limit: 1000 }).map((a) => `${a.call.callId} ${a.rule} ${a.severity}`).sort();
        expect(got).toEqual(want);
      } finally {
        await d.stop();
        t.cleanup();
      }
    });
  }
});
