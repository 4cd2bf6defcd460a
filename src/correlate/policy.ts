/** Adapts the compiled config (peer table, number lists) to the Policy interface the rules read. */
import type { Config } from '../config/index.js';
import { compileLists } from '../identity/lists.js';
import { PeerTable, mayPresent, type Peer } from '../identity/peers.js';
import type { Brand, PeerFacts, Policy, ProtectedEntry } from '../rules/types.js';

export function peerFacts(peer: Peer): PeerFacts {
  return {
    name: peer.name,
    trust: peer.trust,
    class: peer.class,
    country: peer.country,
    any: peer.any,
    hasNumberPolicy: peer.allowed.size > 0 || peer.presentation.size > 0,
  };
}

export class ConfigPolicy implements Policy {
  readonly homeCountry: string;
  readonly brands: readonly Brand[];
  readonly peers: PeerTable;
  private readonly facts = new Map<string, PeerFacts>();
  private readonly lists: ReturnType<typeof compileLists>;

  constructor(config: Config) {
    this.homeCountry = config.homeCountry;
    this.peers = new PeerTable(config.peers, { cacheSize: config.limits.peerCache });
    for (const p of this.peers.peers) this.facts.set(p.name, peerFacts(p));
    this.lists = compileLists(config.lists);
    this.brands = this.lists.brands.map((b) => ({
      name: b.brand.name,
      displayNames: b.brand.displayNames,
      hasNumber: (e164: string) => b.numbers.has(e164),
    }));
  }

  /** The PeerFacts object for a peer (one per peer, so identity comparisons work). */
  factsOf(peer: Peer): PeerFacts {
    return this.facts.get(peer.name) ?? peerFacts(peer);
  }

  peerMayPresent(peer: PeerFacts, e164: string): boolean {
    const p = this.peers.byPeerName(peer.name);
    return p ? mayPresent(p, e164) : false;
  }

  isPresentationNumber(peer: PeerFacts, e164: string): boolean {
    const p = this.peers.byPeerName(peer.name);
    return p ? p.presentation.has(e164) : false;
  }

  ownersOf(e164: string): readonly PeerFacts[] {
    return this.peers.peers.filter((p) => p.allowed.has(e164)).map((p) => this.factsOf(p));
  }

  protectedEntry(e164: string): ProtectedEntry | undefined {
    const e = this.lists.protectedEntry(e164);
    return e ? { owner: e.owner, ownerPeers: e.ownerPeers } : undefined;
  }

  dnoEntry(e164: string): { readonly owner?: string } | undefined {
    const e = this.lists.doNotOriginateEntry(e164);
    return e ? (e.owner !== undefined ? { owner: e.owner } : {}) : undefined;
  }
}
