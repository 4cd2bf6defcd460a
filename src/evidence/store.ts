/**
 * Evidence on SQLite (issue #6): the SIP messages of every call that raised an alert — raw bytes, frame numbers,
 * capture times, addresses — so that `/api/alerts/:id` and its pcap still work after the call left the in-memory
 * EvidenceBuffer and after a restart. It lives in the alert store's database file (own tables, own connection:
 * better-sqlite3 connections in WAL mode share the file safely), bounded by age, call count and bytes.
 */
import Database from 'better-sqlite3';
import { SpoofwatchError, type Timestamp } from '../types.js';
import { routeFromJson, routeJson, type EvidenceMessage, type EvidenceRouteJson } from './buffer.js';

export interface EvidencePruneOptions {
  /** Delete calls saved longer ago than this many days. */
  readonly maxAgeDays?: number;
  /** Keep at most this many calls (the most recently saved). */
  readonly maxCalls?: number;
  /** Keep at most this many bytes of raw SIP (the most recently saved calls). */
  readonly maxBytes?: number;
}

export interface EvidencePruneResult {
  readonly byAge: number;
  readonly byCount: number;
  readonly byBytes: number;
}

export interface EvidenceStoreOptions {
  /** Wall clock in ms (saved_at, retention). */
  readonly now?: () => number;
  /** Messages kept per call; the rest of a longer call is not stored. Default 200. */
  readonly maxMessagesPerCall?: number;
}

export interface EvidenceStoreStats {
  readonly calls: number;
  readonly bytes: number;
  readonly saves: number;
  readonly pruned: number;
}

interface MessageRow {
  readonly frame: number;
  readonly ts_sec: number;
  readonly ts_nsec: number;
  readonly src_ip: string;
  readonly src_port: number;
  readonly dst_ip: string;
  readonly dst_port: number;
  readonly transport: string;
  readonly raw: Buffer;
  /** JSON array of EvidenceRouteJson; NULL in rows saved before issue #20. */
  readonly routes: string | null;
}

const DAY_MS = 86_400_000;

/** Bounds the daemon applies besides `store.retentionDays` (the alert retention) until config names its own. */
export const DEFAULT_EVIDENCE_RETENTION = { maxCalls: 100_000, maxBytes: 512 * 1024 * 1024 } as const;

