/**
 * The roles of one process in the scale-out (issue #22, DESIGN.md §3 "Past one machine"), started by the daemon
 * when its config has a `cluster` section:
 *
 * - **sensor**: the daemon's Analyzer runs the per-call rules only ({@link ClusterNode.analyzerHooks}); each alert is
 *   published to `alertSubject(rule)` with message id `alertMsgId(id)` and `network.sensor`, and a sighting
 *   `<alertId>.<sensorId>` is put once the PubAck arrives (duplicate or not); each initial INVITE's fact goes to the
 *   shard of each of its window keys. While NATS is unreachable the sensor keeps analysing and buffers (bounded,
 *   drops counted; /healthz degraded), then flushes in order.
 * - **correlator**: see correlator.ts (shard leases in the shards bucket, `shard.<n>` → correlator id).
 * - **gateway**: see gateway.ts (the daemon's bus and store become the stream's projection).
 *
 * Streams and buckets are made sure of by every role once connected. The NATS client connects in the background and
 * reconnects by itself; nothing here blocks the daemon's start.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { NatsConnection, KV, ObjectStore } from 'nats';
import type { Registry } from 'prom-client';
import type { Alert } from '../alerts/alert.js';
import type { AlertBus } from '../alerts/bus.js';
import type { ClusterConfig, ClusterRole, Config } from '../config/index.js';
import type { EvidenceMessage } from '../evidence/buffer.js';
import type { AnalyzerHooks } from '../pipeline/analyzer.js';
import { ALL_RULES } from '../rules/registry.js';
import type { CallFacts } from '../rules/types.js';
import type { AlertStore } from '../sinks/store.js';
import { alertMsgId, alertSubject, factMsgId, factSubject } from './contract.js';
import { Correlator } from './correlator.js';
import { factOf, perCallRules, shardsOfCall, windowedRules, type Fact } from './facts.js';
import { Gateway } from './gateway.js';
import { createClusterMetrics, type ClusterMetrics } from './metrics.js';
import { connectNats, ensureStreams, openBuckets, SHARD_LEASE_MS, streamPlan, type StreamPlan } from './nats.js';
import { Publisher } from './publisher.js';

export interface ClusterLog {
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
}

export interface ClusterNodeOptions {
  readonly config: Config;
  readonly log: ClusterLog;
  /** Gateway role: the daemon's bus (persistence: streamSeqPersistence) and store. */
  readonly bus?: AlertBus;
  readonly store?: AlertStore;
  /** Sensor role: the messages of an alerted call (the daemon's evidence service), put into the evidence bucket. */
  readonly evidenceOf?: (callId: string) => EvidenceMessage[] | undefined;
  /** Saves evidence fetched from the bucket into the local evidence store (gateway: `/api/alerts/:id/pcap`). */
  readonly saveEvidence?: (callId: string, messages: EvidenceMessage[]) => void;
  /** Delay between an alert and the upload of its call's messages (so that the answer and BYE are in); default 2 s. */
  readonly evidenceDelayMs?: number;
  /** Gateway role: marks each projected alert suppressed / below threshold (the daemon's AlertGate). */
  readonly mark?: (alert: Alert) => Alert;
}

export interface ClusterHealth {
  readonly ok: boolean;
  readonly connected: boolean;
  readonly roles: readonly ClusterRole[];
  readonly server?: string;
  readonly buffered?: { readonly alerts: number; readonly facts: number };
  readonly dropped?: { readonly alerts: number; readonly facts: number };
  readonly reason?: string;
}

/** Evidence messages as JSON (raw bytes base64), the object store's content. */
interface EvidenceObject {
  readonly callId: string;
  readonly messages: readonly { frame: number; ts: { sec: number; nsec: number }; src: { ip: string; port: number }; dst: { ip: string; port: number }; transport: string; raw: string }[];
}

/** A message queued this long without a PubAck makes a connected node degraded. */
const STUCK_MS = 10_000;

/** Projected alerts whose evidence the gateway is still fetching (the oldest is given up past it). */
const EVIDENCE_PENDING = 10_000;

/** How often a correlator's per-shard consumer lag goes to `/metrics`. */
const LAG_METRICS_MS = 2000;

