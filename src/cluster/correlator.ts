/**
 * The correlator role (issue #22): owns shards, runs the windowed rules over their facts, publishes their alerts.
 *
 * One durable pull consumer per shard (`shardConsumer(n)`, filter `factSubject(n)`: nats-server 2.9 has no
 * multi-filter consumers). At start the consumer is re-created with DeliverPolicy.All, so the correlator replays
 * every fact the stream still holds (facts are kept for the longest window) and rebuilds its window state before it
 * sees new ones; the alerts the replay raises again carry the message ids they had the first time and are dropped by
 * the alert stream's duplicate window (which covers the fact retention, see nats.ts).
 *
 * Ordering: facts of two sensors interleave by arrival, but the windowed rules must see them in capture-time order
 * to decide as `analyze` of the merged capture does. Each fact is held `reorderMs` of wall time in a buffer sorted by
 * capture time and released from its head: a fact is evaluated after every fact with an earlier capture time that
 * arrived at most `reorderMs` after it. Sensors further apart than that (a backlog flushed after an outage) are
 * evaluated in arrival order.
 */
import { AckPolicy, DeliverPolicy, type JsMsg, type NatsConnection, type ConsumerMessages } from 'nats';
import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/index.js';
import { ConfigPolicy } from '../correlate/policy.js';
import { ruleSettingsOf } from '../pipeline/analyzer.js';
import { RuleEngine } from '../rules/engine.js';
import { memoryWindows } from '../rules/window.js';
import { alertOf } from '../alerts/from-finding.js';
import { ALL_RULES } from '../rules/registry.js';
import type { Rule } from '../rules/types.js';
import { FACT_STREAM, factSubject, shardConsumer } from './contract.js';
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
  readonly shards: readonly number[];
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
}

export class Correlator {
  private readonly engine: RuleEngine;
  private readonly rules: readonly Rule[];
  private readonly buffer: ReorderBuffer<Held>;
  private readonly consumers: ConsumerMessages[] = [];
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
  async start(nc: NatsConnection): Promise<void> {
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    // Shards set up concurrently: each consumer is a Raft group of its own on an R3 stream (~0.5 s to create).
    await Promise.all(
      this.opts.own.map(async (shard) => {
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
        const consumer = await js.consumers.get(FACT_STREAM, name);
        const messages = await consumer.consume({ max_messages: 512 });
        this.consumers.push(messages);
        void (async () => {
          try {
            for await (const m of messages) this.take(m, shard);
          } catch (e) {
            if (!this.stopped) this.opts.onError(`fact consumer of shard ${shard}`, e as Error);
          }
        })();
      }),
    );
    const tick = Math.max(10, Math.min(100, this.opts.reorderMs / 2));
    this.timer = setInterval(() => this.releaseDue(Date.now()), tick);
    this.timer.unref();
  }

  stats(): CorrelatorStats {
    return { shards: this.opts.own, ...this.counters, held: this.buffer.size, evaluations: this.engine.evaluations };
  }

  /** Facts not yet evaluated per owned shard: waiting in the stream (num_pending) or held unacked here. */
  async lag(nc: NatsConnection): Promise<Record<number, number>> {
    const jsm = await nc.jetstreamManager();
    const out: Record<number, number> = {};
    await Promise.all(
      this.opts.own.map(async (shard) => {
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

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const c of this.consumers) c.stop();
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
