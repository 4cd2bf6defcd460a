/**
 * The API the live page's incident view and counters read (issues #19, #20), through the real HTTP server over the
 * scenario capture's alerts: `GET /api/counts`, `GET /api/incidents?order=newest&before=`, `GET
 * /api/incidents/:id/rate`, and the live copy of an open incident winning over its (older) stored copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { IncidentGrouper, INCIDENTS_DEFAULTS, type Incident } from '../../src/incidents/incident.js';
import type { AlertCountsJson, IncidentDetailJson, IncidentListJson, IncidentRateJson } from '../../src/web/api-types.js';
import { AlertStore } from '../../src/sinks/store.js';
import { FINE_BINS, FineHistogram, IncidentRates } from '../../src/web/incident-rate.js';
import { alertCounts, incidentRateResponse, incidentsResponse } from '../../src/web/routes.js';
import { SCENARIO_PCAP, startWebLab, type WebLab } from './lab.js';

describe('incident and counter API over the scenario capture', () => {
  let lab: WebLab;
  let incidents: Incident[];

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${lab.base}${path}`);
    return { status: r.status, body: (await r.json()) as T };
  };

  beforeAll(async () => {
    lab = await startWebLab();
    await lab.feedCapture(SCENARIO_PCAP);
    await lab.settle();
    const g = new IncidentGrouper(INCIDENTS_DEFAULTS);
    for (const a of lab.published) g.observe(a);
    incidents = g.all();
    for (const i of incidents) lab.store.saveIncident(i);
  });

  afterAll(async () => {
    await lab?.close();
  });

  it('GET /api/counts: every stored alert per rule and per peer (unknown sources without a peer), with the lastSeq they include', async () => {
    const { status, body } = await get<AlertCountsJson>('api/counts');
    expect(status).toBe(200);
    const tally = (key: (a: Alert) => string): Map<string, number> => {
      const m = new Map<string, number>();
      for (const a of lab.published) m.set(key(a), (m.get(key(a)) ?? 0) + 1);
      return m;
    };
    expect(new Map(body.rules.map((r) => [r.rule, r.count]))).toEqual(tally((a) => a.rule));
    expect(new Map(body.peers.map((p) => [p.peer ?? '(none)', p.count]))).toEqual(tally((a) => a.network.peer ?? '(none)'));
    expect(body.peers.some((p) => p.peer === undefined)).toBe(true);
    expect(body.lastSeq).toBe(lab.published[lab.published.length - 1]!.seq);
    // Largest first.
    expect(body.rules.map((r) => r.count)).toEqual([...body.rules.map((r) => r.count)].sort((a, b) => b - a));
  });

  it('GET /api/incidents?order=newest pages newest first with before=', async () => {
    const ids = incidents.map((i) => i.id).sort((a, b) => b - a);
    expect(ids.length).toBeGreaterThan(5);
    const p1 = await get<IncidentListJson>('api/incidents?order=newest&limit=3');
    expect(p1.body.incidents.map((i) => i.id)).toEqual(ids.slice(0, 3));
    expect(p1.body.next).toBe(ids[2]);
    const p2 = await get<IncidentListJson>(`api/incidents?order=newest&limit=1000&before=${p1.body.next}`);
    expect(p2.body.incidents.map((i) => i.id)).toEqual(ids.slice(3));
    expect(p2.body.next).toBeUndefined();
    // Without order, as before: ascending.
    expect((await get<IncidentListJson>('api/incidents?limit=1000')).body.incidents.map((i) => i.id)).toEqual([...ids].reverse());
    expect((await get<{ error: string }>('api/incidents?order=sideways')).status).toBe(400);
    expect((await get<{ error: string }>('api/incidents?order=newest&before=-1')).status).toBe(400);
  });

  it('GET /api/incidents/:id/rate: the incident’s stored alerts per capture-time bucket', async () => {
    const big = [...incidents].sort((a, b) => b.count - a.count)[0]!;
    const alerts = lab.store.incidentAlerts(big, 0, 1000);
    expect(alerts).toHaveLength(big.count);
    const { status, body } = await get<IncidentRateJson>(`api/incidents/${big.id}/rate?buckets=10`);
    expect(status).toBe(200);
    const from = Date.parse(big.firstSeen);
    expect(body).toMatchObject({ id: big.id, count: big.count, fromMs: from });
    expect(body.counts).toHaveLength(10);
    // Buckets of whole fine bins (each a power of two of ms), covering firstSeen … lastSeen, none of them wholly past it.
    const span = Date.parse(big.lastSeen) - from + 1;
    expect(body.bucketMs * 10).toBeGreaterThanOrEqual(span);
    expect(body.bucketMs * 9).toBeLessThan(span + body.bucketMs);
    // Each alert in the bucket its capture time falls in.
    const expected = new Array<number>(10).fill(0);
    for (const a of alerts) expected[Math.min(9, Math.floor((Date.parse(a.captureTs) - from) / body.bucketMs))]! += 1;
    expect(body.counts).toEqual(expected);
    expect((await get<IncidentRateJson>(`api/incidents/${big.id}/rate`)).body.counts).toHaveLength(40);
    for (const bad of ['0', '501', 'x', '1.5']) expect((await get<unknown>(`api/incidents/${big.id}/rate?buckets=${bad}`)).status).toBe(400);
    expect((await get<unknown>('api/incidents/999999/rate')).status).toBe(404);
    // A one-alert incident: all in one bucket.
    const single = incidents.find((i) => i.count === 1)!;
    const one = await get<IncidentRateJson>(`api/incidents/${single.id}/rate?buckets=5`);
    expect(one.body.counts).toEqual([1, 0, 0, 0, 0]);
  });

  it('the live copy of an open incident wins over the stored one (stored at most every updateSeconds)', async () => {
    const big = [...incidents].sort((a, b) => b.count - a.count)[0]!;
    // Stored as it was when it opened: one alert.
    const stale: Incident = { ...big, state: 'open', count: 1, lastAlertSeq: big.firstAlertSeq, lastSeen: big.firstSeen };
    lab.store.saveIncident(stale);
    const stored = incidentsResponse({ store: lab.store }, String(big.id), new URLSearchParams()).body as IncidentDetailJson;
    expect(stored.alerts).toHaveLength(1);
    const live = { store: lab.store, liveIncident: (id: number) => (id === big.id ? { ...big, state: 'open' as const } : undefined) };
    const detail = incidentsResponse(live, String(big.id), new URLSearchParams()).body as IncidentDetailJson;
    expect(detail.incident.count).toBe(big.count);
    expect(detail.alerts).toHaveLength(big.count);
    const list = incidentsResponse(live, undefined, new URLSearchParams('state=open')).body as IncidentListJson;
    expect(list.incidents.find((i) => i.id === big.id)?.count).toBe(big.count);
    const rate = (await incidentRateResponse(live, String(big.id), new URLSearchParams('buckets=3'))).body as IncidentRateJson;
    expect(rate.counts.reduce((a, b) => a + b, 0)).toBe(big.count);
    lab.store.saveIncident(big);
  });
});

describe('FineHistogram (the rate behind the sparkline)', () => {
  /** The exact count per bucket for the fromMs/bucketMs a rate reports. */
  const naive = (times: number[], from: number, bucketMs: number, buckets: number): number[] => {
    const c = new Array<number>(buckets).fill(0);
    for (const t of times) c[Math.min(buckets - 1, Math.floor(Math.max(0, t - from) / bucketMs))]! += 1;
    return c;
  };

  it('counts exactly per reported bucket while it widens, fed in several steps as an incident grows', () => {
    const from = Date.parse('2026-11-28T15:00:00Z');
    const h = new FineHistogram(from);
    const times: number[] = [];
    let x = 12345;
    const rnd = (): number => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let t = from;
    for (const step of [50, 400, 3000, 20_000]) {
      for (let i = 0; i < step; i++) {
        t += Math.floor(rnd() * 40); // bursts and gaps, ms
        times.push(t);
        h.add(t);
      }
      for (const buckets of [1, 7, 30, 40]) {
        const r = h.rate(t, buckets);
        expect(r.fromMs).toBe(from);
        expect(r.counts).toEqual(naive(times, from, r.bucketMs, buckets));
        expect(r.counts.reduce((a, b) => a + b, 0)).toBe(times.length);
        expect(r.bucketMs * buckets).toBeGreaterThanOrEqual(t - from + 1);
      }
    }
    expect(h.binMs * FINE_BINS).toBeGreaterThanOrEqual(t - from + 1);
    expect(h.binMs * FINE_BINS).toBeLessThan(2 * (t - from + 1));
  });

  it('puts capture times before firstSeen (out-of-order captures) in the first bucket', () => {
    const h = new FineHistogram(1000);
    h.add(900);
    h.add(1000);
    h.add(1099);
    expect(h.rate(1099, 2)).toEqual({ fromMs: 1000, bucketMs: 50, counts: [2, 1] });
  });
});

