/**
 * Issue #19 in the daemon: a flood of INVITEs over loopback UDP from one unknown source (127.0.0.99, ~3 s, bounded)
 * gives one `incident` open message, at most ceil(duration / updateSeconds) + 1 updates, and one close after the
 * quiet period (1.5 s here); the store, /api/incidents, /metrics and `tail --incidents` show the same incident.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTail } from '../../src/commands/tail.js';
import type { DaemonHandle } from '../../src/daemon/daemon.js';
import { invite, labConfig, sendUdp, metricValue, quietDaemon, sleep, tempDir, waitFor, WsClient, type IncidentMessage } from '../daemon/helpers.js';

const UPDATE_SECONDS = 0.5;
const QUIET_SECONDS = 1.5;
const RULE = 'SRC-UNKNOWN-PEER';

let daemon: DaemonHandle | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  cleanup?.();
});


const incidentMessages = (c: WsClient): IncidentMessage[] => c.messages.filter((m): m is IncidentMessage => m.type === 'incident');

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('daemon incidents (issue #19)', () => {
  it('a flood from one unknown source: one open, bounded updates, one close after the quiet period; API, metrics and tail agree', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const config = labConfig({ store: `${t.dir}/store.db`, over: { incidents: { quietSeconds: QUIET_SECONDS, updateSeconds: UPDATE_SECONDS, maxOpen: 100, rules: {} } } });
    daemon = await quietDaemon(config);
    const d = daemon;
    const base = `http://127.0.0.1:${d.ports.http}`;

    const both = new WsClient(d.urls.ws);
    const old = new WsClient(d.urls.ws);
    await Promise.all([both.hello(), old.hello()]);
    both.send({ type: 'subscribe', rules: [RULE], streams: ['alerts', 'incidents'] });
    old.send({ type: 'subscribe', rules: [RULE] });
    await waitFor(() => both.messages.some((m) => m.type === 'subscribed') && old.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed');
    const tailLines: string[] = [];
    const tail = startTail({ url: d.urls.ws, incidents: true, out: (l) => tailLines.push(l), err: () => undefined });

    // The flood: 25 INVITEs every 200 ms for ~3 s, each a new call, from 127.0.0.99 (matches no peer).
    const started = Date.now();
    let sent = 0;
    let midFloodOpen = NaN;
    for (let burst = 0; burst < 15; burst++) {
      const batch: Buffer[] = [];
      for (let i = 0; i < 25; i++) batch.push(invite(`flood-${burst}-${i}@127.0.0.99`, { srcIp: '127.0.0.99', from: `+3130123${String(4000 + ((burst * 25 + i) % 60))}` }));
      await sendUdp(d.ports.sipUdp!, batch, '127.0.0.99');
      sent += batch.length;
      if (burst === 8) midFloodOpen = metricValue(await (await fetch(d.urls.metrics)).text(), 'spoofwatch_incidents_open', { rule: RULE });
      await sleep(200);
    }
    const duration = (Date.now() - started) / 1000;
    await waitFor(() => both.alerts.length === sent, 10_000, 'every alert');
    await waitFor(() => incidentMessages(both).some((m) => m.event === 'close'), 10_000, 'the close message');
    const closedAt = Date.now();

    const msgs = incidentMessages(both);
    const opens = msgs.filter((m) => m.event === 'open');
    const updates = msgs.filter((m) => m.event === 'update');
    const closes = msgs.filter((m) => m.event === 'close');
    expect(opens).toHaveLength(1);
    expect(closes).toHaveLength(1);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(Math.ceil(duration / UPDATE_SECONDS) + 1);
    const open = opens[0]!.incident;
    const closed = closes[0]!.incident;
    expect([open.rule, open.key, open.state, open.count]).toEqual([RULE, { src: '127.0.0.99' }, 'open', 1]);
    const alertSeqs = both.alerts.map((a) => a.seq);
    expect(open.firstAlertSeq).toBe(alertSeqs[0]);
    expect(closed).toMatchObject({ id: open.id, rule: RULE, key: { src: '127.0.0.99' }, state: 'closed', count: sent, severity: 'medium', distinctPresented: 60, distinctCalled: 1 });
    expect([closed.firstAlertSeq, closed.lastAlertSeq]).toEqual([alertSeqs[0], alertSeqs[alertSeqs.length - 1]]);
    expect(closed.sampleAlertSeqs).toEqual(alertSeqs.slice(0, 5));
    // Updates only grow, and the last message carries the final count.
    const counts = msgs.map((m) => m.incident.count);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    // The close comes after the quiet period, not long after it (timer 250 ms).
    const lastSeenMs = Date.parse(closed.lastSeen);
    expect(closedAt - lastSeenMs).toBeGreaterThanOrEqual(QUIET_SECONDS * 1000);
    expect(closedAt - lastSeenMs).toBeLessThan(QUIET_SECONDS * 1000 + 3000);
    // An old client (no streams in subscribe) gets alerts only.
    expect(old.messages.filter((m) => m.type === 'incident')).toEqual([]);
    expect(old.alerts).toHaveLength(sent);

    // /metrics: open during the flood, none once closed.
    expect(midFloodOpen).toBe(1);
    expect(metricValue(await (await fetch(d.urls.metrics)).text(), 'spoofwatch_incidents_open', { rule: RULE })).toBeNaN();

    // HTTP: the list with its filters, and the incident with its alerts paged.
    const list = await getJson(`${base}/api/incidents?state=closed&rule=${RULE}`);
    expect(list.status).toBe(200);
    expect(list.body['incidents']).toEqual([closed]);
    expect((await getJson(`${base}/api/incidents?state=open&rule=${RULE}`)).body['incidents']).toEqual([]);
    expect((await getJson(`${base}/api/incidents?since=${new Date(lastSeenMs + 1000).toISOString()}&rule=${RULE}`)).body['incidents']).toEqual([]);
    expect((await getJson(`${base}/api/incidents?state=maybe`)).status).toBe(400);
    const page1 = await getJson(`${base}/api/incidents/${closed.id}?limit=100`);
    expect(page1.status).toBe(200);
    const a1 = page1.body['alerts'] as { seq: number; rule: string; network: { src: string } }[];
    expect(a1.map((a) => a.seq)).toEqual(alertSeqs.slice(0, 100));
    expect(a1.every((a) => a.rule === RULE && a.network.src.startsWith('127.0.0.99:'))).toBe(true);
    expect(page1.body['next']).toBe(alertSeqs[99]);
    const rest = await getJson(`${base}/api/incidents/${closed.id}?limit=1000&after=${String(page1.body['next'])}`);
    expect((rest.body['alerts'] as { seq: number }[]).map((a) => a.seq)).toEqual(alertSeqs.slice(100));
    expect((await getJson(`${base}/api/incidents/999999`)).status).toBe(404);

    // tail --incidents printed the incidents of every rule; the SRC-UNKNOWN-PEER one opened and closed.
    tail.stop();
    await tail.done;
    expect(tailLines.filter((l) => l.includes(` ${RULE} `) && / OPEN /.test(l))).toHaveLength(1);
    expect(tailLines.find((l) => l.includes(` ${RULE} `) && / CLOSE /.test(l))).toMatch(
      new RegExp(`^incident #${closed.id} CLOSE +MEDIUM +${RULE} src=127\\.0\\.0\\.99 alerts=${sent} callers=60 called=1 `),
    );
    await Promise.all([both.close(), old.close()]);
  }, 40_000);

  it('grouping does not delay the first alert: its alert frame precedes its incident open frame on the WebSocket', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    daemon = await quietDaemon(labConfig({ store: `${t.dir}/store.db`, over: { incidents: { quietSeconds: 3600, updateSeconds: 5, maxOpen: 100, rules: {} } } }));
    const d = daemon;
    const ws = new WsClient(d.urls.ws);
    await ws.hello();
    ws.send({ type: 'subscribe', rules: [RULE], streams: ['alerts', 'incidents'] });
    await waitFor(() => ws.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed');
    // 20 new unknown sources, 10 calls each, all sent at once: many alerts per commit, 20 incidents opening.
    const sources = Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`);
    await Promise.all(sources.map((ip) => sendUdp(d.ports.sipUdp!, Array.from({ length: 10 }, (_, k) => invite(`first-${k}@${ip}`, { srcIp: ip, from: `+3130123${String(5000 + k)}` })), ip)));
    await waitFor(() => ws.alerts.length === 200 && incidentMessages(ws).filter((m) => m.event === 'open').length === 20, 10_000, 'alerts and opens');
    const at = new Map(ws.messages.map((m, i) => [m.type === 'alert' ? `a${m.alert!.seq}` : m.type === 'incident' ? `${String(m['event'])}${(m as IncidentMessage).incident.id}` : `x${i}`, i]));
    const opens = incidentMessages(ws).filter((m) => m.event === 'open');
    expect(opens.map((m) => m.incident.key.src).sort()).toEqual([...sources].sort());
    for (const o of opens) expect(at.get(`a${o.incident.firstAlertSeq}`)!).toBeLessThan(at.get(`open${o.incident.id}`)!);
    await ws.close();
  }, 30_000);
});
