import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, Severity } from '../../src/alerts/alert.js';
import Database from 'better-sqlite3';
import { AlertStore } from '../../src/sinks/store.js';
import { makeAlert } from './fixtures.js';

let dir: string;
let file: string;
const open: AlertStore[] = [];
const openStore = (opts?: ConstructorParameters<typeof AlertStore>[1]): AlertStore => {
  const s = new AlertStore(file, opts);
  open.push(s);
  return s;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spoofwatch-store-'));
  file = join(dir, 'alerts.db');
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const seqs = (alerts: readonly Alert[]): number[] => alerts.map((a) => a.seq);
const numbered = (from: number, n: number, over: (i: number) => Partial<Alert> & { peer?: string } = () => ({})): Alert[] =>
  Array.from({ length: n }, (_, i) => makeAlert({ seq: from + i, ...over(from + i) }));

describe('AlertStore append and query', () => {
  const rules = ['CLI-PROTECTED', 'CLI-DNO', 'SRC-UNKNOWN-PEER', 'CLI-PROTECTED', 'CLI-DNO'];
  const sev: Severity[] = ['critical', 'low', 'medium', 'info', 'high'];
  const peers = ['carrier-x', 'carrier-y', undefined, 'carrier-y', 'carrier-x'];
  const fill = (s: AlertStore): void =>
    s.append(
      numbered(1, 5, (i) => ({
        rule: rules[i - 1] ?? '',
        severity: sev[i - 1] ?? 'info',
        ...(peers[i - 1] !== undefined ? { peer: peers[i - 1] } : {}),
      })),
    );

  it('returns what was stored, in seq order, byte-identical JSON', () => {
    const s = openStore();
    fill(s);
    const all = s.query();
    expect(seqs(all)).toEqual([1, 2, 3, 4, 5]);
    expect(all[0]).toEqual(makeAlert({ seq: 1, rule: 'CLI-PROTECTED', severity: 'critical', peer: 'carrier-x' }));
    expect(s.lastSeq()).toBe(5);
    expect(s.count()).toBe(5);
  });
  it('filters by rule (one or many), peer, minimum severity, since, until', () => {
    const s = openStore();
    fill(s);
    expect(seqs(s.query({ rule: 'CLI-DNO' }))).toEqual([2, 5]);
    expect(seqs(s.query({ rule: ['CLI-DNO', 'SRC-UNKNOWN-PEER'] }))).toEqual([2, 3, 5]);
    expect(seqs(s.query({ rule: [] }))).toEqual([]);
    expect(seqs(s.query({ peer: 'carrier-y' }))).toEqual([2, 4]);
    expect(seqs(s.query({ minSeverity: 'medium' }))).toEqual([1, 3, 5]);
    expect(seqs(s.query({ minSeverity: 'info' }))).toEqual([1, 2, 3, 4, 5]);
    expect(seqs(s.query({ since: 3 }))).toEqual([4, 5]);
    expect(seqs(s.query({ since: 1, until: 3 }))).toEqual([2, 3]);
    expect(seqs(s.query({ rule: 'CLI-PROTECTED', peer: 'carrier-x', minSeverity: 'high' }))).toEqual([1]);
  });
  it('limit: default 100, at most 1000; 0 gives none (issue #20)', () => {
    const s = openStore();
    s.append(numbered(1, 1200));
    expect(s.query().length).toBe(100);
    expect(s.query({ limit: 5000 }).length).toBe(1000);
    expect(seqs(s.query({ limit: 0 }))).toEqual([]);
    expect(seqs(s.query({ limit: 3, since: 1197 }))).toEqual([1198, 1199, 1200]);
    expect(s.query({ limit: Number.NaN }).length).toBe(100);
  });
  it('an unopenable file is a STORE_OPEN error', () => {
    expect(() => new AlertStore(join(dir, 'missing-dir', 'x.db'))).toThrow(expect.objectContaining({ code: 'STORE_OPEN' }));
  });
  it('a batch is all or none, and seq must extend the sequence', () => {
    const s = openStore();
    s.append(numbered(1, 2));
    expect(() => s.append([makeAlert({ seq: 3 }), makeAlert({ seq: 3 })])).toThrow(/seq 3 does not extend/);
    expect(() => s.append([makeAlert({ seq: 2 })])).toThrow(expect.objectContaining({ code: 'STORE_SEQ' }));
    expect(s.count()).toBe(2);
    expect(s.lastSeq()).toBe(2);
  });
});

describe('AlertStore numbering (commit) and epoch', () => {
  it('commit numbers from lastSeq + 1 inside the write, ignoring the input seq, and stores the numbered alert', () => {
    const s = openStore();
    s.append(numbered(1, 2));
    const out = s.commit([makeAlert({ seq: 99, id: 'c1' }), makeAlert({ seq: 0, id: 'c2' })]);
    expect(out.map((a) => [a.seq, a.id])).toEqual([[3, 'c1'], [4, 'c2']]);
    expect(s.lastSeq()).toBe(4);
    expect(s.query({ since: 2 })).toEqual(out);
    expect(s.commit([])).toEqual([]);
  });
  it('a failed write stores nothing and uses up no seq; the next one continues without a gap', () => {
    const s = openStore();
    s.commit([makeAlert({ id: 'ok1' })]);
    // A real SQLite failure inside the store's own transaction, set up from a second connection.
    const other = new Database(file);
    other.exec("CREATE TRIGGER refuse BEFORE INSERT ON alerts WHEN NEW.id = 'bad' BEGIN SELECT RAISE(ABORT, 'no room (test)'); END");
    expect(() => s.commit([makeAlert({ id: 'ok2' }), makeAlert({ id: 'bad' })])).toThrow(
      expect.objectContaining({ code: 'STORE_APPEND', message: `cannot store alerts in ${file}: SQLITE_CONSTRAINT_TRIGGER: no room (test)` }),
    );
    expect(s.lastSeq()).toBe(1);
    expect(s.count()).toBe(1);
    other.exec('DROP TRIGGER refuse');
    other.close();
    expect(s.commit([makeAlert({ id: 'ok2' }), makeAlert({ id: 'ok3' })]).map((a) => a.seq)).toEqual([2, 3]);
    expect(s.query().map((a) => `${a.seq} ${a.id}`)).toEqual(['1 ok1', '2 ok2', '3 ok3']);
  });
  it('rows that landed behind the store\'s back are never renumbered: the next commit reads the file', () => {
    const s = openStore();
    s.commit([makeAlert({ id: 'a' })]);
    const other = new Database(file);
    other.exec("INSERT INTO alerts (seq, id, ts, capture_ts, rule, severity_rank, peer, call_id, json) VALUES (2, 'x', 0, '', 'R', 0, NULL, 'c', '{}')");
    other.close();
    expect(() => s.commit([makeAlert({ id: 'b' })])).toThrow(expect.objectContaining({ code: 'STORE_APPEND' }));
    expect(s.commit([makeAlert({ id: 'b' })]).map((a) => a.seq)).toEqual([3]);
  });
  it('the epoch is made once, when the file is created, and kept across reopening; a new file gets a new one', () => {
    const a = openStore();
    const epoch = a.epoch();
    expect(epoch).toMatch(/^[0-9a-f]{32}$/);
    a.close();
    expect(openStore().epoch()).toBe(epoch);
    const other = new AlertStore(join(dir, 'other.db'));
    open.push(other);
    expect(other.epoch()).toMatch(/^[0-9a-f]{32}$/);
    expect(other.epoch()).not.toBe(epoch);
  });
});

describe('AlertStore restart and retention', () => {
  it('reopening the same file continues the sequence where it stopped', () => {
    const a = openStore();
    a.append(numbered(1, 3));
    a.close();
    const b = openStore();
    expect(b.lastSeq()).toBe(3);
    expect(seqs(b.query())).toEqual([1, 2, 3]);
    b.append([makeAlert({ seq: 4 })]);
    expect(seqs(b.query({ since: 2 }))).toEqual([3, 4]);
  });
  it('prunes by count, keeping the newest, and never reuses a pruned seq', () => {
    const s = openStore();
    s.append(numbered(1, 10));
    expect(s.prune({ maxCount: 3 })).toEqual({ byAge: 0, byCount: 7, more: false });
    expect(seqs(s.query())).toEqual([8, 9, 10]);
    expect(s.prune({ maxCount: 0 })).toEqual({ byAge: 0, byCount: 3, more: false });
    expect(s.count()).toBe(0);
    s.close();
    const again = openStore();
    expect(again.lastSeq()).toBe(10);
    expect(again.stats()).toEqual({ lastSeq: 10, appended: 0, pruned: 0, pruneRuns: 0 });
  });
  it('prunes by age against the injected time, bounded per run', () => {
    const now = Date.parse('2025-03-20T00:00:00Z');
    const day = 86_400_000;
    const s = openStore();
    const ages = [30, 10, 8, 6, 1];
    s.append(numbered(1, 5, (i) => ({ ts: new Date(now - (ages[i - 1] ?? 0) * day).toISOString() })));
    expect(s.prune({ maxAgeDays: 7, maxDeletes: 2 }, now)).toEqual({ byAge: 2, byCount: 0, more: true });
    expect(s.prune({ maxAgeDays: 7, maxDeletes: 2 }, now)).toEqual({ byAge: 1, byCount: 0, more: false });
    expect(seqs(s.query())).toEqual([4, 5]);
    expect(s.prune({ maxAgeDays: 7, maxCount: 1 }, now)).toEqual({ byAge: 0, byCount: 1, more: false });
    expect(seqs(s.query())).toEqual([5]);
    expect(s.stats()).toEqual({ lastSeq: 5, appended: 5, pruned: 4, pruneRuns: 3 });
  });
  it('an alert with an unparsable ts ages from the store clock', () => {
    const s = openStore({ now: () => 1_000 });
    s.append([makeAlert({ seq: 1, ts: 'yesterday' })]);
    expect(s.prune({ maxAgeDays: 1 }, 1_000 + 86_400_000 - 1).byAge).toBe(0);
    expect(s.prune({ maxAgeDays: 1 }, 1_000 + 86_400_000 + 1).byAge).toBe(1);
  });
});

describe('AlertStore replay and size', () => {
  it('replays in pages with a filter, and stops when the callback says so', () => {
    const s = openStore();
    s.append(numbered(1, 1203, (i) => ({ rule: i % 3 === 0 ? 'CLI-DNO' : 'CLI-PROTECTED' })));
    const got: number[] = [];
    const r = s.replay(100, { rule: 'CLI-DNO' }, (a) => void got.push(a.seq));
    expect(got.length).toBe(368); // multiples of 3 in 101..1203
    expect(got[0]).toBe(102);
    expect(got[got.length - 1]).toBe(1203);
    expect(got.every((n, i) => i === 0 || n > (got[i - 1] ?? 0))).toBe(true);
    expect(r).toEqual({ count: 368, lastSeq: 1203 });
    const stopped: number[] = [];
    expect(s.replay(0, { until: 600 }, (a) => (stopped.push(a.seq), a.seq < 3))).toEqual({ count: 3, lastSeq: 3 });
    expect(stopped).toEqual([1, 2, 3]);
    let n = 0;
    expect(s.replay(0, { until: 600 }, () => void n++)).toEqual({ count: 600, lastSeq: 600 });
  });
  it('sizeBytes counts the database and its WAL, and grows with data', () => {
    const s = openStore();
    const before = s.sizeBytes();
    expect(before).toBeGreaterThan(0);
    s.append(numbered(1, 2000));
    expect(s.sizeBytes()).toBeGreaterThan(before + 2000 * 500);
  });
  it('append timing for 10k alerts (printed, not asserted)', () => {
    const lines: string[] = [];
    for (const batch of [1, 10, 100, 1000]) {
      const s = new AlertStore(join(dir, `timing-${batch}.db`));
      const alerts = numbered(1, 10_000);
      const t = process.hrtime.bigint();
      for (let i = 0; i < alerts.length; i += batch) s.append(alerts.slice(i, i + batch));
      const sec = Number(process.hrtime.bigint() - t) / 1e9;
      lines.push(`batch ${batch}: ${Math.round(10_000 / sec)} alerts/s`);
      expect(s.lastSeq()).toBe(10_000);
      s.close();
    }
    console.log(`AlertStore append, 10k alerts, WAL synchronous=NORMAL: ${lines.join('; ')}`);
  });
});
