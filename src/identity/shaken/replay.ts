/**
 * PASSporT replay detection (RULES.md §2 step 9, rule SHAKEN-REPLAY; ATIS-1000074): the same
 * (origid, iat, orig.tn, dest.tn) seen on a different Call-ID within 2× the freshness window. A
 * retransmission or re-INVITE on the same Call-ID is not a replay.
 *
 * Windowed cross-call state goes through the small {@link ReplayState} interface (DESIGN.md §3) so that a
 * sharded/broker-backed implementation can replace the in-memory one without touching the rule.
 */
import type { VerifyPassed } from './verify.js';

/** Windowed replay state keyed by the PASSporT identity. */
export interface ReplayState {
  /**
   * Records `key` for `callId` at capture time `timeMs`; returns the Call-ID that first carried the same
   * key within the window when it differs from `callId`.
   */
  seen(key: string, callId: string, timeMs: number): { replayOf?: string };
}

export interface ReplayDetectorOptions {
  /** Window in ms; use 2 × freshness (RULES.md §2). */
  readonly windowMs: number;
  /** Most keys kept; the oldest are evicted (and counted) beyond it. */
  readonly maxEntries: number;
}

interface Entry {
  readonly callId: string;
  readonly firstMs: number;
}

/** In-memory {@link ReplayState}: bounded, expiring by the capture clock that is passed in. */
export class ReplayDetector implements ReplayState {
  private readonly entries = new Map<string, Entry>();
  private readonly windowMs: number;
  private readonly maxEntries: number;
  /** Keys dropped because the table was full. */
  evicted = 0;
  /** Keys dropped because their window had passed. */
  expired = 0;

  constructor(options: ReplayDetectorOptions) {
    if (!(options.windowMs > 0) || !(options.maxEntries >= 1)) throw new RangeError('ReplayDetector needs windowMs > 0 and maxEntries >= 1');
    this.windowMs = options.windowMs;
    this.maxEntries = Math.floor(options.maxEntries);
  }

  get size(): number {
    return this.entries.size;
  }

  seen(key: string, callId: string, timeMs: number): { replayOf?: string } {
    this.expire(timeMs);
    const prior = this.entries.get(key);
    if (prior && Math.abs(timeMs - prior.firstMs) <= this.windowMs) {
      return prior.callId === callId ? {} : { replayOf: prior.callId };
    }
    if (prior) {
      this.entries.delete(key);
      this.expired++;
    }
    this.entries.set(key, { callId, firstMs: timeMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
      this.evicted++;
    }
    return {};
  }

  /** Drops entries older than the window, oldest first (insertion order ≈ capture order). */
  private expire(nowMs: number): void {
    for (const [key, e] of this.entries) {
      if (nowMs - e.firstMs <= this.windowMs) break;
      this.entries.delete(key);
      this.expired++;
    }
  }
}

/** Replay key of a verified PASSporT: origid, iat, orig.tn and the sorted dest.tn. */
export function replayKeyOf(p: Pick<VerifyPassed, 'origid' | 'iat' | 'origTn' | 'destTn'>): string {
  return JSON.stringify([p.origid, p.iat, p.origTn, [...p.destTn].sort()]);
}

export interface ReplayFinding {
  readonly rule: 'SHAKEN-REPLAY';
  /** The Call-ID that carried the PASSporT first. */
  readonly replayOf: string;
  readonly reason: string;
}

/** Records a passed verification and reports SHAKEN-REPLAY when the same PASSporT came on another call. */
export function checkReplay(state: ReplayState, result: VerifyPassed, callId: string, captureTimeMs: number): ReplayFinding | undefined {
  const r = state.seen(replayKeyOf(result), callId, captureTimeMs);
  if (r.replayOf === undefined) return undefined;
  return {
    rule: 'SHAKEN-REPLAY',
    replayOf: r.replayOf,
    reason: `the same PASSporT (origid ${result.origid}, iat ${result.iat}) was already used on call ${r.replayOf}; a signed identity is valid for one call only`,
  };
}
