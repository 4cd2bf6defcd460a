/**
 * Alert history on SQLite (better-sqlite3, WAL): what `/api/alerts` serves, what a WebSocket
 * client resumes from with `since`, and what lets the daemon restart without losing or renumbering
 * alerts (DESIGN.md §5).
 *
 * The store is the source of truth for `seq` (issue #17): {@link AlertStore.commit} numbers a batch from the last
 * stored seq inside the transaction that writes it, so a seq exists only once it is committed, and numbering
 * continues across restarts and pruning (`meta.last_seq`). A store also has an **epoch**, a random id made when
 * the database is created: a client that kept a seq from another epoch (the store was replaced or reset) must
 * start again from 0.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SEVERITIES, severityRank, type Alert, type Severity } from '../alerts/alert.js';
import { SpoofwatchError } from '../types.js';
import type { Incident } from '../incidents/incident.js';

/** Filter of stored incidents (`GET /api/incidents`, issue #19). */
export interface IncidentQuery {
  readonly state?: 'open' | 'closed';
  readonly rule?: string;
  readonly peer?: string;
  /** Only incidents whose last alert's capture time is at or after this (ms since the epoch). */
  readonly sinceMs?: number;
  /** Only incidents with `id > afterId` (paging). */
  readonly afterId?: number;
  /** Only incidents with `id < beforeId` (paging of `newestFirst`). */
  readonly beforeId?: number;
  /** Descending by id (the live page lists the newest first); default ascending. */
  readonly newestFirst?: boolean;
  /** Default 100, clamped to 1 … 1000. */
  readonly limit?: number;
}

/** Stored alerts per rule and per peer (`peer` absent: unknown sources), and the last seq they include. */
export interface AlertCounts {
  readonly lastSeq: number;
  readonly rules: { readonly rule: string; readonly count: number }[];
  readonly peers: { readonly peer?: string; readonly count: number }[];
}

/** Filter of stored alerts. Rules and peers accept one value or a list (any of). */
export interface AlertFilter {
  /** Only alerts with `seq > since`. */
  readonly since?: number;
  /** Only alerts with `seq <= until` (bounds a replay to what was stored before going live). */
  readonly until?: number;
  readonly rule?: string | readonly string[];
  readonly peer?: string | readonly string[];
  readonly minSeverity?: Severity;
  /** Only alerts of this Call-ID (exact). */
  readonly callId?: string;
  /**
   * Only alerts whose presented number or called number (the To URI's user part, as written) starts with this
   * text: a full number matches itself, `+3120` every number under it.
   */
  readonly number?: string;
  /** Only alerts with capture time ≥ this (ms since the epoch). */
  readonly fromMs?: number;
  /** Only alerts with capture time ≤ this (ms since the epoch). */
  readonly toMs?: number;
}

export interface AlertQuery extends AlertFilter {
  /** Default 100, clamped to 1 … 1000; 0 returns no alert. */
  readonly limit?: number;
}

/** The name alerts from unknown sources (no configured peer matched) go by: the `/metrics` peer label, the API filter. */
export const UNKNOWN_PEER = 'unknown';

/**
 * Peer filter values that select alerts from unknown sources: `unknown`, and `none`, the `/metrics` label before
 * issue #20 (kept so saved queries still work). A configured peer of that name is selected as well.
 */
export const UNKNOWN_PEER_NAMES: readonly string[] = [UNKNOWN_PEER, 'none'];

/**
 * The called number of an alert for search: the user part of the To URI (`sip:`, `sips:`, `tel:`), visual
 * separators removed; undefined when it is not a number (digits with an optional leading `+`).
 */
