/**
 * Typed values produced by the SIP layer (DESIGN.md §3: `SipMessage`, `NameAddr`, `Uri`).
 * Everything here is plain data: parsers return these, rules read them, nobody mutates them.
 */

/** A value that could not be parsed; `raw` is the text it came from (evidence for MSG-MALFORMED). */
export interface Invalid {
  readonly kind: 'invalid';
  readonly reason: string;
  readonly raw: string;
}

/**
 * Parameters keyed by lowercase name (first occurrence wins). A parameter without a value
 * (`;lr`, `;npdi`) maps to the empty string. Values are as written (escapes kept), except that
 * quoted-string values are unquoted and unescaped and `<…>` values lose their brackets.
 */
export type Params = Readonly<Record<string, string>>;

/** `sip:` / `sips:` URI (RFC 3261 §19.1). */
export interface SipUri {
  readonly kind: 'sip';
  readonly scheme: 'sip' | 'sips';
  /** User part as written, escapes kept, telephone-subscriber params (`;npdi;rn=…`) included. */
  readonly user?: string;
  /** `user` with `%HH` escapes decoded (UTF-8); present only when `user` contains an escape. */
  readonly userUnescaped?: string;
  readonly password?: string;
  /** Host as written, without the brackets of an IPv6 reference. */
  readonly host: string;
  readonly ipv6: boolean;
  readonly port?: number;
  /** URI parameters (`;user=phone;transport=tcp`). */
  readonly params: Params;
  /** URI headers (`?Route=…&Reason=…`), names lowercased, values as written. */
  readonly headers: Params;
  readonly raw: string;
}

/** `tel:` URI (RFC 3966). */
export interface TelUri {
  readonly kind: 'tel';
  readonly scheme: 'tel';
  /** The number as written, visual separators kept (`+1-201-555-0123`). */
  readonly number: string;
  /** True for a global number (`+` followed by digits). */
  readonly global: boolean;
  /** `number` without visual separators `-.()` (`+12015550123`). */
  readonly digits: string;
  /** Parameters (`phone-context`, `isub`, `ext`, `npdi`, `rn`, `verstat`, `cpc`, `oli`, …). */
  readonly params: Params;
  readonly raw: string;
}

/** Any other syntactically plausible absolute URI (`urn:service:sos`, `mailto:`, `http:`). */
export interface OtherUri {
  readonly kind: 'other';
  readonly scheme: string;
  readonly raw: string;
}

export type Uri = SipUri | TelUri | OtherUri;

/** name-addr or addr-spec with header parameters (RFC 3261 §20.10, §20.20, §20.39). */
export interface NameAddr {
  readonly kind: 'name-addr';
  /** Display name: quoted strings unquoted and unescaped, token sequences as written. */
  readonly display?: string;
  /** The URI; an unparseable URI keeps the rest of the value usable. */
  readonly uri: Uri | Invalid;
  /** `tag` header parameter. */
  readonly tag?: string;
  /** Header parameters (after `>`, or after an addr-spec). */
  readonly params: Params;
  /** True when the URI was enclosed in `<>`. */
  readonly angle: boolean;
  readonly raw: string;
}

/** Remote-Party-ID entry (draft-ietf-sip-privacy-04, still sent by FreeSWITCH and many SBCs). */
export interface RemotePartyId extends NameAddr {
  readonly party?: string;
  readonly screen?: string;
  readonly privacy?: string;
}

/** Diversion entry (RFC 5806). */
export interface DiversionEntry extends NameAddr {
  readonly reason?: string;
  /** `counter` parameter; absent means 1 by RFC 5806 §4, but we report what was sent. */
  readonly counter?: number;
  readonly privacy?: string;
  readonly screen?: string;
}

/** History-Info entry (RFC 7044). */
export interface HistoryInfoEntry extends NameAddr {
  readonly index?: string;
  /** `mp` (mapped-from index), `rc` (retargeted-from), `np` (no-op) tags. */
  readonly mp?: string;
  readonly rc?: string;
  readonly np?: string;
}

/** Identity header entry (RFC 8224 §4): the PASSporT token and its parameters. */
export interface IdentityEntry {
  readonly kind: 'identity';
  /** Compact JWS (or the quoted RFC 4474 signature, unquoted). */
  readonly token: string;
  /** `info` parameter without its `<>`. */
  readonly info?: string;
  readonly alg?: string;
  readonly ppt?: string;
  readonly params: Params;
  readonly raw: string;
}

/** The top Via header field value (RFC 3261 §20.42). */
export interface Via {
  readonly kind: 'via';
  /** `SIP/2.0` */
  readonly protocol: string;
  /** Uppercased transport (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS`, or unknown tokens). */
  readonly transport: string;
  /** sent-by host without IPv6 brackets. */
  readonly host: string;
  readonly port?: number;
  readonly branch?: string;
  readonly received?: string;
  /** `rport` with a value → the number; valueless `;rport` → true. */
  readonly rport?: number | true;
  readonly params: Params;
  readonly raw: string;
}

export interface CSeq {
  readonly kind: 'cseq';
  readonly seq: number;
  readonly method: string;
}
