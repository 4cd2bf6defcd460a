/**
 * Evidence of alerted calls across their whole life (issue #6): the in-memory EvidenceBuffer holds live calls, the
 * SQLite EvidenceStore keeps the calls that raised an alert. The service persists a pinned call when it is pinned
 * (an alert) and again, debounced, whenever more of its messages arrive (180, 200, ACK, BYE …), and everything
 * still pending on shutdown — so the stored copy trails the live call by at most `debounceMs`.
 *
 * It hooks in through {@link ObservedEvidenceBuffer}, an EvidenceBuffer that reports adds and pins: hand
 * `service.buffer` to the Analyzer as its evidence buffer and nothing else needs to call the service.
 */
import { EvidenceBuffer, DEFAULT_EVIDENCE_LIMITS, type EvidenceLimits, type EvidenceMessage } from './buffer.js';
import type { EvidenceStore } from './store.js';

/** An EvidenceBuffer that tells a listener about every add and pin (the buffer itself stays unchanged). */
export class ObservedEvidenceBuffer extends EvidenceBuffer {
  constructor(
    limits: EvidenceLimits,
    private readonly listener: {
      added(callId: string, hadEntry: boolean, pinned: boolean): void;
      pinned(callId: string): void;
      ended(callId: string): void;
    },
  ) {
    super(limits);
  }

  protected override pinnedCallEnded(callId: string): void {
    this.listener.ended(callId);
  }

  protected override observeAdd(callId: string, had: boolean, pinned: boolean): void {
    this.listener.added(callId, had, pinned);
  }

  override pin(callId: string): void {
    super.pin(callId);
    this.listener.pinned(callId);
  }
}

export interface EvidenceServiceOptions {
  readonly store: EvidenceStore;
  readonly limits?: EvidenceLimits;
  /** Delay between a change of a pinned call and its save; default 1000 ms. */
  readonly debounceMs?: number;
  /** Alerted calls remembered (to keep saving their late messages), most recent first; default 50 000. */
  readonly maxTrackedCalls?: number;
  /** Told about a failed save (the call stays pending and is retried on the next flush). */
  readonly onError?: (err: Error, callId: string) => void;
}

export interface EvidenceServiceStats {
  readonly saves: number;
  readonly saveErrors: number;
  readonly pending: number;
  readonly tracked: number;
  /** Late messages of an alerted call whose earlier messages had left the buffer (merged with the stored ones). */
  readonly repinned: number;
}

/** Identity of one message across buffer and store (frame numbers are per source, so add time and addresses). */
const messageKey = (m: EvidenceMessage): string =>
  `${m.ts.sec}.${m.ts.nsec}|${m.frame}|${m.src.ip}:${m.src.port}>${m.dst.ip}:${m.dst.port}|${m.raw.length}`;

const byTime = (a: EvidenceMessage, b: EvidenceMessage): number => a.ts.sec - b.ts.sec || a.ts.nsec - b.ts.nsec || a.frame - b.frame;

/**
 * Union of two message lists in capture order, each message once; `b`'s copy wins (the live one: a row saved before
 * the same message came by another route has fewer routes than the buffer's).
 */
export function mergeMessages(a: readonly EvidenceMessage[] | undefined, b: readonly EvidenceMessage[] | undefined): EvidenceMessage[] | undefined {
  if (!a || a.length === 0) return b ? [...b] : a ? [] : undefined;
  if (!b || b.length === 0) return [...a];
  const seen = new Set(b.map(messageKey));
  const out = [...b];
  for (const m of a) if (!seen.has(messageKey(m))) out.push(m);
  return out.sort(byTime);
}

/** Calls saved per transaction and per event-loop turn by the debounced flush. */
const SAVE_BATCH = 32;

export class EvidenceService {
  /** Give this to the Analyzer (4th constructor argument). */
  readonly buffer: ObservedEvidenceBuffer;
  private readonly store: EvidenceStore;
  private readonly debounceMs: number;
  private readonly maxTracked: number;
  /** Alerted calls, least recently touched first (Map order), bounded by maxTracked. */
  private readonly tracked = new Map<string, true>();
  private readonly pending = new Set<string>();
  /** Alerted calls the call table forgot while a save of theirs was pending: let go of once saved. */
  private readonly releaseWhenSaved = new Set<string>();
  /** Calls whose buffer entry was rebuilt from late messages after an eviction (bounded with `tracked`). */
  private readonly repinnedCalls = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** A flushSome continuation is queued (setImmediate). */
  private slicing = false;
  private closed = false;
  private counters = { saves: 0, saveErrors: 0, repinned: 0 };

  constructor(private readonly opts: EvidenceServiceOptions) {
    this.store = opts.store;
    this.debounceMs = opts.debounceMs ?? 1000;
    this.maxTracked = opts.maxTrackedCalls ?? 50_000;
    this.buffer = new ObservedEvidenceBuffer(opts.limits ?? DEFAULT_EVIDENCE_LIMITS, {
      added: (callId, had, pinned) => this.added(callId, had, pinned),
      pinned: (callId) => this.markAlerted(callId),
      ended: (callId) => this.ended(callId),
    });
  }