export class ClusterNode {
  readonly roles: readonly ClusterRole[];
  readonly cluster: ClusterConfig;
  readonly plan: StreamPlan;
  readonly publisher: Publisher;
  readonly correlator: Correlator | undefined;
  readonly gateway: Gateway | undefined;
  private nc: NatsConnection | undefined;
  private sightings: KV | undefined;
  private shardLeases: KV | undefined;
  private evidence: ObjectStore | undefined;
  private connected = false;
  /** Streams and buckets made sure of (they are, once, after the first connect). */
  private streamsReady = false;
  private lastError: string | undefined;
  private stopped = false;
  private readonly sensorId: string;
  private readonly windowKinds: string[];
  private readonly started: Promise<void>;
  private counters = { sightingErrors: 0, evidencePuts: 0, evidenceErrors: 0, evidenceFetched: 0, evidenceMissing: 0 };
  /** Gateway: alert id → wall ms projected, while its evidence object is fetched. */
  private readonly evidencePending = new Map<string, number>();
  private evidenceTimer: NodeJS.Timeout | undefined;
  private fetching = false;
  private metrics: ClusterMetrics | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private lagging = false;

  constructor(private readonly opts: ClusterNodeOptions) {
    const cluster = opts.config.cluster;
    if (!cluster) throw new Error('ClusterNode needs a cluster section');
    this.cluster = cluster;
    this.roles = cluster.role;
    this.plan = streamPlan(opts.config, cluster);
    this.sensorId = cluster.sensorId ?? '';
    this.windowKinds = [...new Set(windowedRules(ALL_RULES).map((r) => r.windowKey!))];
    this.publisher = new Publisher({ alert: cluster.buffer.maxAlerts, fact: cluster.buffer.maxFacts }, (e) => {
      this.lastError = e.message;
    });
    const own = cluster.ownShards ?? Array.from({ length: cluster.shards }, (_, i) => i);
    this.correlator = this.has('correlator')
      ? new Correlator({
          config: opts.config,
          shards: cluster.shards,
          own,
          reorderMs: cluster.reorderMs,
          publish: (alert, fact) => this.publishAlert(alert, fact.sensorId),
          onError: (what, err) => opts.log.error(`correlator: ${what} failed`, { error: err.message }),
          id: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
          leaseMs: SHARD_LEASE_MS,
          onShardReleased: (shard) => this.metrics?.releaseShard(shard),
        })
      : undefined;
    if (this.has('gateway') && (!opts.bus || !opts.store)) throw new Error('the gateway role needs the daemon bus and store');
    this.gateway = this.has('gateway')
      ? new Gateway({
          store: opts.store!,
          bus: opts.bus!,
          ...(opts.mark ? { mark: opts.mark } : {}),
          onProjected: (a) => {
            if (!opts.saveEvidence) return;
            this.evidencePending.set(a.id, Date.now());
            if (this.evidencePending.size > EVIDENCE_PENDING) this.evidencePending.delete(this.evidencePending.keys().next().value as string);
          },
          onError: (what, err) => opts.log.error(`gateway: ${what} failed`, { error: err.message }) })
      : undefined;
    this.started = this.run();
    this.started.catch((e: unknown) => opts.log.error('cluster: start failed', { error: e instanceof Error ? e.message : String(e) }));
  }

  has(role: ClusterRole): boolean {
    return this.roles.includes(role);
  }

  /** What the daemon's Analyzer gets: a sensor runs the per-call rules and publishes facts; other roles run none. */
  get analyzerHooks(): AnalyzerHooks {
    if (!this.has('sensor')) return { rules: [] };
    return { rules: perCallRules(ALL_RULES), sensorId: this.sensorId, onInitialInvite: (facts) => this.publishFacts(facts) };
  }

  /**
   * Register the scale-out metrics on the daemon's registry (its `/metrics`): publish latency, buffer and drops,
   * the NATS connection, and (a correlator) each owned shard's consumer lag every {@link LAG_METRICS_MS}.
   */
  attachMetrics(registry: Registry): void {
    if (this.metrics) return;
    const m = createClusterMetrics(registry);
    this.metrics = m;
    m.setConnected(this.connected);
    this.publisher.setMetrics(m);
    if (this.correlator) {
      this.lagTimer = setInterval(() => void this.reportLag(), LAG_METRICS_MS);
      this.lagTimer.unref();
    }
  }

  /** Each owned shard's lag (the consumer info `lag()` reads) into the metrics; a shard released meanwhile is skipped. */
  private async reportLag(): Promise<void> {
    const nc = this.nc;
    const m = this.metrics;
    if (!nc || !m || !this.connected || !this.correlator || this.lagging || this.stopped) return;
    this.lagging = true;
    try {
      const lag = await this.correlator.lag(nc);
      const owned = new Set(this.correlator.stats().owned);
      for (const [shard, n] of Object.entries(lag)) if (owned.has(Number(shard)) && !this.stopped) m.setLag(Number(shard), n);
    } catch {
      // A consumer info timing out (an election): the next tick tries again.
    } finally {
      this.lagging = false;
    }
  }

