/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1), list splitting that
 * respects quoted strings and `<>`, and generic `;name=value` parameter lists.
 * Pure functions over strings: bad input returns `{kind:'invalid'}`, never a throw.
 */
import { SCHEME, TOKEN, isWs, newParams, paramName, skipWs } from './chars.js';
import type { Invalid, NameAddr, Params } from './model.js';
import { parseUri } from './uri.js';

function invalid(reason: string, raw: string): Invalid {
  return { kind: 'invalid', reason, raw };
}

/**
 * Split a header value on the commas that separate list elements: commas inside quoted strings
 * (with `\` escapes) and inside `<...>` do not count. Elements are trimmed; empty ones dropped.
 */
export function splitList(value: string): string[] {
  if (value.indexOf(',') < 0) {
    const t = value.trim();
    return t.length > 0 ? [t] : [];
  }
  const out: string[] = [];
  const len = value.length;
  let start = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < len; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (angle) {
      if (c === 0x3e) angle = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x3c) angle = true;
    else if (c === 0x2c) {
      const part = value.slice(start, i).trim();
      if (part.length > 0) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last.length > 0) out.push(last);
  return out;
}

/** Result of reading a quoted-string: the unescaped text and the index after the closing quote. */
interface Quoted {
  readonly text: string;
  readonly end: number;
}

/** Read a quoted-string whose opening `"` is at `i`; undefined when unterminated. */
function readQuoted(s: string, i: number): Quoted | undefined {
  let text = '';
  let last = i + 1;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5c) {
      if (j + 1 >= s.length) return undefined;
      text += s.slice(last, j);
      last = j + 1;
      j++;
    } else if (c === 0x22) {
      text += s.slice(last, j);
      return { text, end: j + 1 };
    }
  }
  return undefined;
}

/**
 * Parse `;name[=value]` parameters from `i` to the end of `s` into `out`. Whitespace is allowed
 * around `;` and `=`. Values may be tokens, quoted strings (unquoted here) or `<...>` (brackets
 * dropped). Returns undefined when the text is not a parameter list.
 */
export function readParams(s: string, i: number, out: Record<string, string>): string | undefined {
  const len = s.length;
  const token = TOKEN; // a local: see chars.ts
  for (;;) {
    i = skipWs(s, i);
    if (i >= len) return undefined;
    if (s.charCodeAt(i) !== 0x3b) return `unexpected '${s.charAt(i)}'`;
    i = skipWs(s, i + 1);
    const ns = i;
    while (i < len && token[s.charCodeAt(i)] === 1) i++;
    if (i === ns) return 'empty parameter';
    const name = paramName(s, ns, i);
    i = skipWs(s, i);
    let value = '';
    if (s.charCodeAt(i) === 0x3d) {
      i = skipWs(s, i + 1);
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        const q = readQuoted(s, i);
        if (q === undefined) return 'unterminated quoted parameter value';
        value = q.text;
        i = q.end;
      } else if (c === 0x3c) {
        const gt = s.indexOf('>', i);
        if (gt < 0) return "unterminated '<' in parameter value";
        value = s.slice(i + 1, gt);
        i = gt + 1;
      } else {
        const vs = i;
        while (i < len) {
          const v = s.charCodeAt(i);
          if (v === 0x3b || isWs(v) || v === 0x2c) break;
          i++;
        }
        value = s.slice(vs, i);
      }
    }
    if (!(name in out)) out[name] = value;
  }
}

/** True when `s[a..b)` is one or more tokens separated by whitespace. */
function isTokenDisplay(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (TOKEN[c] !== 1 && !isWs(c) && c < 0x80) return false;
  }
  return true;
}

/**
 * Parse one name-addr or addr-spec followed by header parameters, as found in From, To,
 * P-Asserted-Identity, Contact, Diversion, … (one list element; split lists first).
 */
