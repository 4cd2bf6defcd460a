/**
 * Alert search on a filled store (issue #20): `/api/alerts` by Call-ID, number prefix and capture-time range on
 * 100k stored alerts must answer in < 50 ms. A row of `npm run bench`, not a timed test: it fills a temporary
 * SQLite store with synthetic alerts (one per call, numbers and times spread like a busy day) and times each
 * kind of query, median of 25 different queries each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '../src/alerts/alert.js';
import { AlertStore, type AlertQuery } from '../src/sinks/store.js';

export interface SearchBench {
  readonly alerts: number;
  readonly fillMs: number;
  /** Median ms of one query, by kind. */
  readonly callIdMs: number;
  readonly numberPrefixMs: number;
  readonly timeRangeMs: number;
  /** Alerts each kind returned on average (shows the queries select something). */
  readonly hits: { readonly callId: number; readonly numberPrefix: number; readonly timeRange: number };
}

const T0 = Date.parse('2026-11-28T08:00:00Z');
const STEP_MS = 250;

function syntheticAlert(i: number): Alert {
  const ms = T0 + i * STEP_MS;
  const presented = `+316${String((i * 7919) % 100_000_000).padStart(8, '0')}`;
  const called = `+3130${String(i % 1_000_000).padStart(7, '0')}`;
  return {
    v: 1,
    seq: 0,
    id: `b${i}`,
    ts: new Date(ms).toISOString(),
    captureTs: `${new Date(ms).toISOString().slice(0, 19)}.${String((ms % 1000) * 1_000_000).padStart(9, '0')}Z`,
    rule: i % 3 === 0 ? 'CLI-NOT-AUTHORIZED' : 'SRC-UNKNOWN-PEER',
    severity: i % 3 === 0 ? 'high' : 'medium',
    title: 'bench',
    summary: 'bench',
    call: { callId: `bench-${i}@example.test`, method: 'INVITE', from: `<sip:${presented}@x>`, to: `<sip:${called}@y>`, pai: [] },
    presented: { number: presented, header: 'From' },
    network: { src: '192.0.2.1:5060', dst: '192.0.2.2:5060', transport: 'udp', ...(i % 2 === 0 ? { peer: 'carrier' } : {}), origin: 'bench' },
    reasons: [],
    evidence: [],
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.floor(s.length / 2)] ?? 0) * 100) / 100;
}

/** Fill a temporary store with `n` alerts, then time the three searches. */
export function benchSearch(n = 100_000): SearchBench {
  const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-search-'));
  const store = new AlertStore(join(dir, 'search.db'));
  try {
    const t0 = performance.now();
    for (let i = 0; i < n; i += 1000) {
      const batch: Alert[] = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) batch.push(syntheticAlert(j));
      store.commit(batch);
    }
    const fillMs = Math.round(performance.now() - t0);
    const time = (queries: AlertQuery[]): { ms: number; hits: number } => {
      const ms: number[] = [];
      let hits = 0;
      for (const q of queries) {
        const s = performance.now();
        hits += store.query(q).length;
        ms.push(performance.now() - s);
      }
      return { ms: median(ms), hits: Math.round(hits / queries.length) };
    };
    const picks = Array.from({ length: 25 }, (_, k) => Math.floor(((k + 0.5) / 25) * n));
    const byCallId = time(picks.map((i) => ({ callId: `bench-${i}@example.test` })));
    // A 7-digit prefix: ~1 in 10^4 of the numbers, as an analyst narrowing to a block.
    const byNumber = time(picks.map((i) => ({ number: (syntheticAlert(i).presented.number ?? '').slice(0, 8) })));
    // One minute of capture time (240 alerts at 4/s), first page.
    const byTime = time(picks.map((i) => ({ fromMs: T0 + i * STEP_MS, toMs: T0 + i * STEP_MS + 60_000 })));
    return {
      alerts: n,
      fillMs,
      callIdMs: byCallId.ms,
      numberPrefixMs: byNumber.ms,
      timeRangeMs: byTime.ms,
      hits: { callId: byCallId.hits, numberPrefix: byNumber.hits, timeRange: byTime.hits },
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
