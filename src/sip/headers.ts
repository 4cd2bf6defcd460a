/**
 * Typed parsers for single header values: Via (RFC 3261 §20.42), CSeq (§20.16), Remote-Party-ID,
 * Diversion (RFC 5806), History-Info (RFC 7044), Identity (RFC 8224 §4), Privacy (RFC 3323 §4.2).
 * Pure functions over strings; bad input returns `{kind:'invalid'}`, never a throw.
 */
import { HOST, IPV6, TOKEN, newParams, skipWs } from './chars.js';
import type {
  CSeq,
  DiversionEntry,
  HistoryInfoEntry,
  IdentityEntry,
  Invalid,
  NameAddr,
  RemotePartyId,
  Via,
} from './model.js';
import { parseNameAddr, readParams, splitList } from './nameaddr.js';

const DIGITS = /^\d+$/;
const COUNTER = /^\d{1,3}$/;
const HI_INDEX = /^\d+(\.\d+)*$/;
const BLANKS = /[ \t]+/g;
const PRIVACY_SEP = /[;,]/;

function invalid(reason: string, raw: string): Invalid {
  return { kind: 'invalid', reason, raw };
}

function readToken(s: string, i: number): number {
  while (i < s.length && TOKEN[s.charCodeAt(i)] === 1) i++;
  return i;
}

/** Parse one via-parm: `SIP / 2.0 / UDP host[:port] *(;param)`, whitespace allowed around `/`. */
export function parseVia(value: string): Via | Invalid {
  const s = value;
  let i = skipWs(s, 0);
  const ns = i;
  i = readToken(s, i);
  if (i === ns) return invalid('via: missing protocol name', value);
  const name = s.slice(ns, i);
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x2f) return invalid("via: expected '/'", value);
  i = skipWs(s, i + 1);
  const vs = i;
  i = readToken(s, i);
  if (i === vs) return invalid('via: missing protocol version', value);
  const version = s.slice(vs, i);
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x2f) return invalid("via: expected '/'", value);
  i = skipWs(s, i + 1);
  const ts = i;
  i = readToken(s, i);
  if (i === ts) return invalid('via: missing transport', value);
  const transport = s.slice(ts, i).toUpperCase();
  const afterTransport = i;
  i = skipWs(s, i);
  if (i === afterTransport) return invalid('via: expected whitespace before sent-by', value);
  let host: string;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0) return invalid('via: unterminated IPv6 reference', value);
    for (let j = i + 1; j < close; j++) {
      if (IPV6[s.charCodeAt(j)] !== 1) return invalid('via: bad IPv6 reference', value);
    }
    host = s.slice(i + 1, close);
    i = close + 1;
  } else {
    const hs = i;
    while (i < s.length && HOST[s.charCodeAt(i)] === 1) i++;
    host = s.slice(hs, i);
  }
  if (host.length === 0) return invalid('via: empty sent-by host', value);
  let port: number | undefined;
  const beforePort = i;
  i = skipWs(s, i);
  if (s.charCodeAt(i) === 0x3a) {
    i = skipWs(s, i + 1);
    const ps = i;
    let p = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      p = p * 10 + (c - 0x30);
      i++;
    }
    if (i === ps || i - ps > 5 || p > 65535) return invalid('via: bad port', value);
    port = p;
  } else {
    i = beforePort;
  }
  const params = newParams();
  const bad = readParams(s, i, params);
  if (bad !== undefined) return invalid(`via: ${bad}`, value);
  const via: {
    kind: 'via';
    protocol: string;
    transport: string;
    host: string;
    port?: number;
    branch?: string;
    received?: string;
    rport?: number | true;
    params: Record<string, string>;
    raw: string;
  } = { kind: 'via', protocol: `${name}/${version}`, transport, host, params, raw: value };
  if (port !== undefined) via.port = port;
  const branch = params['branch'];
  if (branch !== undefined) via.branch = branch;
  const received = params['received'];
  if (received !== undefined) via.received = received;
  const rport = params['rport'];
  if (rport !== undefined) {
    if (rport === '') via.rport = true;
    else {
      const n = Number(rport);
      if (!Number.isInteger(n) || n < 0 || n > 65535 || !DIGITS.test(rport)) return invalid('via: bad rport', value);
      via.rport = n;
    }
  }
  return via;
}

/** First via-parm of a Via header value (a Via header may carry several, comma-separated). */
export function parseTopVia(value: string): Via | Invalid {
  const parts = splitList(value);
  const first = parts[0];
  if (first === undefined) return invalid('via: empty', value);
  return parseVia(first);
}

const MAX_CSEQ = 0xffffffff;

/** `CSeq: 1*DIGIT LWS Method`; the number must fit 32 bits (RFC 3261 §8.1.1.5). */
export function parseCSeq(value: string): CSeq | Invalid {
  const s = value;
  let i = skipWs(s, 0);
  const ds = i;
  let n = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
    i++;
  }
  if (i === ds) return invalid('cseq: missing sequence number', value);
  if (n > MAX_CSEQ) return invalid('cseq: sequence number exceeds 2**32-1', value);
  const ws = i;
  i = skipWs(s, i);
  if (i === ws) return invalid('cseq: expected whitespace before method', value);
  const ms = i;
  i = readToken(s, i);
  if (i === ms) return invalid('cseq: missing method', value);
  const method = s.slice(ms, i);
  if (skipWs(s, i) !== s.length) return invalid('cseq: junk after method', value);
  return { kind: 'cseq', seq: n, method };
}

