/**
 * Issue #20: search and consistency of `/api/alerts` — limit=0, severity in any case, the `unknown` peer,
 * callId=, number= (presented or called, prefix), from=/to= (capture time, ISO or epoch seconds) — over the 29
 * alerts of the scenario capture through the real HTTP server, and the same filters on the WebSocket.
 * The scenario's alerts: test/golden/scenario.alerts.ndjson (seq, rule, peer, Call-ID, number, capture time).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { calledNumberOf, AlertStore } from '../../src/sinks/store.js';
import { SCENARIO_PCAP, startWebLab, type WebLab } from './lab.js';

interface Page {
  alerts: Alert[];
  lastSeq: number;
  more: boolean;
}

describe('/api/alerts search over the scenario capture', () => {
  let lab: WebLab;
  const get = async (query: string): Promise<{ status: number; body: Page & { error?: string } }> => {
    const r = await fetch(`${lab.base}api/alerts?${query}`);
    return { status: r.status, body: (await r.json()) as Page & { error?: string } };
  };
  const seqs = async (query: string): Promise<number[]> => {
    const r = await get(query);
    expect(r.status, r.body.error).toBe(200);
    return r.body.alerts.map((a) => a.seq);
  };

  beforeAll(async () => {
    lab = await startWebLab();
    await lab.feedCapture(SCENARIO_PCAP);
    await lab.settle();
    expect(lab.store.lastSeq()).toBe(29);
  });
  afterAll(async () => {
    await lab.close();
  });

  it('limit=0 returns no alert (and lastSeq), not one', async () => {
    const r = await get('limit=0');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ alerts: [], lastSeq: 29, more: false });
    expect(await seqs('limit=1')).toEqual([1]);
  });

  it('minSeverity in any case', async () => {
    const high = [3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 21, 23, 27];
    expect(await seqs('minSeverity=HIGH')).toEqual(high);
    expect(await seqs('minSeverity=High')).toEqual(high);
    expect(await seqs('minSeverity=high')).toEqual(high);
    expect(await seqs('minSeverity=CRITICAL')).toEqual([8, 9]);
    const bad = await get('minSeverity=urgent');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('minSeverity must be info|low|medium|high|critical (any case)');
  });

  it('peer=unknown (the /metrics label; none, its name before #20, still works) selects alerts from unknown sources', async () => {
    const unknown = [5, 15, 16, 17, 25, 26, 27, 28];
    expect(await seqs('peer=unknown')).toEqual(unknown);
    expect(await seqs('peer=none')).toEqual(unknown);
    expect(await seqs('peer=unknown,carrier-intl')).toEqual([5, 12, 15, 16, 17, 25, 26, 27, 28]);
    expect(await seqs('peer=carrier-intl')).toEqual([12]);
    expect(await seqs('peer=unknown&minSeverity=HIGH')).toEqual([15, 17, 27]);
  });

  it('callId= selects one call', async () => {
    expect(await seqs('callId=sc08-1@spoofwatch.test')).toEqual([6, 7]);
    expect(await seqs(`callId=${encodeURIComponent('sc16-1@spoofwatch.test')}&rule=UA-ATTACK-TOOL`)).toEqual([17]);
    expect(await seqs('callId=sc08-1')).toEqual([]);
  });

  it('number= matches the presented or the called number, as a prefix', async () => {
    expect(await seqs(`number=${encodeURIComponent('+31703456789')}`)).toEqual([6, 7]);
    expect(await seqs(`number=${encodeURIComponent('+3170345')}`)).toEqual([6, 7]);
    expect(await seqs('number=112')).toEqual([9]);
    // Called: every scenario call but sc14 goes to +31301234500; sc14 presents the number it calls.
    expect(await seqs(`number=${encodeURIComponent('+31301234599')}`)).toEqual([13]);
    expect((await seqs(`number=${encodeURIComponent('+31301234500')}`)).length).toBe(28);
    expect(await seqs(`number=${encodeURIComponent('+31 (0)6')}`)).toEqual([]);
    expect(await seqs(`number=${encodeURIComponent('+31-612-345')}`)).toEqual([2, 14, 23, 29]);
    const bad = await get('number=anonymous');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^number must be digits/);
  });

  it('from=/to= bound the capture time, as ISO 8601 or epoch seconds (inclusive)', async () => {
    expect(await seqs('from=2026-11-28T15:12:21.3Z&to=2026-11-28T15:12:21.5Z')).toEqual([15, 16, 17, 18, 19]);
    expect(await seqs('from=1795878741.3&to=1795878741.5')).toEqual([15, 16, 17, 18, 19]);
    expect(await seqs(`from=${encodeURIComponent('2026-11-28T16:12:22.3+01:00')}`)).toEqual([27, 28, 29]);
    expect(await seqs('to=1795878739.7')).toEqual([1]);
    expect(await seqs('from=2026-11-29')).toEqual([]);
    const bad = await get('from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('from must be epoch seconds or an ISO 8601 date-time with a zone (2026-11-28T15:12:19Z)');
  });
});

describe('the WebSocket subscribe takes severity in any case and the unknown peer', () => {
  const subscribe = (lab: WebLab, msg: object, got: number[]): Promise<WebSocket> => {
    const ws = new WebSocket(`${lab.base.replace(/^http/, 'ws')}alerts`);
    return new Promise((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (d: Buffer) => {
        const m = JSON.parse(d.toString()) as { type: string; alert?: Alert };
        if (m.type === 'hello') ws.send(JSON.stringify({ type: 'subscribe', ...msg }));
        if (m.type === 'alert' && m.alert) got.push(m.alert.seq);
        if (m.type === 'subscribed') resolve(ws);
        if (m.type === 'error') reject(new Error(d.toString()));
      });
    });
  };

  it('live, then replayed from the store', async () => {
    const lab = await startWebLab();
    try {
      const live: number[] = [];
      const ws1 = await subscribe(lab, { minSeverity: 'HIGH', peers: ['unknown'] }, live);
      await lab.feedCapture(SCENARIO_PCAP);
      await lab.settle();
      await new Promise((r) => setTimeout(r, 200));
      expect(live).toEqual([15, 17, 27]);
      const replayed: number[] = [];
      const ws2 = await subscribe(lab, { minSeverity: 'Critical', peers: ['none', 'carrier-nl'], since: 0 }, replayed);
      expect(replayed).toEqual([8, 9]);
      ws1.close();
      ws2.close();
    } finally {
      await lab.close();
    }
  });
});

describe('AlertStore search columns', () => {
  it('calledNumberOf takes the user part of sip:, sips: and tel: URIs, numbers only', () => {
    expect(calledNumberOf('<sip:+31301234500@127.0.0.1:5080>')).toBe('+31301234500');
    expect(calledNumberOf('"Bob" <sips:0301234500@example.com;user=phone>;tag=x')).toBe('0301234500');
    expect(calledNumberOf('tel:+31-30-123-4500')).toBe('+31301234500');
    expect(calledNumberOf('<sip:alice@example.com>')).toBeUndefined();
    expect(calledNumberOf('garbage')).toBeUndefined();
  });

  it('a store made before the search columns gets them, filled from the stored alerts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-search-'));
    try {
      const file = join(dir, 'old.db');
      // The table as the previous build made it (no capture_ms/presented/called), with one alert.
      const db = new Database(file);
      db.exec(`CREATE TABLE alerts (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, ts INTEGER NOT NULL, capture_ts TEXT NOT NULL,
        rule TEXT NOT NULL, severity_rank INTEGER NOT NULL, peer TEXT, call_id TEXT NOT NULL, json TEXT NOT NULL)`);
      const alert = {
        v: 1, seq: 1, id: 'x', ts: '2026-12-01T00:00:00Z', captureTs: '2026-11-28T15:12:19.430209777Z', rule: 'CLI-DNO', severity: 'critical',
        title: 't', summary: 's', call: { callId: 'c1', method: 'INVITE', from: '<sip:+31201234000@x>', to: '<sip:+31301234500@y>', pai: [] },
        presented: { number: '+31201234000', header: 'From' }, network: { src: '192.0.2.1:5060', dst: '192.0.2.2:5060', transport: 'udp', origin: 'f' },
        reasons: [], evidence: [],
      };
      db.prepare('INSERT INTO alerts VALUES (1, ?, 0, ?, ?, 4, NULL, ?, ?)').run(alert.id, alert.captureTs, alert.rule, 'c1', JSON.stringify(alert));
      db.close();
      const store = new AlertStore(file);
      expect(store.query({ number: '+3120123' }).map((a) => a.seq)).toEqual([1]);
      expect(store.query({ number: '+3130123' }).map((a) => a.seq)).toEqual([1]);
      expect(store.query({ fromMs: Date.parse('2026-11-28T15:12:19Z'), toMs: Date.parse('2026-11-28T15:12:20Z') }).map((a) => a.seq)).toEqual([1]);
      expect(store.query({ peer: 'unknown', callId: 'c1' }).map((a) => a.seq)).toEqual([1]);
      expect(store.query({ limit: 0 })).toEqual([]);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
