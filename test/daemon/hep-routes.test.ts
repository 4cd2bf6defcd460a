/**
 * Issue #20: a call replayed to the daemon over HEP (`spoofwatch hep-send`, UDP and `--tcp`).
 * - Frame numbers of HEP/TCP messages: each HEP packet is a frame of the listener, as each datagram is on the HEP UDP
 *   listener (they used to carry the number of the socket read that delivered them: a fast sender put a whole call
 *   in one read, so every message of it was "frame 2" and every one was marked offending).
 * - One message, one row: replayed over HEP UDP and then HEP TCP, each message of a call is once in its evidence,
 *   with the two routes it arrived by; the alerts are those of one replay (no rule counts a copy twice); the pcap
 *   has one packet per row. The same with a tap (the capture file in the watched folder) and a HEP replay of it.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { parseCapture } from '../../src/sources/capture/index.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFiles } from '../../src/commands/analyze.js';
import type { EvidenceMessageJson } from '../../src/web/api-types.js';
import type { Alert } from '../../src/alerts/alert.js';
import { labConfig, quietDaemon, SCENARIO_PCAP, tempDir, waitFor } from './helpers.js';
import type { DaemonHandle } from '../../src/daemon/daemon.js';

/** The scenario's SIP messages in capture order (what hep-send sends, one HEP packet each): Call-ID and bytes. */
async function scenarioMessages(): Promise<{ callId: string; raw: string }[]> {
  const out: { callId: string; raw: string }[] = [];
  await runFiles([SCENARIO_PCAP], (e) => void out.push({ callId: e.msg.callId ?? '', raw: e.msg.raw.toString('latin1') }), { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} });
  return out;
}

async function hepSend(port: number, tcp: boolean, captureId: number): Promise<void> {
  const child = spawn(process.execPath, ['dist/cli.js', 'hep-send', SCENARIO_PCAP, '--to', `127.0.0.1:${port}`, ...(tcp ? ['--tcp'] : []), '--capture-id', String(captureId), '--rate', tcp ? '0' : '2000']);
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((res) => child.once('exit', res));
  expect({ code, stderr }).toEqual({ code: 0, stderr: `sent 150 HEP packets to 127.0.0.1:${port} over ${tcp ? 'TCP' : 'UDP'}\n` });
}

interface Detail {
  alert: Alert;
  messages: EvidenceMessageJson[];
}

async function detail(d: DaemonHandle, seq: number): Promise<Detail> {
  return (await (await fetch(`${d.urls.api}/${seq}`)).json()) as Detail;
}

const t = tempDir('spoofwatch-hep-routes-');
let sent: { callId: string; raw: string }[] = [];
beforeAll(async () => {
  sent = await scenarioMessages();
});
afterAll(t.cleanup);

