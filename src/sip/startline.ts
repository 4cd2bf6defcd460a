/**
 * The one grammar of a SIP start line (RFC 3261 §7.1, §7.2, §7.5), shared by the probe that picks SIP out of UDP
 * payloads on any port (`looksLikeSip`), the TCP framer's resynchronisation (`isSipStartLine`) and the message parser
 * (`parseSipMessage`): what one accepts, all accept (DESIGN.md §3, tolerance rule). It is as lenient as the stacks that
 * receive the traffic; every deviation from RFC 3261 is reported in flags that the parser turns into anomalies:
 *
 * - CR/LF keep-alives before the start line (§7.5: ignored, no flag);
 * - SIP-Version in any case (`sip/2.0`: §7.1 says it is case-insensitive; legal, but nobody sends it);
 * - any `SIP/d.d` version (RFC 4475 §3.3.14: a receiver answers 505, so the message is still SIP);
 * - bytes that are not token characters before a request's method (Zeek's `sip_junk_before_request`), when the
 *   method is a standard one;
 * - tabs and repeated spaces between the elements (Zeek's `SIP_WS`; RFC 4475 §3.1.2.9-10);
 * - (the parser, not this grammar, takes a standard method name in another case, `invite`, as that method: §7.1
 *   makes methods case-sensitive, but Asterisk compares them case-insensitively.)
 *
 * It stays cheap on the hot path of every UDP payload: RTP, STUN and random bytes are rejected after a few byte
 * comparisons, and nothing is allocated (positions go to a caller's scratch array).
 */
import { TOKEN } from './chars.js';

/** Longest method token looked at (longer is not SIP). */
const MAX_METHOD = 64;
/** Most bytes that are not token characters skipped before a request's method. */
export const MAX_JUNK = 32;

/** Flags of a start-line match: each is a deviation from RFC 3261's grammar. */
export const StartLineFlag = {
  /** Tabs or more than one SP between the elements, or SP/HT after the version of a request line. */
  whitespace: 1,
  /** Bytes that are not token characters before the method (Zeek `sip_junk_before_request`). */
  junk: 2,
  /** SIP-Version not written `SIP/2.0` in uppercase letters. */
  versionCase: 4,
} as const;

/**
 * Slots of the scratch array a match fills in (read right after the call). Request: method, Request-URI, version.
 * Response: version, 3-digit code, reason phrase (empty when absent).
 */
export const SL_KIND = 0; // 1 request, 2 response
export const SL_START = 1; // start of the method / version (after keep-alives and junk)
export const SL_A_END = 2; // end of the method / version
export const SL_B_START = 3; // Request-URI / status code
export const SL_B_END = 4;
export const SL_C_START = 5; // version / reason phrase
export const SL_C_END = 6;
export const SL_FLAGS = 7;
export const SL_LINE_END = 8; // end of the line's content (before CR LF / LF)
export const SL_JUNK_START = 9; // where junk began (== SL_START without junk)
export const SL_SIZE = 10;

function isWsByte(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/**
 * Length of `SIP/1*DIGIT "." 1*DIGIT` (any case) at `p`, not reading at or beyond `limit`, or 0. Sets the
 * versionCase flag in `out` unless it is exactly `SIP/2.0`.
 */
function versionAt(b: Buffer, p: number, limit: number, out: Int32Array): number {
  if (limit - p < 7) return 0;
  const s = b[p]!;
  const i = b[p + 1]!;
  const pp = b[p + 2]!;
  if ((s | 0x20) !== 0x73 || (i | 0x20) !== 0x69 || (pp | 0x20) !== 0x70 || b[p + 3] !== 0x2f) return 0;
  let q = p + 4;
  const d1 = q;
  while (q < limit && isDigit(b[q])) q++;
  if (q === d1 || q >= limit || b[q] !== 0x2e) return 0;
  q++;
  const d2 = q;
  while (q < limit && isDigit(b[q])) q++;
  if (q === d2) return 0;
  if (s !== 0x53 || i !== 0x49 || pp !== 0x50) out[SL_FLAGS]! |= StartLineFlag.versionCase;
  return q - p;
}

/** Standard methods (RFC 3261 §7.1 and the extensions every stack knows), as bytes. */
const METHOD_BYTES = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'NOTIFY', 'SUBSCRIBE', 'MESSAGE', 'PUBLISH'].map(
  (m) => Buffer.from(m, 'latin1'),
);