export function parseNameAddr(value: string): NameAddr | Invalid {
  const s = value;
  const len = s.length;
  let i = skipWs(s, 0);
  if (i >= len) return invalid('empty value', value);
  let display: string | undefined;
  let uriText: string;
  let angle = false;
  const c = s.charCodeAt(i);
  if (c === 0x22) {
    const q = readQuoted(s, i);
    if (q === undefined) return invalid('unterminated quoted display name', value);
    display = q.text;
    i = skipWs(s, q.end);
    if (s.charCodeAt(i) !== 0x3c) return invalid("expected '<' after display name", value);
  } else if (c !== 0x3c) {
    const lt = s.indexOf('<', i);
    if (lt >= 0) {
      let end = lt;
      while (end > i && isWs(s.charCodeAt(end - 1))) end--;
      if (isTokenDisplay(s, i, end)) {
        display = s.slice(i, end);
        i = lt;
      } else if (!looksLikeAddrSpec(s, i)) {
        return invalid('display name has non-token characters and is not quoted', value);
      }
    }
  }
  if (s.charCodeAt(i) === 0x3c) {
    const gt = s.indexOf('>', i + 1);
    if (gt < 0) return invalid("unterminated '<'", value);
    uriText = s.slice(i + 1, gt);
    angle = true;
    i = gt + 1;
  } else {
    // addr-spec: the URI ends at the first ';' or whitespace; what follows are header params.
    const us = i;
    while (i < len) {
      const u = s.charCodeAt(i);
      if (u === 0x3b || isWs(u)) break;
      i++;
    }
    uriText = s.slice(us, i);
    if (uriText.indexOf('?') >= 0 || uriText.indexOf(',') >= 0) {
      return invalid("addr-spec with '?' or ',' must be enclosed in <>", value);
    }
  }
  const params = newParams();
  const bad = readParams(s, i, params);
  if (bad !== undefined) return invalid(`header parameters: ${bad}`, value);
  const na: {
    kind: 'name-addr';
    display?: string;
    uri: NameAddr['uri'];
    tag?: string;
    params: Params;
    angle: boolean;
    raw: string;
  } = { kind: 'name-addr', uri: parseUri(uriText), params, angle, raw: value };
  if (display !== undefined) na.display = display;
  const tag = params['tag'];
  if (tag !== undefined) na.tag = tag;
  return na;
}

/** `scheme:` at `i` (then the '<' found later belongs to a parameter, not to a name-addr). */
function looksLikeAddrSpec(s: string, i: number): boolean {
  const colon = s.indexOf(':', i);
  if (colon <= i) return false;
  for (let j = i; j < colon; j++) {
    if (SCHEME[s.charCodeAt(j)] !== 1) return false;
  }
  return true;
}

/** Parse every element of a comma-separated name-addr list. */
export function parseNameAddrList(value: string): Array<NameAddr | Invalid> {
  const parts = splitList(value);
  const out: Array<NameAddr | Invalid> = [];
  for (const p of parts) out.push(parseNameAddr(p));
  return out;
}

/** What {@link parseNameAddrLenient} had to repair: the anomaly kind (SipAnomaly) and the strict parser's reason. */
export interface NameAddrRepair {
  readonly kind: 'sip.display-name-quote' | 'sip.display-name-unquoted' | 'sip.name-addr-brackets' | 'sip.name-addr-params';
  readonly reason: string;
}

/** A URI scheme a phone number can come in, at `i`: `sip:`, `sips:` or `tel:` (any case); its length or 0. */
function numberSchemeAt(s: string, i: number): number {
  const a = s.charCodeAt(i) | 0x20;
  const b = s.charCodeAt(i + 1) | 0x20;
  const c = s.charCodeAt(i + 2) | 0x20;
  if (a === 0x73 && b === 0x69 && c === 0x70) {
    if (s.charCodeAt(i + 3) === 0x3a) return 4;
    if ((s.charCodeAt(i + 3) | 0x20) === 0x73 && s.charCodeAt(i + 4) === 0x3a) return 5;
  }
  if (a === 0x74 && b === 0x65 && c === 0x6c && s.charCodeAt(i + 3) === 0x3a) return 4;
  return 0;
}

/** Index of the first `sip:`/`sips:`/`tel:` at or after `from` that starts a word (not inside another token), or -1. */
function findNumberScheme(s: string, from: number): number {
  for (let i = from; i < s.length - 3; i++) {
    if (numberSchemeAt(s, i) === 0) continue;
    const prev = i > 0 ? s.charCodeAt(i - 1) : 0x20;
    if (TOKEN[prev] !== 1 || prev === 0x22) return i;
  }
  return -1;
}

