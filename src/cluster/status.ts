/**
 * `spoofwatch cluster status` (issue #22): what an operator asks of a running scale-out — which NATS nodes hold
 * the streams and whether each replica is current, how much the alert and fact streams hold, how far each
 * correlation shard's consumer is behind and who owns it, and the KV/object buckets. Read-only: it never creates a
 * stream, consumer or bucket (a missing one is reported as missing), so pointing it at the wrong cluster changes
 * nothing. Names come from ./contract.ts only.
 */
import { connect, type ConnectionOptions, type JetStreamManager, type NatsConnection, type PeerInfo, type StreamInfo } from 'nats';
import type { ClusterConfig } from '../config/index.js';
import { SpoofwatchError } from '../types.js';
import { jsonTerminalSafe, terminalSafe } from '../util/terminal.js';
import { ALERT_STREAM, EVIDENCE_BUCKET, FACT_STREAM, shardConsumer, shardLeaseKey, SHARDS_BUCKET, SIGHTINGS_BUCKET } from './contract.js';
import { connectionOptions as roleConnectionOptions } from './nats.js';

/** How to reach the cluster: the config's `cluster.nats` (any of the NATS auth forms) or `--servers`. */
export type ClusterConnection = ClusterConfig['nats'];

/** Connect and JetStream API timeout: a status command must answer, not hang on a dead cluster. */
export const STATUS_TIMEOUT_MS = 3000;

/** One member of a stream's (or consumer's) Raft group. */
export interface ReplicaStatus {
  readonly node: string;
  readonly leader: boolean;
  /** Up to date with the leader (the leader itself: true). */
  readonly current: boolean;
  /** Operations behind the leader (the leader: 0). */
  readonly lag: number;
  /** The group considers this node offline, or its leader has not heard from it for {@link UNHEARD_MS}. */
  readonly offline: boolean;
  /** Milliseconds since the leader last heard from it (the leader: 0). */
  readonly activeMs: number;
}

export interface StreamStatus {
  readonly name: string;
  /** What the stream is for: `alerts`, `facts`, `kv sw_shards`, `object sw_evidence` … */
  readonly role: string;
  readonly present: boolean;
  readonly messages: number;
  readonly bytes: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Configured replicas (num_replicas). */
  readonly replicas: number;
  readonly leader?: string;
  readonly group: readonly ReplicaStatus[];
  /** Set when the stream did not answer (then `present` is false but the stream may exist). */
  readonly error?: string;
}

export interface ConsumerStatus {
  readonly shard: number;
  readonly name: string;
  readonly present: boolean;
  /** Facts of the shard not yet delivered: the shard's lag. */
  readonly pending: number;
  readonly ackPending: number;
  readonly redelivered: number;
  /** Stream sequence of the last fact delivered. */
  readonly deliveredSeq: number;
  /** The correlator holding the shard's lease (SHARDS_BUCKET key `shard.<n>`), when one does. */
  readonly owner?: string;
  readonly leader?: string;
  /** Set when the consumer did not answer (then `present` is false but the consumer may exist). */
  readonly error?: string;
}

/** A node as the stream groups see it: which groups it leads, holds, and whether any of them sees it offline. */
export interface NodeStatus {
  readonly node: string;
  readonly leads: readonly string[];
  readonly replicates: readonly string[];
  readonly offlineIn: readonly string[];
  readonly behindIn: readonly string[];
}

export interface ClusterStatus {
  /** The server this command is connected to. */
  readonly server: { readonly name: string; readonly version: string; readonly cluster?: string; readonly url: string };
  readonly nodes: readonly NodeStatus[];
  /** JetStream account usage; absent (with `accountError`) when the meta group did not answer (an election). */
  readonly account?: {
    readonly streams: number;
    readonly consumers: number;
    readonly storageBytes: number;
    readonly memoryBytes: number;
    readonly apiRequests: number;
    readonly apiErrors: number;
  };
  readonly accountError?: string;
  readonly streams: readonly StreamStatus[];
  readonly consumers: readonly ConsumerStatus[];
}

/** The streams a scale-out keeps: the two logs, then the buckets' backing streams (`KV_…`, `OBJ_…`). */
const STREAMS: readonly { name: string; role: string }[] = [
  { name: ALERT_STREAM, role: 'alerts' },
  { name: FACT_STREAM, role: 'facts' },
  { name: `KV_${SHARDS_BUCKET}`, role: `kv ${SHARDS_BUCKET}` },
  { name: `KV_${SIGHTINGS_BUCKET}`, role: `kv ${SIGHTINGS_BUCKET}` },
  { name: `OBJ_${EVIDENCE_BUCKET}`, role: `object ${EVIDENCE_BUCKET}` },
];

