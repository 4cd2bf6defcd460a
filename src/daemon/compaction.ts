/**
 * Give a flood's memory back to the system once its calls have gone (issue #18, point 2).
 *
 * The call table, the evidence of its calls and the rest of a call's state are JavaScript objects: when a flood's
 * calls expire (limits.callIdleSeconds) they become garbage in V8's old generation, which only shrinks when V8
 * collects and compacts it. V8 does that on its own schedule, and after a flood that schedule is unreliable: its
 * memory reducer polls every 8 s for a quiet mutator and then runs at most three compacting GCs, so it may run
 * while the flood's calls are still live (they expire callIdleSeconds after their last message) and then stay done;
 * the next full GC of a quiet daemon can be hours away. Measured (a daemon child, 100k new Call-IDs over 10 s,
 * callIdleSeconds 10): the old generation held 220 MB of which ~54 MB live for 34 s after the flood before the
 * reducer ran; in other runs RSS was still 96 MB above its level before the flood at 20 s. A plain full GC frees the
 * objects but leaves most pages (each with a few live window keys) mapped: 10% of a 200 MB heap left alive across
 * all pages gave RSS 235 → 202 MB; the same GC compacting every page, 238 → 90 MB in 56 ms.
 *
 * So the daemon watches what it holds for calls — the call table at ~2 KB a call, the evidence buffer's bytes, alerts
 * waiting for the store — and, when at least {@link MIN_RELEASED_BYTES} of it have gone since the peak and the drain
 * has slowed, runs one full GC that compacts every page: once per flood (state drains only when traffic no longer
 * refills it, and a new peak must build up before the next), at the cost of one pause of tens of milliseconds
 * (copying the live heap) against the flood's hundreds of megabytes. Evidence and held alerts count too: after a
 * storm on a full disk they are let go of only when the store takes them again, long after the calls expired.
 *
 * V8 gives JavaScript no GC call unless started with `--expose-gc`; {@link compactingGc} takes the flag at run time
 * and reads `gc` from a new context, where V8 installs it once the flag is set, and turns on
 * `--compact-on-every-full-gc` for that one collection only. Node documents flags set after start-up as unsupported
 * in general: when this fails the daemon logs it once and memory comes back on V8's schedule.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A drained build-up of at least this much held state compacts the heap (10k calls, counted as below). */
export const MIN_RELEASED_BYTES = 20 * 1024 * 1024;

/**
 * What one call in the table counts for in {@link heldBytes}. Measured live at the 100k-call bound (daemon child,
 * old space after a GC): ~1 KB a call besides its evidence and its window key (190 MB with 100k calls, 32 MiB of
 * evidence, 100k window keys and a 35 MB base). Counted at 2 KB, a round upper figure: 10k calls released reach
 * {@link MIN_RELEASED_BYTES} on their own, as before evidence and held alerts were counted.
 */
export const CALL_STATE_BYTES = 2048;
/** What one alert waiting for the store holds. */
export const HELD_ALERT_BYTES = 1024;

/** The daemon's estimate of the state it holds for calls, which a flood fills and its end releases. */
export function heldBytes(calls: number, evidenceBytes: number, alertsWaiting: number): number {
  return calls * CALL_STATE_BYTES + evidenceBytes + alertsWaiting * HELD_ALERT_BYTES;
}

type GcFunction = () => void;

let gcFunction: GcFunction | undefined | null = null;

function exposedGc(): GcFunction | undefined {
  if (gcFunction !== null) return gcFunction;
  gcFunction = undefined;
  try {
    const existing = (globalThis as { gc?: unknown }).gc;
    if (typeof existing === 'function') gcFunction = existing as GcFunction;
    else {
      setFlagsFromString('--expose-gc');
      const fromContext: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
      if (typeof fromContext === 'function') gcFunction = fromContext as GcFunction;
    }
  } catch {
    gcFunction = undefined;
  }
  return gcFunction;
}

/** One full GC that compacts every page of the old generation; false when this V8 gives no way to ask for it. */
export function compactingGc(): boolean {
  const gc = exposedGc();
  if (gc === undefined) return false;
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
  return true;
}

export interface Compaction {
  /** Held state (see {@link heldBytes}) at the peak, and now. */
  readonly peakHeld: number;
  readonly held: number;
  readonly heapUsedBefore: number;
  readonly heapUsedAfter: number;
  readonly pauseMs: number;
}

/** Decides when a drained flood is worth a compaction, and counts them. */
export class FloodCompaction {
  private peak = 0;
  private previous = 0;
  /** Compactions run. */
  count = 0;
  /** Set when the GC could not be had (then nothing more is tried). */
  unavailable = false;

  constructor(
    private readonly gc: () => boolean = compactingGc,
    private readonly minReleased: number = MIN_RELEASED_BYTES,
    private readonly heapUsed: () => number = () => process.memoryUsage().heapUsed,
  ) {}

  /**
   * Look at the state held (once a tick); returns what a compaction did when it ran one. It runs when at least
   * `minReleased` has gone since the peak and the drain has slowed (the last tick released less than a tenth of
   * that): at the end of a flood's expiry, not in its middle (a 100k-call table drains over callIdleSeconds, ~10k
   * calls a tick at 10 s). A slow drain compacts once per `minReleased` released.
   */
  observe(held: number): Compaction | undefined {
    const previous = this.previous;
    this.previous = held;
    if (held > this.peak) {
      this.peak = held;
      return undefined;
    }
    if (this.unavailable || this.peak - held < this.minReleased || (previous - held) * 10 >= this.minReleased) return undefined;
    const peakHeld = this.peak;
    this.peak = held;
    const heapUsedBefore = this.heapUsed();
    const t0 = performance.now();
    if (!this.gc()) {
      this.unavailable = true;
      return undefined;
    }
    const pauseMs = performance.now() - t0;
    this.count++;
    return { peakHeld, held, heapUsedBefore, heapUsedAfter: this.heapUsed(), pauseMs };
  }
}
