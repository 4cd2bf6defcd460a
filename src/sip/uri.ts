/**
 * URI parsing: `sip:`/`sips:` (RFC 3261 §19.1.1, §25.1), `tel:` (RFC 3966), and other schemes
 * kept opaque. Pure functions over strings; bad input gives `{kind:'invalid'}`, never a throw.
 */
import { HOST, IPV6, NO_PARAMS, SCHEME, TEL_NUMBER, URI_PARAM, VISUAL, newParams, paramName, unescapePercent } from './chars.js';
import type { Invalid, OtherUri, SipUri, TelUri, Uri } from './model.js';

const VISUAL_SEPARATORS = /[-.()]/g;

function invalid(reason: string, raw: string): Invalid {
  return { kind: 'invalid', reason, raw };
}

/** Parse one URI (no surrounding `<>`, no whitespace). */
export function parseUri(raw: string): Uri | Invalid {
  const colon = raw.indexOf(':');
  if (colon <= 0) return invalid('uri: no scheme', raw);
  const c0 = raw.charCodeAt(0) | 0x20;
  if (c0 < 0x61 || c0 > 0x7a) return invalid('uri: scheme must start with a letter', raw);
  for (let i = 1; i < colon; i++) {
    if (SCHEME[raw.charCodeAt(i)] !== 1) return invalid('uri: bad scheme character', raw);
  }
  const scheme = colon === 3 && isSip(raw) ? 'sip' : raw.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(raw, scheme, colon + 1);
  if (scheme === 'tel') return parseTelUri(raw, colon + 1);
  const bad = illegalChar(raw, colon + 1, raw.length);
  if (bad >= 0) return illegalCharInvalid(raw, bad);
  if (colon + 1 >= raw.length) return invalid('uri: empty after scheme', raw);
  const other: OtherUri = { kind: 'other', scheme, raw };
  return other;
}

function isSip(raw: string): boolean {
  return (raw.charCodeAt(0) | 0x20) === 0x73 && (raw.charCodeAt(1) | 0x20) === 0x69 && (raw.charCodeAt(2) | 0x20) === 0x70;
}

/** Index of the first character not allowed anywhere in a URI (controls, SP, `<`, `>`, `"`), or -1. */
function illegalChar(raw: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22) return i;
  }
  return -1;
}

function illegalCharInvalid(raw: string, i: number): Invalid {
  return invalid(`uri: illegal character 0x${raw.charCodeAt(i).toString(16).padStart(2, '0')}`, raw);
}

function parseSipUri(raw: string, scheme: 'sip' | 'sips', start: number): SipUri | Invalid {
  const len = raw.length;
  const at = raw.indexOf('@', start);
  let user: string | undefined;
  let password: string | undefined;
  let hostStart = start;
  if (at >= 0) {
    const bad = illegalChar(raw, start, at);
    if (bad >= 0) return illegalCharInvalid(raw, bad);
    const pw = raw.indexOf(':', start);
    if (pw >= 0 && pw < at) {
      user = raw.slice(start, pw);
      password = raw.slice(pw + 1, at);
    } else {
      user = raw.slice(start, at);
    }
    if (user.length === 0) return invalid('sip uri: empty user part', raw);
    hostStart = at + 1;
  }
  let i = hostStart;
  let host: string;
  let ipv6 = false;
  if (raw.charCodeAt(i) === 0x5b) {
    const close = raw.indexOf(']', i);
    if (close < 0) return invalid('sip uri: unterminated IPv6 reference', raw);
    for (let j = i + 1; j < close; j++) {
      if (IPV6[raw.charCodeAt(j)] !== 1) return invalid('sip uri: bad IPv6 reference', raw);
    }
    host = raw.slice(i + 1, close);
    if (host.indexOf(':') < 0) return invalid('sip uri: bad IPv6 reference', raw);
    ipv6 = true;
    i = close + 1;
  } else {
    const hostChars = HOST; // a local: see chars.ts
    while (i < len && hostChars[raw.charCodeAt(i)] === 1) i++;
    host = raw.slice(hostStart, i);
  }
  if (host.length === 0) return invalid('sip uri: empty host', raw);
  let port: number | undefined;
  if (raw.charCodeAt(i) === 0x3a) {
    i++;
    const ps = i;
    let p = 0;
    while (i < len) {
      const c = raw.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      p = p * 10 + (c - 0x30);
      i++;
    }
    if (i === ps || i - ps > 5 || p > 65535) return invalid('sip uri: bad port', raw);
    port = p;
  }
  const params = newParams();
  let headers: Record<string, string> = NO_PARAMS;
  while (i < len && raw.charCodeAt(i) === 0x3b) {
    i = readPair(raw, i + 1, params, 0x3b, true);
    if (i < 0) return badPart(raw, 'sip uri: bad parameter');
  }
  if (i < len && raw.charCodeAt(i) === 0x3f) {
    headers = newParams();
    i = readPair(raw, i + 1, headers, 0x26, false);
    if (i < 0) return badPart(raw, 'sip uri: bad header');
    while (i < len && raw.charCodeAt(i) === 0x26) {
      i = readPair(raw, i + 1, headers, 0x26, false);
      if (i < 0) return badPart(raw, 'sip uri: bad header');
    }
  }
  if (i !== len) {
    const bad = illegalChar(raw, i, len);
    if (bad >= 0) return illegalCharInvalid(raw, bad);
    return invalid(`sip uri: unexpected '${raw.charAt(i)}' after host`, raw);
  }
  const uri: SipUri = {
    kind: 'sip',
    scheme,
    user,
    userUnescaped: user !== undefined && user.indexOf('%') >= 0 ? unescapePercent(user) : undefined,
    password,
    host,
    ipv6,
    port,
    params,
    headers,
    raw,
  };
  return uri;
}