/**
 * The roles' client options for `cluster.nats` (auth, TLS files: src/cluster/nats.ts), but one attempt, bounded:
 * a status command answers or says it cannot, where a role waits and reconnects forever.
 */
function statusConnectionOptions(c: ClusterConnection, timeoutMs: number): ConnectionOptions {
  // The roles' options read only `nats` of the section.
  const { waitOnFirstConnect: _wait, maxReconnectAttempts: _attempts, ...base } = roleConnectionOptions({ nats: c } as ClusterConfig, 'spoofwatch cluster status');
  return { ...base, timeout: timeoutMs, reconnect: false };
}

/** JetStream API "not found" answers: stream (10059), consumer (10014), message (10037, a KV key never written). */
const isNotFound = (e: unknown): boolean => (e as { api_error?: { code?: number } }).api_error?.code === 404;

/**
 * What a failed read of one stream or consumer says: during a node loss a group without a leader does not answer
 * (the client's TIMEOUT) — the rest of the report is still worth having, so the item carries the error.
 */
function itemError(e: unknown, timeoutMs: number): string {
  const code = String((e as { code?: unknown }).code ?? '');
  if (code === 'TIMEOUT' || code === '503') return `no answer within ${timeoutMs / 1000} s (group without a leader?)`;
  return (e as Error).message ?? String(e);
}

/**
 * A replica not heard from for this long counts as offline. Measured with nats-server 2.9.10: a live replica is
 * heard from every few tens of ms, even on an idle stream; after a SIGKILL the server leaves `offline` unset for
 * minutes and turns `current` false only after ~8 s, while `active` (time since last heard) grows from the kill on.
 */
export const UNHEARD_MS = 5000;

function groupOf(leader: string | undefined, peers: readonly PeerInfo[] | undefined): ReplicaStatus[] {
  const g: ReplicaStatus[] = [];
  if (leader !== undefined) g.push({ node: leader, leader: true, current: true, lag: 0, offline: false, activeMs: 0 });
  for (const p of peers ?? []) {
    const activeMs = Math.round((p.active ?? 0) / 1e6);
    g.push({ node: p.name, leader: false, current: p.current, lag: p.lag ?? 0, offline: p.offline === true || activeMs > UNHEARD_MS, activeMs });
  }
  return g.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

async function streamStatus(jsm: JetStreamManager, s: { name: string; role: string }, timeoutMs: number): Promise<StreamStatus> {
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(s.name);
  } catch (e) {
    const none = { ...s, present: false, messages: 0, bytes: 0, firstSeq: 0, lastSeq: 0, replicas: 0, group: [] };
    return isNotFound(e) ? none : { ...none, error: itemError(e, timeoutMs) };
  }
  const leader = info.cluster?.leader;
  return {
    ...s,
    present: true,
    messages: info.state.messages,
    bytes: info.state.bytes,
    firstSeq: info.state.first_seq,
    lastSeq: info.state.last_seq,
    replicas: info.config.num_replicas,
    ...(leader !== undefined ? { leader } : {}),
    group: groupOf(leader, info.cluster?.replicas),
  };
}

/** Shard numbers of the fact stream's consumers named by {@link shardConsumer}, plus shards 0…shards-1. */
async function shardNumbers(jsm: JetStreamManager, shards: number | undefined): Promise<number[]> {
  const found = new Set<number>();
  for (let n = 0; n < (shards ?? 0); n++) found.add(n);
  try {
    for await (const c of jsm.consumers.list(FACT_STREAM)) {
      const m = /(\d{1,6})$/.exec(c.name);
      if (m && shardConsumer(Number(m[1])) === c.name) found.add(Number(m[1]));
    }
  } catch {
    // The fact stream's group did not answer the listing: the configured shards are still asked one by one.
  }
  return [...found].sort((a, b) => a - b);
}

