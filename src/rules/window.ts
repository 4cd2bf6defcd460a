import { InsertionRing } from '../util/insertion-ring.js';
import type { WindowState, WindowStates } from './types.js';

interface Entry {
  atMs: number;
  value: unknown;
}

/** How often (capture time) keys whose newest entry left every window are swept. */
const SWEEP_EVERY_MS = 60_000;
/** Keys a sweep looks at per add. */
const SWEEP_STEP = 64;
/** Keys {@link WindowStore.expire} looks at per call. */
const EXPIRE_STEP = 8192;

/** A lane's value while it holds no entry inline (`undefined` is a value a rule may store). */
const NONE: unique symbol = Symbol('no entry');

/** Which of a slot's two lanes a state reads and writes. */
type Lane = 0 | 1;

/** One key's entries: a lane per state of the store (see MemoryWindowState), each with its first entry inline. */
class Slot {
  /** Lane 0: time and value of its only entry while `list0` is undefined (NONE: the lane is empty). */
  at0 = -Infinity;
  v0: unknown = NONE;
  /** Lane 0's entries, in time order, once it has had two. */
  list0: Entry[] | undefined = undefined;
  /** Lane 1, alike. */
  at1 = -Infinity;
  v1: unknown = NONE;
  list1: Entry[] | undefined = undefined;
  /** Set when the key left the map (expired, swept, evicted): its place in the order is stale from then on. */
  dead = false;

  constructor(readonly key: string) {}

  list(lane: Lane): Entry[] | undefined {
    return lane === 0 ? this.list0 : this.list1;
  }

  at(lane: Lane): number {
    return lane === 0 ? this.at0 : this.at1;
  }

  value(lane: Lane): unknown {
    return lane === 0 ? this.v0 : this.v1;
  }

  /** Make the lane hold one inline entry (value NONE: nothing) and no list. */
  setOne(lane: Lane, at: number, value: unknown): void {
    if (lane === 0) {
      this.at0 = at;
      this.v0 = value;
      this.list0 = undefined;
    } else {
      this.at1 = at;
      this.v1 = value;
      this.list1 = undefined;
    }
  }

  setList(lane: Lane, list: Entry[]): void {
    if (lane === 0) {
      this.list0 = list;
      this.v0 = NONE;
    } else {
      this.list1 = list;
      this.v1 = NONE;
    }
  }

  isEmpty(): boolean {
    return this.v0 === NONE && this.list0 === undefined && this.v1 === NONE && this.list1 === undefined;
  }

}

function newestOf(list: Entry[] | undefined, value: unknown, at: number): number {
  if (list !== undefined) return list[list.length - 1]?.atMs ?? -Infinity;
  return value === NONE ? -Infinity : at;
}

/** The keys, their order and the sweep, for the one or two states (lanes) that share them. */
class WindowStore {
  private readonly keys = new Map<string, Slot>();
  /**
   * The slots, oldest key first (the Map's own order). Eviction and sweeps walk it and tell a stale place by the
   * slot's flag, with no Map probe.
   */
  private readonly order = new InsertionRing<Slot>((s) => !s.dead);
  private maxWindowMs = 0;
  /** The longest window each lane's state asked for (0: none yet). */
  private readonly laneWindowMs: [number, number] = [0, 0];
  private lastSweepMs = -Infinity;
  /** Cutoffs of the sweep in progress (the ring's walk), per lane: a lane's entries older than it have left its windows. */
  private readonly sweepCutoff: [number, number] = [-Infinity, -Infinity];
  /**
   * The key last looked up and its slot (undefined: absent), for the reads and adds that follow on the same key: a
   * windowed rule reads a number's entries and then adds to them, and the rule sharing the store does the same with
   * the same number; on windows of 100k numbers each Map probe is a few cache misses. Only add() creates slots and it
   * sets this to what it made; a slot dropped since is flagged dead.
   */
  private lastKey: string | undefined = undefined;
  private lastSlot: Slot | undefined = undefined;
  evicted = 0;
  swept = 0;
  /** Set once a second state took lane 1. */
  paired = false;