export function calledNumberOf(to: string): string | undefined {
  const m = /(?:^|[<\s"])(?:sips?|tel):([^@;>?\s]{1,64})/i.exec(to);
  if (!m || m[1] === undefined) return undefined;
  const n = m[1].replace(/[-.()]/g, '');
  return /^\+?[0-9]{1,32}$/.test(n) ? n : undefined;
}

/** Capture time of an alert in ms since the epoch (its `captureTs`, ISO 8601 with ns digits), or null. */
function captureMsOf(captureTs: string): number | null {
  const ms = Date.parse(captureTs);
  return Number.isFinite(ms) ? ms : null;
}

/** The smallest string above every string that starts with `prefix` (for an index range scan). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

export interface PruneOptions {
  /** Delete alerts whose wall-clock `ts` is older than this many days. */
  readonly maxAgeDays?: number;
  /** Keep at most this many alerts (the newest). */
  readonly maxCount?: number;
  /** Delete at most this many rows per call, so one run never blocks the event loop for long. */
  readonly maxDeletes?: number;
}

export interface PruneResult {
  readonly byAge: number;
  readonly byCount: number;
  /** True when `maxDeletes` stopped the run early; the next run continues. */
  readonly more: boolean;
}

export interface AlertStoreOptions {
  /** `normal` (default) survives a process crash; `full` also survives power loss, slower. */
  readonly synchronous?: 'normal' | 'full';
  /** Wall clock in ms, used when an alert's `ts` is not a parsable date. */
  readonly now?: () => number;
}

export interface AlertStoreStats {
  readonly lastSeq: number;
  readonly appended: number;
  readonly pruned: number;
  readonly pruneRuns: number;
}

/** A capture file read by the folder watcher. */
export interface ProcessedFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly frames: number;
  readonly sipMessages: number;
  /** Why reading stopped early (the file is still not read again). */
  readonly error?: string;
}

export const QUERY_LIMIT_DEFAULT = 100;
export const QUERY_LIMIT_MAX = 1000;
const REPLAY_PAGE = 500;
const SCHEMA_VERSION = 1;
const DAY_MS = 86_400_000;

interface Row {
  readonly json: string;
  readonly seq: number;
}

const asList = (v: string | readonly string[] | undefined): readonly string[] | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? [v] : v;

/** `SQLITE_FULL: database or disk is full` from a better-sqlite3 error (its `code` names the SQLite result). */
export function describeSqliteError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
}

/** Clamp a requested page size to 1 … {@link QUERY_LIMIT_MAX}; non-numbers give the default. */
export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return QUERY_LIMIT_DEFAULT;
  return Math.min(QUERY_LIMIT_MAX, Math.max(1, Math.floor(limit)));
}

