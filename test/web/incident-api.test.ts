/**
 * The API the live page's incident view and counters read (issues #19, #20), through the real HTTP server over the
 * scenario capture's alerts: `GET /api/counts`, `GET /api/incidents?order=newest&before=`, `GET
 * /api/incidents/:id/rate`, and the live copy of an open incident winning over its (older) stored copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { IncidentGrouper, INCIDENTS_DEFAULTS, type Incident } from '../../src/incidents/incident.js';
import type { AlertCountsJson, IncidentDetailJson, IncidentListJson, IncidentRateJson } from '../../src/web/api-types.js';
import { incidentRateResponse, incidentsResponse } from '../../src/web/routes.js';
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
    expect(body.bucketMs).toBe(Math.ceil((Date.parse(big.lastSeen) - from + 1) / 10));
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

  it('the live copy of an open incident wins over the stored one (stored at most every updateSeconds)', () => {
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
    const rate = incidentRateResponse(live, String(big.id), new URLSearchParams('buckets=3')).body as IncidentRateJson;
    expect(rate.counts.reduce((a, b) => a + b, 0)).toBe(big.count);
    lab.store.saveIncident(big);
  });
});
