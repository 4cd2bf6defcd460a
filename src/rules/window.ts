import { InsertionRing } from '../util/insertion-ring.js';
import type { WindowState } from './types.js';

interface Entry {
  atMs: number;
  value: unknown;
}

/** How often (capture time) keys whose newest entry left every window are swept. */
const SWEEP_EVERY_MS = 60_000;
/** Keys a sweep looks at per add. */
const SWEEP_STEP = 64;

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
  /** The sweep in progress (a live Map iterator: deletions and new keys during it are fine) and its cutoff. */
  private sweeping: Iterator<[string, Slot]> | undefined;
  private sweepCutoff = 0;
  evicted = 0;
  swept = 0;

  constructor(
    private readonly maxKeys = 100_000,
    private readonly maxEntriesPerKey = 1_000,
  ) {}

  recent<T>(key: string, nowMs: number, windowMs: number): readonly { readonly atMs: number; readonly value: T }[] {
    const slot = this.live(key, nowMs, windowMs);
    if (slot === undefined) return [];
    if (slot.list === undefined) return [{ atMs: slot.at, value: slot.value as T }];
    return slot.list as { atMs: number; value: T }[];
  }

  count(key: string, nowMs: number, windowMs: number): number {
    const slot = this.live(key, nowMs, windowMs);
    return slot === undefined ? 0 : slot.list === undefined ? 1 : slot.list.length;
  }

  /** The key's slot with the entries older than the window dropped; undefined (and the key gone) when none is left. */
  private live(key: string, nowMs: number, windowMs: number): Slot | undefined {
    if (windowMs > this.maxWindowMs) this.maxWindowMs = windowMs;
    const slot = this.keys.get(key);
    if (!slot) return undefined;
    const cutoff = nowMs - windowMs;
    const list = slot.list;
    if (list === undefined) {
      if (slot.at < cutoff) {
        this.keys.delete(key);
        return undefined;
      }
      return slot;
    }
    let drop = 0;
    while (drop < list.length && list[drop]!.atMs < cutoff) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length === 0) {
      this.keys.delete(key);
      return undefined;
    }
    return slot;
  }

  add<T>(key: string, nowMs: number, value: T): void {
    if (nowMs - this.lastSweepMs >= SWEEP_EVERY_MS) this.startSweep(nowMs);
    if (this.sweeping) this.sweepSome();
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

  /** Start dropping keys whose newest entry is older than every window any rule asked for. */
  private startSweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    if (this.maxWindowMs === 0) return;
    this.sweepCutoff = nowMs - this.maxWindowMs;
    this.sweeping = this.keys.entries();
  }

  /**
   * Go through the next SWEEP_STEP keys of the sweep in progress. The sweep is spread over the adds that follow:
   * one walk over an hour-long window's 100k callers at once held the event loop for tens of ms. (Reads never see a
   * stale key meanwhile: recent() drops what left the window it asks for.)
   */
  private sweepSome(): void {
    const it = this.sweeping!;
    for (let n = 0; n < SWEEP_STEP; n++) {
      const r = it.next();
      if (r.done) {
        this.sweeping = undefined;
        this.ring.compact(this.keys.size, this.liveEntries);
        return;
      }
      const [k, slot] = r.value;
      if (slot.newest() < this.sweepCutoff) {
        this.keys.delete(k);
        this.swept++;
      }
    }
  }
}
