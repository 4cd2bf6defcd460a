/**
 * Cheap recognisers of a SIP start line (RFC 3261 §7.1, §7.2), used to pick SIP out of UDP
 * payloads on any port and to resynchronise a TCP stream after a gap.
 */
import { TOKEN } from './chars.js';

const MAX_METHOD = 64;
const MAX_URI = 4096;

/** `SIP/2.0` at `p` (exact case: RFC 3261 §7.1 says SIP-Version is case-insensitive, nobody sends lowercase). */
function isSip20(b: Buffer, p: number): boolean {
  return (
    b[p] === 0x53 &&
    b[p + 1] === 0x49 &&
    b[p + 2] === 0x50 &&
    b[p + 3] === 0x2f &&
    b[p + 4] === 0x32 &&
    b[p + 5] === 0x2e &&
    b[p + 6] === 0x30
  );
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isAlpha(c: number | undefined): boolean {
  if (c === undefined) return false;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x7a;
}

/**
 * Match a start line at `s` without reading at or beyond `limit`. Returns the index just after the
 * matched part (after `SIP/2.0` of a request, after the 3-digit code of a response), or -1.
 * Request: `token SP scheme ":" 1*VCHAR SP "SIP/2.0"`. Response: `"SIP/2.0" SP 3DIGIT`.
 */
function matchStartLine(b: Buffer, s: number, limit: number): number {
  if (limit - s < 12) return -1;
  if (isSip20(b, s)) {
    if (b[s + 7] !== 0x20) return -1;
    if (!isDigit(b[s + 8]) || !isDigit(b[s + 9]) || !isDigit(b[s + 10])) return -1;
    if (b[s + 8]! < 0x31 || b[s + 8]! > 0x36) return -1;
    return s + 11;
  }
  let p = s;
  const mEnd = Math.min(limit, s + MAX_METHOD);
  const token = TOKEN; // a local: see chars.ts
  while (p < mEnd && token[b[p]!] === 1) p++;
  if (p === s || b[p] !== 0x20) return -1;
  p++;
  // Request-URI: a scheme then ':' then printable, non-space bytes.
  if (!isAlpha(b[p])) return -1;
  const us = p;
  const uEnd = Math.min(limit, s + MAX_URI);
  while (p < uEnd) {
    const c = b[p]!;
    if (c === 0x3a) break;
    if (!isAlpha(c) && !isDigit(c) && c !== 0x2b && c !== 0x2d && c !== 0x2e) return -1;
    p++;
  }
  if (b[p] !== 0x3a || p === us) return -1;
  p++;
  const rs = p;
  while (p < uEnd) {
    const c = b[p]!;
    if (c <= 0x20 || c === 0x7f) break;
    p++;
  }
  if (p === rs || b[p] !== 0x20) return -1;
  p++;
  if (p + 7 > limit || !isSip20(b, p)) return -1;
  return p + 7;
}

/**
 * True when `payload` starts (after optional CRLF keep-alives) with a SIP request or status line
 * followed by a line end (trailing spaces after a request line tolerated, as RFC 4475 §3.1.2.10). Rejects RTP, STUN and random bytes after a few byte comparisons.
 */
export function looksLikeSip(payload: Buffer): boolean {
  const len = payload.length;
  let s = 0;
  while (s < len && s < 8 && (payload[s] === 0x0d || payload[s] === 0x0a)) s++;
  const c0 = payload[s];
  if (c0 === undefined || TOKEN[c0] !== 1) return false;
  const end = matchStartLine(payload, s, len);
  if (end < 0) return false;
  const n = payload[end];
  if (payload[s] === 0x53 && isSip20(payload, s)) {
    // Status line: SP reason or the line end.
    return n === 0x20 || n === 0x0d || n === 0x0a;
  }
  let q = end;
  while (payload[q] === 0x20 || payload[q] === 0x09) q++;
  const t = payload[q];
  return t === 0x0d || t === 0x0a;
}

/**
 * True when `b[s..e)` (one line without its line end) is a SIP start line. Trailing spaces are
 * tolerated after a request line (RFC 4475 §3.1.2.10 calls them invalid but liberal receivers cope).
 */
export function isSipStartLine(b: Buffer, s: number, e: number): boolean {
  const end = matchStartLine(b, s, e);
  if (end < 0 || end > e) return false;
  if (isSip20(b, s)) return end === e || b[end] === 0x20;
  for (let p = end; p < e; p++) if (b[p] !== 0x20 && b[p] !== 0x09) return false;
  return true;
}