describe('IncidentRates over a store (sliced first count, then only new alerts)', () => {
  it('concurrent requests over 50k interleaved alerts of two sources count each alert once; growth adds only the new ones', async () => {
    const store = new AlertStore(':memory:');
    const t0 = Date.parse('2026-11-28T08:00:00Z');
    const mk = (j: number): Alert =>
      ({
        v: 1,
        seq: 0,
        id: `r${j}`,
        ts: new Date(t0 + j * 100).toISOString(),
        captureTs: new Date(t0 + j * 100).toISOString(),
        rule: 'SRC-UNKNOWN-PEER',
        severity: 'medium',
        title: 't',
        summary: 's',
        call: { callId: `r${j}@t`, method: 'INVITE', from: '<sip:+31612345678@x>', to: '<sip:+31301234567@y>', pai: [] },
        presented: { number: '+31612345678', header: 'From' },
        // 192.0.2.1 and 192.0.2.10: the key of one must not match the other (the prefix test ends with the colon).
        network: { src: j % 2 === 0 ? '192.0.2.1:5060' : '192.0.2.10:5060', dst: '192.0.2.9:5060', transport: 'udp', origin: 't' },
        reasons: [],
        evidence: [],
      }) as unknown as Alert;
    try {
      for (let i = 0; i < 50_000; i += 1000) store.commit(Array.from({ length: 1000 }, (_, k) => mk(i + k)));
      const inc: Incident = {
        id: 1,
        rule: 'SRC-UNKNOWN-PEER',
        severity: 'medium',
        key: { src: '192.0.2.1' },
        state: 'open',
        count: 25_000,
        firstSeen: new Date(t0).toISOString(),
        lastSeen: new Date(t0 + 49_998 * 100).toISOString(),
        distinctPresented: 1,
        distinctCalled: 1,
        firstAlertSeq: 1,
        lastAlertSeq: 49_999,
        sampleAlertSeqs: [1],
      };
      const rates = new IncidentRates(store);
      const all = await Promise.all([rates.rate(inc, 25), rates.rate(inc, 25), rates.rate(inc, 50)]);
      for (const r of all) expect(r.counts.reduce((a, b) => a + b, 0)).toBe(25_000);
      // The even alerts j (every 200 ms), each in the bucket of its capture time.
      const expected = new Array<number>(25).fill(0);
      for (let j = 0; j < 50_000; j += 2) expected[Math.min(24, Math.floor((j * 100) / all[0]!.bucketMs))]! += 1;
      expect(all[0]!.counts).toEqual(expected);
      expect(all[1]!.counts).toEqual(expected);
      store.commit(Array.from({ length: 1000 }, (_, k) => mk(50_000 + k)));
      const grown = { ...inc, count: 25_500, lastAlertSeq: 51_000, lastSeen: new Date(t0 + 50_998 * 100).toISOString() };
      const r = await rates.rate(grown, 51);
      expect(r.counts.reduce((a, b) => a + b, 0)).toBe(25_500);
      const other = await rates.rate({ ...inc, id: 2, key: { src: '192.0.2.10' }, lastAlertSeq: 50_000 }, 10);
      expect(other.counts.reduce((a, b) => a + b, 0)).toBe(25_000);
    } finally {
      store.close();
    }
  }, 60_000);
});