describe('a capture replayed over HEP', () => {
  it('HEP/TCP: each message carries its own frame, its place in the feed (1 … 150, as over UDP)', async () => {
    const d = await quietDaemon(labConfig({ store: join(t.dir, 'tcp.db') }));
    try {
      await hepSend(d.ports.hepTcp!, true, 2002);
      await waitFor(() => d.store.lastSeq() >= 29, 10_000, 'alerts stored');
      const alerts = d.store.query({ limit: 1000 });
      expect(alerts).toHaveLength(29);
      for (const a of alerts) {
        const { messages } = await detail(d, a.seq);
        // The call's messages, each at the frame of its HEP packet: its 1-based place among the packets sent.
        const want = sent.flatMap((m, i) => (m.callId === a.call.callId ? [{ frame: i + 1, raw: m.raw }] : []));
        expect(messages.map((m) => ({ frame: m.frame, raw: m.raw }))).toEqual(want);
        // Only the messages the alert's evidence points at are marked offending (CLI-MULTI-PEER also names a frame of
        // the earlier call from another peer, not in this call); the raising INVITE is one of them.
        const mine = new Set(want.map((m) => m.frame));
        const pointed = [...new Set(a.evidence.map((e) => e.frame!))].filter((f) => mine.has(f));
        expect(messages.filter((m) => m.offending).map((m) => m.frame)).toEqual(pointed);
        expect(pointed.length).toBeGreaterThan(0);
      }
    } finally {
      await d.stop();
    }
  });

  it('over HEP UDP and HEP TCP: each message once in its call\'s evidence with both routes; alerts as one replay', async () => {
    const d = await quietDaemon(labConfig({ store: join(t.dir, 'both.db') }));
    try {
      await hepSend(d.ports.hepUdp!, false, 2001);
      await waitFor(() => d.sources().find((s) => s.name === 'hep-udp')!.counters.sipMessages >= 150, 10_000, 'UDP replay read');
      await waitFor(() => d.store.lastSeq() >= 29, 10_000, 'alerts of the UDP replay');
      const once = d.store.query({ limit: 1000 }).map((a) => `${a.seq} ${a.call.callId} ${a.rule}`);
      expect(once).toHaveLength(29);
      await hepSend(d.ports.hepTcp!, true, 2002);
      // The TCP copies have arrived once the hep-tcp listener counted 150 SIP messages.
      await waitFor(() => d.sources().find((s) => s.name === 'hep-tcp')!.counters.sipMessages >= 150, 10_000, 'TCP replay read');
      await new Promise((r) => setTimeout(r, 300));
      expect(d.store.query({ limit: 1000 }).map((a) => `${a.seq} ${a.call.callId} ${a.rule}`)).toEqual(once);

      const agents = new Set<string>();
      for (const a of d.store.query({ limit: 1000 })) {
        const { messages } = await detail(d, a.seq);
        const want = sent.flatMap((m, i) => (m.callId === a.call.callId ? [{ frame: i + 1, raw: m.raw }] : []));
        // Once each, at the frame of the first arrival (the UDP datagram), with the UDP then the TCP route.
        expect(messages.map((m) => ({ frame: m.frame, raw: m.raw }))).toEqual(want);
        for (const m of messages) {
          expect(m.routes).toEqual([
            { feed: 'udp', agent: expect.stringMatching(/^127\.0\.0\.1:\d+$/), captureId: 2001 },
            { feed: 'tcp', agent: expect.stringMatching(/^127\.0\.0\.1:\d+$/), captureId: 2002 },
          ]);
          agents.add(JSON.stringify(m.routes));
        }
        const pcap = parseCapture(Buffer.from(await (await fetch(`${d.urls.api}/${a.seq}/pcap`)).arrayBuffer()));
        expect(pcap.error).toBeUndefined();
        expect(pcap.frames).toHaveLength(want.length);
      }
      // One UDP sender and one TCP connection: the same two routes on every message.
      expect(agents.size).toBe(1);
    } finally {
      await d.stop();
    }
  });

  it('a tap (the capture in the watched folder) and HEP: each message once, routes tap and the agent, at its capture frame', async () => {
    mkdirSync(join(t.dir, 'in'));
    const d = await quietDaemon(labConfig({ store: join(t.dir, 'tap.db'), watch: join(t.dir, 'in') }));
    try {
      copyFileSync(SCENARIO_PCAP, join(t.dir, 'in', 'scenario.pcapng'));
      await waitFor(() => d.sources().find((s) => s.name === 'watch')!.counters.sipMessages >= 150, 10_000, 'capture read');
      await waitFor(() => d.store.lastSeq() >= 29, 10_000, 'alerts of the capture');
      await hepSend(d.ports.hepUdp!, false, 2001);
      await waitFor(() => d.sources().find((s) => s.name === 'hep-udp')!.counters.sipMessages >= 150, 10_000, 'HEP replay read');
      await new Promise((r) => setTimeout(r, 300));
      const alerts = d.store.query({ limit: 1000 });
      expect(alerts).toHaveLength(29);
      const frames = new Map<string, number[]>();
      await runFiles([SCENARIO_PCAP], (e) => void frames.set(e.msg.callId ?? '', [...(frames.get(e.msg.callId ?? '') ?? []), e.meta.frame]), { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} });
      for (const a of alerts) {
        const { messages } = await detail(d, a.seq);
        expect(messages.map((m) => m.frame)).toEqual(frames.get(a.call.callId));
        for (const m of messages) expect(m.routes).toEqual(['tap', { feed: 'udp', agent: expect.stringMatching(/^127\.0\.0\.1:\d+$/), captureId: 2001 }]);
      }
    } finally {
      await d.stop();
    }
  });
});