  /**
   * A call raised an alert: keep its messages and save them. The Analyzer pins through the buffer, which
   * calls this; calling it again is harmless.
   */
  markAlerted(callId: string): void {
    if (this.closed) return;
    this.track(callId);
    this.schedule(callId);
  }

  /** The call's messages in capture order: the live buffer merged with what was saved, or undefined if unknown. */
  messages(callId: string): EvidenceMessage[] | undefined {
    const live = this.buffer.get(callId);
    // A tracked call is complete in the buffer unless its early messages were evicted and saved before: merge.
    const saved = live !== undefined && !this.tracked.has(callId) ? undefined : this.store.get(callId);
    return mergeMessages(saved, live);
  }

  /** Save every pending call now, synchronously (shutdown, tests). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.saveBatch([...this.pending]);
  }

  /**
   * The debounce timer's flush: {@link SAVE_BATCH} calls per transaction and per event-loop turn, so that a second's
   * worth of alerted calls (hundreds at 20k msg/s) does not hold the loop for one long burst while datagrams and
   * alert deliveries wait behind it (that burst was the alert-latency p99 of the live bench).
   */
  private flushSome(): void {
    this.timer = undefined;
    if (this.closed) return;
    const ids: string[] = [];
    for (const callId of this.pending) {
      if (ids.length >= SAVE_BATCH) break;
      ids.push(callId);
    }
    const saved = this.saveBatch(ids);
    // Go on next turn even if a newer change set the timer meanwhile (the calls left now are already due), but not
    // after a failure: what failed was rescheduled for the timer, and a failing store must not spin every turn.
    if (saved && this.pending.size > 0 && !this.slicing) {
      this.slicing = true;
      setImmediate(() => {
        this.slicing = false;
        this.flushSome();
      });
    }
  }

  /** Save these pending calls in one store transaction; on failure they are retried on a later flush (false). */
  private saveBatch(ids: readonly string[]): boolean {
    const batch: { callId: string; messages: readonly EvidenceMessage[] }[] = [];
    for (const callId of ids) {
      this.pending.delete(callId);
      const live = this.buffer.get(callId);
      if (!live) {
        // Dropped from the buffer before the save: the last save stands.
        this.releaseWhenSaved.delete(callId);
        continue;
      }
      // A call re-pinned after eviction holds only its late messages: keep the saved ones too.
      const merged = this.repinnedCalls.has(callId) ? mergeMessages(this.store.get(callId), live) : undefined;
      batch.push({ callId, messages: merged ?? live });
    }
    try {
      this.store.saveMany(batch);
      this.counters.saves += batch.length;
      for (const { callId } of batch) {
        if (this.releaseWhenSaved.delete(callId)) this.buffer.release(callId);
      }
      return true;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      for (const { callId } of batch) {
        this.counters.saveErrors++;
        this.opts.onError?.(err, callId);
        if (!this.closed) this.schedule(callId);
      }
      return false;
    }
  }

  /** Save what is pending and stop (daemon shutdown). The store is closed by its owner. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  stats(): EvidenceServiceStats {
    return { ...this.counters, pending: this.pending.size, tracked: this.tracked.size };
  }

  /**
   * The call table forgot an alerted call (idle or ended, limits.callIdleSeconds): its messages are in the store (or
   * will be, at the pending save), so the buffer lets them go (issue #18: a storm's alerted calls held the 64 MiB of
   * pinned evidence after the flood had expired). A late message of the call starts a new entry, merged with the
   * saved ones ({@link added}); the API reads the store.
   */
  private ended(callId: string): void {
    if (this.pending.has(callId)) this.releaseWhenSaved.add(callId);
    else this.buffer.release(callId);
  }

  private added(callId: string, had: boolean, pinned: boolean): void {
    // A message for an open entry that was there before: the call never alerted (an alerted call's entry is pinned,
    // and one rebuilt after an eviction is pinned at its first message below): nothing to save, no lookup.
    if (this.closed || (had && !pinned) || !this.tracked.has(callId)) return;
    if (!had) {
      // The alerted call had left the buffer (pinned-bytes bound); its late messages start a new, unpinned entry.
      this.counters.repinned++;
      this.repinnedCalls.add(callId);
      this.buffer.pin(callId); // → markAlerted → schedule
      return;
    }
    this.track(callId);
    this.schedule(callId);
  }

  private track(callId: string): void {
    this.tracked.delete(callId);
    this.tracked.set(callId, true);
    while (this.tracked.size > this.maxTracked) {
      const oldest = this.tracked.keys().next();
      if (oldest.done) break;
      this.tracked.delete(oldest.value);
      this.repinnedCalls.delete(oldest.value);
    }
  }

  private schedule(callId: string): void {
    this.pending.add(callId);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flushSome(), this.debounceMs);
      this.timer.unref();
    }
  }
}
