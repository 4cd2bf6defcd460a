/**
 * Turns a parsed SIP message plus its network identity into the CallFacts rules read (RULES.md §1, §3):
 * identity headers parsed and numbers normalised in the peer's country. Only the initial INVITE gets the full
 * identity work; other messages get the light facts MSG-MALFORMED and UA-ATTACK-TOOL need.
 */
import type { AnomalyKind } from '../anomalies.js';
import type { Anomaly, Endpoint, HepAgent, Timestamp } from '../types.js';
import { tsMillis } from '../types.js';
import { messageAnomalies, type SipMessage } from '../sip/message.js';
import type { Invalid, NameAddr, Params, Uri } from '../sip/model.js';
import { userGuess, userOf } from '../sip/uri.js';
import type { NormalisedNumber, NumberCategory, NumberNormaliser } from '../identity/numbers.js';
import type { CallFacts, Num, PeerFacts, PresentedIdentity, ShakenOutcome } from '../rules/types.js';

export interface MessageMeta {
  readonly ts: Timestamp;
  readonly frame: number;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly transport: string;
  readonly origin: string;
  /** The HEP agent that reported the message, when it came in HEP. */
  readonly agent?: HepAgent | undefined;
}

/** Anomaly kinds of the SIP layer that MSG-MALFORMED reports (RULES.md §4). */
export const MALFORMED_KINDS: ReadonlySet<string> = new Set<AnomalyKind>([
  'sip.duplicate-from',
  'sip.duplicate-to',
  'sip.duplicate-call-id',
  'sip.header-too-long',
  'sip.message-too-large',
  'sip.nul-in-header',
  'sip.bare-cr',
  'sip.bare-lf',
  'sip.content-length-mismatch',
  'sip.identity-uri-invalid',
  // Start lines no stack sends, each a way to slip past a strict probe (issue #16): junk before the method, a standard
  // method in another case. (`sip.version-case` is legal, RFC 3261 §7.1, and `sip.start-line-whitespace` is tolerated.)
  'sip.start-line-junk',
  'sip.method-case',
  // Identity headers a phone still reads but the grammar rejects (the URI was extracted and rules evaluated it).
  'sip.display-name-quote',
  'sip.display-name-unquoted',
  'sip.name-addr-brackets',
  'sip.name-addr-params',
]);

function toNum(n: NormalisedNumber): Num {
  return n;
}

/** The number-bearing text of a URI as RULES.md §3 takes it: tel: number (with phone-context) or the user part. */
function numberText(uri: Uri): string | undefined {
  if (uri.kind === 'tel') {
    const ctx = uri.params['phone-context'];
    return ctx !== undefined && !uri.global ? `${uri.number};phone-context=${ctx}` : uri.number;
  }
  if (uri.kind === 'sip') return uri.userUnescaped ?? uri.user ?? '';
  return undefined;
}

/**
 * An E.164 number whose canonical form is plain in the text (`+` and digits), with validity, type, country and
 * category worked out only when a rule reads them. Used for the headers whose validity no rule reads on the hot
 * path (To, Request-URI, Diversion, History-Info, RPID, PPI): each unique callee number would otherwise cost a full
 * libphonenumber parse (~60 µs), most of a call's identity work.
 */
class LazyE164 {
  readonly kind = 'e164' as const;
  private full: NormalisedNumber | undefined;

  constructor(
    readonly e164: string,
    private readonly input: string,
    private readonly country0: string,
    private readonly numbers: NumberNormaliser,
  ) {}

  private resolved(): NormalisedNumber {
    return (this.full ??= this.numbers.normalise(this.input, this.country0));
  }

  get valid(): boolean {
    const f = this.resolved();
    return f.kind === 'e164' ? f.valid : false;
  }

  get category(): NumberCategory {
    const f = this.resolved();
    return f.kind === 'e164' || f.kind === 'short' ? f.category : 'other';
  }

  get country(): string | undefined {
    const f = this.resolved();
    return f.kind === 'e164' ? f.country : undefined;
  }

  get type(): string | undefined {
    const f = this.resolved();
    return f.kind === 'e164' ? f.type : undefined;
  }

  toJSON(): object {
    return this.resolved();
  }
}

const PLAIN_E164 = /^\+[1-9][0-9]{5,14}$/;

/**
 * The number of a URI. `full` (From, PAI: the CLI candidates) normalises now; otherwise a number already in
 * plain E.164 is canonical as written and the rest of the work is deferred to first use (LazyE164).
 */
function numOfUri(uri: Uri | Invalid, country: string, numbers: NumberNormaliser, full: boolean): Num {
  if (uri.kind === 'invalid') return numOfGuess(uri.raw, country, numbers);
  const text = numberText(uri);
  if (text === undefined) return { kind: 'none' };
  if (!full) {
    const semi = text.indexOf(';');
    const main = semi < 0 ? text : text.slice(0, semi);
    if (PLAIN_E164.test(main)) return new LazyE164(main, text, country, numbers);
  }
  return toNum(numbers.normalise(text, country));
}

