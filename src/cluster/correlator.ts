/**
 * The correlator role (issue #22): owns shards, runs the windowed rules over their facts, publishes their alerts.
 *
 * One durable pull consumer per shard (`shardConsumer(n)`, filter `factSubject(n)`: nats-server 2.9 has no
 * multi-filter consumers). At start the consumer is re-created with DeliverPolicy.All, so the correlator replays
 * every fact the stream still holds (facts are kept for the longest window) and rebuilds its window state before it
 * sees new ones; the alerts the replay raises again carry the message ids they had the first time and are dropped by
 * the alert stream's duplicate window (which covers the fact retention, see nats.ts).
 *
 * Ownership: a shard is evaluated by one correlator at a time. Before it touches a shard's consumer a correlator takes
 * the shard's lease in the shards bucket (`shard.<n>` → its id, created only if absent); it renews the lease every
 * third of the lease time and gives it back when it stops. A correlator that dies without giving it back loses it when
 * the bucket's TTL (the lease time) passes; a waiting correlator then takes it and replays the shard. A renewal that
 * finds the lease changed means another correlator owns the shard now: this one stops consuming it.
 *
 * Ordering: facts of two sensors interleave by arrival, but the windowed rules must see them in capture-time order
 * to decide as `analyze` of the merged capture does. Each fact is held `reorderMs` of wall time in a buffer sorted by
 * capture time and released from its head: a fact is evaluated after every fact with an earlier capture time that
 * arrived at most `reorderMs` after it. Sensors further apart than that (a backlog flushed after an outage) are
 * evaluated in arrival order.
 */
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamManager, type JsMsg, type KV, type NatsConnection } from 'nats';
import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/index.js';
import { ConfigPolicy } from '../correlate/policy.js';
import { ruleSettingsOf } from '../pipeline/analyzer.js';
import { RuleEngine } from '../rules/engine.js';
import { memoryWindows } from '../rules/window.js';
import { alertOf } from '../alerts/from-finding.js';
import { ALL_RULES } from '../rules/registry.js';
import type { Rule } from '../rules/types.js';
import { FACT_STREAM, factSubject, shardConsumer, shardLeaseKey } from './contract.js';
import { callFactsOf, parseFact, ruleOnShard, windowedRules, type Fact } from './facts.js';

interface Held {
  readonly fact: Fact;
  readonly shard: number;
  readonly arrivedMs: number;
  readonly msg: JsMsg;
}

const tsCmp = (a: Fact, b: Fact): number => a.ts.sec - b.ts.sec || a.ts.nsec - b.ts.nsec || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0);

/** Facts held for `holdMs`, released in capture-time order (see the file comment). */
export class ReorderBuffer<T extends { readonly fact: Fact; readonly arrivedMs: number }> {
  private items: T[] = [];

  constructor(
    readonly holdMs: number,
    readonly maxHeld: number,
  ) {}

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    // Binary search for the first item with a later capture time: equal times keep arrival order.
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (tsCmp(this.items[mid]!.fact, item.fact) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
  }

  /** The items due at `nowMs` (the head while it has been held long enough, or while over the bound). */
  release(nowMs: number): T[] {
    let n = 0;
    while (n < this.items.length && (this.items[n]!.arrivedMs + this.holdMs <= nowMs || this.items.length - n > this.maxHeld)) n++;
    return n === 0 ? [] : this.items.splice(0, n);
  }

  drainAll(): T[] {
    const all = this.items;
    this.items = [];
    return all;
  }
}

export interface CorrelatorStats {
  /** Shards configured for this correlator (`ownShards` or all). */
  readonly shards: readonly number[];
  /** Shards whose lease it holds and which it consumes now. */
  readonly owned: readonly number[];
  readonly facts: number;
  readonly badFacts: number;
  readonly held: number;
  readonly alerts: number;
  readonly evaluations: number;
}

