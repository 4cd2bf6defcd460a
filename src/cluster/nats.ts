/**
 * The NATS side of the scale-out (issue #22): connection options from `cluster.nats`, durations, and the streams
 * and buckets every role makes sure of at start (idempotent: created when missing, updated when their settings
 * changed). Names come from contract.ts only.
 */
import { readFileSync } from 'node:fs';
import { connect, nanos, RetentionPolicy, StorageType, type ConnectionOptions, type JetStreamManager, type NatsConnection, type StreamConfig } from 'nats';
import type { ClusterConfig, Config } from '../config/index.js';
import { ruleSettingsOf } from '../pipeline/analyzer.js';
import { ALL_RULES } from '../rules/registry.js';
import { SpoofwatchError } from '../types.js';
import { ALERT_STREAM, ALERT_SUBJECTS, EVIDENCE_BUCKET, FACT_STREAM, FACT_SUBJECTS, SHARDS_BUCKET, SIGHTINGS_BUCKET } from './contract.js';
import { windowedRules } from './facts.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `90s`, `10m`, `1h`, `30d` → milliseconds (the schema checked the syntax). */
export function durationMs(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new SpoofwatchError('CLUSTER_DURATION', `not a duration: "${text}"`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/**
 * The longest window of the enabled windowed rules (ms): how long facts must be kept so that a correlator that
 * replays them rebuilds every window. CLI-VELOCITY's window is its fixed minute.
 */
export function longestWindowMs(config: Config): number {
  const settings = ruleSettingsOf(config);
  let longest = 60_000;
  for (const r of windowedRules(ALL_RULES)) {
    const s = settings[r.id] ?? {};
    if (s.enabled === false) continue;
    const w = Number(s['windowSeconds'] ?? r.defaults?.['windowSeconds'] ?? 60) * 1000;
    if (Number.isFinite(w) && w > longest) longest = w;
  }
  return longest;
}

export interface StreamPlan {
  readonly replicas: number;
  readonly alertMaxAgeMs: number;
  readonly factMaxAgeMs: number;
  /** Duplicate window of both streams. */
  readonly duplicateWindowMs: number;
}

/**
 * Retention and the duplicate window. Facts are kept for the longest window (`stream.factMaxAge` overrides). The
 * duplicate window covers that plus 10 minutes: a correlator that replays its shards' facts re-raises alerts of calls
 * at most that old, and their message ids must still be known to the alert stream so that they are dropped there.
 */
export function streamPlan(config: Config, cluster: ClusterConfig): StreamPlan {
  const factMaxAgeMs = cluster.stream.factMaxAge !== undefined ? durationMs(cluster.stream.factMaxAge) : longestWindowMs(config);
  const alertMaxAgeMs = durationMs(cluster.stream.maxAge);
  const dup = cluster.stream.duplicateWindow !== undefined ? durationMs(cluster.stream.duplicateWindow) : factMaxAgeMs + 600_000;
  return { replicas: cluster.stream.replicas, alertMaxAgeMs, factMaxAgeMs, duplicateWindowMs: Math.min(dup, alertMaxAgeMs) };
}

/**
 * NATS client options of `cluster.nats`: reconnects forever once connected. The first connect is retried by the
 * caller (ClusterNode) rather than with `waitOnFirstConnect`, which cannot be cancelled by a daemon that stops.
 */
export function connectionOptions(cluster: ClusterConfig, name: string): ConnectionOptions {
  const n = cluster.nats;
  const tls = n.tls
    ? {
        ...(n.tls.ca ? { ca: readFileSync(n.tls.ca, 'utf8') } : {}),
        ...(n.tls.cert ? { cert: readFileSync(n.tls.cert, 'utf8') } : {}),
        ...(n.tls.key ? { key: readFileSync(n.tls.key, 'utf8') } : {}),
      }
    : undefined;
  return {
    servers: [...n.servers],
    name,
    ...(n.token !== undefined ? { token: n.token } : {}),
    ...(n.user !== undefined ? { user: n.user } : {}),
    ...(n.pass !== undefined ? { pass: n.pass } : {}),
    ...(tls ? { tls } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    pingInterval: 5000,
    maxPingOut: 2,
    timeout: 2000,
  };
}

export function connectNats(cluster: ClusterConfig, name: string): Promise<NatsConnection> {
  return connect(connectionOptions(cluster, name));
}

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    const info = await jsm.streams.info(cfg.name);
    const c = info.config;
    if (c.max_age !== cfg.max_age || c.duplicate_window !== cfg.duplicate_window || c.num_replicas !== cfg.num_replicas) {
      await jsm.streams.update(cfg.name, { ...c, max_age: cfg.max_age!, duplicate_window: cfg.duplicate_window!, num_replicas: cfg.num_replicas! });
    }
  } catch (e) {
    if (!/stream not found/i.test((e as Error).message)) throw e;
    try {
      await jsm.streams.add(cfg);
    } catch (e2) {
      // Another role made it in the meantime.
      if (!/already in use|exists/i.test((e2 as Error).message)) throw e2;
    }
  }
}

/** Create or update the alert and fact streams (file storage, replicas and ages from the plan). */
export async function ensureStreams(jsm: JetStreamManager, plan: StreamPlan): Promise<void> {
  const common = { retention: RetentionPolicy.Limits, storage: StorageType.File, num_replicas: plan.replicas };
  await ensureStream(jsm, { ...common, name: ALERT_STREAM, subjects: [ALERT_SUBJECTS], max_age: nanos(plan.alertMaxAgeMs), duplicate_window: nanos(plan.duplicateWindowMs) });
  // A fact repeated by a second sensor arrives within seconds; the server caps the window at the retention.
  const factDup = Math.min(plan.duplicateWindowMs, plan.factMaxAgeMs);
  await ensureStream(jsm, { ...common, name: FACT_STREAM, subjects: [FACT_SUBJECTS], max_age: nanos(plan.factMaxAgeMs), duplicate_window: nanos(factDup) });
}

/** A correlator's shard lease lasts this long without renewal (the shards bucket's TTL). */
export const SHARD_LEASE_MS = 10_000;

/** The sightings KV bucket and the evidence object store (kept as long as alerts), and the shard leases. */
export async function openBuckets(nc: NatsConnection, plan: StreamPlan) {
  const js = nc.jetstream();
  const sightings = await js.views.kv(SIGHTINGS_BUCKET, { replicas: plan.replicas, history: 1, ttl: plan.alertMaxAgeMs });
  // (The object store's ttl is in nanoseconds, the KV's in milliseconds: nats.js 2.29 ObjectStoreOptions.ttl is Nanos.)
  const evidence = await js.views.os(EVIDENCE_BUCKET, { replicas: plan.replicas, ttl: nanos(plan.alertMaxAgeMs) });
  const shards = await js.views.kv(SHARDS_BUCKET, { replicas: plan.replicas, history: 1, ttl: SHARD_LEASE_MS });
  return { sightings, evidence, shards };
}
