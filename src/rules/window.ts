import type { WindowState } from './types.js';

interface Entry {
  atMs: number;
  value: unknown;
}

/**
 * In-memory WindowState: per key a time-ordered list, pruned on access by the capture clock, with a bound on keys
 * (oldest-touched evicted first) and on entries per key. Evictions are counted. This is the seam where windowed
 * rules would move to a broker-backed store (DESIGN.md §3).
 */
export class MemoryWindowState implements WindowState {
  private readonly keys = new Map<string, Entry[]>();
  evicted = 0;

  constructor(
    private readonly maxKeys = 100_000,
    private readonly maxEntriesPerKey = 1_000,
  ) {}

  recent<T>(key: string, nowMs: number, windowMs: number): readonly { readonly atMs: number; readonly value: T }[] {
    const list = this.keys.get(key);
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
    let list = this.keys.get(key);
    if (list) {
      this.keys.delete(key); // re-insert: Map order is our recency order
    } else {
      list = [];
      if (this.keys.size >= this.maxKeys) {
        const oldest = this.keys.keys().next();
        if (!oldest.done) {
          this.keys.delete(oldest.value);
          this.evicted++;
        }
      }
    }
    list.push({ atMs: nowMs, value });
    if (list.length > this.maxEntriesPerKey) {
      list.shift();
      this.evicted++;
    }
    this.keys.set(key, list);
  }

  get size(): number {
    return this.keys.size;
  }
}