export class EvidenceStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly maxMessages: number;
  private readonly saveTx: (callId: string, messages: readonly EvidenceMessage[], savedAt: number) => void;
  private readonly saveManyTx: (calls: readonly { readonly callId: string; readonly messages: readonly EvidenceMessage[] }[], savedAt: number) => void;
  private readonly getStmt: Database.Statement;
  private readonly hasStmt: Database.Statement;
  private readonly deleteCallsStmt: Database.Statement;
  private saves = 0;
  private pruned = 0;

  /**
   * Open the evidence tables in `file` — pass the alert store's path (`AlertStore.file`) so one file holds both.
   * `':memory:'` gives a private throwaway database (a second connection cannot see another's memory database).
   */
  constructor(
    readonly file: string,
    opts: EvidenceStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.maxMessages = opts.maxMessagesPerCall ?? 200;
    try {
      this.db = new Database(file);
    } catch (e) {
      throw new SpoofwatchError('EVIDENCE_OPEN', `cannot open evidence store ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // The alert store writes to the same file from its own connection: wait for its lock instead of failing.
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS evidence_calls (
        call_id TEXT PRIMARY KEY,
        saved_at INTEGER NOT NULL,      -- wall-clock ms of the last save, for retention
        first_ts REAL NOT NULL,         -- capture time of the first message, epoch seconds
        messages INTEGER NOT NULL,
        bytes INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS evidence_calls_saved ON evidence_calls (saved_at);
      CREATE TABLE IF NOT EXISTS evidence_messages (
        call_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        frame INTEGER NOT NULL,
        ts_sec INTEGER NOT NULL,
        ts_nsec INTEGER NOT NULL,
        src_ip TEXT NOT NULL,
        src_port INTEGER NOT NULL,
        dst_ip TEXT NOT NULL,
        dst_port INTEGER NOT NULL,
        transport TEXT NOT NULL,
        raw BLOB NOT NULL,
        routes TEXT,                    -- JSON: the routes the message arrived by (issue #20)
        PRIMARY KEY (call_id, idx)
      ) WITHOUT ROWID;
    `);
    // A database made before issue #20 lacks the routes column: add it (its old rows read as one unnamed route).
    const columns = this.db.prepare('PRAGMA table_info(evidence_messages)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'routes')) this.db.exec('ALTER TABLE evidence_messages ADD COLUMN routes TEXT');
    const upsertCall = this.db.prepare(
      `INSERT INTO evidence_calls (call_id, saved_at, first_ts, messages, bytes) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(call_id) DO UPDATE SET saved_at = excluded.saved_at, first_ts = excluded.first_ts,
         messages = excluded.messages, bytes = excluded.bytes`,
    );
    const deleteMessages = this.db.prepare('DELETE FROM evidence_messages WHERE call_id = ?');
    const insertMessage = this.db.prepare(
      'INSERT INTO evidence_messages (call_id, idx, frame, ts_sec, ts_nsec, src_ip, src_port, dst_ip, dst_port, transport, raw, routes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.saveTx = this.db.transaction((callId: string, messages: readonly EvidenceMessage[], savedAt: number) => {
      const kept = messages.slice(0, this.maxMessages);
      let bytes = 0;
      for (const m of kept) bytes += m.raw.length;
      const first = kept[0];
      upsertCall.run(callId, savedAt, first ? first.ts.sec + first.ts.nsec / 1e9 : 0, kept.length, bytes);
      deleteMessages.run(callId);
      kept.forEach((m, i) =>
        insertMessage.run(callId, i, m.frame, m.ts.sec, m.ts.nsec, m.src.ip, m.src.port, m.dst.ip, m.dst.port, m.transport, m.raw, m.routes ? JSON.stringify(m.routes.map(routeJson)) : null),
      );
    });
    // Many calls in one transaction (the inner transactions become savepoints): one commit instead of one per call.
    this.saveManyTx = this.db.transaction((calls: readonly { readonly callId: string; readonly messages: readonly EvidenceMessage[] }[], savedAt: number) => {
      for (const c of calls) this.saveTx(c.callId, c.messages, savedAt);
    });
    this.getStmt = this.db.prepare(
      'SELECT frame, ts_sec, ts_nsec, src_ip, src_port, dst_ip, dst_port, transport, raw, routes FROM evidence_messages WHERE call_id = ? ORDER BY idx',
    );
    this.hasStmt = this.db.prepare('SELECT 1 AS x FROM evidence_calls WHERE call_id = ?');
    this.deleteCallsStmt = this.db.prepare(
      'DELETE FROM evidence_messages WHERE call_id IN (SELECT value FROM json_each(?))',
    );
  }

  /** Replace the stored messages of `callId` (in capture order) in one transaction. */
  save(callId: string, messages: readonly EvidenceMessage[]): void {
    this.saveTx(callId, messages, this.now());
    this.saves++;
  }

  /** Replace the stored messages of several calls, all in one transaction (all or none). */
  saveMany(calls: readonly { readonly callId: string; readonly messages: readonly EvidenceMessage[] }[]): void {
    if (calls.length === 0) return;
    this.saveManyTx(calls, this.now());
    this.saves += calls.length;
  }

  /** The stored messages of `callId`, or undefined when none were saved (or they were pruned). */
  get(callId: string): EvidenceMessage[] | undefined {
    const rows = this.getStmt.all(callId) as MessageRow[];
    if (rows.length === 0) return this.hasStmt.get(callId) !== undefined ? [] : undefined;
    return rows.map((r) => ({
      frame: r.frame,
      ts: { sec: r.ts_sec, nsec: r.ts_nsec } satisfies Timestamp,
      src: { ip: r.src_ip, port: r.src_port },
      dst: { ip: r.dst_ip, port: r.dst_port },
      transport: r.transport,
      raw: r.raw,
      ...(r.routes !== null ? { routes: (JSON.parse(r.routes) as EvidenceRouteJson[]).map(routeFromJson) } : {}),
    }));
  }

  has(callId: string): boolean {
    return this.hasStmt.get(callId) !== undefined;
  }

  /**
   * Retention: drop calls saved more than `maxAgeDays` ago, then the oldest beyond `maxCalls`, then the oldest
   * until at most `maxBytes` of raw SIP remain. Pure DB work in one transaction; the caller runs it on a timer.
   */
  prune(opts: EvidencePruneOptions, nowMs: number = this.now()): EvidencePruneResult {
    let byAge = 0;
    let byCount = 0;
    let byBytes = 0;
    const drop = (ids: readonly string[]): number => {
      if (ids.length === 0) return 0;
      const json = JSON.stringify(ids);
      this.deleteCallsStmt.run(json);
      return this.db.prepare('DELETE FROM evidence_calls WHERE call_id IN (SELECT value FROM json_each(?))').run(json).changes;
    };
    const ids = (sql: string, ...params: number[]): string[] =>
      (this.db.prepare(sql).all(...params) as { call_id: string }[]).map((r) => r.call_id);
    this.db.transaction(() => {
      if (opts.maxAgeDays !== undefined) {
        byAge = drop(ids('SELECT call_id FROM evidence_calls WHERE saved_at < ?', nowMs - opts.maxAgeDays * DAY_MS));
      }
      if (opts.maxCalls !== undefined) {
        const excess = this.count() - Math.max(0, Math.floor(opts.maxCalls));
        if (excess > 0) byCount = drop(ids('SELECT call_id FROM evidence_calls ORDER BY saved_at, rowid LIMIT ?', excess));
      }
      if (opts.maxBytes !== undefined) {
        let over = this.bytes() - opts.maxBytes;
        if (over > 0) {
          const victims: string[] = [];
          const rows = this.db.prepare('SELECT call_id, bytes FROM evidence_calls ORDER BY saved_at, rowid').iterate() as IterableIterator<{
            call_id: string;
            bytes: number;
          }>;
          for (const r of rows) {
            if (over <= 0) break;
            victims.push(r.call_id);
            over -= r.bytes;
          }
          byBytes = drop(victims);
        }
      }
    })();
    this.pruned += byAge + byCount + byBytes;
    return { byAge, byCount, byBytes };
  }

  /** Number of stored calls. */
  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM evidence_calls').get() as { n: number }).n;
  }

  /** Raw SIP bytes stored. */
  bytes(): number {
    return (this.db.prepare('SELECT COALESCE(SUM(bytes), 0) AS b FROM evidence_calls').get() as { b: number }).b;
  }

  stats(): EvidenceStoreStats {
    return { calls: this.count(), bytes: this.bytes(), saves: this.saves, pruned: this.pruned };
  }

  /** As AlertStore.autoCheckpoint, for this connection. */
  autoCheckpoint(on: boolean): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${on ? 1000 : 0}`);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
