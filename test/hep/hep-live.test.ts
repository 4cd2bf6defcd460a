/**
 * Issue #16 point 6, live: the daemon's HEP listeners read v1/v2 (UDP and TCP), log the first undecodable packet of
 * each agent once (address, reason, first bytes), report a source whose agent has every packet rejected as degraded
 * in /healthz, and count non-SIP HEP by payload type (/metrics), not as anomalies.
 */
import { Writable } from 'node:stream';
import { join } from 'node:path';
import winston from 'winston';
import { describe, expect, it } from 'vitest';
import { encodeHep, encodeHepV12, type HepPacket } from '../../src/decode/hep.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { invite, labConfig, metricValue, sendTcp, sendUdp, tempDir, waitFor } from '../daemon/helpers.js';

function capturingLogger(): { logger: winston.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines };
}

const packet = (callId: string, from: string): HepPacket => ({
  ipFamily: 4,
  ipProtocol: 17,
  src: { ip: '127.0.0.13', port: 5099 },
  dst: { ip: '127.0.0.1', port: 5060 },
  ts: { sec: 1_767_225_600, nsec: 0 },
  payloadType: 1,
  captureId: 2001,
  payload: invite(callId, { from, srcIp: '127.0.0.13' }),
});

describe('HEP listeners, live', () => {
  it('v1 and v2 over UDP and TCP raise alerts naming the agent; hlog/RTCP are counted by payload type', async () => {
    const t = tempDir();
    const { logger } = capturingLogger();
    const d = await startDaemon({ config: labConfig({ store: join(t.dir, 'a.db') }), logger, closeGraceMs: 500 });
    try {
      await sendUdp(d.ports.hepUdp!, [encodeHepV12(packet('live-v1-udp', '+31703456789'), 1), encodeHepV12(packet('live-v2-udp', '+31703456789'), 2)], '127.0.0.51');
      await sendTcp(d.ports.hepTcp!, [
        Buffer.concat([encodeHepV12(packet('live-v1-tcp', '+31703456789'), 1), encodeHepV12(packet('live-v2-tcp', '+31703456789'), 2).subarray(0, 50)]),
        Buffer.concat([encodeHepV12(packet('live-v2-tcp', '+31703456789'), 2).subarray(50), encodeHep({ ...packet('x', '+1'), payloadType: 100, payload: Buffer.from('hlog line') })]),
        encodeHep({ ...packet('x', '+1'), payloadType: 5, payload: Buffer.from('{"rtcp":1}') }),
      ], { srcIp: '127.0.0.52' });
      const calls = ['live-v1-tcp', 'live-v1-udp', 'live-v2-tcp', 'live-v2-udp'];
      await waitFor(() => calls.every((c) => d.store.query({ limit: 100 }).some((a) => a.call.callId === c && a.rule === 'CLI-PROTECTED')), 5000, 'alerts');
      const protectedAlerts = d.store
        .query({ limit: 100 })
        .filter((a) => a.rule === 'CLI-PROTECTED')
        .map((a) => [a.call.callId, a.network.src, a.network.agent?.address.replace(/:\d+$/, ''), a.network.agent?.captureId ?? null])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
      expect(protectedAlerts).toEqual([
        ['live-v1-tcp', '127.0.0.13:5099', '127.0.0.52', null],
        ['live-v1-udp', '127.0.0.13:5099', '127.0.0.51', null],
        ['live-v2-tcp', '127.0.0.13:5099', '127.0.0.52', 2001],
        ['live-v2-udp', '127.0.0.13:5099', '127.0.0.51', 2001],
      ]);
      const tcp = d.sources().find((s) => s.name === 'hep-tcp')!;
      expect(tcp.hepNotSip).toEqual({ '100': 1, '5': 1 });
      expect(tcp.counters.anomalies).toEqual({});
      const metrics = await (await fetch(d.urls.metrics)).text();
      expect(metricValue(metrics, 'spoofwatch_hep_not_sip_total', { source: 'hep-tcp', payload_type: '100' })).toBe(1);
      expect(metricValue(metrics, 'spoofwatch_hep_not_sip_total', { source: 'hep-tcp', payload_type: '5' })).toBe(1);
      expect(d.health().ok).toBe(true);
    } finally {
      await d.stop();
      t.cleanup();
    }
  });

  it('an agent whose every packet is rejected is logged once and makes /healthz degraded; a healthy agent is not', async () => {
    const t = tempDir();
    const { logger, lines } = capturingLogger();
    const d = await startDaemon({ config: labConfig({ store: join(t.dir, 'a.db') }), logger, closeGraceMs: 500 });
    try {
      // HEP v4 does not exist: every packet of this agent is undecodable.
      const bad = Buffer.from('HEP4\x00\x20' + 'x'.repeat(26), 'latin1');
      await sendUdp(d.ports.hepUdp!, [bad, bad, bad], '127.0.0.61');
      // Two stray packets are not enough to call a feed degraded (one spoofed datagram must not flip /healthz).
      await sendUdp(d.ports.hepUdp!, [bad, bad], '127.0.0.63');
      await sendUdp(d.ports.hepUdp!, [encodeHep(packet('healthy', '+31301112233'))], '127.0.0.62');
      await waitFor(() => (d.sources().find((s) => s.name === 'hep-udp')?.counters.anomalies['hep.invalid'] ?? 0) === 5, 5000, 'rejections counted');
      await waitFor(() => (d.sources().find((s) => s.name === 'hep-udp')?.counters.hepPackets ?? 0) === 1, 5000, 'healthy packet');
      const logged = lines.filter((l) => String(l['message']).startsWith('HEP packet rejected'));
      expect(logged).toHaveLength(2);
      expect(logged.map((l) => String(l['agent']).replace(/:\d+$/, ''))).toEqual(['127.0.0.61', '127.0.0.63']);
      expect(logged[0]).toMatchObject({ level: 'warn', source: 'hep-udp', reason: 'not HEP3: bad magic', firstBytes: bad.toString('hex'), frame: 1 });
      expect(String(logged[0]!['agent'])).toMatch(/^127\.0\.0\.61:\d+$/);
      const res = await fetch(d.urls.health);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; sources: { name: string; degraded?: string }[] };
      expect(body.status).toBe('degraded');
      const hep = body.sources.find((s) => s.name === 'hep-udp')!;
      expect(hep.degraded).toBe('every HEP packet rejected from 127.0.0.61');
      expect(body.sources.filter((s) => s.degraded !== undefined).map((s) => s.name)).toEqual(['hep-udp']);
      const metrics = await (await fetch(d.urls.metrics)).text();
      expect(metricValue(metrics, 'spoofwatch_hep_agents_rejected', { source: 'hep-udp' })).toBe(1);
    } finally {
      await d.stop();
      t.cleanup();
    }
  });
});