  constructor(
    private readonly maxKeys: number,
    private readonly maxEntriesPerKey: number,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  private find(key: string): Slot | undefined {
    if (key === this.lastKey) {
      const cached = this.lastSlot;
      if (cached === undefined || !cached.dead) return cached;
    }
    const slot = this.keys.get(key);
    this.lastKey = key;
    this.lastSlot = slot;
    return slot;
  }

  /** The key's slot with the lane's entries older than the window dropped; undefined when the lane has none left. */
  live(lane: Lane, key: string, nowMs: number, windowMs: number): Slot | undefined {
    if (windowMs > this.laneWindowMs[lane]) {
      this.laneWindowMs[lane] = windowMs;
      if (windowMs > this.maxWindowMs) this.maxWindowMs = windowMs;
    }
    const slot = this.find(key);
    if (!slot) return undefined;
    const cutoff = nowMs - windowMs;
    const list = slot.list(lane);
    if (list === undefined) {
      if (slot.value(lane) === NONE) return undefined;
      if (slot.at(lane) < cutoff) {
        this.clear(slot, lane);
        return undefined;
      }
      return slot;
    }
    let drop = 0;
    while (drop < list.length && list[drop]!.atMs < cutoff) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length === 0) {
      this.clear(slot, lane);
      return undefined;
    }
    return slot;
  }

  add(lane: Lane, key: string, nowMs: number, value: unknown): void {
    if (nowMs - this.lastSweepMs >= SWEEP_EVERY_MS) this.startSweep(nowMs);
    if (this.order.walking) this.sweepSome();
    const slot = this.find(key);
    if (!slot) {
      if (this.keys.size >= this.maxKeys) this.evictOne();
      const s = new Slot(key);
      s.setOne(lane, nowMs, value);
      this.keys.set(key, s);
      this.order.add(s);
      this.lastKey = key;
      this.lastSlot = s;
      return;
    }
    let list = slot.list(lane);
    if (list === undefined) {
      if (slot.value(lane) === NONE) {
        slot.setOne(lane, nowMs, value);
        return;
      }
      list = [{ atMs: slot.at(lane), value: slot.value(lane) }];
      slot.setList(lane, list);
    }
    list.push({ atMs: nowMs, value });
    if (list.length > this.maxEntriesPerKey) {
      list.shift();
      this.evicted++;
    }
  }

  /** Empty one lane of the slot; the key leaves the map once both lanes are empty. */
  private clear(slot: Slot, lane: Lane): void {
    slot.setOne(lane, -Infinity, NONE);
    if (slot.isEmpty()) this.drop(slot);
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

  /** Start dropping each lane's entries that left every window its state asked for, and keys left with none. */
  private startSweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    this.startWalk(nowMs);
  }

  private startWalk(nowMs: number): boolean {
    if (this.maxWindowMs === 0) return false;
    // A lane whose state never asked for a window (no reads yet) keeps its entries.
    for (const lane of [0, 1] as const) this.sweepCutoff[lane] = this.laneWindowMs[lane] === 0 ? -Infinity : nowMs - this.laneWindowMs[lane];
    this.order.startWalk();
    return true;
  }

  /**
   * Sweep as of `nowMs` while no message comes (the daemon runs the clock on once a second, issue #18): sweeps are
   * otherwise spread over the adds, so after a flood the keys of windows that had passed stayed until new traffic.
   * At most EXPIRE_STEP places per call, so as not to hold the event loop (100k keys: a full pass in 13 calls); the
   * next call goes on with the walk, or starts a new one at its own time.
   */
  expire(nowMs: number): void {
    if (this.keys.size === 0) return;
    if (!this.order.walking && !this.startWalk(nowMs)) return;
    for (let n = 0; n < EXPIRE_STEP && this.order.walking; n += SWEEP_STEP) this.sweepSome();
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
      if (slot.dead) continue;
      if (newestOf(slot.list0, slot.v0, slot.at0) < this.sweepCutoff[0]) slot.setOne(0, -Infinity, NONE);
      if (newestOf(slot.list1, slot.v1, slot.at1) < this.sweepCutoff[1]) slot.setOne(1, -Infinity, NONE);
      if (slot.isEmpty()) {
        this.drop(slot);
        this.swept++;
      }
    }
  }
}

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
 * heap on the benchmark capture; then ~130; ~160 since a slot has room for a second state's entries, below, where two
 * states of their own take ~260.)
 *
 * Two states can share one store ({@link MemoryWindowState.pair}): each keeps its entries in its own lane of the
 * key's slot and reads and writes exactly as if it were alone, but the key is looked up once for both and held in
 * one slot, one Map entry and one place in the order. CLI-MULTI-PEER and CLI-VELOCITY key by the calling number of
 * every initial INVITE and share a store: with a state each, their windows took ~20% of one core's time on the
 * 1M-message benchmark capture (a stub state in their place: 6.5–6.9 s instead of 7.8–9.2 s): Map probes (lookup,
 * insertion, eviction per INVITE and rule) on tables of up to 100k numbers, and the GC of what they hold. Sharing
 * halves the probes, not the memory: replaying that capture's 149k INVITEs against the two rules' state calls,
 * 9.4k → 6.5k instructions per INVITE; the whole 1M run, 36.4 → 35.9 G. What the pair shares is the bound on keys:
 * evicting a key drops both lanes' entries.
 */