/** A display name as a phone shows a broken one: escapes dropped, stray quotes stripped, whitespace collapsed. */
function cleanDisplay(text: string): string | undefined {
  const t = text
    .replace(/\\(.)/g, '$1')
    .replace(/"/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return t.length > 0 ? t : undefined;
}

/**
 * Parse one name-addr / addr-spec element as a receiving phone or Wireshark would when the strict grammar
 * (RFC 3261 §20.10, §25.1) rejects it, and say what was repaired: escaped or unbalanced quotes around the display
 * name (`\"arik\" <sip:816666@voip.example>`), an unquoted display name with specials (`Bell, Alexander <sip:…>`),
 * missing or unterminated angle brackets (`arik sip:816666@…`, `<sip:816666@…`), whitespace inside them, an
 * addr-spec with `?` or `,` outside them, header parameters that do not parse (`;;;;`: kept as far as they do). The URI is the one in the first `<…>` holding a scheme, else the first
 * `sip:`/`sips:`/`tel:` in the value. Strictly valid values come back unchanged with no repair.
 */
export function parseNameAddrLenient(value: string): { readonly na: NameAddr | Invalid; readonly repair?: NameAddrRepair } {
  const strict = parseNameAddr(value);
  if (strict.kind === 'name-addr' && strict.uri.kind !== 'invalid') return { na: strict };
  const why = strict.kind === 'invalid' ? strict.reason : strict.uri.kind === 'invalid' ? strict.uri.reason : '';
  const s = value;
  // The '<' that opens the URI: the first one followed (after whitespace) by a scheme and ':'.
  let lt = -1;
  for (let i = s.indexOf('<'); i >= 0; i = s.indexOf('<', i + 1)) {
    const u = skipWs(s, i + 1);
    if (looksLikeAddrSpec(s, u)) {
      lt = i;
      break;
    }
  }
  let uriText: string;
  let displayText: string;
  let rest: string;
  let angle: boolean;
  // What was wrong, most telling first: the display name, then the brackets, then the parameters.
  let brackets = false;
  if (lt >= 0) {
    const gt = s.indexOf('>', lt + 1);
    angle = gt >= 0;
    if (gt >= 0) {
      const inner = s.slice(lt + 1, gt);
      uriText = inner.trim();
      brackets = uriText.length !== inner.length;
      rest = s.slice(gt + 1);
    } else {
      brackets = true;
      // Unterminated '<': the URI runs to whitespace or the end.
      const u = skipWs(s, lt + 1);
      let e = u;
      while (e < s.length && !isWs(s.charCodeAt(e))) e++;
      uriText = s.slice(u, e);
      rest = s.slice(e);
    }
    displayText = s.slice(0, lt);
  } else {
    // No usable '<…>': the first sip:/sips:/tel: is the URI (an addr-spec, maybe after a display name); it ends at
    // whitespace, and its ';' parameters are header parameters as in an addr-spec (RFC 3261 §20.10).
    const u = findNumberScheme(s, 0);
    if (u < 0) return { na: strict };
    let e = u;
    while (e < s.length && !isWs(s.charCodeAt(e)) && s.charCodeAt(e) !== 0x3b && s.charCodeAt(e) !== 0x3e) e++;
    uriText = s.slice(u, e);
    displayText = s.slice(0, u);
    rest = s.slice(e);
    angle = false;
    brackets = displayText.trim().length > 0 || why.startsWith('addr-spec');
  }
  let kind: NameAddrRepair['kind'] = brackets || !why.startsWith('header parameters') ? 'sip.name-addr-brackets' : 'sip.name-addr-params';
  // The display name: as written when it is a proper quoted string or tokens (then the brackets were the problem).
  const dt = displayText.trim();
  let display: string | undefined;
  const q = dt.charCodeAt(0) === 0x22 ? readQuoted(dt, 0) : undefined;
  if (dt.length === 0) display = undefined;
  else if (q !== undefined && q.end === dt.length) display = q.text;
  else if (isTokenDisplay(dt, 0, dt.length)) display = dt;
  else {
    display = cleanDisplay(dt);
    kind = dt.indexOf('"') >= 0 || dt.indexOf('\\') >= 0 ? 'sip.display-name-quote' : 'sip.display-name-unquoted';
  }
  const uri = parseUri(uriText);
  if (uri.kind === 'invalid') return { na: strict };
  // Header parameters one by one, empty and broken ones skipped (a broken tail does not hide the URI or the tag).
  const params = newParams();
  for (const piece of rest.split(';').slice(1)) {
    const eq = piece.indexOf('=');
    const name = (eq < 0 ? piece : piece.slice(0, eq)).trim().toLowerCase();
    if (name.length === 0 || !isTokenDisplay(name, 0, name.length) || name in params) continue;
    params[name] = eq < 0 ? '' : piece.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  const na: { kind: 'name-addr'; display?: string; uri: NameAddr['uri']; tag?: string; params: Params; angle: boolean; raw: string } = {
    kind: 'name-addr',
    uri,
    params,
    angle,
    raw: value,
  };
  if (display !== undefined) na.display = display;
  const tag = params['tag'];
  if (tag !== undefined) na.tag = tag;
  return { na, repair: { kind, reason: why } };
}

/**
 * Split an identity header's list (RFC 3261 §7.3.1) as {@link splitList}, then join back an element that holds no URI
 * at all (no `<`, no `:`) to the element after it: the comma was inside an unquoted display name
 * (`Acme, Inc. <sip:…>`), which is how phones read it.
 */
export function splitIdentityList(value: string): string[] {
  const parts = splitList(value);
  if (parts.length < 2) return parts;
  const out: string[] = [];
  let carry = '';
  for (const p of parts) {
    const joined = carry ? `${carry}, ${p}` : p;
    if (p.indexOf('<') < 0 && p.indexOf(':') < 0) carry = joined;
    else {
      out.push(joined);
      carry = '';
    }
  }
  if (carry) out.push(carry);
  return out;
}