export class AlertStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private last: number;
  private readonly counters = { appended: 0, pruned: 0, pruneRuns: 0 };
  private readonly insertStmt: Database.Statement;
  private readonly setLastStmt: Database.Statement;
  private readonly pruneAgeStmt: Database.Statement;
  private readonly oldEnoughStmt: Database.Statement;
  private readonly pruneOldestStmt: Database.Statement;
  private readonly queryCache = new Map<string, Database.Statement>();
  private readonly appendTx: (alerts: readonly Alert[]) => void;
  private readonly commitTx: (alerts: readonly Alert[]) => Alert[];
  private readonly lastSeqStmt: Database.Statement;
  private readonly epochId: string;

  /** Open (or create) the store at `file`; `':memory:'` gives a throwaway store. */
  constructor(
    readonly file: string,
    opts: AlertStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    try {
      this.db = new Database(file);
    } catch (e) {
      throw new SpoofwatchError('STORE_OPEN', `cannot open alert store ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    const version = this.db.pragma('user_version', { simple: true });
    if (typeof version === 'number' && version > SCHEMA_VERSION) {
      throw new SpoofwatchError('STORE_SCHEMA', `${file} has schema version ${version}, this build knows ${SCHEMA_VERSION}`);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS alerts (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        ts INTEGER NOT NULL,          -- wall-clock ms since the epoch (Alert.ts parsed), for retention
        capture_ts TEXT NOT NULL,
        rule TEXT NOT NULL,
        severity_rank INTEGER NOT NULL,
        peer TEXT,
        call_id TEXT NOT NULL,
        json TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS alerts_rule ON alerts (rule, seq);
      CREATE INDEX IF NOT EXISTS alerts_peer ON alerts (peer, seq);
      CREATE INDEX IF NOT EXISTS alerts_severity ON alerts (severity_rank, seq);
      CREATE INDEX IF NOT EXISTS alerts_ts ON alerts (ts);
      CREATE INDEX IF NOT EXISTS alerts_id ON alerts (id);
      CREATE INDEX IF NOT EXISTS alerts_call_id ON alerts (call_id, seq);
      -- last_seq survives pruning every row, so numbering never restarts.
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      -- Text facts about the store: 'epoch', the random id made when the database was created.
      CREATE TABLE IF NOT EXISTS store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      -- Capture files the folder watcher has read, so a restart does not read them again.
      CREATE TABLE IF NOT EXISTS processed_files (
        path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms INTEGER NOT NULL, processed_at INTEGER NOT NULL,
        frames INTEGER NOT NULL, sip_messages INTEGER NOT NULL, error TEXT,
        PRIMARY KEY (path, size, mtime_ms)
      );
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
    // Incidents (issue #19): the latest copy of each, written on open, on each published update and on close.
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS incidents (
        id INTEGER PRIMARY KEY,
        rule TEXT NOT NULL,
        peer TEXT,
        state TEXT NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        json TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS incidents_rule ON incidents (rule, id);
      CREATE INDEX IF NOT EXISTS incidents_state ON incidents (state, id);
    `);
    this.addSearchColumns();
    // A store made before epochs existed gets its epoch on the first open by this build.
    this.db.prepare("INSERT OR IGNORE INTO store_info (key, value) VALUES ('epoch', ?)").run(randomBytes(16).toString('hex'));
    this.epochId = (this.db.prepare("SELECT value FROM store_info WHERE key = 'epoch'").get() as { value: string }).value;
    this.lastSeqStmt = this.db.prepare(
      "SELECT MAX(COALESCE((SELECT value FROM meta WHERE key = 'last_seq'), 0), COALESCE((SELECT MAX(seq) FROM alerts), 0)) AS m",
    );
    this.last = (this.lastSeqStmt.get() as { m: number }).m;

    this.insertStmt = this.db.prepare(
      'INSERT INTO alerts (seq, id, ts, capture_ts, rule, severity_rank, peer, call_id, json, capture_ms, presented, called) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.setLastStmt = this.db.prepare("INSERT INTO meta (key, value) VALUES ('last_seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    this.pruneAgeStmt = this.db.prepare('DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts WHERE ts < ? ORDER BY seq LIMIT ?)');
    this.oldEnoughStmt = this.db.prepare('SELECT 1 AS x FROM alerts WHERE ts < ? LIMIT 1');
    this.pruneOldestStmt = this.db.prepare('DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts ORDER BY seq LIMIT ?)');
    this.appendTx = this.db.transaction((alerts: readonly Alert[]) => {
      let last = this.last;
      for (const a of alerts) {
        if (!Number.isSafeInteger(a.seq) || a.seq <= last) {
          throw new SpoofwatchError('STORE_SEQ', `alert seq ${a.seq} does not extend the stored sequence (last ${last})`);
        }
        this.insertRow(a);
        last = a.seq;
      }
      this.setLastStmt.run(last);
    });
    this.commitTx = this.db.transaction((alerts: readonly Alert[]) => {
      let seq = this.last;
      const out: Alert[] = new Array<Alert>(alerts.length);
      for (let i = 0; i < alerts.length; i++) {
        const a = alerts[i] as Alert;
        seq++;
        const numbered: Alert = { ...a, seq };
        this.insertRow(numbered);
        out[i] = numbered;
      }
      this.setLastStmt.run(seq);
      return out;
    });
  }

  /**
   * Number `alerts` from {@link lastSeq} + 1 and store them in one transaction (issue #17: the store is the source
   * of truth for `seq`). Returns the numbered copies once the transaction has committed; on any failure
   * (SQLITE_FULL, SQLITE_IOERR, a read-only file …) it throws, nothing is stored and no seq is used up.
   * The inputs' own `seq` is ignored.
   */
  commit(alerts: readonly Alert[]): Alert[] {
    if (alerts.length === 0) return [];
    let out: Alert[];
    try {
      out = this.commitTx(alerts);
    } catch (e) {
      // An I/O error can leave SQLite unsure whether the commit reached the disk: number from what the file holds,
      // so a retry can never reuse a seq that did land.
      try {
        this.last = Math.max(this.last, (this.lastSeqStmt.get() as { m: number }).m);
      } catch {
        // still failing: the next attempt reads it again
      }
      throw new SpoofwatchError('STORE_APPEND', `cannot store alerts in ${this.file}: ${describeSqliteError(e)}`);
    }
    const tail = out[out.length - 1];
    if (tail) this.last = tail.seq;
    this.counters.appended += out.length;
    return out;
  }

  /** One alert's row: its seq, the indexed search columns (issue #20) and its JSON. */
  private insertRow(a: Alert): void {
    const wall = Date.parse(a.ts);
    this.insertStmt.run(
      a.seq,
      a.id,
      Number.isFinite(wall) ? wall : this.now(),
      a.captureTs,
      a.rule,
      severityRank(a.severity),
      a.network.peer ?? null,
      a.call.callId,
      JSON.stringify(a),
      captureMsOf(a.captureTs),
      a.presented.number ?? null,
      calledNumberOf(a.call.to) ?? null,
    );
  }

  /** The store's epoch: a random id made when the database was created (hex, 32 characters). */
  epoch(): string {
    return this.epochId;
  }

  /**
   * Store `alerts` in one transaction: all or none. Each `seq` must exceed the previous one and
   * {@link lastSeq}; otherwise nothing is written and a `STORE_SEQ` error is thrown.
   */
  append(alerts: readonly Alert[]): void {
    if (alerts.length === 0) return;
    this.appendTx(alerts);
    const tail = alerts[alerts.length - 1];
    if (tail) this.last = tail.seq;
    this.counters.appended += alerts.length;
  }

  /** Highest seq ever stored, also after its row was pruned; 0 for a new store. */
  lastSeq(): number {
    return this.last;
  }

  /**
   * Search columns (issue #20): capture time in ms, presented and called number, each indexed with seq. A store
   * made by an earlier build gets them on open, filled from the stored JSON (one UPDATE; the schema version stays,
   * since older builds name their columns and ignore these).
   */
  private addSearchColumns(): void {
    const cols = new Set((this.db.prepare('PRAGMA table_info(alerts)').all() as { name: string }[]).map((c) => c.name));
    if (!cols.has('capture_ms')) {
      this.db.transaction(() => {
        this.db.exec('ALTER TABLE alerts ADD COLUMN capture_ms INTEGER');
        this.db.exec('ALTER TABLE alerts ADD COLUMN presented TEXT');
        this.db.exec('ALTER TABLE alerts ADD COLUMN called TEXT');
        const rows = this.db.prepare('SELECT seq, capture_ts, json FROM alerts').all() as { seq: number; capture_ts: string; json: string }[];
        const set = this.db.prepare('UPDATE alerts SET capture_ms = ?, presented = ?, called = ? WHERE seq = ?');
        for (const r of rows) {
          let presented: string | null = null;
          let called: string | null = null;
          try {
            const a = JSON.parse(r.json) as Partial<Alert>;
            presented = typeof a.presented?.number === 'string' ? a.presented.number : null;
            called = typeof a.call?.to === 'string' ? (calledNumberOf(a.call.to) ?? null) : null;
          } catch {
            // a row that does not parse keeps null search fields; it is still served by seq
          }
          set.run(captureMsOf(r.capture_ts), presented, called, r.seq);
        }
      })();
    }
    this.db.exec(`
      CREATE INDEX IF NOT EXISTS alerts_capture_ms ON alerts (capture_ms, seq);
      CREATE INDEX IF NOT EXISTS alerts_presented ON alerts (presented, seq);
      CREATE INDEX IF NOT EXISTS alerts_called ON alerts (called, seq);
    `);
  }

  /** Stored alerts matching `q`, ascending by seq, at most `q.limit` (default 100, max 1000; 0 gives none). */
  query(q: AlertQuery = {}): Alert[] {
    if (q.limit === 0) return [];
    const where: string[] = [];
    const params: (number | string)[] = [];
    if (q.since !== undefined) {
      where.push('seq > ?');
      params.push(q.since);
    }
    if (q.until !== undefined) {
      where.push('seq <= ?');
      params.push(q.until);
    }
    const rules = asList(q.rule);
    if (rules) {
      if (rules.length === 0) return [];
      where.push(`rule IN (${rules.map(() => '?').join(',')})`);
      params.push(...rules);
    }
    const peers = asList(q.peer);
    if (peers) {
      if (peers.length === 0) return [];
      const unknown = peers.some((p) => UNKNOWN_PEER_NAMES.includes(p));
      where.push(`(peer IN (${peers.map(() => '?').join(',')})${unknown ? ' OR peer IS NULL' : ''})`);
      params.push(...peers);
    }
    if (q.callId !== undefined) {
      where.push('call_id = ?');
      params.push(q.callId);
    }
    if (q.number !== undefined) {
      if (q.number === '') return [];
      // Two index range scans (presented, called) instead of LIKE, which SQLite cannot run on an index here.
      where.push('((presented >= ? AND presented < ?) OR (called >= ? AND called < ?))');
      const end = prefixEnd(q.number);
      params.push(q.number, end, q.number, end);
    }
    if (q.fromMs !== undefined) {
      where.push('capture_ms >= ?');
      params.push(q.fromMs);
    }
    if (q.toMs !== undefined) {
      where.push('capture_ms <= ?');
      params.push(q.toMs);
    }
    if (q.minSeverity !== undefined && q.minSeverity !== SEVERITIES[0]) {
      where.push('severity_rank >= ?');
      params.push(severityRank(q.minSeverity));
    }
    params.push(clampLimit(q.limit));
    const sql = `SELECT seq, json FROM alerts${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    let stmt = this.queryCache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      // Shapes are bounded by the filter fields, except the IN-list lengths; cap the cache anyway.
      if (this.queryCache.size > 256) this.queryCache.clear();
      this.queryCache.set(sql, stmt);
    }
    const rows = stmt.all(...params) as Row[];
    return rows.map((r) => JSON.parse(r.json) as Alert);
  }

  /**
   * Call `cb` for every stored alert with `seq > since` matching `filter`, in seq order, reading
   * pages of 500 so memory stays flat. `cb` returning `false` stops the replay.
   * Returns how many alerts were passed to `cb` and the last seq seen (or `since`).
   */
  replay(since: number, filter: AlertFilter, cb: (alert: Alert) => void | boolean): { count: number; lastSeq: number } {
    let cursor = since;
    let count = 0;
    for (;;) {
      const page = this.query({ ...filter, since: cursor, limit: REPLAY_PAGE });
      for (const a of page) {
        count++;
        cursor = a.seq;
        if (cb(a) === false) return { count, lastSeq: cursor };
      }
      if (page.length < REPLAY_PAGE) return { count, lastSeq: cursor };
    }
  }

  /** True when the capture file with this path, size and mtime was already read (folder watch). */
  isFileProcessed(path: string, size: number, mtimeMs: number): boolean {
    return (
      this.db.prepare('SELECT 1 AS x FROM processed_files WHERE path = ? AND size = ? AND mtime_ms = ?').get(path, size, Math.floor(mtimeMs)) !==
      undefined
    );
  }

  /** Remember a capture file as read (path + size + mtime identify one version of it). */
  markFileProcessed(f: ProcessedFile, nowMs: number = this.now()): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO processed_files (path, size, mtime_ms, processed_at, frames, sip_messages, error) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(f.path, f.size, Math.floor(f.mtimeMs), nowMs, f.frames, f.sipMessages, f.error ?? null);
  }

  /** Cheap write probe for health checks: true when the database accepts a write. */
  writable(): boolean {
    try {
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('health_probe', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(this.now());
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Rewrite the stored JSON of the alert with `a.seq` (cluster gateway, issue #22: the sensors that saw its call
   * are merged in as their sightings arrive). The indexed columns do not change. False when no such row.
   */
  updateAlert(a: Alert): boolean {
    return this.db.prepare('UPDATE alerts SET json = ? WHERE seq = ? AND id = ?').run(JSON.stringify(a), a.seq, a.id).changes > 0;
  }

  /** Number of stored alerts. */
  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM alerts').get() as { n: number }).n;
  }

  /**
   * Retention: delete alerts older than `maxAgeDays` (by wall-clock `ts`, relative to `nowMs`),
   * then the oldest beyond `maxCount`. Pure DB work; the caller runs it on its own timer.
   */
  prune(opts: PruneOptions, nowMs: number = this.now()): PruneResult {
    let budget = opts.maxDeletes ?? Number.MAX_SAFE_INTEGER;
    let byAge = 0;
    let byCount = 0;
    let more = false;
    const run = this.db.transaction(() => {
      if (opts.maxAgeDays !== undefined) {
        const cutoff = nowMs - opts.maxAgeDays * DAY_MS;
        byAge = this.pruneAgeStmt.run(cutoff, Math.max(0, budget)).changes;
        budget -= byAge;
        if (this.oldEnoughStmt.get(cutoff) !== undefined) more = true;
      }
      if (opts.maxCount !== undefined) {
        const excess = this.count() - Math.max(0, Math.floor(opts.maxCount));
        const n = Math.min(excess, Math.max(0, budget));
        if (n > 0) byCount = this.pruneOldestStmt.run(n).changes;
        if (n < excess) more = true;
      }
    });
    run();
    this.counters.pruned += byAge + byCount;
    this.counters.pruneRuns++;
    return { byAge, byCount, more };
  }

  /** Bytes on disk: the database pages plus the WAL file. */
  sizeBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true });
    const pageSize = this.db.pragma('page_size', { simple: true });
    let size = typeof pages === 'number' && typeof pageSize === 'number' ? pages * pageSize : 0;
    if (this.file !== ':memory:' && this.file !== '') {
      try {
        size += statSync(`${this.file}-wal`).size;
      } catch {
        // no WAL file (checkpointed and removed): nothing to add
      }
    }
    return size;
  }

  stats(): AlertStoreStats {
    return { lastSeq: this.last, ...this.counters };
  }

  /**
   * SQLite's automatic WAL checkpoint in this connection's commits (on by default); the daemon turns it off while a
   * Checkpointer thread does the checkpoints.
   */
  autoCheckpoint(on: boolean): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${on ? 1000 : 0}`);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Insert or replace the stored copy of an incident (issue #19). */
  saveIncident(inc: Incident): void {
    const last = Date.parse(inc.lastSeen);
    this.db
      .prepare('INSERT OR REPLACE INTO incidents (id, rule, peer, state, last_seen_ms, json) VALUES (?, ?, ?, ?, ?, ?)')
      .run(inc.id, inc.rule, inc.key.peer ?? null, inc.state, Number.isFinite(last) ? last : 0, JSON.stringify(inc));
  }

  /** Highest stored incident id (0 when none): the daemon numbers new incidents after it. */
  lastIncidentId(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM incidents').get() as { m: number }).m;
  }

  /** One stored incident by id. */
  incident(id: number): Incident | undefined {
    const row = this.db.prepare('SELECT json FROM incidents WHERE id = ?').get(id) as { json: string } | undefined;
    return row ? (JSON.parse(row.json) as Incident) : undefined;
  }

  /** Stored incidents matching `q`, ascending by id, at most `q.limit`. */
  queryIncidents(q: IncidentQuery = {}): Incident[] {
    const where: string[] = [];
    const params: (number | string)[] = [];
    if (q.state !== undefined) (where.push('state = ?'), params.push(q.state));
    if (q.rule !== undefined) (where.push('rule = ?'), params.push(q.rule));
    if (q.peer !== undefined) (where.push('peer = ?'), params.push(q.peer));
    if (q.sinceMs !== undefined) (where.push('last_seen_ms >= ?'), params.push(q.sinceMs));
    if (q.afterId !== undefined) (where.push('id > ?'), params.push(q.afterId));
    if (q.beforeId !== undefined) (where.push('id < ?'), params.push(q.beforeId));
    params.push(clampLimit(q.limit));
    const order = q.newestFirst ? 'DESC' : '';
    const rows = this.db.prepare(`SELECT json FROM incidents${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ?`).all(...params) as { json: string }[];
    return rows.map((r) => JSON.parse(r.json) as Incident);
  }

  /**
   * The stored alerts of an incident, ascending by seq after `afterSeq`: its rule, within its first and last seq,
   * and its key (peer; source address; or presented-number prefix). Alerts pruned by retention are gone.
   */
  incidentAlerts(inc: Incident, afterSeq: number, limit?: number): Alert[] {
    const { where, params } = this.incidentWhere(inc, afterSeq, inc.lastAlertSeq);
    params.push(clampLimit(limit));
    const rows = this.db.prepare(`SELECT json FROM alerts WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...params) as Row[];
    return rows.map((r) => JSON.parse(r.json) as Alert);
  }

  /**
   * Capture times (ms) of an incident's stored alerts with `afterSeq < seq <= uptoSeq` (no alert is parsed into an
   * object: the page's rate sparkline reads only these; a window of seqs bounds the rows read per call).
   */
  incidentCaptureTimes(inc: Incident, afterSeq: number, uptoSeq: number): (number | null)[] {
    const { where, params } = this.incidentWhere(inc, afterSeq, Math.min(uptoSeq, inc.lastAlertSeq));
    const rows = this.db.prepare(`SELECT capture_ms AS ms FROM alerts WHERE ${where.join(' AND ')}`).all(...params) as { ms: number | null }[];
    return rows.map((r) => r.ms);
  }

  /**
   * Stored alerts with `seq > afterSeq` (default all) per rule and per peer, read in one transaction with the last
   * seq they include.
   */
  counts(afterSeq = 0): AlertCounts {
    // All rows: GROUP BY over the (rule, seq) and (peer, seq) indexes; a tail: the seq range of the table.
    const where = afterSeq > 0 ? 'WHERE seq > ?' : '';
    const args = afterSeq > 0 ? [afterSeq] : [];
    return this.db.transaction(() => ({
      lastSeq: (this.lastSeqStmt.get() as { m: number }).m,
      rules: this.db.prepare(`SELECT rule, COUNT(*) AS count FROM alerts ${where} GROUP BY rule ORDER BY count DESC, rule`).all(...args) as { rule: string; count: number }[],
      peers: (
        this.db.prepare(`SELECT peer, COUNT(*) AS count FROM alerts ${where} GROUP BY peer ORDER BY count DESC, peer`).all(...args) as { peer: string | null; count: number }[]
      ).map((r) => (r.peer === null ? { count: r.count } : { peer: r.peer, count: r.count })),
    }))();
  }

  /**
   * WHERE of an incident's alerts with `afterSeq < seq <= uptoSeq`: its rule, within its first and last seq, and its
   * key. One lower bound (not `seq >= first AND seq > after`), so SQLite's index range starts at the right row.
   */
  private incidentWhere(inc: Incident, afterSeq: number, uptoSeq: number): { where: string[]; params: (number | string)[] } {
    // Suppressed and below-threshold alerts (issue #19) are stored but never grouped: not the incident's alerts.
    const where = ['rule = ?', 'seq > ?', 'seq <= ?', "json_extract(json, '$.suppressed') IS NULL", "json_extract(json, '$.belowThreshold') IS NULL"];
    const params: (number | string)[] = [inc.rule, Math.max(afterSeq, inc.firstAlertSeq - 1), Math.min(uptoSeq, inc.lastAlertSeq)];
    if (inc.key.numberPrefix !== undefined) {
      where.push("substr(json_extract(json, '$.presented.number'), 1, ?) = ?");
      params.push(inc.key.numberPrefix.length, inc.key.numberPrefix);
    } else if (inc.key.peer !== undefined) {
      where.push('peer = ?');
      params.push(inc.key.peer);
    } else if (inc.key.src !== undefined) {
      // network.src is `address:port`: the address, then a colon and digits only.
      // instr() first: a substring test skips other sources' rows without parsing their JSON.
      where.push(
        "peer IS NULL AND instr(json, ?) > 0 AND substr(json_extract(json, '$.network.src'), 1, ?) = ? AND substr(json_extract(json, '$.network.src'), ?) NOT GLOB '*[^0-9]*'",
      );
      params.push(JSON.stringify(`${inc.key.src}:`).slice(0, -1), inc.key.src.length + 1, `${inc.key.src}:`, inc.key.src.length + 2);
    }
    return { where, params };
  }
}