/**
 * Read `name[=value]` starting at `i` into `out` (name lowercased, first wins). Stops at `sep`
 * (and at `?` when `q` is set: the start of URI headers) or at the end. Returns the index of the
 * stopping char, or -1 on an empty name or an illegal character.
 */
function readPair(raw: string, i: number, out: Record<string, string>, sep: number, q: boolean): number {
  const len = raw.length;
  const param = URI_PARAM; // a local: see chars.ts
  const ns = i;
  while (i < len) {
    const c = raw.charCodeAt(i);
    if (c === 0x3d || c === sep || (q && c === 0x3f)) break;
    if (param[c] !== 1 && c < 0x80) return -1;
    i++;
  }
  if (i === ns) return -1;
  const name = paramName(raw, ns, i);
  let value = '';
  if (raw.charCodeAt(i) === 0x3d) {
    i++;
    const vs = i;
    while (i < len) {
      const c = raw.charCodeAt(i);
      if (c === sep || (q && c === 0x3f)) break;
      if (param[c] !== 1 && c !== 0x3d && c !== 0x3f && c !== 0x3b && c < 0x80) return -1;
      i++;
    }
    value = raw.slice(vs, i);
  }
  if (!(name in out)) out[name] = value;
  return i;
}

/** An illegal character explains a bad part best; otherwise the part's own reason. */
function badPart(raw: string, reason: string): Invalid {
  const bad = illegalChar(raw, 0, raw.length);
  return bad >= 0 ? illegalCharInvalid(raw, bad) : invalid(reason, raw);
}

function parseTelUri(raw: string, start: number): TelUri | Invalid {
  const len = raw.length;
  let i = start;
  while (i < len && raw.charCodeAt(i) !== 0x3b) i++;
  const number = raw.slice(start, i);
  if (number.length === 0) return invalid('tel uri: empty number', raw);
  const global = number.charCodeAt(0) === 0x2b;
  let significant = 0;
  let visual = false;
  for (let j = 0; j < number.length; j++) {
    const c = number.charCodeAt(j);
    if (TEL_NUMBER[c] !== 1) return badPart(raw, 'tel uri: bad character in number');
    if (VISUAL[c] === 1) {
      visual = true;
    } else if (c === 0x2b) {
      if (j !== 0) return invalid("tel uri: '+' inside number", raw);
    } else {
      if (global && (c < 0x30 || c > 0x39)) return invalid('tel uri: non-digit in global number', raw);
      significant++;
    }
  }
  if (significant === 0) return invalid('tel uri: no digits', raw);
  const digits = visual ? number.replace(VISUAL_SEPARATORS, '') : number;
  const params = newParams();
  while (i < len) {
    i = readPair(raw, i + 1, params, 0x3b, false);
    if (i < 0) return badPart(raw, 'tel uri: bad parameter');
  }
  const uri: TelUri = { kind: 'tel', scheme: 'tel', number, global, digits, params, raw };
  return uri;
}

/**
 * The user/number part as tshark shows it in `sip.from.user`: for sip/sips the user part before
 * any `;` parameter (the password is already split off at `:`), escapes kept; for tel the number
 * as written. Undefined for other schemes, invalid URIs and host-only URIs.
 */
export function userOf(uri: Uri | Invalid | undefined): string | undefined {
  if (uri === undefined) return undefined;
  if (uri.kind === 'sip') {
    const u = uri.user;
    if (u === undefined) return undefined;
    const semi = u.indexOf(';');
    return semi >= 0 ? u.slice(0, semi) : u;
  }
  if (uri.kind === 'tel') return uri.number;
  return undefined;
}

/**
 * The user part of the first `sip:`/`sips:`/`tel:` URI in text that did not parse as one (an invalid URI or a header
 * value nothing could be extracted from), as a phone would still show it: for tel: the number up to `;`, `>` or the
 * end; for sip/sips the text between the scheme and `@` (escapes decoded). Undefined when there is no such URI or no
 * user part in it. Used so that an alert names a number or a user, never a raw header line.
 */
export function userGuess(text: string): string | undefined {
  const m = /(?:^|[^A-Za-z0-9+.-])(sips?|tel):/i.exec(text);
  if (m === null) return undefined;
  const start = m.index + m[0].length;
  if (m[1]!.toLowerCase() === 'tel') {
    let e = start;
    while (e < text.length && text.charCodeAt(e) !== 0x3b && text.charCodeAt(e) !== 0x3e) e++;
    const n = text.slice(start, e).trim();
    return n.length > 0 ? n : undefined;
  }
  const at = text.indexOf('@', start);
  if (at < 0) return undefined;
  const gt = text.indexOf('>', start);
  if (gt >= 0 && gt < at) return undefined;
  let user = text.slice(start, at);
  const pw = user.indexOf(':');
  if (pw >= 0) user = user.slice(0, pw);
  const semi = user.indexOf(';');
  if (semi >= 0) user = user.slice(0, semi);
  user = user.trim();
  if (user.length === 0) return undefined;
  return user.indexOf('%') >= 0 ? unescapePercent(user) : user;
}