async function shardOwners(jsm: JetStreamManager, shards: readonly number[]): Promise<Map<number, string>> {
  const owners = new Map<number, string>();
  const kvStream = `KV_${SHARDS_BUCKET}`;
  for (const n of shards) {
    try {
      const m = await jsm.streams.getMessage(kvStream, { last_by_subj: `$KV.${SHARDS_BUCKET}.${shardLeaseKey(n)}` });
      // A deleted or purged lease is a KV tombstone: a message with the KV-Operation header and no owner.
      const op = m.header?.get('KV-Operation');
      if (op === 'DEL' || op === 'PURGE' || m.data.length === 0) continue;
      owners.set(n, new TextDecoder().decode(m.data));
    } catch (e) {
      // No lease written yet; any other failure (the bucket's group without a leader) leaves the rest unknown.
      if (!isNotFound(e)) break;
    }
  }
  return owners;
}

async function consumerStatus(jsm: JetStreamManager, shard: number, owner: string | undefined, timeoutMs: number): Promise<ConsumerStatus> {
  const name = shardConsumer(shard);
  const base = { shard, name, ...(owner !== undefined ? { owner } : {}) };
  try {
    const c = await jsm.consumers.info(FACT_STREAM, name);
    return {
      ...base,
      present: true,
      pending: c.num_pending,
      ackPending: c.num_ack_pending,
      redelivered: c.num_redelivered,
      deliveredSeq: c.delivered.stream_seq,
      ...(c.cluster?.leader !== undefined ? { leader: c.cluster.leader } : {}),
    };
  } catch (e) {
    const none = { ...base, present: false, pending: 0, ackPending: 0, redelivered: 0, deliveredSeq: 0 };
    return isNotFound(e) ? none : { ...none, error: itemError(e, timeoutMs) };
  }
}

function nodesOf(streams: readonly StreamStatus[]): NodeStatus[] {
  const nodes = new Map<string, { leads: string[]; replicates: string[]; offlineIn: string[]; behindIn: string[] }>();
  for (const s of streams) {
    for (const r of s.group) {
      let n = nodes.get(r.node);
      if (!n) nodes.set(r.node, (n = { leads: [], replicates: [], offlineIn: [], behindIn: [] }));
      (r.leader ? n.leads : n.replicates).push(s.name);
      if (r.offline) n.offlineIn.push(s.name);
      else if (!r.current) n.behindIn.push(s.name);
    }
  }
  return [...nodes.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([node, n]) => ({ node, ...n }));
}

/** Turns the client's connection failures into one clear error (exit code 2 in the CLI), never a stack trace. */
function connectError(e: unknown, c: ClusterConnection): SpoofwatchError {
  const code = String((e as { code?: unknown }).code ?? '');
  const where = c.servers.join(', ');
  if (code === 'CONNECTION_REFUSED' || code === 'TIMEOUT' || code === 'CONNECTION_TIMEOUT' || /ECONNREFUSED|timeout/i.test(String((e as Error).message))) {
    return new SpoofwatchError('CLUSTER_UNREACHABLE', `no NATS server reachable at ${where} (within ${STATUS_TIMEOUT_MS / 1000} s)`);
  }
  if (code === 'AUTHORIZATION_VIOLATION' || /authorization/i.test(String((e as Error).message))) {
    return new SpoofwatchError('CLUSTER_AUTH', `NATS at ${where} refused the credentials (cluster.nats token / user / pass)`);
  }
  return new SpoofwatchError('CLUSTER_CONNECT', `cannot connect to NATS at ${where}: ${(e as Error).message ?? String(e)}`);
}

/**
 * Reads the cluster's state once. `shards`: the config's `cluster.shards`, so that a shard whose consumer is
 * missing shows as missing; without it only the consumers that exist are listed.
 */
