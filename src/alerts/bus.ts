/**
 * The alert bus: has each published alert numbered and stored by the store, then fans it out to sinks
 * (WebSocket clients, NDJSON, log, metrics) through one bounded queue per sink.
 *
 * The store is the source of truth for `seq` (issue #17): alerts published in one event-loop turn are committed in
 * one transaction on the next turn, the store numbers them inside it, and only the committed, numbered alerts
 * reach the sinks — right after the commit, in the same synchronous step (the WebSocket resume logic relies on
 * this: an alert with a seq at or below the store's lastSeq has already been fanned out). When a write fails
 * (SQLITE_FULL, SQLITE_IOERR, a read-only file …) nothing is delivered: the alerts wait, unnumbered, in a bounded
 * spill queue (the rest of the daemon keeps ingesting), the write is retried with exponential backoff, and new
 * alerts beyond the bound are dropped and counted. No seq is ever announced that the store does not hold, so none
 * can be announced twice, across restarts included. Publishing never waits for a sink: queues drain on later
 * event-loop turns, and a full queue drops the alert for that sink only, counted and told to the sink
 * (DESIGN.md §8.4, §8.7).
 */
import { SpoofwatchError } from '../types.js';
import type { Alert } from './alert.js';

/** What the bus needs from the store (src/sinks/store.ts implements it). */
export interface AlertPersistence {
  lastSeq(): number;
  /**
   * Number `alerts` from `lastSeq() + 1` and store them in one transaction; return the numbered copies once
   * committed, or throw with nothing stored and no seq used up.
   */
  commit(alerts: readonly Alert[]): Alert[];
}

export interface AlertSink {
  /** Unique among the bus's current subscribers; used in stats and metrics labels. */
  readonly name: string;
  /**
   * Take one alert. Return `false` when the sink accepted it but is saturated (e.g. a WebSocket
   * whose `bufferedAmount` is over its bound): the bus stops draining this sink until
   * {@link Subscription.resume} is called, while its queue keeps filling and then dropping.
   * A throw counts as an error for this alert; delivery continues with the next one.
   */
  deliver(alert: Alert): void | boolean;
  /** Alerts for which this returns false are never queued for this sink (not counted as drops). */
  readonly filter?: (alert: Alert) => boolean;
  /**
   * Told (synchronously, inside the fan-out) that an alert was dropped because this sink's queue was full. A sink
   * that can catch up from the store (a WebSocket client) uses it to replay instead of leaving a gap.
   */
  readonly overflow?: (alert: Alert) => void;
}

export interface SubscribeOptions {
  /** Queue bound for this sink; alerts beyond it are dropped for this sink and counted. */
  readonly maxQueue: number;
}

export interface SinkStats {
  readonly name: string;
  readonly queued: number;
  readonly maxQueue: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly filtered: number;
  readonly errors: number;
  readonly paused: boolean;
}

export interface BusStats {
  /** Seq of the last committed (and so announced) alert. */
  readonly lastSeq: number;
  readonly published: number;
  readonly persisted: number;
  /** Failed store writes (attempts, not alerts). */
  readonly persistErrors: number;
  /** Alerts waiting for a store write: this turn's batch, or the spill queue while the store fails. */
  readonly pendingPersist: number;
  /** Alerts dropped because the spill queue was full: never stored, never delivered. */
  readonly spillDropped: number;
  /** The bound of the spill queue. */
  readonly maxSpill: number;
  readonly sinks: readonly SinkStats[];
}

/** Whether the store takes writes; while it does not, alerts spill (see the file comment). */
export type PersistState =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** The store's last error, e.g. `cannot store alerts in /x.db: SQLITE_FULL: database or disk is full`. */
      readonly reason: string;
      /** Wall-clock ms of the first failure of this outage. */
      readonly sinceMs: number;
      readonly failures: number;
    };

export interface Subscription {
  readonly name: string;
  unsubscribe(): void;
  /** Continue draining after `deliver` returned `false`. */
  resume(): void;
  stats(): SinkStats;
}

