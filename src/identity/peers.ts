/**
 * Network identity: which configured peer sent a message (DESIGN.md §3 "peer lookup", RULES.md
 * "Peer" and SRC-UNKNOWN-PEER).
 *
 * Matching: the longest CIDR prefix that contains the source address wins (IPv4, IPv6 and
 * IPv4-mapped IPv6 share one address space, see `ip.ts`). Among the peers configured at that
 * prefix, the one whose port / transport / HEP capture id constraints hold wins (more constraints
 * first, then config order). If the address belongs to a peer but the constraints do not hold, the
 * result is a `mismatch` naming the peer and what differed; a less specific peer is *not* tried,
 * because the more specific entry says who owns the address and "right address, wrong transport"
 * is exactly what SRC-UNKNOWN-PEER reports.
 *
 * Constraints only apply to what the query knows: a message read from a pcap file has no HEP
 * capture id, so `hepCaptureId` is not checked for it; outside cluster mode there is no sensor id.
 */
import type { PeerClass, PeerConfig, PeerTrust } from '../config/types.js';
import type { Transport } from '../types.js';
import { MASKS, parseCidr, parseIp, type Cidr } from './ip.js';
import { NumberSet } from './number-set.js';

export interface Peer {
  readonly name: string;
  readonly trust: PeerTrust;
  readonly class: PeerClass;
  readonly country: string;
  /** Transit carrier: may present any number. */
  readonly any: boolean;
  /** Numbers the peer owns (`allowedNumbers`). */
  readonly allowed: NumberSet;
  /** Further numbers it may present (`presentationNumbers`). */
  readonly presentation: NumberSet;
  readonly config: PeerConfig;
}

/** True when the peer may present `e164` as calling number (RULES.md CLI-NOT-AUTHORIZED). */
export function mayPresent(peer: Peer, e164: string): boolean {
  return peer.any || peer.allowed.has(e164) || peer.presentation.has(e164);
}

export interface PeerQuery {
  /** Source address: dotted IPv4, IPv6, or IPv4-mapped IPv6. */
  readonly ip: string;
  readonly port?: number;
  readonly transport?: Transport;
  /** HEP capture agent id, when the message came in over HEP. */
  readonly hepCaptureId?: number | undefined;
  /** The cluster sensor that captured the message (issue #22). */
  readonly sensorId?: string | undefined;
}

export type PeerMismatch = 'port' | 'transport' | 'hepCaptureId' | 'sensorId';

export type PeerLookup =
  | { readonly kind: 'peer'; readonly peer: Peer; readonly cidr: string }
  | {
      /** The address belongs to `peer`, but port/transport/capture id do not fit it. */
      readonly kind: 'mismatch';
      readonly peer: Peer;
      readonly cidr: string;
      readonly mismatch: PeerMismatch;
      /** e.g. `transport tls, peer "pbx-acme" uses udp,tcp`. */
      readonly reason: string;
    }
  | { readonly kind: 'unknown'; readonly reason: string };

interface Entry {
  readonly peer: Peer;
  readonly cidr: Cidr;
  readonly port?: number;
  readonly transports?: ReadonlySet<Transport>;
  readonly hepCaptureId?: number;
  readonly sensorId?: string;
  readonly constraints: number;
  readonly order: number;
}

function buildPeer(cfg: PeerConfig): Peer {
  return Object.freeze({
    name: cfg.name,
    trust: cfg.trust,
    class: cfg.class,
    country: cfg.country,
    any: cfg.any,
    allowed: new NumberSet(cfg.allowedNumbers),
    presentation: new NumberSet(cfg.presentationNumbers),
    config: cfg,
  });
}

function mismatchOf(e: Entry, q: PeerQuery): { mismatch: PeerMismatch; reason: string } | undefined {
  if (e.port !== undefined && q.port !== undefined && q.port !== e.port) {
    return { mismatch: 'port', reason: `source port ${q.port}, peer "${e.peer.name}" uses ${e.port}` };
  }
  if (e.transports !== undefined && q.transport !== undefined && !e.transports.has(q.transport)) {
    return {
      mismatch: 'transport',
      reason: `transport ${q.transport}, peer "${e.peer.name}" uses ${[...e.transports].join(',')}`,
    };
  }
  if (e.hepCaptureId !== undefined && q.hepCaptureId !== undefined && q.hepCaptureId !== e.hepCaptureId) {
    return {
      mismatch: 'hepCaptureId',
      reason: `HEP capture id ${q.hepCaptureId}, peer "${e.peer.name}" is captured by ${e.hepCaptureId}`,
    };
  }
  if (e.sensorId !== undefined && q.sensorId !== undefined && q.sensorId !== e.sensorId) {
    return { mismatch: 'sensorId', reason: `captured by sensor ${q.sensorId}, peer "${e.peer.name}" by ${e.sensorId}` };
  }
  return undefined;
}

