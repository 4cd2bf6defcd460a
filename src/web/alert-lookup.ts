/**
 * One stored alert by its id or seq, for `/api/alerts/:id`. AlertStore has no point lookup and keeps its connection
 * private, so this opens a read-only connection to the same database file (WAL lets readers run beside the
 * store's writer). A throwaway `:memory:` store cannot be shared between connections: then the lookup pages
 * through `store.replay`, which is fine for the small stores tests use.
 */
import Database from 'better-sqlite3';
import type { Alert } from '../alerts/alert.js';
import type { AlertStore } from '../sinks/store.js';

/** Alert ids are 20 hex digits (`alertId` in alerts/from-finding.ts); seqs are decimal. */
const ALERT_ID = /^[0-9a-f]{20}$/;
const SEQ = /^[1-9][0-9]{0,14}$/;

export class AlertLookup {
  private db: Database.Database | undefined;
  private byId: Database.Statement | undefined;
  private bySeq: Database.Statement | undefined;

  constructor(private readonly store: AlertStore) {}

  /** The alert whose id (20 hex digits) or seq (decimal) is `key`; undefined when unknown or malformed. */
  find(key: string): Alert | undefined {
    const isId = ALERT_ID.test(key);
    const isSeq = SEQ.test(key);
    if (!isId && !isSeq) return undefined;
    const db = this.connection();
    if (!db) return this.scan(key, isId, isSeq);
    let row: { json: string } | undefined;
    // An id lookup scans the table (no index on id); retention bounds it, and it runs per click, not per packet.
    if (isId) row = this.byId!.get(key) as { json: string } | undefined;
    if (!row && isSeq) row = this.bySeq!.get(Number(key)) as { json: string } | undefined;
    return row ? (JSON.parse(row.json) as Alert) : undefined;
  }

  close(): void {
    if (this.db?.open) this.db.close();
    this.db = undefined;
  }

  private connection(): Database.Database | undefined {
    if (this.db?.open) return this.db;
    const file = this.store.file;
    if (file === ':memory:' || file === '') return undefined;
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 2000');
    this.byId = this.db.prepare('SELECT json FROM alerts WHERE id = ? ORDER BY seq DESC LIMIT 1');
    this.bySeq = this.db.prepare('SELECT json FROM alerts WHERE seq = ?');
    return this.db;
  }

  private scan(key: string, isId: boolean, isSeq: boolean): Alert | undefined {
    let found: Alert | undefined;
    const seq = isSeq ? Number(key) : -1;
    this.store.replay(0, {}, (a) => {
      if ((isId && a.id === key) || a.seq === seq) found = a;
      return !(isId && found?.id === key);
    });
    return found;
  }
}
