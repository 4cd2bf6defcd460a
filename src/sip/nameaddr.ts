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
