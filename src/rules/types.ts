/**
 * What rules see (DESIGN.md §3: "rules never touch bytes"). The correlate stage turns SIP messages into
 * CallFacts — typed, normalised identities plus the network identity — and rules are pure functions over them.
 */
import type { AlertEvidence, Severity } from '../alerts/alert.js';

export type { Severity };
import type { HepAgent, Timestamp } from '../types.js';

/** Number categories from our own numbering-plan table (RULES.md §3). */
import type { NumberCategory } from '../identity/numbers.js';
export type { NumberCategory };

/** A presented number after normalisation (RULES.md §3). */
export type Num =
  | {
      readonly kind: 'e164';
      /** Canonical E.164 with '+'. */
      readonly e164: string;
      readonly valid: boolean;
      readonly category: NumberCategory;
      /** ISO country of the number, when known. */
      readonly country?: string;
      /** libphonenumber's type (MOBILE, FIXED_LINE, …), when known. */
      readonly type?: string;
    }
  | { readonly kind: 'short'; readonly raw: string; readonly category: 'emergency' | 'short' }
  | { readonly kind: 'withheld'; readonly raw: string }
  | { readonly kind: 'alphanumeric'; readonly raw: string }
  /** Text that cannot be made into a number at all (`*31#`, more than 15 digits). */
  | { readonly kind: 'invalid'; readonly raw: string; readonly reason: string }
  | { readonly kind: 'none' };

/** One identity-bearing header value, parsed and normalised. */
export interface PresentedIdentity {
  /** Header name as it appears in alerts: From, To, P-Asserted-Identity, Remote-Party-ID, Diversion, History-Info, Request-URI. */
  readonly header: string;
  /** The raw header value (for evidence). */
  readonly raw: string;
  readonly display?: string;
  readonly uri: string;
  readonly user?: string;
  readonly num: Num;
  /** URI/user/header params that rules care about (verstat, screen, party, privacy, counter, index, mp …). */
  readonly params: Readonly<Record<string, string>>;
  /**
   * The whole header value as written, set where the parse is deferred (From outside initial INVITEs): every part
   * of `raw` is in it, so a search that finds nothing here finds nothing in the parse.
   */
  readonly text?: string;
}

export interface PeerFacts {
  readonly name: string;
  readonly trust: 'trusted' | 'untrusted';
  readonly class: 'access' | 'national' | 'international' | 'enterprise';
  readonly country: string;
  /** Transit carrier: may present any number. */
  readonly any: boolean;
  /** Whether the peer has any allowed/presentation numbers configured. */
  readonly hasNumberPolicy: boolean;
}

export type ShakenOutcome =
  | {
      readonly status: 'passed';
      readonly attest: string;
      readonly origTn: string;
      readonly destTn: readonly string[];
      readonly x5u: string;
      /** (origid, iat, orig.tn, dest.tn) — the identity of the PASSporT for replay detection. */
      readonly replayKey: string;
      /** What the verification left unchecked, e.g. the orig binding of a withheld caller. */
      readonly note?: string;
      /** Diverting numbers (E.164 with `+`) proven by valid div PASSporTs chained to this one (RFC 8946). */
      readonly divProven?: readonly string[];
      /** Why each rejected div PASSporT was rejected (SHAKEN-DIV-INVALID). */
      readonly divInvalid?: readonly string[];
      /** The verified signed caller name (rcd PASSporT `rcd.nam`). */
      readonly rcdName?: string;
      /** Why each rejected rcd PASSporT was rejected (SHAKEN-RCD-INVALID). */
      readonly rcdInvalid?: readonly string[];
    }
  | {
      readonly status: 'failed';
      readonly code: number;
      readonly rule: string;
      readonly reason: string;
      readonly attest?: string;
      readonly origTn?: string;
      readonly destTn?: readonly string[];
      readonly x5u?: string;
      readonly replayKey?: string;
      readonly divProven?: readonly string[];
      readonly divInvalid?: readonly string[];
      readonly rcdName?: string;
      readonly rcdInvalid?: readonly string[];
    }
  | { readonly status: 'none' };