export class MemoryWindowState implements WindowState {
  private readonly store: WindowStore;
  private readonly lane: Lane;

  /**
   * A state with a store of its own, at most `maxKeys` keys and `maxEntriesPerKey` entries per key (beyond which
   * the oldest key, or the key's oldest entry, is dropped and counted in `evicted`). With `partner`, the state takes
   * the second lane of the partner's store instead (see {@link pair}; the bounds are the partner's).
   */
  constructor(maxKeys = 100_000, maxEntriesPerKey = 1_000, partner?: MemoryWindowState) {
    if (partner === undefined) {
      this.store = new WindowStore(maxKeys, maxEntriesPerKey);
      this.lane = 0;
    } else {
      if (partner.lane !== 0 || partner.store.paired) throw new Error('a window store has two lanes');
      partner.store.paired = true;
      this.store = partner.store;
      this.lane = 1;
    }
  }

  /**
   * Two states over one store (a lane each): each behaves as a state of its own, but they share the lookups, the
   * slots and the bound of `maxKeys` keys (an evicted key loses both states' entries). For two rules that key by the
   * same thing on the same messages.
   */
  static pair(maxKeys = 100_000, maxEntriesPerKey = 1_000): [MemoryWindowState, MemoryWindowState] {
    const first = new MemoryWindowState(maxKeys, maxEntriesPerKey);
    return [first, new MemoryWindowState(maxKeys, maxEntriesPerKey, first)];
  }

  recent<T>(key: string, nowMs: number, windowMs: number): readonly { readonly atMs: number; readonly value: T }[] {
    const lane = this.lane;
    const slot = this.store.live(lane, key, nowMs, windowMs);
    if (slot === undefined) return [];
    const list = slot.list(lane);
    if (list === undefined) return [{ atMs: slot.at(lane), value: slot.value(lane) as T }];
    return list as { atMs: number; value: T }[];
  }

  count(key: string, nowMs: number, windowMs: number): number {
    const lane = this.lane;
    const slot = this.store.live(lane, key, nowMs, windowMs);
    if (slot === undefined) return 0;
    const list = slot.list(lane);
    return list === undefined ? 1 : list.length;
  }

  add<T>(key: string, nowMs: number, value: T): void {
    this.store.add(this.lane, key, nowMs, value);
  }

  expire(nowMs: number): void {
    this.store.expire(nowMs);
  }

  /** Keys held (of both states, when paired). */
  get size(): number {
    return this.store.size;
  }

  /** Keys and entries dropped by the bounds (of both states, when paired). */
  /** Identity of the store behind this state (one for both states of a pair): count a pair's store once. */
  get storeRef(): object {
    return this.store;
  }

  get evicted(): number {
    return this.store.evicted;
  }

  /** Keys dropped by sweeps (of both states, when paired). */
  get swept(): number {
    return this.store.swept;
  }
}

/** Window stores in this process's memory, each bounded to `maxKeys` keys (`limits.windowKeys`; oldest evicted). */
export function memoryWindows(maxKeys: number): WindowStates {
  return { single: () => new MemoryWindowState(maxKeys), pair: () => MemoryWindowState.pair(maxKeys) };
}