/** The standard method whose name is `b[s..e)` in any letter case, or -1 (index into {@link STANDARD_METHODS}). */
export function methodIndexIgnoringCase(b: Buffer, s: number, e: number): number {
  const n = e - s;
  for (let k = 0; k < METHOD_BYTES.length; k++) {
    const m = METHOD_BYTES[k]!;
    if (m.length !== n) continue;
    let j = 0;
    while (j < n && (b[s + j]! & 0xdf) === m[j]) j++;
    if (j === n) return k;
  }
  return -1;
}

/** The standard method names, in the order of {@link methodIndexIgnoringCase}. */
export const STANDARD_METHODS: readonly string[] = METHOD_BYTES.map((m) => m.toString('latin1'));

/** Index after the run of SP/HT at `p` (not beyond `limit`); flags anything but one SP. */
function skipWs(b: Buffer, p: number, limit: number, out: Int32Array): number {
  const s = p;
  while (p < limit && isWsByte(b[p])) p++;
  if (p - s !== 1 || b[s] !== 0x20) out[SL_FLAGS]! |= StartLineFlag.whitespace;
  return p;
}

/**
 * End of the line's content when `b[p..]` is the rest of a line: at `limit` (`open`: the caller passes one line without
 * its end) or at a LF / CR LF before it. -1 otherwise (a bare CR, or no line end in the buffer).
 */
function lineEndAt(b: Buffer, p: number, limit: number, open: boolean): number {
  if (p >= limit) return open ? p : -1;
  const c = b[p];
  if (c === 0x0a) return p;
  if (c === 0x0d && p + 1 < limit && b[p + 1] === 0x0a) return p;
  return -1;
}

/**
 * End of a reason phrase's line content from `r` (its first byte): `limit` when `open`, else the LF or CR LF after
 * it; -1 without a line end in the buffer. Reason phrases are short: a loop over the first 64 bytes is cheaper than
 * the native indexOf call for them.
 */
function reasonLineEnd(b: Buffer, r: number, limit: number, open: boolean): number {
  if (open) return limit;
  let lf = r;
  const near = Math.min(limit, r + 64);
  while (lf < near && b[lf] !== 0x0a) lf++;
  if (lf === near) lf = near < limit ? b.indexOf(0x0a, near) : -1;
  if (lf < 0 || lf >= limit) return -1;
  return lf > r && b[lf - 1] === 0x0d ? lf - 1 : lf;
}

/**
 * The start line in its plain form at `p` (an uppercase letter): `SIP/2.0 SP 3DIGIT` then nothing, or one SP and a
 * reason phrase not starting with SP/HT; or `METHOD SP scheme ":" uri SP SIP/2.0` with an uppercase method, a
 * letters-only scheme and no HT or control byte in the URI; then the line end. Fills `out` exactly as the full grammar
 * of {@link matchStartLine} would for the same bytes (no flags: nothing in the plain form deviates) and returns the
 * end of the line's content; -1 when the line is not in this form (the full grammar then decides, so this only makes
 * the common case cheaper: on the bench's traffic the probe and the parser match every message's line, and the full
 * grammar's generic steps were ~2x the matching cost of the build before issue #16).
 */