/** Everything a rule may look at for one SIP message of a call. */
export interface CallFacts {
  readonly callId: string;
  readonly kind: 'request' | 'response';
  readonly method: string;
  /** True for a dialog-creating INVITE (no To tag) seen for the first time on this Call-ID. */
  readonly initialInvite: boolean;
  readonly ts: Timestamp;
  readonly frame: number;
  readonly src: { readonly ip: string; readonly port: number };
  readonly dst: { readonly ip: string; readonly port: number };
  readonly transport: string;
  /** Human-readable origin: file name, listener, HEP agent. */
  readonly origin: string;
  /** The HEP agent that reported the message (address, capture id), when it came in HEP. */
  readonly agent?: HepAgent | undefined;
  readonly peer?: PeerFacts;
  /** Address matched a peer but not its port/transport constraints. */
  readonly peerTransportMismatch?: string;
  readonly from?: PresentedIdentity;
  readonly to?: PresentedIdentity;
  readonly requestUri?: PresentedIdentity;
  readonly pai: readonly PresentedIdentity[];
  readonly ppi: readonly PresentedIdentity[];
  readonly rpid?: PresentedIdentity;
  readonly diversion: readonly PresentedIdentity[];
  readonly historyInfo: readonly PresentedIdentity[];
  readonly privacy: readonly string[];
  readonly userAgent?: string;
  /** Date header, ms since epoch, when present and parseable. */
  readonly dateMs?: number;
  readonly identityHeaders: readonly string[];
  readonly shaken: ShakenOutcome;
  /** Anomaly kinds the parser found in this message, with details. */
  readonly anomalies: readonly { readonly kind: string; readonly detail: string }[];
  /** Calls currently active (not ended) that present the same CLI, including this one. */
  readonly concurrentSameCli: number;
}

/** The effective calling number (RULES.md: PAI when the peer is trusted and sent one, else From). */
export interface Cli {
  readonly identity: PresentedIdentity;
  readonly num: Num;
}

export function effectiveCli(call: CallFacts): Cli | undefined {
  const pai = call.peer?.trust === 'trusted' ? call.pai.find((p) => p.num.kind === 'e164') ?? call.pai[0] : undefined;
  const id = pai ?? call.from;
  return id ? { identity: id, num: id.num } : undefined;
}

/** The called number: R-URI when it holds a number, else To. */
export function calledNumber(call: CallFacts): PresentedIdentity | undefined {
  if (call.requestUri && call.requestUri.num.kind === 'e164') return call.requestUri;
  return call.to;
}

export interface ProtectedEntry {
  readonly owner: string;
  readonly ownerPeers: readonly string[];
}

export interface Brand {
  readonly name: string;
  readonly displayNames: readonly string[];
  hasNumber(e164: string): boolean;
}

/** Number policy from config, behind an interface so rules stay pure and testable. */
export interface Policy {
  readonly homeCountry: string;
  /** Countries whose rule packs' regulatory rules apply: `homeCountry` first, then `rulePacks`. */
  readonly activePacks: readonly string[];
  /**
   * How a national CLI of `country` arriving from an international peer is rated (REG-INTL-NATIONAL-CLI), when that
   * country's pack is active (the home country always is, with or without a pack).
   */
  fromAbroad(country: string): { readonly country: string; readonly mobile: Severity; readonly source: string } | undefined;
  /** allowedNumbers ∪ presentationNumbers of the peer, or `any`. */
  peerMayPresent(peer: PeerFacts, e164: string): boolean;
  /** Only presentationNumbers (e.g. a call centre's general number). */
  isPresentationNumber(peer: PeerFacts, e164: string): boolean;
  /** Peers whose allowedNumbers contain the number. */
  ownersOf(e164: string): readonly PeerFacts[];
  protectedEntry(e164: string): ProtectedEntry | undefined;
  /** The do-not-originate entry for a number: its owner, and for list files where it is listed (`FILE line N`). */
  dnoEntry(e164: string): { readonly owner?: string; readonly source?: string } | undefined;
  readonly brands: readonly Brand[];
}