export interface AlertBusOptions {
  /** Without a store the bus numbers alerts itself (tests, `analyze`). */
  readonly store?: AlertPersistence;
  /**
   * `tick` (default): alerts published in one event-loop turn are persisted in one transaction on
   * the next turn, then delivered. `sync`: each publish is its own transaction before it returns.
   * Measured in test/alerts/bus.test.ts: `tick` is the one that keeps up with thousands per second.
   */
  readonly persist?: 'tick' | 'sync';
  /** Bound of the spill queue (alerts waiting for the store); default 20,000 (`limits.alertSpill`): ~1.2 KB of heap each. */
  readonly maxSpill?: number;
  /** Most alerts per transaction; a longer backlog (after an outage) commits one batch per turn. Default 2048. */
  readonly commitBatch?: number;
  /** First retry delay after a failed write, doubled per failure up to `retryMaxMs`. Defaults 100 ms and 5 s. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Runs `fn` after `ms`; returns a cancel function. Default an unref'd `setTimeout`. Injected so tests control time. */
  readonly setTimer?: (fn: () => void, ms: number) => () => void;
  /** Wall clock (ms), for {@link PersistState.sinceMs}. */
  readonly now?: () => number;
  /** Called with each alert right after its commit, before any sink gets it (metrics). */
  readonly onCommitted?: (alert: Alert) => void;
  /** Called once per change of {@link PersistState} (failing → recovered), not per failed attempt. */
  readonly onStateChange?: (state: PersistState, info: { readonly spilled: number; readonly spillDropped: number }) => void;
  /** Alerts handed to one sink per turn before yielding to the event loop. Default 256. */
  readonly drainBatch?: number;
  /** Defers work to a later turn; default `setImmediate`. Injected so tests control time. */
  readonly schedule?: (fn: () => void) => void;
  /** Told about every failed store write (code `STORE_APPEND`); the alerts stay spilled and are retried. */
  readonly onError?: (err: SpoofwatchError) => void;
}

/** `CODE: message` of an error that carries a string `code` (SQLite's), else its message. */
function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
}

