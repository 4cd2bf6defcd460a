import { InsertionRing } from '../util/insertion-ring.js';
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
 * Memory: most keys (a calling number) hold one entry, and a window of an hour holds every caller of that hour, so
 * a key's first entry lives inline in its slot and a list is made only for a second one; the eviction order is an
 * InsertionRing (two parallel arrays), not an object per key. (Before: ~380 bytes per key, most of the analyzer's
 * live heap on the benchmark capture; now ~130.)
 */
class Slot {
  /** Time and value of the only entry while `list` is undefined. */
  at: number;
  value: unknown;
  /** Every entry, in time order, once the key has had two. */
  list: Entry[] | undefined = undefined;

  constructor(
    /** Insertion number of this key, matched against its ring entry. */
    readonly seq: number,
    at: number,
    value: unknown,
  ) {
    this.at = at;
    this.value = value;
  }

  newest(): number {
    return this.list === undefined ? this.at : (this.list[this.list.length - 1]?.atMs ?? -Infinity);
  }
}

export class MemoryWindowState implements WindowState {
  private readonly keys = new Map<string, Slot>();
  /** Keys oldest first, for eviction. */
  private readonly ring = new InsertionRing();
  private readonly isLive = (key: string, seq: number): boolean => this.keys.get(key)?.seq === seq;
  private readonly liveEntries = (): [string, number][] => [...this.keys].map(([k, slot]) => [k, slot.seq]);
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
    const slot = this.keys.get(key);
    if (!slot) return [];
    const cutoff = nowMs - windowMs;
    const list = slot.list;
    if (list === undefined) {
      if (slot.at < cutoff) {
        this.keys.delete(key);
        return [];
      }
      return [{ atMs: slot.at, value: slot.value as T }];
    }
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
    const slot = this.keys.get(key);
    if (!slot) {
      if (this.keys.size >= this.maxKeys) this.evictOne();
      this.keys.set(key, new Slot(this.ring.add(key), nowMs, value));
      return;
    }
    const list = (slot.list ??= [{ atMs: slot.at, value: slot.value }]);
    slot.value = undefined;
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
    // Stale entries (key expired or swept, perhaps added again since) are skipped, so eviction is oldest-first.
    const oldest = this.ring.peek(this.isLive);
    if (oldest !== undefined) {
      this.ring.shift();
      this.keys.delete(oldest);
      this.evicted++;
    }
    this.ring.compact(this.keys.size, this.liveEntries);
  }

  /** Drop keys whose newest entry is older than every window any rule asked for. */
  private sweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    if (this.maxWindowMs === 0) return;
    const cutoff = nowMs - this.maxWindowMs;
    for (const [k, slot] of this.keys) {
      if (slot.newest() < cutoff) {
        this.keys.delete(k);
        this.swept++;
      }
    }
    this.ring.compact(this.keys.size, this.liveEntries);
  }
}
