/**
 * Suppression and thresholds in the daemon (issue #19): INVITEs over loopback UDP from unknown sources
 * (127.0.0.9x, SRC-UNKNOWN-PEER). Every alert is stored, with its mark; WebSocket clients (live and replaying) and
 * the console sink get only the ones that pass, and only those are grouped into incidents. Reloads change the
 * entries while the daemon runs: one adds a suppression, one removes it, and the threshold's track mode changes
 * (by_src → by_peer → by_number), each starting its windows again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import type { Config } from '../../src/config/index.js';
import type { DaemonHandle } from '../../src/daemon/daemon.js';
import type { Incident } from '../../src/incidents/incident.js';
import { invite, labConfig, metricValue, quietDaemon, sendUdp, tempDir, waitFor, WsClient, type IncidentMessage } from '../daemon/helpers.js';

const RULE = 'SRC-UNKNOWN-PEER';

let daemon: DaemonHandle | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  cleanup?.();
});


describe('daemon suppress and threshold (issue #19)', () => {
  it('streams only what passes (WebSocket live and replay, console), stores everything marked; reloads add and remove entries', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const base = labConfig({ store: `${t.dir}/store.db`, over: { incidents: { quietSeconds: 3600, updateSeconds: 0.1, maxOpen: 100, rules: {} } } });
    const withGate = (over: Pick<Config, 'suppress' | 'threshold'>): Config => ({ ...base, ...over });
    const bySrc = [{ rule: RULE, track: 'by_src' as const, count: 3, seconds: 600 }];
    const consoleSeen: Alert[] = [];
    daemon = await quietDaemon(withGate({ suppress: [], threshold: bySrc }), { sinks: [{ name: 'console', deliver: (a: Alert) => void consoleSeen.push(a) }] });
    const d = daemon;
    const ws = new WsClient(d.urls.ws);
    await ws.hello();
    ws.send({ type: 'subscribe', rules: [RULE], streams: ['alerts', 'incidents'] });
    await waitFor(() => ws.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed');

    let n = 0;
    /** Sends one INVITE per source (in order) and waits until its alerts are stored (marked as they were raised). */
    const send = async (...calls: { ip: string; from?: string }[]): Promise<string[]> => {
      const ids: string[] = [];
      for (const c of calls) {
        const id = `gate-${++n}@${c.ip}`;
        ids.push(id);
        await sendUdp(d.ports.sipUdp!, [invite(id, { srcIp: c.ip, from: c.from ?? `+3130124${String(1000 + n)}` })], c.ip);
      }
      await waitFor(() => stored().length >= n, 10_000, `${n} stored alerts`);
      return ids;
    };
    const stored = (): Alert[] => d.store.query({ rule: [RULE], limit: 1000 });
    const mark = (a: Alert): string => (a.suppressed ? 'suppressed' : a.belowThreshold ? 'below' : 'streamed');

    // by_src, 3 in 600 s: the third and later alerts of each source address pass.
    const a98 = await send({ ip: '127.0.0.98' }, { ip: '127.0.0.98' }, { ip: '127.0.0.97' }, { ip: '127.0.0.98' }, { ip: '127.0.0.98' }, { ip: '127.0.0.97' });
    // Reload: suppress 127.0.0.98. Its alerts stop; 127.0.0.97's third passes (same threshold: its window goes on).
    expect(d.reload(withGate({ suppress: [{ rule: RULE, src: '127.0.0.98/32' }], threshold: bySrc }))).toEqual({ ok: true });
    const b = await send({ ip: '127.0.0.98' }, { ip: '127.0.0.97' }, { ip: '127.0.0.98' });
    // Reload: the suppression removed. 127.0.0.98 is past its count: streams again.
    expect(d.reload(withGate({ suppress: [], threshold: bySrc }))).toEqual({ ok: true });
    const c = await send({ ip: '127.0.0.98' });
    // Reload: by_peer, 3 in 600 s (a new window): every unknown source is one key, whatever its address.
    expect(d.reload(withGate({ suppress: [], threshold: [{ rule: RULE, track: 'by_peer', count: 3, seconds: 600 }] }))).toEqual({ ok: true });
    const p = await send({ ip: '127.0.0.96' }, { ip: '127.0.0.95' }, { ip: '127.0.0.94' });
    // Reload: by_number, 2 in 600 s: per presented number, across sources.
    expect(d.reload(withGate({ suppress: [], threshold: [{ rule: RULE, track: 'by_number', count: 2, seconds: 600 }] }))).toEqual({ ok: true });
    const q = await send({ ip: '127.0.0.93', from: '+31301230001' }, { ip: '127.0.0.93', from: '+31301230002' }, { ip: '127.0.0.92', from: '+31301230001' });

    const expectedMarks: [string, string][] = [
      [a98[0]!, 'below'],
      [a98[1]!, 'below'],
      [a98[2]!, 'below'],
      [a98[3]!, 'streamed'],
      [a98[4]!, 'streamed'],
      [a98[5]!, 'below'],
      [b[0]!, 'suppressed'],
      [b[1]!, 'streamed'],
      [b[2]!, 'suppressed'],
      [c[0]!, 'streamed'],
      [p[0]!, 'below'],
      [p[1]!, 'below'],
      [p[2]!, 'streamed'],
      [q[0]!, 'below'],
      [q[1]!, 'below'],
      [q[2]!, 'streamed'],
    ];
    // The store holds every alert, marked.
    expect(stored().map((a) => [a.call.callId, mark(a)])).toEqual(expectedMarks);
    const streamed = expectedMarks.filter(([, m]) => m === 'streamed').map(([id]) => id);
    await waitFor(() => ws.alerts.length >= streamed.length && consoleSeen.length >= streamed.length, 10_000, 'streamed alerts');
    // Live WebSocket and console: exactly the streamed ones, unmarked.
    expect(ws.alerts.map((a) => a.call.callId)).toEqual(streamed);
    expect(consoleSeen.filter((a) => a.rule === RULE).map((a) => a.call.callId)).toEqual(streamed);
    expect(ws.alerts.every((a) => a.suppressed === undefined && a.belowThreshold === undefined)).toBe(true);

    // A client replaying from the start gets the same.
    const replay = new WsClient(d.urls.ws);
    await replay.hello();
    replay.send({ type: 'subscribe', rules: [RULE], since: 0 });
    await waitFor(() => replay.messages.some((m) => m.type === 'subscribed'), 5000, 'replay subscribed');
    expect(replay.alerts.map((a) => a.call.callId)).toEqual(streamed);

    // Incidents group the streamed alerts only: 127.0.0.98 has 3, the others 1 each.
    await waitFor(() => ws.messages.filter((m) => m.type === 'incident').length >= 4, 10_000, 'incident messages');
    await new Promise((r) => setTimeout(r, 500)); // the last rate-limited update (updateSeconds 0.1)
    const last = new Map<number, Incident>();
    for (const m of ws.messages.filter((m): m is IncidentMessage => m.type === 'incident')) last.set(m.incident.id, m.incident);
    expect([...last.values()].map((i) => `${i.key.src} ${i.count}`).sort()).toEqual(['127.0.0.92 1', '127.0.0.94 1', '127.0.0.97 1', '127.0.0.98 3']);
    const inc98 = [...last.values()].find((i) => i.key.src === '127.0.0.98')!;
    const page = await (await fetch(`http://127.0.0.1:${d.ports.http}/api/incidents/${inc98.id}`)).json();
    expect((page as { alerts: Alert[] }).alerts.map((a) => a.call.callId)).toEqual([a98[3], a98[4], c[0]]);
    expect(d.gate.stats()).toMatchObject({ suppressed: 2, belowThreshold: 8 });
    const metrics = await (await fetch(d.urls.metrics)).text();
    expect([metricValue(metrics, 'spoofwatch_alerts_not_streamed_total', { rule: RULE, reason: 'suppressed' }), metricValue(metrics, 'spoofwatch_alerts_not_streamed_total', { rule: RULE, reason: 'below_threshold' })]).toEqual([2, 8]);
    await Promise.all([ws.close(), replay.close()]);
  }, 40_000);

  it('SIGHUP re-reads them from the file: a suppression added, then removed (child process, dist/cli.js)', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const cfgFile = join(t.dir, 'spoofwatch.yaml');
    const common = `sources:
  sip: { host: 127.0.0.1, port: 0, udp: true, tcp: false }
  hep: false
  watch: false
server: { host: 127.0.0.1, port: 0 }
store: { path: store.db }
`;
    writeFileSync(cfgFile, common);
    const child: ChildProcess = spawn(process.execPath, [join(import.meta.dirname, '../../dist/cli.js'), 'daemon', '--config', cfgFile], { cwd: t.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (log += s));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(() => /"ports":\{/.test(log), 20_000, 'daemon start log');
      const ports = JSON.parse(/"ports":(\{[^}]*\})/.exec(log)![1]!) as { http: number; sipUdp: number };
      const ws = new WsClient(`ws://127.0.0.1:${ports.http}/alerts`);
      await ws.hello();
      ws.send({ type: 'subscribe', rules: [RULE] });
      await waitFor(() => ws.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed');
      const call = async (id: string): Promise<void> => sendUdp(ports.sipUdp, [invite(id, { srcIp: '127.0.0.88', from: `+3130124${String(2000 + id.length)}` })], '127.0.0.88');
      const reload = async (yaml: string): Promise<void> => {
        const n = (log.match(/config reloaded/g) ?? []).length;
        writeFileSync(cfgFile, common + yaml);
        child.kill('SIGHUP');
        await waitFor(() => (log.match(/config reloaded/g) ?? []).length > n, 5000, 'reload log');
      };
      await call('h1@test');
      await waitFor(() => ws.alerts.length === 1, 5000, 'first alert');
      await reload('suppress:\n  - { rule: SRC-UNKNOWN-PEER, src: 127.0.0.88/32 }\n');
      await call('h2@test');
      await reload('');
      await call('h3@test');
      await waitFor(() => ws.alerts.length === 2, 5000, 'alert after the suppression is removed');
      expect(ws.alerts.map((a) => a.call.callId)).toEqual(['h1@test', 'h3@test']);
      const stored = (await (await fetch(`http://127.0.0.1:${ports.http}/api/alerts?rule=${RULE}`)).json()) as { alerts: Alert[] };
      expect(stored.alerts.map((a) => `${a.call.callId} ${a.suppressed === true}`)).toEqual(['h1@test false', 'h2@test true', 'h3@test false']);
      await ws.close();
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 40_000);
});