export interface CorrelatorOptions {
  readonly config: Config;
  readonly shards: number;
  readonly own: readonly number[];
  readonly reorderMs: number;
  /** Publish an alert raised from a fact (the node's publisher, with the sightings of the fact's sensor). */
  readonly publish: (alert: Alert, fact: Fact) => void;
  readonly onError: (what: string, err: Error) => void;
  readonly now?: () => Date;
  /** This correlator's id in the shard leases. */
  readonly id: string;
  /** Lease time: the shards bucket's TTL (ms). */
  readonly leaseMs: number;
  /** A shard this correlator no longer owns (its lease lost, given back, or its setup failed). */
  readonly onShardReleased?: (shard: number) => void;
}

export class Correlator {
  private readonly engine: RuleEngine;
  private readonly rules: readonly Rule[];
  private readonly buffer: ReorderBuffer<Held>;
  private readonly consumers = new Map<number, ConsumerMessages>();
  /** Owned shard → revision of its lease entry. */
  private readonly leases = new Map<number, number>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private counters = { facts: 0, badFacts: 0, alerts: 0 };
  private stopped = false;

  constructor(private readonly opts: CorrelatorOptions) {
    const config = opts.config;
    this.rules = windowedRules(ALL_RULES);
    this.engine = new RuleEngine(new ConfigPolicy(config), ruleSettingsOf(config), this.rules, memoryWindows(config.limits.windowKeys));
    this.buffer = new ReorderBuffer<Held>(opts.reorderMs, config.limits.windowKeys);
  }

  /** Re-create each owned shard's consumer from the stream start and consume it. */
  /** Take the configured shards' leases (waiting for those another correlator holds) and consume each one taken. */
  async start(nc: NatsConnection, leases: KV): Promise<void> {
    const tick = Math.max(10, Math.min(100, this.opts.reorderMs / 2));
    this.timer = setInterval(() => this.releaseDue(Date.now()), tick);
    this.timer.unref();
    const jsm = await nc.jetstreamManager();
    this.leaseTimer = setInterval(() => void this.renew(nc, jsm, leases), Math.max(100, Math.floor(this.opts.leaseMs / 3)));
    this.leaseTimer.unref();
    await this.acquire(nc, jsm, leases);
  }

  /**
   * Take every free lease of a configured shard not owned yet and start consuming it. Shards are set up concurrently
   * (each consumer is a Raft group of its own on an R3 stream, ~0.5 s to create); a shard whose setup failed (an API
   * timeout on a loaded or electing cluster) gives its lease back and is tried again on the next renewal.
   */
  private async acquire(nc: NatsConnection, jsm: JetStreamManager, leases: KV): Promise<void> {
    let failure: Error | undefined;
    await Promise.all(
      this.opts.own
        .filter((shard) => !this.leases.has(shard))
        .map(async (shard) => {
          let rev: number;
          try {
            rev = await leases.create(shardLeaseKey(shard), new TextEncoder().encode(this.opts.id));
          } catch {
            return; // held by another correlator (or the cluster is busy): tried again on the next renewal
          }
          this.leases.set(shard, rev);
          try {
            await this.startShard(nc, jsm, shard);
          } catch (e) {
            failure = e as Error;
            this.leases.delete(shard);
            this.opts.onShardReleased?.(shard);
            await leases.delete(shardLeaseKey(shard)).catch(() => undefined);
          }
        }),
    );
    if (failure && !this.stopped) this.opts.onError('setting up a shard consumer (retrying)', failure);
  }

  private renewing = false;

  /** Renew the leases held (losing a shard whose lease changed hands), then try to take the missing ones. */
  private async renew(nc: NatsConnection, jsm: JetStreamManager, leases: KV): Promise<void> {
    if (this.renewing || this.stopped) return;
    this.renewing = true;
    try {
      for (const [shard, rev] of [...this.leases]) {
        try {
          this.leases.set(shard, await leases.update(shardLeaseKey(shard), new TextEncoder().encode(this.opts.id), rev));
        } catch (e) {
          // Changed or gone: expired while this process stalled, and maybe taken by another correlator.
          if (/wrong last sequence|key not found|revision/i.test((e as Error).message)) {
            this.leases.delete(shard);
            this.consumers.get(shard)?.stop();
            this.consumers.delete(shard);
            this.opts.onShardReleased?.(shard);
            this.opts.onError(`lease of shard ${shard} lost`, e as Error);
          }
        }
      }
      if (!this.stopped && this.leases.size < this.opts.own.length) await this.acquire(nc, jsm, leases);
    } finally {
      this.renewing = false;
    }
  }