function plainStartLine(b: Buffer, p: number, limit: number, open: boolean, out: Int32Array): number {
  if (
    b[p] === 0x53 &&
    b[p + 1] === 0x49 &&
    b[p + 2] === 0x50 &&
    b[p + 3] === 0x2f &&
    b[p + 4] === 0x32 &&
    b[p + 5] === 0x2e &&
    b[p + 6] === 0x30 &&
    b[p + 7] === 0x20
  ) {
    const d0 = b[p + 8]!;
    const d1 = b[p + 9]!;
    const d2 = b[p + 10]!;
    if (d0 < 0x31 || d0 > 0x36 || d1 < 0x30 || d1 > 0x39 || d2 < 0x30 || d2 > 0x39 || p + 11 > limit) return -1;
    const q = p + 11;
    out[SL_KIND] = 2;
    out[SL_START] = p;
    out[SL_A_END] = p + 7;
    out[SL_B_START] = p + 8;
    out[SL_B_END] = q;
    let le: number;
    if (q < limit && b[q] === 0x20) {
      const r = q + 1;
      if (r < limit && (b[r] === 0x20 || b[r] === 0x09)) return -1;
      out[SL_C_START] = r;
      le = reasonLineEnd(b, r, limit, open);
      if (le < 0) return -1;
      if (le < r) out[SL_C_START] = le;
    } else {
      le = lineEndAt(b, q, limit, open);
      if (le < 0) return -1;
      out[SL_C_START] = le;
    }
    out[SL_C_END] = le;
    out[SL_LINE_END] = le;
    return le;
  }
  // METHOD SP: uppercase letters only (a run that is followed by SP is also the whole token run).
  let q = p + 1;
  const mEnd = Math.min(limit, p + MAX_METHOD);
  while (q < mEnd && b[q]! >= 0x41 && b[q]! <= 0x5a) q++;
  if (q >= limit || b[q] !== 0x20) return -1;
  const me = q;
  const us = q + 1;
  // A letters-only scheme and its ':' (so the first ':' of the URI is after its first byte, and the URI is not `<…`).
  q = us;
  const sEnd = Math.min(limit, us + 16);
  while (q < sEnd && ((b[q]! | 0x20) >= 0x61 && (b[q]! | 0x20) <= 0x7a)) q++;
  if (q === us || q >= sEnd || b[q] !== 0x3a) return -1;
  // The rest of the URI up to SP; HT, CR, LF and other control bytes leave it to the full grammar.
  while (q < limit && b[q]! > 0x20) q++;
  if (q >= limit || b[q] !== 0x20) return -1;
  const ue = q;
  const v = q + 1;
  if (
    v + 7 > limit ||
    b[v] !== 0x53 ||
    b[v + 1] !== 0x49 ||
    b[v + 2] !== 0x50 ||
    b[v + 3] !== 0x2f ||
    b[v + 4] !== 0x32 ||
    b[v + 5] !== 0x2e ||
    b[v + 6] !== 0x30
  ) {
    return -1;
  }
  const le = lineEndAt(b, v + 7, limit, open);
  if (le < 0) return -1;
  out[SL_KIND] = 1;
  out[SL_START] = p;
  out[SL_A_END] = me;
  out[SL_B_START] = us;
  out[SL_B_END] = ue;
  out[SL_C_START] = v;
  out[SL_C_END] = v + 7;
  out[SL_LINE_END] = le;
  return le;
}

/**
 * Match a start line at `s` (leading CR/LF keep-alives skipped) without reading at or beyond `limit`; fill `out` (see
 * the `SL_*` slots) and return the end of the line's content, or -1 when it is not a start line. `open`: `b[s..limit)`
 * is one line without its end (the framer's resynchronisation); otherwise the line must end in LF or CR LF within
 * `limit`, as the parser needs it.
 *
 * Request-Line = [junk] Method 1*WS Request-URI 1*WS SIP-Version *WS line-end, where the Request-URI is any run of
 * bytes but SP, HT, CR, LF, not starting with `<` and with a `:` after its first byte (a scheme).
 * Status-Line = SIP-Version 1*WS 3DIGIT (100-699) [1*WS reason] line-end.
 *
 * `plain`: false skips the plain-form shortcut (the full grammar alone; tests check that both agree).
 */
