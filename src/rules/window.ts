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
 * InsertionRing of the slots themselves, not an object per key. (Before: ~380 bytes per key, most of the analyzer's live
 * heap on the benchmark capture; now ~130.)
 */
class Slot {
  /** Time and value of the only entry while `list` is undefined. */
  at: number;
  value: unknown;
  /** Every entry, in time order, once the key has had two. */
  list: Entry[] | undefined = undefined;
  /** Set when the key left the map (expired, swept, evicted): its place in the order is stale from then on. */
  dead = false;

  constructor(
    readonly key: string,
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
  /**
   * The slots, oldest key first (the Map's own order). Eviction and sweeps walk it and tell a stale place by the
   * slot's flag, with no Map probe.
   */
  private readonly order = new InsertionRing<Slot>((s) => !s.dead);
  private maxWindowMs = 0;
  private lastSweepMs = -Infinity;
  /** Cutoff of the sweep in progress (the ring's walk). */
  private sweepCutoff = 0;
  /**
   * The key the last read looked up and its slot (undefined: absent), for the add that follows it: windowed rules
   * read a number's entries and then add to them, and on windows of 100k numbers each Map probe is a few cache
   * misses. Only add() creates slots and it clears this; a slot dropped since is flagged dead.
   */
  private lastKey: string | undefined = undefined;
  private lastSlot: Slot | undefined = undefined;
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
    this.lastKey = key;
    this.lastSlot = slot;
    if (!slot) return undefined;
    const cutoff = nowMs - windowMs;
    const list = slot.list;
    if (list === undefined) {
      if (slot.at < cutoff) {
        this.drop(slot);
        this.lastSlot = undefined;
        return undefined;
      }
      return slot;
    }
    let drop = 0;
    while (drop < list.length && list[drop]!.atMs < cutoff) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length === 0) {
      this.drop(slot);
      this.lastSlot = undefined;
      return undefined;
    }
    return slot;
  }

  add<T>(key: string, nowMs: number, value: T): void {
    if (nowMs - this.lastSweepMs >= SWEEP_EVERY_MS) this.startSweep(nowMs);
    if (this.order.walking) this.sweepSome();
    const cached = key === this.lastKey ? this.lastSlot : null;
    this.lastKey = undefined;
    this.lastSlot = undefined;
    const slot = cached === null || cached?.dead === true ? this.keys.get(key) : cached;
    if (!slot) {
      if (this.keys.size >= this.maxKeys) this.evictOne();
      const s = new Slot(key, nowMs, value);
      this.keys.set(key, s);
      this.order.add(s);
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

  private drop(slot: Slot): void {
    this.keys.delete(slot.key);
    slot.dead = true;
  }

  private evictOne(): void {
    // Dead places (key expired or swept, perhaps added again since) are skipped, so eviction is oldest-first.
    const oldest = this.order.peek();
    if (oldest !== undefined) {
      this.order.shift();
      this.drop(oldest);
      this.evicted++;
    }
    this.order.compact(this.keys.size);
  }

  /** Start dropping keys whose newest entry is older than every window any rule asked for. */
  private startSweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    if (this.maxWindowMs === 0) return;
    this.sweepCutoff = nowMs - this.maxWindowMs;
    this.order.startWalk();
  }

  /**
   * Go through the next SWEEP_STEP places of the sweep in progress. The sweep is spread over the adds that follow:
   * one walk over an hour-long window's 100k callers at once held the event loop for tens of ms. (Reads never see a
   * stale key meanwhile: recent() drops what left the window it asks for.)
   */
  private sweepSome(): void {
    for (let n = 0; n < SWEEP_STEP; n++) {
      const slot = this.order.next();
      if (slot === undefined) {
        this.order.compact(this.keys.size);
        return;
      }
      if (!slot.dead && slot.newest() < this.sweepCutoff) {
        this.drop(slot);
        this.swept++;
      }
    }
  }
}
