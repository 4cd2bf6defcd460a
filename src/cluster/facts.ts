/**
 * The identity facts a sensor publishes for the windowed (cross-call) rules (issue #22): what those rules and the
 * Finding → Alert step read from CallFacts, as compact JSON, and back. The windowed rules are the rules that declare a
 * `windowKey` (they keep `ctx.state`); each key kind has one extractor here, and a fact goes to the shard of each
 * distinct key of its call.
 */
import type { CallFacts, PeerFacts, PresentedIdentity, Rule, ShakenOutcome } from '../rules/types.js';
import { effectiveCli } from '../rules/types.js';
import type { HepAgent, Timestamp } from '../types.js';
import { shardOf } from './contract.js';

/** Window key kinds (a rule's `windowKey`) and how a call's key of that kind is found. */
export const WINDOW_KEYS: Readonly<Record<string, (call: CallFacts) => string | undefined>> = {
  /** The effective CLI in E.164 (CLI-MULTI-PEER, CLI-VELOCITY, CLI-NEIGHBOUR). */
  cli: (call) => {
    const cli = effectiveCli(call);
    return cli && cli.num.kind === 'e164' ? cli.num.e164 : undefined;
  },
  /** The PASSporT's (origid, iat, orig.tn, dest.tn) (SHAKEN-REPLAY). */
  'shaken-replay': (call) => (call.shaken.status !== 'none' ? call.shaken.replayKey : undefined),
};

/** The rules that keep window state (declare a `windowKey`): they run on a correlator, the others on a sensor. */
export function windowedRules(rules: readonly Rule[]): Rule[] {
  const out = rules.filter((r) => r.windowKey !== undefined);
  for (const r of out) {
    if (WINDOW_KEYS[r.windowKey!] === undefined) throw new Error(`rule ${r.id}: window key "${r.windowKey}" has no shard key extractor in src/cluster/facts.ts`);
  }
  return out;
}

export const perCallRules = (rules: readonly Rule[]): Rule[] => rules.filter((r) => r.windowKey === undefined);

/** The shards a call's fact goes to: one per distinct shard of its window keys (of the kinds in `kinds`). */
export function shardsOfCall(call: CallFacts, kinds: readonly string[], shards: number): number[] {
  const out = new Set<number>();
  for (const kind of kinds) {
    const key = WINDOW_KEYS[kind]?.(call);
    if (key !== undefined) out.add(shardOf(key, shards));
  }
  return [...out].sort((a, b) => a - b);
}

/** Whether `rule` evaluates a call on `shard` (its window key's shard is this one). */
export function ruleOnShard(rule: Rule, call: CallFacts, shard: number, shards: number): boolean {
  const key = WINDOW_KEYS[rule.windowKey!]?.(call);
  return key !== undefined && shardOf(key, shards) === shard;
}

/** A fact on the wire (JSON). Identities keep the fields rules and alerts read; numbers are resolved. */
export interface Fact {
  readonly v: 1;
  readonly sensorId: string;
  readonly callId: string;
  readonly method: string;
  readonly ts: Timestamp;
  readonly frame: number;
  readonly src: { readonly ip: string; readonly port: number };
  readonly dst: { readonly ip: string; readonly port: number };
  readonly transport: string;
  readonly origin: string;
  readonly agent?: HepAgent;
  readonly peer?: PeerFacts;
  readonly peerTransportMismatch?: string;
  readonly from?: PresentedIdentity;
  readonly to?: PresentedIdentity;
  readonly requestUri?: PresentedIdentity;
  readonly pai: readonly PresentedIdentity[];
  readonly rpid?: PresentedIdentity;
  readonly diversion: readonly PresentedIdentity[];
  readonly identityHeaders: readonly string[];
  readonly shaken: ShakenOutcome;
  readonly concurrentSameCli: number;
}

