/**
 * The alert stream contract (DESIGN.md §5): resume by seq across a daemon restart without gap or duplicate,
 * a slow consumer closed with 1013 without delaying anyone else, bearer-token auth, loopback-only without
 * tokens, subscribe filters, /api/alerts, /healthz and /metrics, and the `tail` client.
 */
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config/index.js';
import { startDaemon, type DaemonHandle } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/daemon/logger.js';
import { startTail } from '../../src/commands/tail.js';
import { invite, labConfig, metricValue, quietDaemon, sendUdp, sleep, tempDir, waitFor, WsClient } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(over: (c: Config) => Config = (c) => c): { config: Config; dir: string } {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  return { config: over(labConfig({ store: join(tmp.dir, 'store.db') })), dir: tmp.dir };
}

async function start(config: Config, extra: Parameters<typeof quietDaemon>[1] = {}): Promise<DaemonHandle> {
  const d = await quietDaemon(config, extra);
  cleanups.push(() => d.stop());
  return d;
}

function client(url: string, headers?: Record<string, string>): WsClient {
  const c = new WsClient(url, headers);
  cleanups.push(() => void c.ws.terminate());
  return c;
}

/** `n` calls from an unknown source: one SRC-UNKNOWN-PEER alert each. */
async function calls(d: DaemonHandle, prefix: string, n: number, display?: string): Promise<void> {
  const batch: Buffer[] = [];
  for (let i = 0; i < n; i++) batch.push(invite(`${prefix}-${i}@test`, display !== undefined ? { display } : {}));
  await sendUdp(d.ports.sipUdp!, batch, '127.0.0.99');
}

/** Wait until the SIP UDP listener parsed `n` messages in total and every resulting alert is persisted. */
async function ingested(d: DaemonHandle, n: number): Promise<number> {
  await waitFor(() => (d.sources().find((s) => s.name === 'sip-udp')?.counters.sipMessages ?? 0) >= n, 10_000, `${n} SIP messages`);
  await waitFor(() => d.bus.stats().pendingPersist === 0, 5000, 'persisted');
  return d.store.lastSeq();
}