const NO_NUMBER: Num = { kind: 'none' };

/**
 * The number of text that did not parse as a URI (MSG-MALFORMED flags it): the user part a phone would still show,
 * normalised so that the number rules evaluate it; no number at all when there is none. Never the raw text: an
 * alert's presented number is a number or a URI user (issue #16.2).
 */
function numOfGuess(text: string, country: string, numbers: NumberNormaliser): Num {
  const user = userGuess(text);
  return user === undefined ? NO_NUMBER : toNum(numbers.normalise(user, country));
}

/** URI user params (verstat lives in the user part of sip: URIs, RFC 8588) merged with URI and header params. */
function paramsOf(na: NameAddr): Record<string, string> {
  const out: Record<string, string> = {};
  const uri = na.uri;
  if (uri.kind === 'sip') {
    const user = uri.user ?? '';
    const semi = user.indexOf(';');
    if (semi >= 0) {
      for (const part of user.slice(semi + 1).split(';')) {
        const eq = part.indexOf('=');
        const k = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
        if (k && out[k] === undefined) out[k] = eq < 0 ? '' : part.slice(eq + 1);
      }
    }
    copy(out, uri.params);
  } else if (uri.kind === 'tel') copy(out, uri.params);
  copy(out, na.params);
  return out;
}

function copy(out: Record<string, string>, p: Params): void {
  for (const k in p) if (out[k] === undefined) out[k] = p[k]!;
}

export function identityOf(
  header: string,
  na: NameAddr | Invalid | undefined,
  country: string,
  numbers: NumberNormaliser,
  extra?: Record<string, string>,
  full = true,
): PresentedIdentity | undefined {
  if (!na) return undefined;
  if (na.kind === 'invalid') {
    // Nothing extractable even leniently (parseNameAddrLenient): the user a phone would show, if any, never the line.
    return { header, raw: na.raw, uri: '', user: userGuess(na.raw), num: numOfGuess(na.raw, country, numbers), params: {} };
  }
  const user = na.uri.kind === 'invalid' ? userGuess(na.uri.raw) : userOf(na.uri);
  const params = paramsOf(na);
  if (extra) for (const k in extra) if (params[k] === undefined) params[k] = extra[k]!;
  return { header, raw: na.raw, display: na.display, uri: na.uri.raw, user, num: numOfUri(na.uri, country, numbers, full), params };
}

/**
 * From of a message other than an initial INVITE: the header's text at once, the parse when something reads more
 * (an alert, or a rule that asks for the CLI). The request-scoped rules run on every ACK and BYE but only search
 * From's text (UA-ATTACK-TOOL); parsing it there was about a fifth of their analysis.
 */
class DeferredFrom implements PresentedIdentity {
  readonly header = 'From';
  private parsed: PresentedIdentity | undefined;

  constructor(
    readonly text: string,
    private readonly msg: SipMessage,
    private readonly country: string,
    private readonly numbers: NumberNormaliser,
  ) {}

  private get id(): PresentedIdentity {
    // The message has a From header (its text is `text`), so the parse gives an identity.
    return (this.parsed ??= identityOf('From', this.msg.from, this.country, this.numbers, undefined, false)!);
  }

  get raw(): string {
    return this.id.raw;
  }

  get display(): string | undefined {
    return this.id.display;
  }

  get uri(): string {
    return this.id.uri;
  }

  get user(): string | undefined {
    return this.id.user;
  }

  get num(): Num {
    return this.id.num;
  }

  get params(): Readonly<Record<string, string>> {
    return this.id.params;
  }

  toJSON(): PresentedIdentity {
    return this.id;
  }
}

function uriIdentity(header: string, uri: Uri | Invalid | undefined, country: string, numbers: NumberNormaliser): PresentedIdentity | undefined {
  if (!uri) return undefined;
  const user = uri.kind === 'invalid' ? userGuess(uri.raw) : userOf(uri);
  return {
    header,
    raw: uri.raw,
    display: undefined,
    uri: uri.raw,
    user,
    num: numOfUri(uri, country, numbers, false),
    params: uri.kind === 'sip' || uri.kind === 'tel' ? { ...uri.params } : {},
  };
}

function listOf<T extends NameAddr>(
  header: string,
  values: ReadonlyArray<T | Invalid>,
  country: string,
  numbers: NumberNormaliser,
  extra?: (v: T) => Record<string, string>,
  full = false,
): PresentedIdentity[] {
  const out: PresentedIdentity[] = [];
  for (const v of values) {
    const id = identityOf(header, v, country, numbers, v.kind === 'invalid' || !extra ? undefined : extra(v as T), full);
    if (id) out.push(id);
  }
  return out;
}