  /** Re-create one shard's durable consumer from the stream start and consume it. */
  private async startShard(nc: NatsConnection, jsm: JetStreamManager, shard: number): Promise<void> {
    const name = shardConsumer(shard);
    await jsm.consumers.delete(FACT_STREAM, name).catch(() => undefined);
    await jsm.consumers.add(FACT_STREAM, {
      durable_name: name,
      filter_subject: factSubject(shard),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 20_000,
      ack_wait: 60_000_000_000,
    });
    const consumer = await nc.jetstream().consumers.get(FACT_STREAM, name);
    const messages = await consumer.consume({ max_messages: 512 });
    this.consumers.set(shard, messages);
    void (async () => {
      try {
        for await (const m of messages) this.take(m, shard);
      } catch (e) {
        if (!this.stopped) this.opts.onError(`fact consumer of shard ${shard}`, e as Error);
      }
    })();
  }

  stats(): CorrelatorStats {
    return { shards: this.opts.own, owned: [...this.leases.keys()].sort((a, b) => a - b), ...this.counters, held: this.buffer.size, evaluations: this.engine.evaluations };
  }

  /** Facts not yet evaluated per owned (leased) shard: waiting in the stream (num_pending) or held unacked here. */
  async lag(nc: NatsConnection): Promise<Record<number, number>> {
    const jsm = await nc.jetstreamManager();
    const out: Record<number, number> = {};
    await Promise.all(
      [...this.leases.keys()].map(async (shard) => {
        const info = await jsm.consumers.info(FACT_STREAM, shardConsumer(shard));
        out[shard] = info.num_pending + info.num_ack_pending;
      }),
    );
    return out;
  }

  /** Keys held and evicted in the window stores. */
  windowUse(): { keys: number; evicted: number } {
    return this.engine.windowUse();
  }

  /** Stop consuming and give the leases back (a stopped correlator's shards are taken over at once). */
  async stop(leases?: KV): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    for (const c of this.consumers.values()) c.stop();
    this.consumers.clear();
    if (leases) await Promise.all([...this.leases.keys()].map((shard) => leases.delete(shardLeaseKey(shard)).catch(() => undefined)));
    for (const shard of this.leases.keys()) this.opts.onShardReleased?.(shard);
    this.leases.clear();
    // Held facts are not acked: the next correlator replays them anyway.
    this.buffer.drainAll();
  }

  private take(m: JsMsg, shard: number): void {
    const fact = parseFact(m.data);
    if (!fact) {
      this.counters.badFacts++;
      m.term();
      return;
    }
    this.counters.facts++;
    this.buffer.add({ fact, shard, arrivedMs: Date.now(), msg: m });
  }

  private releaseDue(nowMs: number): void {
    for (const h of this.buffer.release(nowMs)) {
      try {
        this.evaluate(h.fact, h.shard);
      } catch (e) {
        this.opts.onError('windowed rules', e as Error);
      }
      h.msg.ack();
    }
  }

  /** Run the windowed rules whose key lives on this shard over the fact's call. */
  private evaluate(fact: Fact, shard: number): void {
    const call = callFactsOf(fact);
    const seen = { raised: undefined as Set<string> | undefined };
    // Rules whose key is on another shard see this call there (the sensor published the fact there too).
    for (const r of this.rules) if (!ruleOnShard(r, call, shard, this.opts.shards)) (seen.raised ??= new Set()).add(r.id);
    for (const f of this.engine.evaluate(call, seen)) {
      const a = alertOf(f.rule, f.finding, call, (this.opts.now ?? (() => new Date()))());
      this.counters.alerts++;
      this.opts.publish({ ...a, network: { ...a.network, sensor: fact.sensorId } }, fact);
    }
  }
}