/** Remote-Party-ID element with its party/screen/privacy parameters lifted out (`parsed`: the element already parsed). */
export function parseRpid(value: string, parsed?: NameAddr | Invalid): RemotePartyId | Invalid {
  const na = parsed ?? parseNameAddr(value);
  if (na.kind === 'invalid') return na;
  const r: NameAddr & { party?: string; screen?: string; privacy?: string } = { ...na };
  const party = na.params['party'];
  if (party !== undefined) r.party = party.toLowerCase();
  const screen = na.params['screen'];
  if (screen !== undefined) r.screen = screen.toLowerCase();
  const privacy = na.params['privacy'];
  if (privacy !== undefined) r.privacy = privacy.toLowerCase();
  return r;
}

/** Diversion element (RFC 5806 §4) with reason/counter/privacy/screen lifted out (`parsed`: the element already parsed). */
export function parseDiversion(value: string, parsed?: NameAddr | Invalid): DiversionEntry | Invalid {
  const na = parsed ?? parseNameAddr(value);
  if (na.kind === 'invalid') return na;
  const d: NameAddr & { reason?: string; counter?: number; privacy?: string; screen?: string } = { ...na };
  const reason = na.params['reason'];
  if (reason !== undefined) d.reason = reason;
  const counter = na.params['counter'];
  if (counter !== undefined) {
    if (!COUNTER.test(counter)) return invalid('diversion: bad counter', value);
    d.counter = Number(counter);
  }
  const privacy = na.params['privacy'];
  if (privacy !== undefined) d.privacy = privacy.toLowerCase();
  const screen = na.params['screen'];
  if (screen !== undefined) d.screen = screen.toLowerCase();
  return d;
}

/**
 * History-Info element (RFC 7044 §9) with index and the mp/rc/np tags lifted out. `parsed`: the element already parsed
 * (leniently, by a caller that flags an addr-spec without `<>` itself).
 */
export function parseHistoryInfo(value: string, parsed?: NameAddr | Invalid): HistoryInfoEntry | Invalid {
  const na = parsed ?? parseNameAddr(value);
  if (na.kind === 'invalid') return na;
  // A caller that already repaired the brackets (parseNameAddrLenient) has flagged them; the entry stays usable.
  if (!na.angle && parsed === undefined) return invalid('history-info: hi-targeted-to-uri must be in <>', value);
  const h: NameAddr & { index?: string; mp?: string; rc?: string; np?: string } = { ...na };
  const index = na.params['index'];
  if (index !== undefined) {
    if (!HI_INDEX.test(index)) return invalid('history-info: bad index', value);
    h.index = index;
  }
  const mp = na.params['mp'];
  if (mp !== undefined) h.mp = mp;
  const rc = na.params['rc'];
  if (rc !== undefined) h.rc = rc;
  const np = na.params['np'];
  if (np !== undefined) h.np = np;
  return h;
}

/**
 * Identity element: `token *(;param)` (RFC 8224 §4). The token is a compact JWS
 * (base64url segments joined by '.'); the RFC 4474 form (a quoted base64 string) is accepted too.
 */
export function parseIdentity(value: string): IdentityEntry | Invalid {
  const s = value;
  let i = skipWs(s, 0);
  let token: string;
  if (s.charCodeAt(i) === 0x22) {
    const close = s.indexOf('"', i + 1);
    if (close < 0) return invalid('identity: unterminated quoted token', value);
    token = s.slice(i + 1, close);
    i = close + 1;
  } else {
    const ts = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x3b || c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
      i++;
    }
    token = s.slice(ts, i);
  }
  if (token.length === 0) return invalid('identity: empty token', value);
  for (let j = 0; j < token.length; j++) {
    const c = token.charCodeAt(j);
    const ok =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x2d ||
      c === 0x5f ||
      c === 0x2e ||
      c === 0x2b ||
      c === 0x2f ||
      c === 0x3d ||
      c === 0x20 ||
      c === 0x09;
    if (!ok) return invalid('identity: bad character in token', value);
  }
  const params = newParams();
  const bad = readParams(s, i, params);
  if (bad !== undefined) return invalid(`identity: ${bad}`, value);
  const e: { kind: 'identity'; token: string; info?: string; alg?: string; ppt?: string; params: Record<string, string>; raw: string } = {
    kind: 'identity',
    token: token.replace(BLANKS, ''),
    params,
    raw: value,
  };
  const info = params['info'];
  if (info !== undefined) e.info = info;
  const alg = params['alg'];
  if (alg !== undefined) e.alg = alg;
  const ppt = params['ppt'];
  if (ppt !== undefined) e.ppt = ppt;
  return e;
}

/** Privacy header values: `priv-value *(";" priv-value)`, lowercased (RFC 3323 §4.2). */
export function parsePrivacy(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(PRIVACY_SEP)) {
    const t = part.trim().toLowerCase();
    if (t.length > 0) out.push(t);
  }
  return out;
}
