/** `hep-send --hep-version 1|2` produces what Kamailio's siptrace sends with `hep_version` 1|2; the daemon reads it. */
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { hepSend } from '../../src/commands/hep-send.js';
import { decodeHep } from '../../src/decode/hep.js';
import { labConfig, quietDaemon, SCENARIO_PCAP, tempDir, waitFor } from '../daemon/helpers.js';

describe('hep-send --hep-version', () => {
  for (const hepVersion of [1, 2] as const) {
    for (const tcp of [false, true]) {
      it(`v${hepVersion} over ${tcp ? 'TCP' : 'UDP'}: the daemon raises the offline alerts of the capture`, async () => {
        const t = tempDir();
        const config = labConfig({ store: join(t.dir, 'a.db') });
        const d = await quietDaemon(config);
        try {
          const port = tcp ? d.ports.hepTcp! : d.ports.hepUdp!;
          const r = await hepSend([SCENARIO_PCAP], { host: '127.0.0.1', port, tcp, captureId: 7, rate: 3000, hepVersion });
          expect(r.sent).toBe(150);
          const offline = await analyzeFiles([SCENARIO_PCAP], config);
          const want = offline.alerts.map((a) => `${a.call.callId} ${a.rule} ${a.severity}`).sort();
          await waitFor(() => d.store.lastSeq() >= want.length, 10_000, 'alerts stored');
          await waitFor(() => d.sources().find((s) => s.name === `hep-${tcp ? 'tcp' : 'udp'}`)?.counters.sipMessages === 150, 5000, 'all messages');
          const got = d.store.query({ limit: 1000 });
          expect(got.map((a) => `${a.call.callId} ${a.rule} ${a.severity}`).sort()).toEqual(want);
          expect(new Set(got.map((a) => a.network.agent?.captureId ?? null))).toEqual(new Set([hepVersion === 1 ? null : 7]));
          // v2 carries the capture time to the microsecond (the capture has nanoseconds).
          const us = (ts: string) => ts.slice(0, 26);
          if (hepVersion === 2) expect(got.map((a) => us(a.captureTs)).sort()).toEqual(offline.alerts.map((a) => us(a.captureTs)).sort());
        } finally {
          await d.stop();
          t.cleanup();
        }
      });
    }
  }

  it('each datagram is one HEP packet of the requested version', async () => {
    const rx = createSocket('udp4');
    const got: Buffer[] = [];
    rx.on('message', (m) => got.push(m));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    try {
      const r = await hepSend([SCENARIO_PCAP], { host: '127.0.0.1', port: rx.address().port, tcp: false, captureId: 70000, rate: 0, hepVersion: 2 });
      await waitFor(() => got.length >= r.sent, 5000, 'datagrams');
      expect(got.map((b) => b[0])).toEqual(new Array(150).fill(2));
      const first = decodeHep(got[0]!);
      // The v2 capture id is 16 bits wide: 70000 is sent as 70000 & 0xffff.
      expect(first.kind === 'ok' && first.value.captureId).toBe(70000 & 0xffff);
    } finally {
      rx.close();
    }
  });
});