/** A plain copy of an identity (lazy numbers and deferred parses resolved). */
function plain(id: PresentedIdentity): PresentedIdentity {
  const num = id.num.kind === 'e164'
    ? { kind: 'e164' as const, e164: id.num.e164, valid: id.num.valid, category: id.num.category, ...(id.num.country !== undefined ? { country: id.num.country } : {}), ...(id.num.type !== undefined ? { type: id.num.type } : {}) }
    : id.num;
  return {
    header: id.header,
    raw: id.raw,
    ...(id.display !== undefined ? { display: id.display } : {}),
    uri: id.uri,
    ...(id.user !== undefined ? { user: id.user } : {}),
    num,
    params: { ...id.params },
  };
}

/** The fact of an initial INVITE's completed facts, seen by `sensorId`. */
export function factOf(call: CallFacts, sensorId: string): Fact {
  return {
    v: 1,
    sensorId,
    callId: call.callId,
    method: call.method,
    ts: { sec: call.ts.sec, nsec: call.ts.nsec },
    frame: call.frame,
    src: { ip: call.src.ip, port: call.src.port },
    dst: { ip: call.dst.ip, port: call.dst.port },
    transport: call.transport,
    origin: call.origin,
    ...(call.agent ? { agent: call.agent } : {}),
    ...(call.peer ? { peer: call.peer } : {}),
    ...(call.peerTransportMismatch !== undefined ? { peerTransportMismatch: call.peerTransportMismatch } : {}),
    ...(call.from ? { from: plain(call.from) } : {}),
    ...(call.to ? { to: plain(call.to) } : {}),
    ...(call.requestUri ? { requestUri: plain(call.requestUri) } : {}),
    pai: call.pai.map(plain),
    ...(call.rpid ? { rpid: plain(call.rpid) } : {}),
    diversion: call.diversion.map(plain),
    // Only SHAKEN-REPLAY's evidence reads them, and only when there is a PASSporT.
    identityHeaders: call.shaken.status !== 'none' ? [...call.identityHeaders] : [],
    shaken: call.shaken,
    concurrentSameCli: call.concurrentSameCli,
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse a fact from the stream; undefined (counted by the caller) for anything that is not one. */
export function parseFact(data: Uint8Array): Fact | undefined {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObj(v) || v['v'] !== 1) return undefined;
  const ts = v['ts'];
  if (typeof v['callId'] !== 'string' || typeof v['sensorId'] !== 'string' || !isObj(ts) || typeof ts['sec'] !== 'number' || typeof ts['nsec'] !== 'number') return undefined;
  if (!isObj(v['src']) || !isObj(v['dst']) || !Array.isArray(v['pai']) || !Array.isArray(v['diversion']) || !isObj(v['shaken'])) return undefined;
  return v as unknown as Fact;
}

/** The CallFacts of a fact, as the windowed rules and the alert step read them (an initial INVITE). */
export function callFactsOf(f: Fact): CallFacts {
  return {
    callId: f.callId,
    kind: 'request',
    method: f.method,
    initialInvite: true,
    ts: f.ts,
    frame: f.frame,
    src: f.src,
    dst: f.dst,
    transport: f.transport,
    origin: f.origin,
    agent: f.agent,
    ...(f.peer ? { peer: f.peer } : {}),
    ...(f.peerTransportMismatch !== undefined ? { peerTransportMismatch: f.peerTransportMismatch } : {}),
    ...(f.from ? { from: f.from } : {}),
    ...(f.to ? { to: f.to } : {}),
    ...(f.requestUri ? { requestUri: f.requestUri } : {}),
    pai: f.pai,
    ppi: [],
    ...(f.rpid ? { rpid: f.rpid } : {}),
    diversion: f.diversion,
    historyInfo: [],
    privacy: [],
    identityHeaders: f.identityHeaders,
    shaken: f.shaken,
    anomalies: [],
    concurrentSameCli: f.concurrentSameCli,
  };
}
