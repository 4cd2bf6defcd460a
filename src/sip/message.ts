/**
 * SIP message splitting (RFC 3261 §7): start line, header fields split once into raw values keyed
 * by canonical lowercase name, body by Content-Length (§18.3, §20.14). Identity headers are parsed
 * lazily into typed values on first use and cached.
 *
 * This is the hot path: one forward scan over the header bytes, no regex, no per-message closures;
 * only the values a caller asks for are decoded.
 */
import type { AnomalyKind } from '../anomalies.js';
import type { Anomaly } from '../types.js';
import {
  parseCSeq,
  parseDiversion,
  parseHistoryInfo,
  parseIdentity,
  parsePrivacy,
  parseRpid,
  parseTopVia,
} from './headers.js';
import type {
  CSeq,
  DiversionEntry,
  HistoryInfoEntry,
  IdentityEntry,
  Invalid,
  NameAddr,
  RemotePartyId,
  Uri,
  Via,
} from './model.js';
import { parseNameAddr, parseNameAddrLenient, splitIdentityList, splitList } from './nameaddr.js';
import {
  ID_CALL_ID,
  ID_CONTENT_LENGTH,
  ID_CSEQ,
  ID_FROM,
  ID_MAX_FORWARDS,
  ID_TO,
  ID_VIA,
  bytesOfName,
  canonicalNameOf,
  canonicalize,
  idOfName,
  identifyName,
  NAME_ACCEPT,
  NAME_END,
  NAME_STATES,
  nameEquals,
} from './names.js';
import { isPlainContact, isPlainVia } from './plain.js';
import { parseUri } from './uri.js';
import {
  matchStartLine,
  methodIndexIgnoringCase,
  SL_A_END,
  SL_B_END,
  SL_B_START,
  SL_C_END,
  SL_C_START,
  SL_FLAGS,
  SL_JUNK_START,
  SL_KIND,
  SL_SIZE,
  SL_START,
  STANDARD_METHODS,
  StartLineFlag,
} from './startline.js';

/** A header field line (name, colon, value, folded continuation lines) longer than this is an anomaly. */
export const MAX_HEADER_LINE = 1024;
/** A message larger than this is an anomaly (RFC 3261 §18.1.1 leaves UDP near the MTU anyway). */
export const MAX_MESSAGE = 65536;

/**
 * Stable anomaly kinds of the SIP layer (DESIGN.md §3: named, counted, never an alert by itself).
 * `MSG-MALFORMED` and the metrics branch on these strings.
 */
export const SipAnomaly = {
  duplicateFrom: 'sip.duplicate-from',
  duplicateTo: 'sip.duplicate-to',
  duplicateCallId: 'sip.duplicate-call-id',
  duplicateCSeq: 'sip.duplicate-cseq',
  duplicateContentLength: 'sip.duplicate-content-length',
  headerTooLong: 'sip.header-too-long',
  messageTooLarge: 'sip.message-too-large',
  nulInHeader: 'sip.nul-in-header',
  bareCr: 'sip.bare-cr',
  bareLf: 'sip.bare-lf',
  headerWithoutColon: 'sip.header-without-colon',
  headersUnterminated: 'sip.headers-unterminated',
  contentLengthMismatch: 'sip.content-length-mismatch',
  contentLengthInvalid: 'sip.content-length-invalid',
  missingHeader: 'sip.missing-header',
  startLineWhitespace: 'sip.start-line-whitespace',
  /** Bytes that are not token characters before the method (Zeek `sip_junk_before_request`). */
  startLineJunk: 'sip.start-line-junk',
  /** `sip/2.0`: legal (RFC 3261 §7.1, case-insensitive) but sent by no stack. */
  versionCase: 'sip.version-case',
  /** A standard method in another case (`invite`), taken as that method. */
  methodCase: 'sip.method-case',
  unsupportedVersion: 'sip.unsupported-version',
  identityUriInvalid: 'sip.identity-uri-invalid',
  identityHeaderInvalid: 'sip.identity-header-invalid',
  /** Escaped or unbalanced quotes around a display name (`\\"arik\\" <sip:…>`); the URI was still extracted. */
  displayNameQuote: 'sip.display-name-quote',
  /** An unquoted display name with specials (`Bell, Alexander <sip:…>`); the URI was still extracted. */
  displayNameUnquoted: 'sip.display-name-unquoted',
  /** Missing, unterminated or space-padded `<>`, or an addr-spec with `?`/`,` outside them; the URI was still extracted. */
  nameAddrBrackets: 'sip.name-addr-brackets',
  /** Header parameters after the URI that do not parse (`;;;;`); the URI and the parameters before the fault were kept. */
  nameAddrParams: 'sip.name-addr-params',
  cseqInvalid: 'sip.cseq-invalid',
  cseqMethodMismatch: 'sip.cseq-method-mismatch',
  viaInvalid: 'sip.via-invalid',
  requestUriInvalid: 'sip.request-uri-invalid',
  requestUriHeaders: 'sip.request-uri-headers',
  contactInvalid: 'sip.contact-invalid',
  dateInvalid: 'sip.date-invalid',
} as const satisfies Record<string, AnomalyKind>;
export type SipAnomalyKind = (typeof SipAnomaly)[keyof typeof SipAnomaly];

/** Lazily parsed, cached typed views shared by requests and responses. */
export interface SipMessageBase {
  /** The message bytes (a slice of the datagram, never a copy). */
  readonly raw: Buffer;
  /** `SIP/2.0` as written. */
  readonly version: string;
  /**
   * Anomalies found so far: those of the split at once, plus those of each lazy accessor once it
   * has run. `collectAnomalies()` runs every checking accessor first.
   */
  readonly anomalies: readonly Anomaly[];
  /** Number of header fields (each line with its continuations is one). */
  readonly headerCount: number;
  /** Offset of the body in `raw`. */
  readonly bodyOffset: number;
  /** The body: Content-Length bytes (or the rest of the datagram without Content-Length). */
  readonly body: Buffer;
  /** Content-Length as sent (undefined when absent or not a number). */
  readonly contentLength: number | undefined;

