/** Adapts the compiled config (peer table, number lists) to the Policy interface the rules read. */
import type { Config } from '../config/index.js';
import { DnoFiles, type DnoFileReport } from '../identity/dno-file.js';
import { compileLists } from '../identity/lists.js';
import { PeerTable, mayPresent, type Peer } from '../identity/peers.js';
import { packForRegion } from '../identity/packs/index.js';
import type { Severity } from '../alerts/alert.js';
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
  readonly activePacks: readonly string[];
  readonly brands: readonly Brand[];
  readonly peers: PeerTable;
  private readonly facts = new Map<string, PeerFacts>();
  private readonly lists: ReturnType<typeof compileLists>;
  /** `lists.doNotOriginateFiles`, loaded when the policy is built (start, SIGHUP); `dnoFiles.load()` re-reads them. */
  readonly dnoFiles: DnoFiles;

  /**
   * `reuseDno`: the DNO files of the policy this one replaces; kept (not re-read here) when the file list is the
   * same, so a SIGHUP does not parse a big list on the event loop (the daemon re-reads it in a worker thread).
   */
  constructor(config: Config, reuseDno?: DnoFiles) {
    this.homeCountry = config.homeCountry;
    this.activePacks = [...new Set([config.homeCountry, ...config.rulePacks])];
    this.peers = new PeerTable(config.peers, { cacheSize: config.limits.peerCache });
    for (const p of this.peers.peers) this.facts.set(p.name, peerFacts(p));
    this.lists = compileLists(config.lists);
    const files = config.lists.doNotOriginateFiles;
    if (reuseDno && reuseDno.files.length === files.length && reuseDno.files.every((f, i) => f === files[i])) this.dnoFiles = reuseDno;
    else {
      this.dnoFiles = new DnoFiles(files);
      this.dnoFiles.load();
    }
    this.brands = this.lists.brands.map((b) => ({
      name: b.brand.name,
      displayNames: b.brand.displayNames,
      hasNumber: (e164: string) => b.numbers.has(e164),
    }));
  }

  fromAbroad(region: string): { readonly country: string; readonly mobile: Severity; readonly source: string } | undefined {
    const pack = packForRegion(region);
    if (pack) {
      if (!this.activePacks.includes(pack.country) || !pack.fromAbroad) return undefined;
      return { country: pack.country, mobile: pack.fromAbroad.mobile, source: pack.fromAbroad.source };
    }
    // A home country without a pack keeps the generic rule (RULES.md §4).
    return region === this.homeCountry ? { country: region, mobile: 'medium', source: 'RULES.md §4 (home country without a rule pack)' } : undefined;
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

  dnoEntry(e164: string): { readonly owner?: string; readonly source?: string } | undefined {
    const e = this.lists.doNotOriginateEntry(e164);
    if (e) return e.owner !== undefined ? { owner: e.owner } : {};
    if (this.dnoFiles.files.length === 0) return undefined;
    const m = this.dnoFiles.lookup(e164);
    if (!m) return undefined;
    return { ...(m.owner !== undefined ? { owner: m.owner } : {}), source: `${m.file} line ${m.line}` };
  }

  /** What the last load of the DNO files found (entries, bad lines, unreadable files). */
  get dnoReport(): readonly DnoFileReport[] {
    return this.dnoFiles.report;
  }
}