describe('alertCounts (GET /api/counts) kept per store', () => {
  it('counts only the alerts stored since the last call, and starts over after retention pruned some', () => {
    const store = new AlertStore(':memory:');
    const mk = (j: number, rule: string, peer?: string): Alert =>
      ({
        v: 1,
        seq: 0,
        id: `c${j}`,
        ts: new Date(Date.parse('2026-11-28T08:00:00Z') + j).toISOString(),
        captureTs: '2026-11-28T08:00:00.000000000Z',
        rule,
        severity: 'medium',
        title: 't',
        summary: 's',
        call: { callId: `c${j}@t`, method: 'INVITE', from: '<sip:+31612345678@x>', to: '<sip:+31301234567@y>', pai: [] },
        presented: { number: '+31612345678', header: 'From' },
        network: { src: '192.0.2.1:5060', dst: '192.0.2.9:5060', transport: 'udp', origin: 't', ...(peer ? { peer } : {}) },
        reasons: [],
        evidence: [],
      }) as unknown as Alert;
    try {
      store.commit([mk(1, 'A'), mk(2, 'A', 'p1'), mk(3, 'B', 'p1')]);
      expect(alertCounts(store)).toEqual({
        lastSeq: 3,
        rules: [
          { rule: 'A', count: 2 },
          { rule: 'B', count: 1 },
        ],
        peers: [{ peer: 'p1', count: 2 }, { count: 1 }],
      });
      store.commit([mk(4, 'B'), mk(5, 'B'), mk(6, 'C', 'p2')]);
      expect(alertCounts(store)).toEqual({
        lastSeq: 6,
        rules: [
          { rule: 'B', count: 3 },
          { rule: 'A', count: 2 },
          { rule: 'C', count: 1 },
        ],
        peers: [{ count: 3 }, { peer: 'p1', count: 2 }, { peer: 'p2', count: 1 }],
      });
      expect(alertCounts(store)).toEqual(store.counts());
      store.prune({ maxCount: 2 });
      expect(alertCounts(store)).toEqual({
        lastSeq: 6,
        rules: [
          { rule: 'B', count: 1 },
          { rule: 'C', count: 1 },
        ],
        peers: [{ count: 1 }, { peer: 'p2', count: 1 }],
      });
    } finally {
      store.close();
    }
  });
});