  /** First value of a header (any case, compact or full name), unfolded and trimmed. */
  header(name: string): string | undefined;
  /** Every value of a header, in message order (one per header line; lists are not split). */
  headerAll(name: string): string[];
  /** Canonical names of the header fields in message order (repeats included). */
  headerNames(): string[];
  /** Header `i` (0-based, message order) as [canonical name, value]. */
  headerAt(i: number): [string, string] | undefined;

  readonly callId: string | undefined;
  readonly cseq: CSeq | Invalid | undefined;
  readonly from: NameAddr | Invalid | undefined;
  readonly to: NameAddr | Invalid | undefined;
  /** P-Asserted-Identity values over all PAI header lines, comma lists split (RFC 3325 §9.1). */
  readonly pai: ReadonlyArray<NameAddr | Invalid>;
  readonly ppi: ReadonlyArray<NameAddr | Invalid>;
  readonly rpid: ReadonlyArray<RemotePartyId | Invalid>;
  readonly identity: ReadonlyArray<IdentityEntry | Invalid>;
  readonly diversion: ReadonlyArray<DiversionEntry | Invalid>;
  readonly historyInfo: ReadonlyArray<HistoryInfoEntry | Invalid>;
  readonly contact: ReadonlyArray<NameAddr | Invalid>;
  /** Privacy tokens, lowercased (`id`, `header`, `user`, `none`, `critical`, …). */
  readonly privacy: readonly string[];
  readonly userAgent: string | undefined;
  /** The top (first) Via value. */
  readonly via: Via | Invalid | undefined;
  /** Request-URI (requests only). */
  readonly requestUri: Uri | Invalid | undefined;

  /** Run every checking accessor and return the complete anomaly list. */
  collectAnomalies(): readonly Anomaly[];
  /** The anomalies the split found (start line, header section, Content-Length), whatever accessors ran since. */
  splitAnomalies(): readonly Anomaly[];
  /**
   * The anomalies the identity rules read (MSG-MALFORMED): the split's, the identity headers' and bare CRs
   * anywhere in the header section — without decoding every header value as `collectAnomalies()` does.
   */
  identityAnomalies(): readonly Anomaly[];
}

export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  readonly method: string;
  /** Request-URI text as written. */
  readonly requestUriText: string;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/** A message whose start line is unusable. */
export interface SipInvalid {
  readonly kind: 'invalid';
  readonly reason: string;
}

export type SipParse = SipMessage | SipInvalid;

/**
 * `Buffer#utf8Slice` skips the argument normalisation of `toString` (measured ~40% of a short
 * decode here); it is long-standing but undocumented, so fall back to `toString` without it.
 */
type MaybeUtf8Slice = Buffer & { utf8Slice?: (s: number, e: number) => string };
const utf8Slice: (b: Buffer, s: number, e: number) => string =
  typeof (Buffer.prototype as MaybeUtf8Slice).utf8Slice === 'function'
    ? (b, s, e) => (b as MaybeUtf8Slice).utf8Slice!(s, e)
    : (b, s, e) => b.toString('utf8', s, e);

const UNSET: unique symbol = Symbol('unset');
type Lazy<T> = T | typeof UNSET;
const FOLD = /[ \t]*\r?\n[ \t]*/g;
const EMPTY: readonly never[] = [];

/** A name-addr list element: the one already parsed (repaired), else a strict parse. */
function nameAddrOf(v: string, parsed?: NameAddr | Invalid): NameAddr | Invalid {
  return parsed ?? parseNameAddr(v);
}

/**
 * The one implementation of {@link SipMessageBase}: a request or a response, told apart by `kind` (the union type
 * {@link SipMessage} is this class seen through its discriminant; `method`/`requestUriText` are empty on responses,
 * `status`/`reason` 0 and empty on requests).
 */
class SipMessageImpl implements SipMessageBase {
  readonly kind: 'request' | 'response';
  readonly method: string;
  readonly status: number;
  /**
   * Bounds in `raw` of the start line's text: the Request-URI of a request, the reason phrase of a response. It is
   * decoded when read: a decode is a native call of ~850 instructions, and ACKs, BYEs and responses never read it.
   */
  readonly textStart: number;
  readonly textEnd: number;
  readonly version: string;
  readonly raw: Buffer;
  readonly anomalies: Anomaly[];
  readonly bodyOffset: number;
  readonly contentLength: number | undefined;
  /** End of the body in `raw` (Content-Length bytes, or the rest of the datagram). */
  readonly bodyEnd: number;
  private readonly frame: number | undefined;
  /** How many of `anomalies` the split found (accessors append theirs after). */
  private readonly nSplit: number;
  /** Per header field, 5 numbers: recognised-name id (0 = other), name start/end, value start/end. */
  readonly h: number[];
  private cCallId: Lazy<string | undefined> = UNSET;
  private cCSeq: Lazy<CSeq | Invalid | undefined> = UNSET;
  private cFrom: Lazy<NameAddr | Invalid | undefined> = UNSET;
  private cTo: Lazy<NameAddr | Invalid | undefined> = UNSET;
  private cPai: Lazy<ReadonlyArray<NameAddr | Invalid>> = UNSET;
  private cPpi: Lazy<ReadonlyArray<NameAddr | Invalid>> = UNSET;
  private cRpid: Lazy<ReadonlyArray<RemotePartyId | Invalid>> = UNSET;
  private cIdentity: Lazy<ReadonlyArray<IdentityEntry | Invalid>> = UNSET;
  private cDiversion: Lazy<ReadonlyArray<DiversionEntry | Invalid>> = UNSET;
  private cHistory: Lazy<ReadonlyArray<HistoryInfoEntry | Invalid>> = UNSET;
  private cContact: Lazy<ReadonlyArray<NameAddr | Invalid>> = UNSET;
  private cVia: Lazy<Via | Invalid | undefined> = UNSET;
  private cRuri: Lazy<Uri | Invalid | undefined> = UNSET;
  private cPrivacy: Lazy<readonly string[]> = UNSET;
  private cUserAgent: Lazy<string | undefined> = UNSET;
  private cText: string | undefined = undefined;
  private collected = false;

