/** `spoofwatch hep-send` (used by docker-compose's HEP senders) delivers a capture to the daemon as HEP v3. */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { hepSend } from '../../src/commands/hep-send.js';
import { defaultConfig } from '../../src/config/index.js';
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

  it('reads files as analyze does (same files report: missing, truncated, gzip) and sends every SIP message once', async () => {
    const t = tempDir();
    const captures = join(import.meta.dirname, '../captures');
    const good = join(captures, 'sipp-udp.pcapng');
    const truncated = join(t.dir, 'truncated.pcapng');
    const whole = readFileSync(good);
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const files = [join(t.dir, 'missing.pcap'), truncated, good, join(captures, 'crafted/gzip.pcap.gz')];
    const rx = createSocket('udp4');
    let received = 0;
    rx.on('message', () => received++);
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    try {
      const r = await hepSend(files, { host: '127.0.0.1', port: rx.address().port, tcp: false, captureId: 7, rate: 0 });
      const offline = await analyzeFiles(files, defaultConfig());
      expect(r.report.files).toEqual(offline.files);
      expect(offline.files.map((f) => f.error?.code !== undefined)).toEqual([true, true, false, false]);
      expect(r.sent).toBe(offline.sipMessages);
      expect(r.sent).toBeGreaterThan(10);
      await waitFor(() => received >= r.sent, 5000, 'datagrams received');
      expect(received).toBe(r.sent);
    } finally {
      rx.close();
      t.cleanup();
    }
  });
});