export function matchStartLine(b: Buffer, s: number, limit: number, open: boolean, out: Int32Array, plain = true): number {
  let p = s;
  while (p < limit && (b[p] === 0x0d || b[p] === 0x0a)) p++;
  out[SL_FLAGS] = 0;
  out[SL_JUNK_START] = p;
  let c0 = b[p];
  if (c0 === undefined) return -1;
  // The line as nearly every stack writes it first (see plainStartLine); anything else takes the full grammar below.
  if (plain && c0 >= 0x41 && c0 <= 0x5a) {
    const le = plainStartLine(b, p, limit, open, out);
    if (le >= 0) return le;
  }
  const token = TOKEN; // a local: see chars.ts
  if (token[c0] !== 1) {
    // Junk before a request (Zeek's sip_junk_before_request): never CR/LF, bounded, and only before a standard method.
    const js = p;
    const jEnd = Math.min(limit, p + MAX_JUNK);
    while (p < jEnd && token[b[p]!] !== 1 && b[p] !== 0x0d && b[p] !== 0x0a) p++;
    if (p >= jEnd || token[b[p]!] !== 1) return -1;
    let q = p;
    const me = Math.min(limit, p + MAX_METHOD);
    while (q < me && token[b[q]!] === 1) q++;
    // The separator first: random bytes (RTP, STUN) fail it almost always, before the method lookup.
    if (!isWsByte(b[q]) || methodIndexIgnoringCase(b, p, q) < 0) return -1;
    out[SL_FLAGS]! |= StartLineFlag.junk;
    out[SL_JUNK_START] = js;
    c0 = b[p]!;
  }
  out[SL_START] = p;
  if ((c0 | 0x20) === 0x73) {
    const vl = versionAt(b, p, limit, out);
    if (vl > 0) {
      if ((out[SL_FLAGS]! & StartLineFlag.junk) !== 0) return -1; // junk only before requests, as Zeek
      // Status-Line.
      let q = p + vl;
      out[SL_KIND] = 2;
      out[SL_A_END] = q;
      if (!isWsByte(b[q])) return -1;
      q = skipWs(b, q, limit, out);
      const cs = q;
      if (q + 3 > limit || !isDigit(b[q]) || !isDigit(b[q + 1]) || !isDigit(b[q + 2])) return -1;
      const d0 = b[q]!;
      if (d0 < 0x31 || d0 > 0x36) return -1;
      q += 3;
      out[SL_B_START] = cs;
      out[SL_B_END] = q;
      let le: number;
      if (q < limit && isWsByte(b[q])) {
        // Reason-Phrase: anything to the line end (UTF-8 allowed), after one SP; a tab or a run of spaces before it
        // is a deviation, trailing spaces without a reason are not.
        let r = q;
        while (r < limit && isWsByte(b[r])) r++;
        if ((r - q !== 1 || b[q] !== 0x20) && r < limit && b[r] !== 0x0d && b[r] !== 0x0a) out[SL_FLAGS]! |= StartLineFlag.whitespace;
        out[SL_C_START] = r;
        le = reasonLineEnd(b, r, limit, open);
        if (le < 0) return -1;
        if (le < r) out[SL_C_START] = le;
      } else {
        le = lineEndAt(b, q, limit, open);
        if (le < 0) return -1;
        out[SL_C_START] = le;
      }
      out[SL_C_END] = le;
      out[SL_LINE_END] = le;
      return le;
    }
  }
  // Request-Line.
  let q = p;
  const mEnd = Math.min(limit, p + MAX_METHOD);
  while (q < mEnd && token[b[q]!] === 1) q++;
  if (q === p || !isWsByte(b[q])) return -1;
  out[SL_KIND] = 1;
  out[SL_A_END] = q;
  q = skipWs(b, q, limit, out);
  const us = q;
  if (b[us] === 0x3c) return -1;
  let colon = -1;
  while (q < limit) {
    const c = b[q]!;
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
    if (c === 0x3a && colon < 0) colon = q;
    q++;
  }
  if (colon <= us || q >= limit || !isWsByte(b[q])) return -1;
  out[SL_B_START] = us;
  out[SL_B_END] = q;
  q = skipWs(b, q, limit, out);
  const vl = versionAt(b, q, limit, out);
  if (vl === 0) return -1;
  out[SL_C_START] = q;
  q += vl;
  out[SL_C_END] = q;
  if (isWsByte(b[q]) && q < limit) {
    out[SL_FLAGS]! |= StartLineFlag.whitespace;
    while (q < limit && isWsByte(b[q])) q++;
  }
  const le = lineEndAt(b, q, limit, open);
  if (le < 0) return -1;
  out[SL_LINE_END] = le;
  return le;
}

/** Scratch for the probe (read only inside one call; never escapes). */
const PROBE = new Int32Array(SL_SIZE);

/**
 * True when `payload` starts (after optional CRLF keep-alives) with a SIP request or status line that the parser
 * accepts, ended by LF or CR LF (see {@link matchStartLine}). Rejects RTP, STUN and random bytes after a few byte
 * comparisons; allocates nothing.
 */
export function looksLikeSip(payload: Buffer): boolean {
  return matchStartLine(payload, 0, payload.length, false, PROBE) >= 0;
}

/**
 * True when `b[s..e)` (one line without its line end) is a SIP start line by the same grammar (the TCP framer's
 * check and resynchronisation point).
 */
export function isSipStartLine(b: Buffer, s: number, e: number): boolean {
  // A line of the stream never starts with keep-alives here: the framer skips those itself.
  if (b[s] === 0x0d || b[s] === 0x0a) return false;
  return matchStartLine(b, s, e, true, PROBE) >= 0;
}