  constructor(
    kind: 'request' | 'response',
    method: string,
    status: number,
    textStart: number,
    textEnd: number,
    version: string,
    raw: Buffer,
    anomalies: Anomaly[],
    h: number[],
    bodyOffset: number,
    bodyEnd: number,
    contentLength: number | undefined,
    frame: number | undefined,
  ) {
    this.kind = kind;
    this.method = method;
    this.status = status;
    this.textStart = textStart;
    this.textEnd = textEnd;
    this.version = version;
    this.raw = raw;
    this.anomalies = anomalies;
    this.nSplit = anomalies.length;
    this.h = h;
    this.bodyOffset = bodyOffset;
    this.bodyEnd = bodyEnd;
    this.contentLength = contentLength;
    this.frame = frame;
  }

  private get text(): string {
    return (this.cText ??= utf8Slice(this.raw, this.textStart, this.textEnd));
  }

  get requestUriText(): string {
    return this.kind === 'request' ? this.text : '';
  }

  get reason(): string {
    return this.kind === 'response' ? this.text : '';
  }

  get headerCount(): number {
    return this.h.length / 5;
  }

  get body(): Buffer {
    return this.raw.subarray(this.bodyOffset, this.bodyEnd);
  }

  /** Decoded value of header `i`; a bare CR in it is noted here (the split does not look inside values). */
  private value(i: number): string {
    const s = utf8Slice(this.raw, this.h[i * 5 + 3]!, this.h[i * 5 + 4]!);
    if (s.indexOf('\r') < 0 && s.indexOf('\n') < 0) return s;
    // Folded values (and values starting on a continuation line) are unfolded: RFC 3261 §7.3.1 makes
    // a line break followed by whitespace equivalent to a single SP. What is left is a bare CR.
    const u = s.replace(FOLD, ' ').trim();
    if (u.indexOf('\r') >= 0) this.noteOnce(SipAnomaly.bareCr, `bare CR in ${this.nameAt(i)}`);
    return u;
  }

  /** Index of the next header at or after `from` named `name` (canonical), or -1. */
  private find(name: string, from: number): number {
    const h = this.h;
    const n = h.length / 5;
    const id = idOfName(name);
    if (id !== 0) {
      for (let i = from; i < n; i++) if (h[i * 5] === id) return i;
      return -1;
    }
    const lower = bytesOfName(name);
    for (let i = from; i < n; i++) {
      if (h[i * 5] === 0 && nameEquals(this.raw, h[i * 5 + 1]!, h[i * 5 + 2]!, lower)) return i;
    }
    return -1;
  }

  private first(name: string): string | undefined {
    const i = this.find(name, 0);
    return i < 0 ? undefined : this.value(i);
  }

  private all(name: string): string[] {
    const out: string[] = [];
    for (let i = this.find(name, 0); i >= 0; i = this.find(name, i + 1)) out.push(this.value(i));
    return out;
  }

  private nameAt(i: number): string {
    return canonicalNameOf(this.raw, this.h[i * 5 + 1]!, this.h[i * 5 + 2]!);
  }

  header(name: string): string | undefined {
    return this.first(canonicalize(name));
  }

  headerAll(name: string): string[] {
    return this.all(canonicalize(name));
  }

  headerNames(): string[] {
    const out: string[] = [];
    const n = this.h.length / 5;
    for (let i = 0; i < n; i++) out.push(this.nameAt(i));
    return out;
  }

  headerAt(i: number): [string, string] | undefined {
    if (!Number.isInteger(i) || i < 0 || i >= this.h.length / 5) return undefined;
    return [this.nameAt(i), this.value(i)];
  }

  private noteOnce(kind: SipAnomalyKind, detail: string): void {
    for (const a of this.anomalies) if (a.kind === kind && a.detail === detail) return;
    this.note(kind, detail);
  }

  private note(kind: SipAnomalyKind, detail: string): void {
    this.anomalies.push(this.frame === undefined ? { kind, detail } : { kind, detail, frame: this.frame });
  }

  private identityOne(name: string): NameAddr | Invalid | undefined {
    const v = this.first(name);
    if (v === undefined) return undefined;
    let na = parseNameAddr(v);
    if (na.kind === 'invalid') {
      // From/To take one address (RFC 3261 §20.20, §20.39); a list is malformed, but like Wireshark we keep the
      // first address usable and flag the rest.
      const parts = splitList(v);
      const first = parts.length > 1 && parts[0] !== undefined ? parseNameAddr(parts[0]) : undefined;
      if (first && first.kind === 'name-addr' && first.uri.kind !== 'invalid') {
        this.note(name === 'from' ? SipAnomaly.duplicateFrom : SipAnomaly.duplicateTo, `${name} holds ${parts.length} addresses in one header`);
        na = first;
      }
    }
    if (na.kind === 'invalid' || na.uri.kind === 'invalid') na = this.repaired(name, v);
    this.checkIdentity(name, na);
    return na;
  }

  /**
   * The element as a phone reads it when the strict grammar rejects it (parseNameAddrLenient), with an anomaly naming
   * what was wrong; the strict result when nothing usable is in it (checkIdentity then flags it).
   */
  private repaired(name: string, v: string): NameAddr | Invalid {
    const r = parseNameAddrLenient(v);
    if (r.repair !== undefined) this.note(r.repair.kind, `${name}: ${r.repair.reason}`);
    return r.na;
  }

  private checkIdentity(name: string, na: NameAddr | Invalid): void {
    if (na.kind === 'invalid') this.note(SipAnomaly.identityUriInvalid, `${name}: ${na.reason}`);
    else if (na.uri.kind === 'invalid') this.note(SipAnomaly.identityUriInvalid, `${name}: ${na.uri.reason}`);
  }