/** FIFO with O(1) push/shift and a hard bound. */
class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** False (and nothing stored) when full. */
  push(item: T): boolean {
    if (this.size >= this.max) return false;
    this.items.push(item);
    return true;
  }

  /** The first `n` items, not removed. */
  peek(n: number): T[] {
    return this.items.slice(this.head, this.head + n);
  }

  /** Remove the first `n` items. */
  discard(n: number): void {
    this.head += Math.min(n, this.size);
    if (this.head >= this.items.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.head++;
    // Compact once the consumed prefix dominates, keeping shift O(1) amortised.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

class SinkState {
  readonly queue: BoundedQueue<Alert>;
  delivered = 0;
  dropped = 0;
  filtered = 0;
  errors = 0;
  paused = false;
  scheduled = false;
  closed = false;

  constructor(
    readonly sink: AlertSink,
    maxQueue: number,
  ) {
    this.queue = new BoundedQueue<Alert>(maxQueue);
  }

  stats(): SinkStats {
    return {
      name: this.sink.name,
      queued: this.queue.size,
      maxQueue: this.queue.max,
      delivered: this.delivered,
      dropped: this.dropped,
      filtered: this.filtered,
      errors: this.errors,
      paused: this.paused,
    };
  }
}

export class AlertBus {
  private seq: number;
  private readonly sinks = new Map<string, SinkState>();
  private readonly store: AlertPersistence | undefined;
  private readonly mode: 'tick' | 'sync';
  private readonly drainBatch: number;
  private readonly commitBatch: number;
  private readonly schedule: (fn: () => void) => void;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;
  private readonly now: () => number;
  private readonly opts: AlertBusOptions;
  /** Published, not yet committed: this turn's alerts, or the spill queue while the store fails. */
  private readonly pending: BoundedQueue<Alert>;
  private flushScheduled = false;
  private published = 0;
  private persisted = 0;
  private persistErrors = 0;
  private spillDropped = 0;
  private failing: { reason: string; sinceMs: number; failures: number; delayMs: number } | undefined;
  /**
   * Alerts per transaction now: halved after each failed write (a nearly full disk may take a small batch when it
   * cannot take a large one: measured on a 2 MB tmpfs, a 2,048-alert retry never fitted in the space freed), doubled
   * back after each success.
   */
  private batchSize: number;
  private cancelRetry: (() => void) | undefined;
  private closed = false;

  constructor(opts: AlertBusOptions = {}) {
    this.opts = opts;
    this.store = opts.store;
    this.seq = opts.store?.lastSeq() ?? 0;
    this.mode = opts.persist ?? 'tick';
    this.drainBatch = Math.max(1, opts.drainBatch ?? 256);
    this.commitBatch = Math.max(1, opts.commitBatch ?? 2048);
    this.batchSize = this.commitBatch;
    this.pending = new BoundedQueue<Alert>(Math.max(1, opts.maxSpill ?? 20_000));
    this.schedule = opts.schedule ?? ((fn) => void setImmediate(fn));
    this.setTimer =
      opts.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref();
        return () => clearTimeout(t);
      });
    this.now = opts.now ?? Date.now;
  }

  /** Seq of the last committed alert: every alert up to it is stored and was handed to the sinks. */
  lastSeq(): number {
    return this.seq;
  }

  /** Whether the store takes writes (what `/healthz` reports). */
  persistState(): PersistState {
    const f = this.failing;
    return f ? { ok: false, reason: f.reason, sinceMs: f.sinceMs, failures: f.failures } : { ok: true };
  }

  /**
   * Queue `alert` (its `seq` is ignored) to be numbered and stored, then delivered. Returns false when the spill
   * queue is full: the alert is dropped and counted. Never blocks on a sink or on the store.
   */
  publish(alert: Alert): boolean {
    this.published++;
    if (!this.pending.push(alert)) {
      this.spillDropped++;
      return false;
    }
    // While the store fails, the retry timer flushes; publishing does not hammer a full disk.
    if (this.failing || this.closed) return true;
    if (this.mode === 'sync') this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.schedule(() => this.flush());
    }
    return true;
  }

  /**
   * Commit and fan out what is pending (one batch of at most `commitBatch`; a longer backlog continues on the next
   * turns). The tick scheduler calls it, the retry timer too; callers may (shutdown). Returns false when the store
   * refused the write (the alerts stay pending).
   */
  flush(): boolean {
    this.flushScheduled = false;
    if (this.pending.size === 0) return true;
    const batch = this.pending.peek(this.batchSize);
    let committed: Alert[];
    if (this.store) {
      try {
        committed = this.store.commit(batch);
      } catch (e) {
        this.batchSize = Math.max(1, Math.min(this.batchSize, batch.length) >> 1);
        this.fail(e);
        return false;
      }
      if (this.batchSize < this.commitBatch) this.batchSize = Math.min(this.commitBatch, this.batchSize * 2);
    } else {
      committed = batch.map((a) => ({ ...a, seq: ++this.seq }));
    }
    this.pending.discard(batch.length);
    const tail = committed[committed.length - 1];
    if (tail) this.seq = tail.seq;
    this.persisted += committed.length;
    // Recovered once the spill is stored; until then a nearly full disk may still refuse the next (larger) batch.
    if (this.failing) {
      if (this.pending.size === 0) this.recover();
      else this.failing.delayMs = this.opts.retryInitialMs ?? 100;
    }
    const onCommitted = this.opts.onCommitted;
    for (const a of committed) {
      onCommitted?.(a);
      this.fanOut(a);
    }
    if (this.pending.size > 0 && !this.flushScheduled && !this.closed) {
      this.flushScheduled = true;
      this.schedule(() => this.flush());
    }
    return true;
  }

  /** Stop retrying (shutdown). Returns how many alerts were never stored. */
  close(): number {
    this.closed = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    return this.pending.size;
  }

  subscribe(sink: AlertSink, opts: SubscribeOptions): Subscription {
    if (this.sinks.has(sink.name)) throw new SpoofwatchError('BUS_DUPLICATE_SINK', `a sink named ${sink.name} is already subscribed`);
    if (!Number.isInteger(opts.maxQueue) || opts.maxQueue < 1) {
      throw new SpoofwatchError('BUS_BAD_QUEUE', `maxQueue must be a positive integer, got ${opts.maxQueue}`);
    }
    const state = new SinkState(sink, opts.maxQueue);
    this.sinks.set(sink.name, state);
    return {
      name: sink.name,
      unsubscribe: () => {
        state.closed = true;
        state.queue.clear();
        if (this.sinks.get(sink.name) === state) this.sinks.delete(sink.name);
      },
      resume: () => {
        if (!state.paused || state.closed) return;
        state.paused = false;
        this.scheduleDrain(state);
      },
      stats: () => state.stats(),
    };
  }

  stats(): BusStats {
    return {
      lastSeq: this.seq,
      published: this.published,
      persisted: this.persisted,
      persistErrors: this.persistErrors,
      pendingPersist: this.pending.size,
      spillDropped: this.spillDropped,
      maxSpill: this.pending.max,
      sinks: [...this.sinks.values()].map((s) => s.stats()),
    };
  }

  /**
   * Resolves once nothing is pending persistence and every unpaused sink queue is empty. While the store fails,
   * spilled alerts do not count (they wait for the store, not for the event loop).
   */
  async idle(): Promise<void> {
    for (;;) {
      const busy = (this.pending.size > 0 && !this.failing) || [...this.sinks.values()].some((s) => !s.paused && s.queue.size > 0);
      if (!busy) return;
      await new Promise<void>((resolve) => this.schedule(resolve));
    }
  }

  private fail(e: unknown): void {
    this.persistErrors++;
    const err = e instanceof SpoofwatchError ? e : new SpoofwatchError('STORE_APPEND', `cannot store alerts: ${errorText(e)}`);
    const first = this.failing === undefined;
    const f = (this.failing ??= { reason: err.message, sinceMs: this.now(), failures: 0, delayMs: this.opts.retryInitialMs ?? 100 });
    f.reason = err.message;
    f.failures++;
    this.opts.onError?.(err);
    if (first) this.opts.onStateChange?.(this.persistState(), { spilled: this.pending.size, spillDropped: this.spillDropped });
    if (this.closed) return;
    this.cancelRetry?.();
    const delay = f.delayMs;
    f.delayMs = Math.min(this.opts.retryMaxMs ?? 5000, f.delayMs * 2);
    this.cancelRetry = this.setTimer(() => {
      this.cancelRetry = undefined;
      this.flush();
    }, delay);
  }

  private recover(): void {
    this.failing = undefined;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    this.opts.onStateChange?.({ ok: true }, { spilled: this.pending.size, spillDropped: this.spillDropped });
  }

  private fanOut(alert: Alert): void {
    for (const s of this.sinks.values()) {
      if (s.sink.filter && !s.sink.filter(alert)) {
        s.filtered++;
        continue;
      }
      if (!s.queue.push(alert)) {
        s.dropped++;
        s.sink.overflow?.(alert);
        continue;
      }
      if (!s.paused) this.scheduleDrain(s);
    }
  }
  private scheduleDrain(s: SinkState): void {
    if (s.scheduled) return;
    s.scheduled = true;
    this.schedule(() => this.drain(s));
  }

  private drain(s: SinkState): void {
    s.scheduled = false;
    for (let n = 0; n < this.drainBatch && !s.paused && !s.closed; n++) {
      const alert = s.queue.shift();
      if (alert === undefined) return;
      let result: void | boolean;
      try {
        result = s.sink.deliver(alert);
      } catch {
        s.errors++;
        continue;
      }
      s.delivered++;
      if (result === false) s.paused = true;
    }
    if (!s.paused && !s.closed && s.queue.size > 0) this.scheduleDrain(s);
  }
}