export async function clusterStatus(c: ClusterConnection, opts: { shards?: number; timeoutMs?: number } = {}): Promise<ClusterStatus> {
  if (c.servers.length === 0) throw new SpoofwatchError('CLUSTER_NO_SERVERS', 'no NATS servers: set cluster.nats.servers in the config or pass --servers');
  const timeout = opts.timeoutMs ?? STATUS_TIMEOUT_MS;
  let nc: NatsConnection;
  try {
    nc = await connect(statusConnectionOptions(c, timeout));
  } catch (e) {
    throw connectError(e, c);
  }
  try {
    const jsm = await nc.jetstreamManager({ timeout, checkAPI: false });
    let account: Awaited<ReturnType<JetStreamManager['getAccountInfo']>> | undefined;
    let accountError: string | undefined;
    try {
      account = await jsm.getAccountInfo();
    } catch (e) {
      // No responders: nothing serves the JetStream API for this account. A timeout is the meta group busy
      // electing a leader (a node just died): the streams may still answer.
      if (String((e as { code?: unknown }).code) === '503') {
        throw new SpoofwatchError('CLUSTER_NO_JETSTREAM', `NATS at ${nc.getServer()} has no JetStream for this account (nats-server -js)`);
      }
      accountError = itemError(e, timeout);
    }
    const streams = await Promise.all(STREAMS.map((s) => streamStatus(jsm, s, timeout)));
    const facts = streams.find((s) => s.name === FACT_STREAM)!;
    const shards = facts.present ? await shardNumbers(jsm, opts.shards) : Array.from({ length: opts.shards ?? 0 }, (_, i) => i);
    const owners = streams.find((s) => s.name === `KV_${SHARDS_BUCKET}`)!.present ? await shardOwners(jsm, shards) : new Map<number, string>();
    const consumers = await Promise.all(shards.map((n) => consumerStatus(jsm, n, owners.get(n), timeout)));
    const info = nc.info;
    return {
      server: {
        name: info?.server_name ?? '?',
        version: info?.version ?? '?',
        ...(info?.cluster !== undefined ? { cluster: info.cluster } : {}),
        url: nc.getServer(),
      },
      nodes: nodesOf(streams),
      ...(account
        ? {
            account: {
              streams: account.streams,
              consumers: account.consumers,
              storageBytes: account.storage,
              memoryBytes: account.memory,
              apiRequests: account.api.total,
              apiErrors: account.api.errors,
            },
          }
        : { accountError: accountError ?? 'no answer' }),
      streams,
      consumers,
    };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/** The status as one JSON document (terminal-safe: names come from the servers and the lease values). */
export function clusterStatusJson(s: ClusterStatus): string {
  return jsonTerminalSafe(JSON.stringify(s, null, 2)) + '\n';
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

const num = (n: number): string => String(n);

function replicaText(r: ReplicaStatus): string {
  if (r.leader) return `${r.node}*`;
  if (r.offline) return `${r.node}(offline)`;
  if (!r.current) return `${r.node}(lag ${r.lag})`;
  return r.node;
}

/** The human-readable report: nodes, account, streams, shard consumers. Every name passes {@link terminalSafe}. */
export function formatClusterStatus(s: ClusterStatus): string {
  const out: string[] = [];
  out.push(`connected to ${s.server.name} (nats-server ${s.server.version}${s.server.cluster ? `, cluster ${s.server.cluster}` : ''}) at ${s.server.url}`);
  out.push('', `nodes (${s.nodes.length}, from the stream groups)`);
  out.push(
    ...table([
      ['node', 'leads', 'replicates', 'state'],
      ...s.nodes.map((n) => [
        n.node,
        num(n.leads.length),
        num(n.replicates.length),
        n.offlineIn.length > 0 ? `OFFLINE in ${n.offlineIn.join(', ')}` : n.behindIn.length > 0 ? `behind in ${n.behindIn.join(', ')}` : 'ok',
      ]),
    ]),
  );
  const a = s.account;
  out.push(
    '',
    a
      ? `account: ${a.streams} streams, ${a.consumers} consumers, ${a.storageBytes} bytes on disk, ${a.memoryBytes} in memory, API ${a.apiRequests} requests / ${a.apiErrors} errors`
      : `account: ERROR ${s.accountError}`,
  );
  out.push('', 'streams (* leader)');
  out.push(
    ...table([
      ['stream', 'holds', 'messages', 'bytes', 'first', 'last', 'R', 'replicas'],
      ...s.streams.map((t) =>
        t.present
          ? [t.name, t.role, num(t.messages), num(t.bytes), num(t.firstSeq), num(t.lastSeq), num(t.replicas), t.group.map(replicaText).join(' ')]
          : [t.name, t.role, '-', '-', '-', '-', '-', t.error !== undefined ? `ERROR ${t.error}` : 'missing'],
      ),
    ]),
  );
  out.push('', `shard consumers on ${FACT_STREAM} (pending = lag)`);
  if (s.consumers.length === 0) out.push('  none');
  else {
    out.push(
      ...table([
        ['shard', 'consumer', 'pending', 'ack pending', 'redelivered', 'owner'],
        ...s.consumers.map((c) =>
          c.present
            ? [num(c.shard), c.name, num(c.pending), num(c.ackPending), num(c.redelivered), c.owner ?? '-']
            : [num(c.shard), c.name, '-', '-', '-', `${c.error !== undefined ? `ERROR ${c.error}` : 'missing'}${c.owner !== undefined ? ` (lease ${c.owner})` : ''}`],
        ),
      ]),
    );
  }
  return out.map(terminalSafe).join('\n') + '\n';
}