  /** Resolves once connected and every role runs (tests); rejects only if start failed for good. */
  ready(): Promise<void> {
    return this.started;
  }

  /** Sensor: an alert of the per-call rules. */
  onSensorAlert(alert: Alert): void {
    if (!this.has('sensor')) return;
    this.publishAlert({ ...alert, network: { ...alert.network, sensor: this.sensorId } }, this.sensorId, true);
  }

  health(): ClusterHealth {
    const s = this.publisher.stats();
    const dropped = s.dropped.alert + s.dropped.fact;
    // Connected but not acknowledged for a while (a stream without a leader, a full stream): also degraded.
    const stuckMs = this.publisher.oldestAgeMs();
    const ok = this.connected && this.streamsReady && stuckMs < STUCK_MS;
    return {
      ok,
      connected: this.connected,
      roles: this.roles,
      ...(this.nc && this.connected ? { server: this.nc.getServer() } : {}),
      buffered: { alerts: s.queued.alert, facts: s.queued.fact },
      dropped: { alerts: s.dropped.alert, facts: s.dropped.fact },
      ...(this.connected && !this.streamsReady ? { reason: `streams not set up yet${this.lastError ? `: ${this.lastError}` : ''}` } : {}),
      ...(this.connected && this.streamsReady && !ok ? { reason: `publishes not acknowledged for ${Math.round(stuckMs / 1000)} s${this.lastError ? `: ${this.lastError}` : ''}` } : {}),
      ...(!this.connected ? { reason: `NATS unreachable (${this.cluster.nats.servers.join(', ')})${this.lastError ? `: ${this.lastError}` : ''}; ${s.queued.alert} alerts and ${s.queued.fact} facts buffered${dropped > 0 ? `, ${dropped} dropped` : ''}` } : {}),
    };
  }

  stats() {
    return { publisher: this.publisher.stats(), correlator: this.correlator?.stats(), gateway: this.gateway?.stats(), ...this.counters };
  }