export class PeerTable {
  readonly peers: readonly Peer[];
  private readonly byName: ReadonlyMap<string, Peer>;
  /** prefix length → network → entries, longest prefix first. */
  private readonly index: ReadonlyArray<readonly [number, ReadonlyMap<bigint, readonly Entry[]>]>;
  private readonly cache = new Map<string, readonly Entry[] | null>();
  private readonly cacheSize: number;
  private readonly order: string[] = [];
  private oldest = 0;
  private evicted = 0;

  /**
   * @param peers validated config peers (`config.peers`); a CIDR that does not parse throws
   *   TypeError (config validation rejects those first).
   */
  constructor(peers: readonly PeerConfig[], options: { readonly cacheSize?: number } = {}) {
    this.cacheSize = Math.max(1, options.cacheSize ?? 4096);
    const built = peers.map(buildPeer);
    this.peers = Object.freeze(built);
    this.byName = new Map(built.map((p) => [p.name, p]));
    const groups = new Map<number, Map<bigint, Entry[]>>();
    let order = 0;
    for (const peer of built) {
      const m = peer.config.match;
      for (const text of m.cidrs) {
        const parsed = parseCidr(text);
        if (parsed.kind === 'invalid') throw new TypeError(`peer "${peer.name}": ${parsed.reason}`);
        const entry: Entry = {
          peer,
          cidr: parsed.cidr,
          ...(m.port !== undefined ? { port: m.port } : {}),
          ...(m.transport !== undefined ? { transports: new Set(m.transport) } : {}),
          ...(m.hepCaptureId !== undefined ? { hepCaptureId: m.hepCaptureId } : {}),
          ...(m.sensorId !== undefined ? { sensorId: m.sensorId } : {}),
          constraints:
            (m.port !== undefined ? 1 : 0) + (m.transport !== undefined ? 1 : 0) + (m.hepCaptureId !== undefined ? 1 : 0) + (m.sensorId !== undefined ? 1 : 0),
          order: order++,
        };
        let byNet = groups.get(parsed.cidr.prefix);
        if (byNet === undefined) {
          byNet = new Map();
          groups.set(parsed.cidr.prefix, byNet);
        }
        const list = byNet.get(parsed.cidr.network);
        if (list === undefined) byNet.set(parsed.cidr.network, [entry]);
        else list.push(entry);
      }
    }
    for (const byNet of groups.values()) {
      for (const list of byNet.values()) list.sort((a, b) => b.constraints - a.constraints || a.order - b.order);
    }
    this.index = [...groups.entries()].sort((a, b) => b[0] - a[0]);
  }

  /** The peer called `name`, for list owners (`ownerPeers`) and filters. */
  byPeerName(name: string): Peer | undefined {
    return this.byName.get(name);
  }

  /** Source addresses whose lookup is cached now (bounded by `cacheSize`, `limits.peerCache`). */
  get cachedAddresses(): number {
    return this.cache.size;
  }

  /** Addresses dropped from the lookup cache to make room (looked up again when they come back). */
  get cacheEvictions(): number {
    return this.evicted;
  }

  /** Entries at the longest prefix containing `ip`; cached per address text. */
  private candidates(ip: string): readonly Entry[] | null | undefined {
    const hit = this.cache.get(ip);
    if (hit !== undefined) return hit;
    const addr = parseIp(ip);
    if (addr === undefined) return undefined;
    let found: readonly Entry[] | null = null;
    for (const [prefix, byNet] of this.index) {
      const list = byNet.get(addr.value & MASKS[prefix]!);
      if (list !== undefined) {
        found = list;
        break;
      }
    }
    // FIFO eviction through a ring of keys: `cache.keys().next()` walks the deleted slots of a Map until it rehashes.
    if (this.cache.size >= this.cacheSize) {
      this.cache.delete(this.order[this.oldest]!);
      this.evicted++;
      this.order[this.oldest] = ip;
      this.oldest = (this.oldest + 1) % this.cacheSize;
    } else this.order.push(ip);
    this.cache.set(ip, found);
    return found;
  }

  /** Full lookup: matched peer, the peer whose address matched but not its constraints, or unknown. */
  lookup(q: PeerQuery): PeerLookup {
    const cands = this.candidates(q.ip);
    if (cands === undefined) return { kind: 'unknown', reason: `not an IP address ("${q.ip}")` };
    if (cands === null) return { kind: 'unknown', reason: `no peer configured for ${q.ip}` };
    for (const e of cands) {
      if (mismatchOf(e, q) === undefined) return { kind: 'peer', peer: e.peer, cidr: e.cidr.text };
    }
    const first = cands[0]!;
    const why = mismatchOf(first, q)!;
    return { kind: 'mismatch', peer: first.peer, cidr: first.cidr.text, mismatch: why.mismatch, reason: why.reason };
  }

  /** The peer that sent a message from this address, port, transport and capture agent, if any. */
  peerFor(q: PeerQuery): Peer | undefined {
    const r = this.lookup(q);
    return r.kind === 'peer' ? r.peer : undefined;
  }
}
