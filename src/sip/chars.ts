/**
 * Character classes of the RFC 3261 §25 grammar as lookup tables (built once at load; read-only).
 *
 * A loop over characters reads its table through a local (`const token = TOKEN`): V8's optimised code re-reads an
 * imported binding, and checks that it is initialised, on every use; a local stays in a register. In the split's
 * header-name loop that was ~1k instructions per message (~10% of the split).
 */

function table(chars: string, alnum: boolean): Uint8Array {
  const t = new Uint8Array(256);
  if (alnum) {
    for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
    for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
    for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~", true);
/** Characters of a host name or IPv4 address (underscore tolerated: seen in the wild). */
export const HOST = table('-._', true);
/** Characters allowed inside `[...]` of an IPv6 reference. */
export const IPV6 = table(':.abcdefABCDEF%', true);
/** URI scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (first char checked separately). */
export const SCHEME = table('+-.', true);
/** paramchar / hnv-unreserved / unreserved / escaped, liberal: anything printable but the delimiters. */
export const URI_PARAM = table("-_.!~*'()[]/:&+$%,@", true);
/** tel: global-number-digits / local-number-digits chars (RFC 3966). */
export const TEL_NUMBER = table('+-.()*#abcdefABCDEF', true);
/** Visual separators of RFC 3966. */
export const VISUAL = table('-.()', false);

/** ASCII lowercase of every byte value (non-letters map to themselves). */
export const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;

/**
 * Parameter names that SIP URIs and header values carry on nearly every message: RFC 3261 §19.1.1 (user, transport,
 * lr, maddr, method, ttl), §20 (tag, branch, received), RFC 3581 (rport), RFC 3966 (phone-context).
 */
const COMMON_PARAMS = ['tag', 'user', 'transport', 'lr', 'phone-context', 'maddr', 'method', 'ttl', 'branch', 'rport', 'received'];
const COMMON_BY_LENGTH: string[][] = [];
for (const n of COMMON_PARAMS) (COMMON_BY_LENGTH[n.length] ??= []).push(n);

/**
 * Lowercase parameter name of `s[start..end)`. A common name is returned as its literal: slicing, lowercasing and
 * then storing a fresh string as a property key (V8 looks it up in its string table first) cost ~1k instructions per
 * parameter, most of a `;user=phone`'s parse.
 */
export function paramName(s: string, start: number, end: number): string {
  const candidates = COMMON_BY_LENGTH[end - start];
  if (candidates !== undefined) {
    for (let k = 0; k < candidates.length; k++) {
      const n = candidates[k]!;
      let j = 0;
      for (; j < n.length; j++) {
        const c = s.charCodeAt(start + j);
        const m = n.charCodeAt(j);
        // Letters in either case; anything else ('-') as it is.
        if (c !== m && !(m >= 0x61 && (c | 0x20) === m)) break;
      }
      if (j === n.length) return n;
    }
  }
  return s.slice(start, end).toLowerCase();
}

export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

const WIDE = /[^\u0000-\u00ff]/;

/** Decode `%HH` escapes; invalid escapes stay literal. Bytes are read as UTF-8. */
export function unescapePercent(s: string): string {
  let out = '';
  let high = false;
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== 0x25) continue;
    const h = hexVal(s.charCodeAt(i + 1));
    const l = hexVal(s.charCodeAt(i + 2));
    if (h < 0 || l < 0) continue;
    const b = h * 16 + l;
    if (b >= 0x80) high = true;
    out += s.slice(last, i) + String.fromCharCode(b);
    last = i + 3;
    i += 2;
  }
  out += s.slice(last);
  return high && !WIDE.test(out) ? Buffer.from(out, 'latin1').toString('utf8') : out;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Prototype of parameter objects: itself prototype-less, so no inherited names (`constructor`,
 * `__proto__`) leak into lookups, while the objects built on it stay in V8's fast mode (an object
 * created with a null prototype is a slow dictionary, measured 3x slower here).
 */
const PARAMS_PROTO = Object.create(null) as object;

export function newParams(): Record<string, string> {
  return Object.create(PARAMS_PROTO) as Record<string, string>;
}

/** The shared, frozen empty parameter set (for URIs without headers). */
export const NO_PARAMS: Record<string, string> = Object.freeze(newParams());