  private identityList<T extends NameAddr>(
    name: string,
    parse: (v: string, parsed?: NameAddr | Invalid) => T | Invalid,
  ): ReadonlyArray<T | Invalid> {
    let out: Array<T | Invalid> | undefined;
    for (let i = this.find(name, 0); i >= 0; i = this.find(name, i + 1)) {
      for (const part of splitIdentityList(this.value(i))) {
        let v = parse(part);
        if (v.kind === 'invalid' || v.uri.kind === 'invalid') {
          const na = this.repaired(name, part);
          if (na.kind === 'name-addr' && name === 'history-info' && !na.angle) {
            this.note(SipAnomaly.nameAddrBrackets, `${name}: hi-targeted-to-uri must be in <>`);
          }
          v = na.kind === 'name-addr' ? parse(part, na) : v;
        }
        this.checkIdentity(name, v);
        (out ??= []).push(v);
      }
    }
    return out ?? EMPTY;
  }

  get callId(): string | undefined {
    if (this.cCallId === UNSET) this.cCallId = this.first('call-id');
    return this.cCallId;
  }

  get cseq(): CSeq | Invalid | undefined {
    if (this.cCSeq === UNSET) {
      const i = this.find('cseq', 0);
      // The usual form is read from the bytes, with a standard method: nothing to check (every message reads CSeq).
      let c: CSeq | Invalid | undefined = i < 0 ? undefined : plainCSeq(this.raw, this.h[i * 5 + 3]!, this.h[i * 5 + 4]!);
      if (c === undefined && i >= 0) c = this.checkedCSeq(parseCSeq(this.value(i)));
      this.cCSeq = c;
    }
    return this.cCSeq;
  }

  /** A CSeq parsed from its text, its faults noted; a standard method in another case taken as that method. */
  private checkedCSeq(c: CSeq | Invalid): CSeq | Invalid {
    if (c.kind === 'invalid') this.note(SipAnomaly.cseqInvalid, c.reason);
    else if (!STANDARD_METHODS.includes(c.method)) {
      // A standard method in another case (`1 invite`): taken as that method, as on the start line.
      const b = Buffer.from(c.method, 'latin1');
      const k = methodIndexIgnoringCase(b, 0, b.length);
      if (k >= 0) {
        this.note(SipAnomaly.methodCase, `CSeq ${c.method}`);
        return { kind: 'cseq', seq: c.seq, method: STANDARD_METHODS[k]! };
      }
    }
    return c;
  }

  get from(): NameAddr | Invalid | undefined {
    if (this.cFrom === UNSET) this.cFrom = this.identityOne('from');
    return this.cFrom;
  }

  get to(): NameAddr | Invalid | undefined {
    if (this.cTo === UNSET) this.cTo = this.identityOne('to');
    return this.cTo;
  }

  get pai(): ReadonlyArray<NameAddr | Invalid> {
    if (this.cPai === UNSET) this.cPai = this.identityList('p-asserted-identity', nameAddrOf);
    return this.cPai;
  }

  get ppi(): ReadonlyArray<NameAddr | Invalid> {
    if (this.cPpi === UNSET) this.cPpi = this.identityList('p-preferred-identity', nameAddrOf);
    return this.cPpi;
  }

  get rpid(): ReadonlyArray<RemotePartyId | Invalid> {
    if (this.cRpid === UNSET) this.cRpid = this.identityList('remote-party-id', parseRpid);
    return this.cRpid;
  }

  get diversion(): ReadonlyArray<DiversionEntry | Invalid> {
    if (this.cDiversion === UNSET) this.cDiversion = this.identityList('diversion', parseDiversion);
    return this.cDiversion;
  }

  get historyInfo(): ReadonlyArray<HistoryInfoEntry | Invalid> {
    if (this.cHistory === UNSET) this.cHistory = this.identityList('history-info', parseHistoryInfo);
    return this.cHistory;
  }

  get identity(): ReadonlyArray<IdentityEntry | Invalid> {
    if (this.cIdentity === UNSET) {
      const out: Array<IdentityEntry | Invalid> = [];
      for (const v of this.all('identity')) {
        for (const part of splitList(v)) {
          const e = parseIdentity(part);
          if (e.kind === 'invalid') this.note(SipAnomaly.identityHeaderInvalid, e.reason);
          out.push(e);
        }
      }
      this.cIdentity = out;
    }
    return this.cIdentity;
  }

  get contact(): ReadonlyArray<NameAddr | Invalid> {
    if (this.cContact === UNSET) {
      const out: Array<NameAddr | Invalid> = [];
      for (const v of this.all('contact')) {
        if (v === '*') continue;
        for (const part of splitIdentityList(v)) {
          let na = parseNameAddr(part);
          if (na.kind === 'invalid' || na.uri.kind === 'invalid') {
            // Contact is not an identity: its repairs stay under its own anomaly, with the strict reason.
            const r = parseNameAddrLenient(part);
            if (r.repair !== undefined) {
              this.note(SipAnomaly.contactInvalid, r.repair.reason);
              na = r.na;
            }
          }
          if (na.kind === 'invalid') this.note(SipAnomaly.contactInvalid, na.reason);
          else if (na.uri.kind === 'invalid') this.note(SipAnomaly.contactInvalid, na.uri.reason);
          out.push(na);
        }
      }
      this.cContact = out;
    }
    return this.cContact;
  }

  get privacy(): readonly string[] {
    if (this.cPrivacy === UNSET) {
      const out: string[] = [];
      for (const v of this.all('privacy')) out.push(...parsePrivacy(v));
      this.cPrivacy = out;
    }
    return this.cPrivacy;
  }

  get userAgent(): string | undefined {
    if (this.cUserAgent === UNSET) this.cUserAgent = this.first('user-agent');
    return this.cUserAgent;
  }