const seqsOf = (c: WsClient) => c.alerts.map((a) => a.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('alert stream', () => {
  it('resume with since across a daemon restart: every alert exactly once, in order', async () => {
    const { config } = setup();
    const d1 = await start(config);
    const a = client(d1.urls.ws);
    expect((await a.hello()).lastSeq).toBe(0);
    await calls(d1, 'r1', 700);
    await waitFor(() => a.alerts.length >= 300, 10_000, 'first alerts');
    // The client goes away mid-stream.
    await a.close();
    const seen = seqsOf(a);
    const lastSeen = seen[seen.length - 1]!;
    expect(seen).toEqual(range(1, lastSeen));
    expect(a.binaryFrames).toBe(0); // alerts are JSON text frames (encoded once, sent as text)
    await ingested(d1, 700);
    await calls(d1, 'r2', 600);
    const before = await ingested(d1, 1300);
    expect(before).toBeGreaterThanOrEqual(1300);
    await d1.stop();

    const d2 = await start(config);
    expect(d2.store.lastSeq()).toBe(before);
    const b = client(d2.urls.ws);
    expect((await b.hello()).lastSeq).toBe(before);
    b.send({ type: 'subscribe', since: lastSeen });
    // Live alerts arrive while the replay (several pages) is still running.
    await calls(d2, 'r3', 400);
    const final = await ingested(d2, 400);
    expect(final).toBeGreaterThanOrEqual(before + 400);
    await waitFor(() => b.alerts.length >= final - lastSeen, 10_000, `resumed alerts (${b.alerts.length})`);
    await sleep(200);
    expect(seqsOf(b)).toEqual(range(lastSeen + 1, final));
    // The replayed history and the live tail are the same alerts the store holds.
    const stored: string[] = [];
    d2.store.replay(lastSeen, {}, (x) => void stored.push(x.id));
    expect(b.alerts.map((x) => x.id)).toEqual(stored);
  });

  it('a slow consumer is closed with 1013 without delaying another client or ingestion; the drop is in /metrics', async () => {
    const { config } = setup((c) => ({
      ...c,
      server: { ...c.server, maxClientBufferBytes: 64 * 1024, slowClientSeconds: 1, heartbeatSeconds: 60 },
      limits: { ...c.limits, sinkQueue: 500 },
    }));
    const d = await start(config, { closeGraceMs: 20_000 });
    const slow = client(d.urls.ws);
    const fast = client(d.urls.ws);
    await slow.hello();
    await fast.hello();
    (slow.ws as unknown as { _socket: Socket })._socket.pause();
    const display = 'X'.repeat(1500);
    let batches = 0;
    let metrics = '';
    for (; batches < 40; batches++) {
      const t0 = Date.now();
      await calls(d, `slow-${batches}`, 300, display);
      const target = await ingested(d, (batches + 1) * 300);
      // The fast client keeps up with ingestion whatever the slow one does.
      await waitFor(() => fast.alerts.length >= target, 5000, `fast client at ${target}`);
      expect(Date.now() - t0).toBeLessThan(5000);
      metrics = await (await fetch(d.urls.metrics)).text();
      if (metricValue(metrics, 'spoofwatch_ws_slow_closed_total') >= 1) break;
    }
    expect(metricValue(metrics, 'spoofwatch_ws_slow_closed_total')).toBe(1);
    expect(metricValue(metrics, 'spoofwatch_sink_dropped_total', { sink: 'websocket' })).toBeGreaterThan(0);
    expect(seqsOf(fast)).toEqual(range(1, d.store.lastSeq()));
    // Once it reads again it finds what was buffered, then the 1013 close.
    (slow.ws as unknown as { _socket: Socket })._socket.resume();
    expect(await slow.closed).toBe(1013);
    const got = seqsOf(slow);
    expect(got.length).toBeLessThan(d.store.lastSeq());
    expect(got).toEqual(range(1, got[got.length - 1] ?? 0));
    // It resumes with since and gets the rest, in order.
    const again = client(d.urls.ws);
    await again.hello();
    const last = got[got.length - 1] ?? 0;
    again.send({ type: 'subscribe', since: last });
    await waitFor(() => again.alerts.length >= d.store.lastSeq() - last, 10_000, 'resumed slow client');
    expect(seqsOf(again)).toEqual(range(last + 1, d.store.lastSeq()));
  });

  it('bearer tokens: missing or wrong token refused with 401, header or ?token= accepted; /healthz stays open', async () => {
    const { config } = setup((c) => ({ ...c, server: { ...c.server, tokens: ['s3cret', 'other'] } }));
    const d = await start(config);
    await expect(client(d.urls.ws).opened).rejects.toThrow('HTTP 401');
    await expect(client(d.urls.ws, { authorization: 'Bearer nope' }).opened).rejects.toThrow('HTTP 401');
    await expect(client(`${d.urls.ws}?token=nope`).opened).rejects.toThrow('HTTP 401');
    const ok1 = client(d.urls.ws, { authorization: 'Bearer s3cret' });
    await ok1.hello();
    const ok2 = client(`${d.urls.ws}?token=other`);
    await ok2.hello();
    expect((await fetch(d.urls.api)).status).toBe(401);
    expect((await fetch(`${d.urls.api}?token=wrong`)).status).toBe(401);
    expect((await fetch(d.urls.metrics)).status).toBe(401);
    expect((await fetch(d.urls.api, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await fetch(d.urls.health)).status).toBe(200);
    const m = await (await fetch(`${d.urls.metrics}?token=s3cret`)).text();
    expect(metricValue(m, 'spoofwatch_auth_failures_total')).toBe(6);
  });

  it('without tokens the server refuses a non-loopback bind', async () => {
    const { config } = setup();
    await expect(
      startDaemon({ config: { ...config, server: { ...config.server, host: '0.0.0.0' } }, logger: createLogger({ silent: true }) }),
    ).rejects.toMatchObject({ code: 'DAEMON_INSECURE_BIND' });
    const r = parseConfig('server: { host: 0.0.0.0 }', 'x.yaml');
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.errors.join('\n')).toMatch(/server\.tokens: required/);
  });

  it('subscribe filters, /api/alerts queries, /healthz and the tail client', async () => {
    const { config } = setup();
    const d = await start(config);
    const filtered = client(d.urls.ws);
    await filtered.hello();
    filtered.send({ type: 'subscribe', minSeverity: 'high' });
    const byRule = client(d.urls.ws);
    await byRule.hello();
    byRule.send({ type: 'subscribe', rules: ['SRC-UNKNOWN-PEER'] });
    const bad = client(d.urls.ws);
    await bad.hello();
    bad.ws.send('not json');
    bad.send({ type: 'subscribe', since: -1 });
    bad.send({ type: 'subscribe', minSeverity: 'huge' });
    const lines: string[] = [];
    const tail = startTail({ url: d.urls.ws, since: 0, out: (l) => lines.push(l), err: () => undefined, initialBackoffMs: 50 });
    cleanups.push(() => tail.stop());
    await sleep(100);
    await calls(d, 'f', 5);
    // A spoofed call presenting a DNO number from a known peer (critical), if the lab has that peer.
    await sendUdp(d.ports.sipUdp!, [invite('dno@test', { from: '+31201234000', srcIp: '127.0.0.11' })], '127.0.0.11');
    await waitFor(() => d.store.lastSeq() >= 6, 5000, 'alerts stored');
    await sleep(200);
    const all = d.store.query({});
    expect(byRule.alerts.map((a) => a.seq)).toEqual(all.filter((a) => a.rule === 'SRC-UNKNOWN-PEER').map((a) => a.seq));
    expect(filtered.alerts.every((a) => a.severity === 'high' || a.severity === 'critical')).toBe(true);
    expect(filtered.alerts.map((a) => a.seq)).toEqual(all.filter((a) => a.severity === 'high' || a.severity === 'critical').map((a) => a.seq));
    expect(bad.messages.filter((m) => m.type === 'error').map((m) => m.code)).toEqual(['BAD_MESSAGE', 'BAD_SUBSCRIBE', 'BAD_SUBSCRIBE']);
    await waitFor(() => lines.length === all.length, 5000, 'tail lines');
    expect(lines[0]).toMatch(/^#1 \S+ MEDIUM +SRC-UNKNOWN-PEER peer=- src=127\.0\.0\.99:\d+\/udp /);
    expect(lines.join('\n')).not.toContain('\x1b[');

    const api = async (q: string) => (await (await fetch(`${d.urls.api}${q}`)).json()) as { alerts: { seq: number; rule: string }[]; lastSeq: number; next: number };
    expect((await api('')).alerts.length).toBe(all.length);
    expect((await api('?since=3')).alerts.map((a) => a.seq)).toEqual(all.filter((a) => a.seq > 3).map((a) => a.seq));
    expect((await api('?limit=2')).alerts.map((a) => a.seq)).toEqual([1, 2]);
    expect((await api('?limit=2')).next).toBe(2);
    expect((await api('?rule=SRC-UNKNOWN-PEER')).alerts.every((a) => a.rule === 'SRC-UNKNOWN-PEER')).toBe(true);
    expect((await api('?minSeverity=critical')).alerts.length).toBe(all.filter((a) => a.severity === 'critical').length);
    expect((await fetch(`${d.urls.api}?since=abc`)).status).toBe(400);
    expect((await fetch(`${d.urls.api}?minSeverity=bad`)).status).toBe(400);
    const h = (await (await fetch(d.urls.health)).json()) as { ok: boolean; sources: { name: string; up: boolean; lastPacket: string | null }[]; store: { writable: boolean } };
    expect(h.ok).toBe(true);
    expect(h.store.writable).toBe(true);
    expect(h.sources.find((s) => s.name === 'sip-udp')?.lastPacket).toMatch(/^\d{4}-/);
    const m = await (await fetch(d.urls.metrics)).text();
    expect(metricValue(m, 'spoofwatch_source_sip_messages_total', { source: 'sip-udp' })).toBe(6);
    expect(metricValue(m, 'spoofwatch_alerts_total', { rule: 'SRC-UNKNOWN-PEER', severity: 'medium' })).toBeGreaterThanOrEqual(5);
    // Unknown sources: the same name in /metrics and in the API filter (issue #20), and the same count.
    const fromUnknown = all.filter((a) => a.network.peer === undefined).length;
    expect(fromUnknown).toBeGreaterThanOrEqual(5);
    expect(metricValue(m, 'spoofwatch_alerts_by_peer_total', { peer: 'unknown' })).toBe(fromUnknown);
    expect(m).not.toContain('peer="none"');
    expect((await api('?peer=unknown')).alerts.length).toBe(fromUnknown);
    expect(metricValue(m, 'spoofwatch_ws_clients')).toBe(4);
    expect(metricValue(m, 'spoofwatch_store_size_bytes')).toBeGreaterThan(0);
    // Labels never carry numbers, addresses or Call-IDs.
    expect(m).not.toMatch(/\+31|127\.0\.0\.99|@test/);
    expect((await fetch(`${d.urls.api.replace('/api/alerts', '/')}`)).status).toBe(200);
  });
});
