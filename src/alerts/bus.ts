/**
 * The alert bus: numbers each published alert, persists it, then fans it out to sinks
 * (WebSocket clients, NDJSON, log, metrics) through one bounded queue per sink.
 *
 * Ordering guarantee: an alert reaches a sink only after the store has it, so a WebSocket client
 * that saw seq N can always resume with `since = N` (DESIGN.md §5). Publishing never waits for a
 * sink: queues drain on later event-loop turns, and a full queue drops the alert for that sink
 * only, counted (DESIGN.md §8.4, §8.7).
 */
import { SpoofwatchError } from '../types.js';
import type { Alert } from './alert.js';

/** What the bus needs from the store (src/sinks/store.ts implements it). */
export interface AlertPersistence {
  lastSeq(): number;
  /** Stores the batch atomically or throws. */
  append(alerts: readonly Alert[]): void;
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
  readonly lastSeq: number;
  readonly published: number;
  readonly persisted: number;
  readonly persistErrors: number;
  /** Alerts numbered but not yet persisted (tick mode only). */
  readonly pendingPersist: number;
  readonly sinks: readonly SinkStats[];
}

export interface Subscription {
  readonly name: string;
  unsubscribe(): void;
  /** Continue draining after `deliver` returned `false`. */
  resume(): void;
  stats(): SinkStats;
}

export interface AlertBusOptions {
  readonly store?: AlertPersistence;
  /**
   * `tick` (default): alerts published in one event-loop turn are persisted in one transaction on
   * the next turn, then delivered. `sync`: each publish is its own transaction before it returns.
   * Measured in test/alerts/bus.test.ts: `tick` is the one that keeps up with thousands per second.
   */
  readonly persist?: 'tick' | 'sync';
  /** Alerts handed to one sink per turn before yielding to the event loop. Default 256. */
  readonly drainBatch?: number;
  /** Defers work to a later turn; default `setImmediate`. Injected so tests control time. */
  readonly schedule?: (fn: () => void) => void;
  /** Told about persistence failures (code `STORE_APPEND`); delivery goes on regardless. */
  readonly onError?: (err: SpoofwatchError) => void;
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
  private readonly schedule: (fn: () => void) => void;
  private readonly onError: ((err: SpoofwatchError) => void) | undefined;
  private pending: Alert[] = [];
  private flushScheduled = false;
  private published = 0;
  private persisted = 0;
  private persistErrors = 0;

  constructor(opts: AlertBusOptions = {}) {
    this.store = opts.store;
    this.seq = opts.store?.lastSeq() ?? 0;
    this.mode = opts.persist ?? 'tick';
    this.drainBatch = Math.max(1, opts.drainBatch ?? 256);
    this.schedule = opts.schedule ?? ((fn) => void setImmediate(fn));
    this.onError = opts.onError;
  }

  /** Seq of the last published alert (persisted or about to be). */
  lastSeq(): number {
    return this.seq;
  }

  /**
   * Number `alert` with the next seq and queue it for persistence and delivery. Returns the
   * numbered copy (the argument is not modified). Never blocks on a sink.
   */
  publish(alert: Alert): Alert {
    this.seq++;
    const numbered: Alert = { ...alert, seq: this.seq };
    this.published++;
    if (this.mode === 'sync') {
      this.persist([numbered]);
      this.fanOut(numbered);
    } else {
      this.pending.push(numbered);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        this.schedule(() => this.flush());
      }
    }
    return numbered;
  }

  /** Persist and fan out everything published so far (tick mode); called on shutdown too. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.persist(batch);
    for (const a of batch) this.fanOut(a);
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
      pendingPersist: this.pending.length,
      sinks: [...this.sinks.values()].map((s) => s.stats()),
    };
  }

  /** Resolves once nothing is pending persistence and every unpaused sink queue is empty. */
  async idle(): Promise<void> {
    for (;;) {
      const busy = this.pending.length > 0 || [...this.sinks.values()].some((s) => !s.paused && s.queue.size > 0);
      if (!busy) return;
      await new Promise<void>((resolve) => this.schedule(resolve));
    }
  }

  private persist(batch: readonly Alert[]): void {
    if (!this.store) return;
    try {
      this.store.append(batch);
      this.persisted += batch.length;
    } catch (e) {
      // Live delivery is still worth more than nothing: the alert goes out, history has a gap.
      this.persistErrors += batch.length;
      const err =
        e instanceof SpoofwatchError ? e : new SpoofwatchError('STORE_APPEND', e instanceof Error ? e.message : String(e));
      this.onError?.(err);
    }
  }

  private fanOut(alert: Alert): void {
    for (const s of this.sinks.values()) {
      if (s.sink.filter && !s.sink.filter(alert)) {
        s.filtered++;
        continue;
      }
      if (!s.queue.push(alert)) {
        s.dropped++;
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