  get via(): Via | Invalid | undefined {
    if (this.cVia === UNSET) {
      const v = this.first('via');
      const via = v === undefined ? undefined : parseTopVia(v);
      if (via !== undefined && via.kind === 'invalid') this.note(SipAnomaly.viaInvalid, via.reason);
      this.cVia = via;
    }
    return this.cVia;
  }

  get requestUri(): Uri | Invalid | undefined {
    if (this.cRuri === UNSET) {
      if (this.kind !== 'request') this.cRuri = undefined;
      else {
        const u = parseUri(this.requestUriText);
        if (u.kind === 'invalid') this.note(SipAnomaly.requestUriInvalid, u.reason);
        else if (u.kind === 'sip' && Object.keys(u.headers).length > 0) {
          // RFC 3261 §19.1.5: headers are not allowed in a Request-URI.
          this.note(SipAnomaly.requestUriHeaders, u.raw);
        }
        this.cRuri = u;
      }
    }
    return this.cRuri;
  }

  /** Every `name` header's value (only the first with `firstOnly`) is plain by `plain` (true when there is none). */
  private allPlain(name: string, plain: (b: Buffer, s: number, e: number) => boolean, firstOnly = false): boolean {
    const h = this.h;
    for (let i = this.find(name, 0); i >= 0; i = firstOnly ? -1 : this.find(name, i + 1)) {
      if (!plain(this.raw, h[i * 5 + 3]!, h[i * 5 + 4]!)) return false;
    }
    return true;
  }

  splitAnomalies(): readonly Anomaly[] {
    return this.anomalies.length === this.nSplit ? this.anomalies : this.anomalies.slice(0, this.nSplit);
  }

  identityAnomalies(): readonly Anomaly[] {
    if (this.collected) return this.anomalies;
    // A CR not followed by LF inside a value is bare (CRLF + WS is folding); only such values are decoded.
    const raw = this.raw;
    const n = this.h.length / 5;
    for (let i = 0; i < n; i++) {
      const end = this.h[i * 5 + 4]!;
      let at = raw.indexOf(13, this.h[i * 5 + 3]!);
      while (at >= 0 && at < end) {
        if (raw[at + 1] !== 10) {
          void this.value(i);
          break;
        }
        at = raw.indexOf(13, at + 1);
      }
    }
    void this.from;
    void this.to;
    void this.pai;
    void this.ppi;
    void this.rpid;
    void this.diversion;
    void this.historyInfo;
    void this.identity;
    return this.anomalies;
  }

  collectAnomalies(): readonly Anomaly[] {
    if (this.collected) return this.anomalies;
    // Bare CRs and the identity headers first, then the rest of the checking accessors.
    this.identityAnomalies();
    this.collected = true;
    // Contact and the top Via in the plain form cannot fail their parse: nothing to note, nothing decoded (the
    // accessors stay lazy). Any other value goes through its accessor, which notes what is wrong (src/sip/plain.ts).
    if (this.cContact === UNSET && !this.allPlain('contact', isPlainContact)) void this.contact;
    if (this.cVia === UNSET && !this.allPlain('via', isPlainVia, true)) void this.via;
    void this.requestUri;
    const cseq = this.cseq;
    if (this.kind === 'request' && cseq !== undefined && cseq.kind === 'cseq' && cseq.method !== this.method) {
      // RFC 3261 §8.1.1.5: the CSeq method MUST match the request method.
      this.note(SipAnomaly.cseqMethodMismatch, `${this.method} vs CSeq ${cseq.method}`);
    }
    const date = this.first('date');
    if (date !== undefined && !date.endsWith(' GMT')) {
      // RFC 3261 §20.17: the only time zone allowed is "GMT".
      this.note(SipAnomaly.dateInvalid, date);
    }
    return this.anomalies;
  }
}

function isWsByte(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'NOTIFY', 'SUBSCRIBE', 'MESSAGE', 'PUBLISH'].map(
  (m) => ({ name: m, bytes: Buffer.from(m, 'latin1') }),
);

/** The interned name of a standard method at `buf[s..e)` (case-sensitive, RFC 3261 §7.1). */
function knownMethod(buf: Buffer, s: number, e: number): string | undefined {
  const n = e - s;
  for (let k = 0; k < METHODS.length; k++) {
    const m = METHODS[k]!;
    if (m.bytes.length !== n || m.bytes[0] !== buf[s]) continue;
    let j = 1;
    while (j < n && m.bytes[j] === buf[s + j]) j++;
    if (j === n) return m.name;
  }
  return undefined;
}

/**
 * A CSeq in its usual form (digits, whitespace, a standard method, nothing else) read from the bytes, or undefined
 * for parseCSeq to take: the same result without decoding the value (every message's CSeq is read).
 */
function plainCSeq(buf: Buffer, s: number, e: number): CSeq | undefined {
  let i = s;
  let n = 0;
  while (i < e) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
    i++;
  }
  if (i === s || i - s > 10 || n > 0xffffffff) return undefined;
  const ws = i;
  while (i < e && isWsByte(buf[i])) i++;
  if (i === ws) return undefined;
  const method = knownMethod(buf, i, e);
  return method === undefined ? undefined : { kind: 'cseq', seq: n, method };
}

function addAnomaly(list: Anomaly[], frame: number | undefined, kind: SipAnomalyKind, detail: string): void {
  list.push(frame === undefined ? { kind, detail } : { kind, detail, frame });
}

function invalidMessage(reason: string): SipInvalid {
  return { kind: 'invalid', reason };
}


/**
 * Why the text at the front of `buf` is not a start line (the slow path of an invalid message only: it may allocate).
 * The grammar is {@link matchStartLine}'s; this only names the first part that breaks it.
 */