/** Bounded keyed state for windowed rules, expired by the capture clock (DESIGN.md §3). */
export interface WindowState {
  /** Entries for `key` newer than `nowMs - windowMs` (older ones are dropped). */
  recent<T>(key: string, nowMs: number, windowMs: number): readonly { readonly atMs: number; readonly value: T }[];
  /** How many entries `recent` would return, without building them (the same entries are dropped). */
  count(key: string, nowMs: number, windowMs: number): number;
  add<T>(key: string, nowMs: number, value: T): void;
  /**
   * Let go of what left every window by `nowMs` (the clock run on while no message comes, issue #18). For both states
   * of a pair: they share a store.
   */
  expire(nowMs: number): void;
  /** Keys held and keys evicted at the bound (`/metrics`, issue #18). */
  readonly size: number;
  readonly evicted: number;
  /** The store the keys live in (two paired states share one, counted once). */
  readonly storeRef: object;
}

/**
 * Makes the keyed window stores of the windowed rules (DESIGN.md §3: in memory on one machine, a broker-backed store
 * later). `pair` gives two states over one key space for rules that key their windows alike.
 */
export interface WindowStates {
  single(): WindowState;
  pair(): [WindowState, WindowState];
}

export interface RuleParams {
  readonly [name: string]: number | string | boolean | undefined;
}

export interface RuleContext {
  readonly call: CallFacts;
  readonly cli: Cli | undefined;
  readonly policy: Policy;
  /** This rule's own window state. */
  readonly state: WindowState;
  readonly params: RuleParams;
  /** Severity after config override (rules may raise/lower relative to it only where the catalogue says). */
  readonly severity: Severity;
}

export interface Finding {
  readonly severity: Severity;
  readonly summary: string;
  readonly reasons: readonly string[];
  readonly evidence: readonly AlertEvidence[];
  /** The presented identity the finding is about (defaults to the CLI). */
  readonly presented?: PresentedIdentity;
}

export interface Rule {
  /** Stable id = file name. */
  readonly id: string;
  readonly title: string;
  readonly defaultSeverity: Severity;
  /** What it detects, the false-positive caveat, and its source (RFC section, regulation). */
  readonly description: string;
  /** Which messages the rule looks at. */
  readonly scope: 'initial-invite' | 'request' | 'message';
  /** Default numeric params (windows in seconds, thresholds). */
  readonly defaults?: RuleParams;
  /**
   * What a windowed rule (one that uses `ctx.state`) keys its window state by: 'cli' (the E.164 of the effective
   * CLI) or 'shaken-replay' (the PASSporT replay key). Every rule that uses `ctx.state` declares it: the scale-out
   * (src/cluster) runs exactly these rules on the correlator, on the shard of this key. Two enabled rules with the same
   * windowKey get their states over one store (MemoryWindowState.pair): the key is looked up once for both. Each
   * still sees only its own entries.
   */
  readonly windowKey?: string;
  /**
   * The rule records only some calls of its key (CLI-NEIGHBOUR: calls to a neighbour), so it is paired last: two
   * rules that record every call share a store's key (one entry per number), and a flood of distinct numbers holds
   * one entry each instead of two (issue #18: memory after a flood).
   */
  readonly windowSparse?: boolean;
  /**
   * Config fields the rule reads besides its own `rules.<ID>` entry, as config paths (`lists.doNotOriginate`,
   * `peers[].allowedNumbers`); shown in docs/rules.md and `spoofwatch rules`. An empty list: none.
   */
  readonly reads?: readonly string[];
  /** False-positive caveat, when the description does not carry one as "Caveat: …". */
  readonly caveat?: string;
  /** Source (RFC section, regulation), when the description does not carry one as "Source(s): …". */
  readonly source?: string;
  evaluate(ctx: RuleContext): Finding | undefined;
}

/** Evidence line for an identity header. */
export function evidenceOf(id: PresentedIdentity, frame: number): AlertEvidence {
  return { frame, header: id.header, value: id.raw };
}

/** Short text for a number in reasons. */
export function numText(n: Num): string {
  switch (n.kind) {
    case 'e164':
      return n.e164;
    case 'short':
    case 'withheld':
    case 'alphanumeric':
    case 'invalid':
      return n.raw;
    case 'none':
      return '(none)';
  }
}