  /**
   * Consumer lag (for `/metrics` and `cluster status`): facts per owned shard not yet evaluated, alerts not yet
   * projected by this gateway. Undefined while not connected.
   */
  async lag(): Promise<{ shards?: Record<number, number>; gateway?: number } | undefined> {
    const nc = this.nc;
    if (!nc || !this.connected) return undefined;
    return {
      ...(this.correlator ? { shards: await this.correlator.lag(nc) } : {}),
      ...(this.gateway ? { gateway: await this.gateway.lag(nc) } : {}),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Give buffered messages a moment to go out while connected.
    if (this.connected) await Promise.race([this.publisher.drained(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.publisher.stop();
    if (this.evidenceTimer) clearInterval(this.evidenceTimer);
    if (this.lagTimer) clearInterval(this.lagTimer);
    await this.correlator?.stop(this.connected ? this.shardLeases : undefined);
    this.gateway?.stop();
    await this.nc?.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const log = this.opts.log;
    const name = `spoofwatch-${this.roles.join('+')}${this.sensorId ? `-${this.sensorId}` : ''}`;
    // The first connect, retried until it works or the daemon stops (the sensor analyses and buffers meanwhile).
    let nc: NatsConnection | undefined;
    for (let attempt = 0; nc === undefined; attempt++) {
      if (this.stopped) return;
      try {
        nc = await connectNats(this.cluster, name);
      } catch (e) {
        this.lastError = (e as Error).message;
        if (attempt === 0) log.warn('cluster: cannot connect to NATS yet; retrying (analysing and buffering meanwhile)', { servers: this.cluster.nats.servers, error: this.lastError });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    if (this.stopped) {
      await nc.close();
      return;
    }
    this.nc = nc;
    this.connected = true;
    this.metrics?.setConnected(true);
    log.info('cluster: connected to NATS', { server: nc.getServer(), roles: this.roles });
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.connected = false;
          this.metrics?.setConnected(false);
          this.publisher.setClient(undefined);
          log.warn('cluster: NATS connection lost; buffering', { server: String(s.data) });
        } else if (s.type === 'reconnect') {
          this.connected = true;
          this.metrics?.setConnected(true);
          this.publisher.setClient(nc.jetstream());
          log.info('cluster: NATS connection back; flushing the buffer', { server: String(s.data), buffered: this.publisher.size });
        }
      }
    })().catch(() => undefined);
    // Streams and buckets: retried while the cluster has no JetStream leader yet (first start of the servers).
    for (let attempt = 0; ; attempt++) {
      try {
        const jsm = await nc.jetstreamManager();
        await ensureStreams(jsm, this.plan);
        const b = await openBuckets(nc, this.plan);
        this.sightings = b.sightings;
        this.evidence = b.evidence;
        this.shardLeases = b.shards;
        this.streamsReady = true;
        break;
      } catch (e) {
        if (this.stopped) return;
        this.lastError = (e as Error).message;
        if (attempt % 10 === 0) log.warn('cluster: cannot set up the streams yet; retrying', { error: this.lastError });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.publisher.setClient(nc.jetstream());
    if (this.correlator) await this.correlator.start(nc, this.shardLeases!);
    if (this.gateway) {
      // Retried like the streams: a request timeout on a loaded or electing cluster must not leave it without a feed.
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          await this.gateway.start(nc, this.sightings!);
          break;
        } catch (e) {
          this.gateway.stop(false);
          this.lastError = (e as Error).message;
          if (attempt % 10 === 0) log.warn('gateway: cannot read the alert stream yet; retrying', { error: this.lastError });
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      if (this.opts.saveEvidence) {
        this.evidenceTimer = setInterval(() => void this.fetchEvidence(), 1000);
        this.evidenceTimer.unref();
      }
    }
  }

  private publishAlert(alert: Alert, sensorId: string, withEvidence = false): void {
    const enc = new TextEncoder();
    this.publisher.enqueue({
      kind: 'alert',
      subject: alertSubject(alert.rule),
      data: enc.encode(JSON.stringify(alert)),
      msgID: alertMsgId(alert.id),
      onAck: (ack) => {
        this.sightings?.put(`${alert.id}.${sensorId}`, enc.encode(String(ack.seq))).catch(() => this.counters.sightingErrors++);
        if (withEvidence && !ack.duplicate) this.scheduleEvidence(alert);
      },
    });
  }

  private publishFacts(call: CallFacts): void {
    const shards = shardsOfCall(call, this.windowKinds, this.cluster.shards);
    if (shards.length === 0) return;
    const fact: Fact = factOf(call, this.sensorId);
    const data = new TextEncoder().encode(JSON.stringify(fact));
    for (const shard of shards) this.publisher.enqueue({ kind: 'fact', subject: factSubject(shard), data, msgID: factMsgId(call.callId, shard) });
  }

  private scheduleEvidence(alert: Alert): void {
    const get = this.opts.evidenceOf;
    if (!get) return;
    setTimeout(() => {
      if (this.stopped) return;
      const messages = get(alert.call.callId);
      if (!messages || messages.length === 0 || !this.evidence) return;
      const obj: EvidenceObject = {
        callId: alert.call.callId,
        messages: messages.map((m) => ({ frame: m.frame, ts: { sec: m.ts.sec, nsec: m.ts.nsec }, src: m.src, dst: m.dst, transport: m.transport, raw: m.raw.toString('base64') })),
      };
      this.evidence
        .putBlob({ name: alert.id, description: alert.call.callId }, new TextEncoder().encode(JSON.stringify(obj)))
        .then(() => this.counters.evidencePuts++, () => this.counters.evidenceErrors++);
    }, this.opts.evidenceDelayMs ?? 2000).unref();
  }

  /**
   * Gateway: the evidence object of each projected alert into the local evidence store (so `/api/alerts/:id/pcap`
   * works here). Polled per alert (every second, for at most a minute after projection, {@link EVIDENCE_PENDING}
   * alerts at once) instead of watching the bucket: the object store watch of nats 2.29 stalled after a few objects
   * under concurrent puts in the equivalence test.
   */
  private async fetchEvidence(): Promise<void> {
    const os = this.evidence;
    const save = this.opts.saveEvidence;
    if (!os || !save || this.fetching) return;
    this.fetching = true;
    try {
      const now = Date.now();
      for (const [id, since] of [...this.evidencePending].slice(0, 50)) {
        if (this.stopped) return;
        try {
          const blob = await os.getBlob(id);
          if (blob && !this.stopped) {
            const o = JSON.parse(new TextDecoder().decode(blob)) as EvidenceObject;
            save(o.callId, o.messages.map((m) => ({ ...m, raw: Buffer.from(m.raw, 'base64') })));
            this.counters.evidenceFetched++;
            this.evidencePending.delete(id);
          } else if (now - since > 60_000) {
            this.counters.evidenceMissing++;
            this.evidencePending.delete(id);
          }
        } catch {
          this.counters.evidenceErrors++;
        }
      }
    } finally {
      this.fetching = false;
    }
  }
}
