import type { WindowState } from './types.js';

interface Entry {
  atMs: number;
  value: unknown;
}

/** How often (capture time) keys whose newest entry left every window are swept. */
const SWEEP_EVERY_MS = 60_000;

/**
 * In-memory WindowState: per key a time-ordered list, pruned on access by the capture clock, with a bound on keys
 * and on entries per key; evictions are counted. Keys that nobody reads again are swept by the capture clock
 * (every minute of capture time, keys older than the largest window a rule asked for), so memory follows the
 * traffic of the last window, not the length of the capture. This is the seam where windowed rules would move to a
 * broker-backed store (DESIGN.md §3).
 *
 * Eviction order is first insertion, kept in a ring of keys: walking a Map from its front after many deletions
 * visits every deleted slot until V8 rehashes (tens of µs per eviction at 100k keys), the ring does not.
 */
interface Slot {
  readonly list: Entry[];
  /** Insertion number of this key, matched against its ring entry. */
  readonly seq: number;
}

export class MemoryWindowState implements WindowState {
  private readonly keys = new Map<string, Slot>();
  /** Keys with their insertion number, oldest first; an entry whose number no longer matches is stale. */
  private ring: { readonly key: string; readonly seq: number }[] = [];
  private nextSeq = 0;
  private head = 0;
  private maxWindowMs = 0;
  private lastSweepMs = -Infinity;
  evicted = 0;
  swept = 0;

  constructor(
    private readonly maxKeys = 100_000,
    private readonly maxEntriesPerKey = 1_000,
  ) {}

  recent<T>(key: string, nowMs: number, windowMs: number): readonly { readonly atMs: number; readonly value: T }[] {
    if (windowMs > this.maxWindowMs) this.maxWindowMs = windowMs;
    const list = this.keys.get(key)?.list;
    if (!list) return [];
    const cutoff = nowMs - windowMs;
    let drop = 0;
    while (drop < list.length && list[drop]!.atMs < cutoff) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length === 0) {
      this.keys.delete(key);
      return [];
    }
    return list as { atMs: number; value: T }[];
  }

  add<T>(key: string, nowMs: number, value: T): void {
    if (nowMs - this.lastSweepMs >= SWEEP_EVERY_MS) this.sweep(nowMs);
    let list = this.keys.get(key)?.list;
    if (!list) {
      if (this.keys.size >= this.maxKeys) this.evictOne();
      list = [];
      const seq = this.nextSeq++;
      this.keys.set(key, { list, seq });
      this.ring.push({ key, seq });
    }
    list.push({ atMs: nowMs, value });
    if (list.length > this.maxEntriesPerKey) {
      list.shift();
      this.evicted++;
    }
  }

  get size(): number {
    return this.keys.size;
  }

  private evictOne(): void {
    while (this.head < this.ring.length) {
      const r = this.ring[this.head++]!;
      // Stale entries (key expired or swept, perhaps added again since) are skipped, so eviction is oldest-first.
      if (this.keys.get(r.key)?.seq === r.seq) {
        this.keys.delete(r.key);
        this.evicted++;
        break;
      }
    }
    this.compactRing();
  }

  /** Drop keys whose newest entry is older than every window any rule asked for. */
  private sweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    if (this.maxWindowMs === 0) return;
    const cutoff = nowMs - this.maxWindowMs;
    for (const [k, { list }] of this.keys) {
      const newest = list[list.length - 1];
      if (!newest || newest.atMs < cutoff) {
        this.keys.delete(k);
        this.swept++;
      }
    }
    this.compactRing();
  }

  private compactRing(): void {
    if (this.head > 1024 && this.head * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.head);
      this.head = 0;
    }
    // Stale slots of swept keys would let the ring grow without bound under churn: rebuild it from the Map then.
    if (this.ring.length - this.head > 4 * this.keys.size + 1024) {
      this.ring = [...this.keys].map(([key, slot]) => ({ key, seq: slot.seq }));
      this.head = 0;
    }
  }
}