/** Anomalies that MSG-MALFORMED reports, with their details. */
export function malformedOf(anomalies: readonly Anomaly[]): { kind: string; detail: string }[] {
  const out: { kind: string; detail: string }[] = [];
  for (const a of anomalies) if (MALFORMED_KINDS.has(a.kind)) out.push({ kind: a.kind, detail: a.detail });
  return out;
}

export interface FactsInput {
  readonly msg: SipMessage;
  readonly meta: MessageMeta;
  readonly callId: string;
  readonly initialInvite: boolean;
  readonly peer: PeerFacts | undefined;
  readonly peerTransportMismatch: string | undefined;
  /** Country used to normalise numbers: the peer's, else the home country. */
  readonly country: string;
  /** The number normaliser with its bounded cache (`limits.numberCache`): the Analyzer's. */
  readonly numbers: NumberNormaliser;
}

/** CallFacts with writable fields: the Analyzer completes `shaken` and `concurrentSameCli` on the object built here. */
export type MutableCallFacts = { -readonly [K in keyof CallFacts]: CallFacts[K] };

const NO_IDENTITIES: readonly PresentedIdentity[] = Object.freeze([]);
const NO_STRINGS: readonly string[] = Object.freeze([]);

/**
 * The facts of one message. `full` (initial INVITEs) parses every identity header; otherwise only From is taken
 * (what MSG-MALFORMED and UA-ATTACK-TOOL need). One object literal of a fixed shape, optional facts `undefined`
 * when absent: no spreads, which cost more than the rest of the work on the per-message path.
 */
export function buildFacts(input: FactsInput, full: boolean, shaken: ShakenOutcome, concurrentSameCli: number): MutableCallFacts {
  const { msg, meta, country, numbers } = input;
  const anomalies = malformedOf(messageAnomalies(msg));
  const facts: MutableCallFacts = {
    callId: input.callId,
    kind: msg.kind,
    method: msg.kind === 'request' ? msg.method : msg.cseq && msg.cseq.kind === 'cseq' ? msg.cseq.method : '',
    initialInvite: input.initialInvite,
    ts: meta.ts,
    frame: meta.frame,
    src: meta.src,
    dst: meta.dst,
    transport: meta.transport,
    origin: meta.origin,
    agent: meta.agent,
    peer: input.peer,
    peerTransportMismatch: input.peerTransportMismatch,
    // Outside initial INVITEs no rule reads more of From than its text unless it alerts.
    from: full ? identityOf('From', msg.from, country, numbers, undefined, true) : deferredFrom(msg, country, numbers),
    to: undefined,
    requestUri: undefined,
    pai: NO_IDENTITIES,
    ppi: NO_IDENTITIES,
    rpid: undefined,
    diversion: NO_IDENTITIES,
    historyInfo: NO_IDENTITIES,
    privacy: NO_STRINGS,
    userAgent: msg.userAgent,
    dateMs: undefined,
    identityHeaders: NO_STRINGS,
    shaken,
    anomalies,
    concurrentSameCli,
  };
  if (!full) return facts;
  const dateText = msg.header('date');
  const dateMs = dateText ? Date.parse(dateText) : NaN;
  facts.to = identityOf('To', msg.to, country, numbers, undefined, false);
  if (msg.kind === 'request') facts.requestUri = uriIdentity('Request-URI', msg.requestUri, country, numbers);
  if (msg.rpid.length > 0) {
    const rpidAll = listOf('Remote-Party-ID', msg.rpid, country, numbers, (r) => ({
      ...(r.party !== undefined ? { party: r.party } : {}),
      ...(r.screen !== undefined ? { screen: r.screen } : {}),
      ...(r.privacy !== undefined ? { privacy: r.privacy } : {}),
    }));
    facts.rpid = rpidAll.find((r) => (r.params['party'] ?? 'calling').toLowerCase() === 'calling');
  }
  facts.pai = listOf('P-Asserted-Identity', msg.pai, country, numbers, undefined, true);
  facts.ppi = listOf('P-Preferred-Identity', msg.ppi, country, numbers);
  facts.diversion = listOf('Diversion', msg.diversion, country, numbers, (d) => ({
    ...(d.counter !== undefined ? { counter: String(d.counter) } : {}),
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
  }));
  facts.historyInfo = listOf('History-Info', msg.historyInfo, country, numbers, (h) => ({
    ...(h.index !== undefined ? { index: h.index } : {}),
    ...(h.mp !== undefined ? { mp: h.mp } : {}),
  }));
  facts.privacy = msg.privacy;
  if (Number.isFinite(dateMs)) facts.dateMs = dateMs;
  facts.identityHeaders = msg.headerAll('identity');
  return facts;
}

function deferredFrom(msg: SipMessage, country: string, numbers: NumberNormaliser): PresentedIdentity | undefined {
  const text = msg.header('from');
  return text === undefined ? undefined : new DeferredFrom(text, msg, country, numbers);
}

export const NO_SHAKEN: ShakenOutcome = { status: 'none' };

export { tsMillis };