function whyNotStartLine(buf: Buffer): string {
  let p = 0;
  while (p < buf.length && (buf[p] === 0x0d || buf[p] === 0x0a)) p++;
  if (p >= buf.length) return 'empty message';
  const lf = buf.indexOf(0x0a, p);
  if (lf < 0) return 'start line not terminated';
  const line = buf.toString('latin1', p, buf[lf - 1] === 0x0d ? lf - 1 : lf);
  const parts = line.split(/[ \t]+/);
  if (/^sip\//i.test(line)) {
    if (!/^sip\/[0-9]+\.[0-9]+$/i.test(parts[0]!)) return 'status line: bad SIP version';
    const code = parts[1] ?? '';
    if (!/^[0-9]{3}$/.test(code)) return 'status line: status code is not 3 digits';
    return `status line: status code ${Number(code)} out of range`;
  }
  if (!/^[^ \t]*[A-Za-z0-9\-.!%*_+`'~]+[ \t]/.test(line)) return 'request line: bad method';
  if (parts.length < 2 || parts[1] === '') return 'request line: missing Request-URI';
  const hasVersion = parts.length >= 3 && /^sip\/[0-9]+\.[0-9]+$/i.test(parts[2]!);
  if (parts.length < 3 || (parts.length > 3 && !(hasVersion && parts.slice(3).every((x) => x === '')))) {
    return 'request line: expected Method SP Request-URI SP SIP-Version';
  }
  if (!hasVersion) return 'request line: bad SIP version';
  if (parts[1]!.startsWith('<')) return 'request line: Request-URI enclosed in <>';
  if (parts[1]!.indexOf(':') <= 0) return 'request line: Request-URI has no scheme';
  return 'request line: bad method';
}

/**
 * Working memory of {@link parseSipMessage}, owned by its caller (DESIGN.md §8.1: parsers keep no module state): the
 * start-line match, read right after it, and the header offsets (5 per field), copied once at their final size.
 * Ingest and analyze's decode worker keep one and pass it message after message: a new one per message costs an
 * ArrayBuffer allocation (analyze of 500k bench messages, one core: part of +290 ms of GC before issue #16).
 */
export class SipParseScratch {
  readonly startLine = new Int32Array(SL_SIZE);
  readonly headers: number[] = [];
}

/**
 * Split one SIP message. The buffer holds one UDP datagram or one message framed from a stream
 * (see `SipStreamFramer`). Never throws: an unusable start line gives `{kind:'invalid'}`; every
 * other problem is an anomaly on the returned message. `frame` is copied into the anomalies. `scratch`: the
 * caller's working memory, reused across calls (a fresh one when absent).
 */
export function parseSipMessage(bytes: Buffer, frame?: number, scratch: SipParseScratch = new SipParseScratch()): SipParse {
  return splitSipMessage(bytes, frame, scratch) ?? invalidMessage(whyNotStartLine(bytes));
}

/**
 * `looksLikeSip(payload) ? parseSipMessage(payload, frame) : undefined` with one start-line match instead of two (the
 * probe's match is the parser's first step, on the same bytes): how Ingest takes a UDP or WebSocket payload.
 */
export function parseIfSip(payload: Buffer, frame: number | undefined, scratch: SipParseScratch): SipMessage | undefined {
  return splitSipMessage(payload, frame, scratch);
}

/** {@link parseSipMessage}, or undefined when `bytes` do not start with a start line. */
function splitSipMessage(bytes: Buffer, frame: number | undefined, scratch: SipParseScratch): SipMessage | undefined {
  const buf = bytes;
  // The name machine in locals, as the character tables (see chars.ts): read once per header-name byte.
  const nameStates = NAME_STATES;
  const nameEnd = NAME_END;
  const len = buf.length;
  // The start line by the grammar the probe and the framer use (startline.ts): what they take, this takes.
  const sl = scratch.startLine;
  const le = matchStartLine(buf, 0, len, false, sl);
  if (le < 0) return undefined;
  const lf = buf[le] === 0x0d ? le + 1 : le;
  const crlf = lf !== le;
  const anomalies: Anomaly[] = [];
  const ls = sl[SL_START]!;
  const flags = sl[SL_FLAGS]!;
  let kind: 'request' | 'response';
  let method = '';
  let status = 0;
  // The Request-URI or the reason phrase (decoded when read).
  let textStart = 0;
  let textEnd = 0;
  let version: string;
  if (sl[SL_KIND] === 2) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
    kind = 'response';
    const cs = sl[SL_B_START]!;
    status = (buf[cs]! - 0x30) * 100 + (buf[cs + 1]! - 0x30) * 10 + (buf[cs + 2]! - 0x30);
    textStart = sl[SL_C_START]!;
    textEnd = sl[SL_C_END]!;
    const ve = sl[SL_A_END]!;
    version = ve - ls === 7 && buf[ls + 4] === 0x32 && buf[ls + 6] === 0x30 ? 'SIP/2.0' : buf.toString('latin1', ls, ve);
  } else {
    // Request-Line = Method SP Request-URI SP SIP-Version CRLF
    kind = 'request';
    const me = sl[SL_A_END]!;
    const known = knownMethod(buf, ls, me);
    if (known !== undefined) method = known;
    else {
      // A standard method in another case (`invite`): RFC 3261 §7.1 makes the method case-sensitive, but stacks that
      // compare it case-insensitively (Asterisk) take it as that method, so we do too, and say so.
      const k = methodIndexIgnoringCase(buf, ls, me);
      method = k >= 0 ? STANDARD_METHODS[k]! : buf.toString('latin1', ls, me);
      if (k >= 0) addAnomaly(anomalies, frame, SipAnomaly.methodCase, buf.toString('latin1', ls, me));
    }
    textStart = sl[SL_B_START]!;
    textEnd = sl[SL_B_END]!;
    const vs = sl[SL_C_START]!;
    const ve = sl[SL_C_END]!;
    version = ve - vs === 7 && buf[vs + 4] === 0x32 && buf[vs + 6] === 0x30 && buf[vs + 5] === 0x2e ? 'SIP/2.0' : buf.toString('latin1', vs, ve);
  }
  if (flags !== 0) {
    if ((flags & StartLineFlag.junk) !== 0) {
      const js = sl[SL_JUNK_START]!;
      addAnomaly(anomalies, frame, SipAnomaly.startLineJunk, `${ls - js} bytes before the start line: ${buf.toString('hex', js, Math.min(ls, js + 16))}`);
    }
    if ((flags & StartLineFlag.whitespace) !== 0) {
      addAnomaly(anomalies, frame, SipAnomaly.startLineWhitespace, `tabs or extra SP in the ${kind === 'request' ? 'request' : 'status'} line (RFC 4475 §3.1.2.9-10)`);
    }
    if ((flags & StartLineFlag.versionCase) !== 0 && version === 'SIP/2.0') {
      // RFC 3261 §7.1: legal (case-insensitive), but no stack sends it: worth counting, not malformed.
      addAnomaly(anomalies, frame, SipAnomaly.versionCase, buf.toString('latin1', kind === 'request' ? sl[SL_C_START]! : ls, kind === 'request' ? sl[SL_C_END]! : sl[SL_A_END]!));
    }
  }
  if (version !== 'SIP/2.0') addAnomaly(anomalies, frame, SipAnomaly.unsupportedVersion, version);
  if (len > MAX_MESSAGE) addAnomaly(anomalies, frame, SipAnomaly.messageTooLarge, `${len} bytes`);

  // Header offsets go to a scratch array first and are copied once at their final size (pushing to a new array
  // grew it three times per message: most of the split's allocation).
  const sh = scratch.headers;
  let hn = 0;
  let nFrom = 0;
  let nTo = 0;
  let nCallId = 0;
  let nCSeq = 0;
  let nVia = 0;
  let nMaxFwd = 0;
  let nCl = 0;
  let cl = -1;
  let clBad = '';
  let bodyStart = -1;
  let p = lf + 1;
  while (p < len) {
    let c = buf[p]!;
    if (c === 0x0a) {
      if (crlf) addAnomaly(anomalies, frame, SipAnomaly.bareLf, 'empty line ends with a bare LF');
      bodyStart = p + 1;
      break;
    }
    if (c === 0x0d && buf[p + 1] === 0x0a) {
      bodyStart = p + 2;
      break;
    }
    const hs = p;
    // Header name: up to ':' (a line without one is skipped, with an anomaly), recognised on the way.
    let st = 0;
    while (p < len) {
      const ns = nameStates[(st << 8) | buf[p]!]!;
      if (ns === nameEnd) break;
      st = ns;
      p++;
    }
    if (p >= len) break;
    c = buf[p]!;
    if (c !== 0x3a || isWsByte(buf[hs])) {
      addAnomaly(anomalies, frame, SipAnomaly.headerWithoutColon, buf.toString('latin1', hs, Math.min(buf[p - 1] === 0x0d ? p - 1 : p, hs + 64)));
      p = skipLine(buf, p);
      continue;
    }
    let ne = p;
    while (ne > hs && isWsByte(buf[ne - 1])) ne--;
    // Whitespace before the ':' is rare: the machine saw it as part of the name.
    const id = ne === p ? NAME_ACCEPT[st]! : identifyName(buf, hs, ne);
    // Value: to the end of the line and of its continuation lines (memchr per line).
    let vs = p + 1;
    let le2 = buf.indexOf(0x0a, vs);
    while (le2 >= 0 && (buf[le2 + 1] === 0x20 || buf[le2 + 1] === 0x09)) {
      if (crlf && buf[le2 - 1] !== 0x0d) addAnomaly(anomalies, frame, SipAnomaly.bareLf, `bare LF in ${canonicalNameOf(buf, hs, ne)}`);
      le2 = buf.indexOf(0x0a, le2 + 1);
    }
    let ve: number;
    if (le2 < 0) {
      ve = len;
      p = len;
    } else {
      p = le2 + 1;
      ve = buf[le2 - 1] === 0x0d ? le2 - 1 : le2;
      if (crlf && ve === le2) addAnomaly(anomalies, frame, SipAnomaly.bareLf, `bare LF in ${canonicalNameOf(buf, hs, ne)}`);
    }
    while (vs < ve && isWsByte(buf[vs])) vs++;
    while (ve > vs && isWsByte(buf[ve - 1])) ve--;
    if (ve - hs > MAX_HEADER_LINE) {
      addAnomaly(anomalies, frame, SipAnomaly.headerTooLong, `${canonicalNameOf(buf, hs, ne)}: ${ve - hs} bytes`);
    }
    sh[hn] = id;
    sh[hn + 1] = hs;
    sh[hn + 2] = ne;
    sh[hn + 3] = vs;
    sh[hn + 4] = ve;
    hn += 5;
    if (id !== 0 && id <= ID_MAX_FORWARDS) {
      switch (id) {
        case ID_FROM:
          if (++nFrom === 2) addAnomaly(anomalies, frame, SipAnomaly.duplicateFrom, 'From');
          break;
        case ID_TO:
          if (++nTo === 2) addAnomaly(anomalies, frame, SipAnomaly.duplicateTo, 'To');
          break;
        case ID_CALL_ID:
          if (++nCallId === 2) addAnomaly(anomalies, frame, SipAnomaly.duplicateCallId, 'Call-ID');
          break;
        case ID_CSEQ:
          if (++nCSeq === 2) addAnomaly(anomalies, frame, SipAnomaly.duplicateCSeq, 'CSeq');
          break;
        case ID_VIA:
          nVia++;
          break;
        case ID_MAX_FORWARDS:
          nMaxFwd++;
          break;
        case ID_CONTENT_LENGTH:
          if (++nCl === 1) {
            cl = readContentLength(buf, vs, ve);
            if (cl < 0) clBad = buf.toString('latin1', vs, Math.min(ve, vs + 32));
          } else if (nCl === 2) addAnomaly(anomalies, frame, SipAnomaly.duplicateContentLength, 'Content-Length');
          break;
        default:
          break;
      }
    }
  }
  if (bodyStart < 0) {
    addAnomaly(anomalies, frame, SipAnomaly.headersUnterminated, 'no empty line after the header fields');
    bodyStart = len;
  }
  const h = sh.slice(0, hn);
  // One memchr for NUL over the header fields (bodies may carry binary data legitimately).
  const nul = buf.indexOf(0, lf + 1);
  if (nul >= 0 && nul < bodyStart) {
    let where = 'header section';
    for (let k = 0; k < h.length; k += 5) {
      if (nul >= h[k + 1]! && nul < h[k + 4]!) where = canonicalNameOf(buf, h[k + 1]!, h[k + 2]!);
    }
    addAnomaly(anomalies, frame, SipAnomaly.nulInHeader, where);
  }
  if (nTo === 0 || nFrom === 0 || nCallId === 0 || nCSeq === 0 || nVia === 0 || (kind === 'request' && nMaxFwd === 0)) {
    const missing: string[] = [];
    if (nTo === 0) missing.push('To');
    if (nFrom === 0) missing.push('From');
    if (nCallId === 0) missing.push('Call-ID');
    if (nCSeq === 0) missing.push('CSeq');
    if (nVia === 0) missing.push('Via');
    if (kind === 'request' && nMaxFwd === 0) missing.push('Max-Forwards');
    addAnomaly(anomalies, frame, SipAnomaly.missingHeader, missing.join(', '));
  }

  let bodyEnd = len;
  let contentLength: number | undefined;
  if (nCl > 0) {
    if (cl < 0) addAnomaly(anomalies, frame, SipAnomaly.contentLengthInvalid, clBad);
    else {
      contentLength = cl;
      const have = len - bodyStart;
      if (cl !== have) {
        addAnomaly(anomalies, frame, SipAnomaly.contentLengthMismatch, `Content-Length ${cl}, ${have} bytes after the header fields`);
        if (cl < have) bodyEnd = bodyStart + cl;
      }
    }
  }
  const msg = new SipMessageImpl(
    kind,
    method,
    status,
    textStart,
    textEnd,
    version,
    buf,
    anomalies,
    h,
    bodyStart,
    bodyEnd,
    contentLength,
    frame,
  );
  return msg as SipMessage;
}

/**
 * The anomalies of a message, the same list whoever reads it and whatever was read before. For requests other than
 * ACK, BYE and CANCEL, and for any message whose split found a problem: every anomaly its bytes carry (split, bare CRs,
 * identity headers, Contact, Via, Request-URI, CSeq method, Date — RFC 3261 §7.3, §8.1.1, §20; RFC 3325 §9.1). For
 * responses and ACK/BYE/CANCEL with a clean split: the split's (the hot path of a call's other messages parses no
 * more headers for this; `SipMessageBase.collectAnomalies()` still gives everything). `messages`, `analyze`, the daemon's counters and MSG-MALFORMED all take a message's anomalies from
 * here (issue #18.4), never from `anomalies` mid-way, which grows as lazy accessors run.
 */
export function messageAnomalies(msg: SipMessage): readonly Anomaly[] {
  const split = msg.splitAnomalies();
  return split.length > 0 || (msg.kind === 'request' && !IN_DIALOG_REPEATS.has(msg.method)) ? msg.collectAnomalies() : split;
}

/**
 * Requests that repeat the headers of the INVITE or dialog they belong to (RFC 3261 §12.2.1.1, §17.1.1.3, §9.1):
 * like responses, their full check is left out of {@link messageAnomalies} unless the split found a problem (measured
 * on a 200k-message bench capture, one core: checking every request fully cost 11% of `analyze`'s CPU time, INVITEs
 * and other requests only ~5%).
 */
const IN_DIALOG_REPEATS: ReadonlySet<string> = new Set(['ACK', 'BYE', 'CANCEL']);

/**
 * What {@link parseSipMessage} found in a message (start line, header offsets, body bounds, the split's anomalies),
 * for another thread to rebuild the same message from its bytes with {@link sipMessageFromSplit} (`analyze
 * --threads`: the decode worker splits, the main thread analyses): the message's own fields, named here once. Read
 * right after parsing, before any accessor adds anomalies of its own.
 */
export type SipSplit = Pick<
  SipMessageImpl,
  'kind' | 'method' | 'status' | 'textStart' | 'textEnd' | 'version' | 'anomalies' | 'h' | 'bodyOffset' | 'bodyEnd' | 'contentLength'
>;

/** The split of a message that {@link parseSipMessage} returned (the message itself, seen as its split). */
export function splitOf(msg: SipMessage): SipSplit {
  // Every SipMessage comes from parseSipMessage or sipMessageFromSplit; anything else is a programming error.
  if (!(msg instanceof SipMessageImpl)) throw new TypeError('splitOf: not a message made by parseSipMessage');
  return msg;
}

/** The message {@link parseSipMessage} gave for `raw`, from its split (`anomalies` and `h` are taken, not copied). */
export function sipMessageFromSplit(raw: Buffer, frame: number | undefined, s: SipSplit): SipMessage {
  return new SipMessageImpl(
    s.kind,
    s.method,
    s.status,
    s.textStart,
    s.textEnd,
    s.version,
    raw,
    s.anomalies,
    s.h,
    s.bodyOffset,
    s.bodyEnd,
    s.contentLength,
    frame,
  ) as SipMessage;
}

/** Index after the line (and its continuation lines) containing `p`. */
function skipLine(buf: Buffer, p: number): number {
  const len = buf.length;
  for (;;) {
    const lf = buf.indexOf(0x0a, p);
    if (lf < 0) return len;
    if (!isWsByte(buf[lf + 1])) return lf + 1;
    p = lf + 1;
  }
}

/** Decimal Content-Length at `buf[s..e)`; -1 when not a non-negative integer below 2**31. */
export function readContentLength(buf: Buffer, s: number, e: number): number {
  if (e <= s || e - s > 10) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n > 0x7fffffff ? -1 : n;
}
