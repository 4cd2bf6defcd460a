/**
 * Acknowledged, buffered publishing to JetStream (issue #22). Alerts and facts wait in one FIFO, each kind bounded
 * (`cluster.buffer`); past a bound new ones are dropped and counted. The pump publishes from the head in windows of
 * up to {@link WINDOW} messages and removes each one only when its PubAck arrives, so while NATS is unreachable
 * (at start or mid-run) everything waits in order and is flushed in order once the client has reconnected. A message
 * published twice (a PubAck lost in a disconnect) carries the same `Nats-Msg-Id` and is dropped by the stream.
 */
import type { JetStreamClient, PubAck } from 'nats';
import type { ClusterMetrics } from './metrics.js';

export type OutKind = 'alert' | 'fact';

export interface Outgoing {
  readonly kind: OutKind;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly msgID: string;
  /** Called with the PubAck (also for a duplicate). */
  readonly onAck?: (ack: PubAck) => void;
  /** Wall ms when queued (publish latency). */
  readonly queuedMs: number;
}

export interface PublisherStats {
  readonly queued: { readonly alert: number; readonly fact: number };
  readonly max: { readonly alert: number; readonly fact: number };
  readonly dropped: { readonly alert: number; readonly fact: number };
  readonly published: { readonly alert: number; readonly fact: number };
  /** PubAcks that said the message id was already in the stream (another sensor's copy, a replay). */
  readonly duplicates: { readonly alert: number; readonly fact: number };
  /** Failed publish attempts (timeouts, no responders while a stream has no leader …); the message stays queued. */
  readonly errors: number;
  /** Queue → PubAck of the last acknowledged message, ms. */
  readonly lastLatencyMs: number;
}

const WINDOW = 64;

export class Publisher {
  private queue: Outgoing[] = [];
  private head = 0;
  private readonly count = { alert: 0, fact: 0 };
  private readonly dropped = { alert: 0, fact: 0 };
  private readonly published = { alert: 0, fact: 0 };
  private readonly duplicates = { alert: 0, fact: 0 };
  private errors = 0;
  private lastLatencyMs = 0;
  private js: JetStreamClient | undefined;
  private pumping = false;
  private stopped = false;
  private backoffMs = 0;
  private waiters: (() => void)[] = [];
  private metrics: ClusterMetrics | undefined;

  constructor(
    private readonly max: { readonly alert: number; readonly fact: number },
    private readonly onError: (err: Error) => void = () => undefined,
    private readonly ackTimeoutMs = 3000,
  ) {}

  /** Queue a message; false when its kind's buffer is full (dropped, counted). */
  enqueue(m: Omit<Outgoing, 'queuedMs'>): boolean {
    if (this.count[m.kind] >= this.max[m.kind]) {
      this.dropped[m.kind]++;
      this.metrics?.dropped(m.kind);
      return false;
    }
    this.count[m.kind]++;
    this.queue.push({ ...m, queuedMs: Date.now() });
    this.metrics?.setBuffer(this.size);
    this.kick();
    return true;
  }

  /** Connected (again): publish through `js`; undefined while disconnected (the queue waits). */
  setClient(js: JetStreamClient | undefined): void {
    this.js = js;
    this.backoffMs = 0;
    this.kick();
  }

  /** Report publish latency, buffer use and drops from now on (the daemon's `/metrics`). */
  setMetrics(metrics: ClusterMetrics): void {
    this.metrics = metrics;
    metrics.setBuffer(this.size);
  }

  /** Wall ms the oldest queued message has waited (0 when empty). */
  oldestAgeMs(nowMs = Date.now()): number {
    const m = this.queue[this.head];
    return m === undefined ? 0 : nowMs - m.queuedMs;
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  stats(): PublisherStats {
    return {
      queued: { ...this.count },
      max: { ...this.max },
      dropped: { ...this.dropped },
      published: { ...this.published },
      duplicates: { ...this.duplicates },
      errors: this.errors,
      lastLatencyMs: this.lastLatencyMs,
    };
  }

  /** Resolves once the queue is empty (tests, shutdown). */
  drained(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  stop(): void {
    this.stopped = true;
  }

  private kick(): void {
    if (this.pumping || this.stopped || !this.js || this.size === 0) return;
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
      if (this.size === 0) {
        const w = this.waiters;
        this.waiters = [];
        for (const r of w) r();
      } else if (this.js && !this.stopped) setTimeout(() => this.kick(), this.backoffMs).unref();
    });
  }

  private async pump(): Promise<void> {
    while (!this.stopped && this.size > 0) {
      const js = this.js;
      if (!js) return;
      const batch = this.queue.slice(this.head, this.head + WINDOW);
      const sentAt = performance.now();
      // Each publish's latency: from its call to its PubAck (the batch's publishes start together).
      const results = await Promise.allSettled(
        batch.map((m) =>
          js.publish(m.subject, m.data, { msgID: m.msgID, timeout: this.ackTimeoutMs }).then((ack) => {
            this.metrics?.observePublish(m.kind, (performance.now() - sentAt) / 1000);
            return ack;
          }),
        ),
      );
      // Remove the acknowledged ones; failed ones stay, in their order, before everything queued after them.
      const keep: Outgoing[] = [];
      let failure: Error | undefined;
      results.forEach((r, i) => {
        const m = batch[i]!;
        if (r.status === 'fulfilled') {
          this.count[m.kind]--;
          this.published[m.kind]++;
          if (r.value.duplicate) this.duplicates[m.kind]++;
          this.lastLatencyMs = Date.now() - m.queuedMs;
          try {
            m.onAck?.(r.value);
          } catch (e) {
            this.onError(e as Error);
          }
        } else {
          this.errors++;
          failure ??= r.reason instanceof Error ? r.reason : new Error(String(r.reason));
          keep.push(m);
        }
      });
      if (keep.length === 0) {
        this.head += batch.length;
        if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
      } else {
        this.queue = [...keep, ...this.queue.slice(this.head + batch.length)];
        this.head = 0;
      }
      this.metrics?.setBuffer(this.size);
      if (failure) {
        this.onError(failure);
        this.backoffMs = Math.min(2000, Math.max(100, this.backoffMs * 2));
        return;
      }
      this.backoffMs = 0;
    }
  }
}
