/**
 * Byte checks that a header value is in the plain form nearly every stack sends, so that its strict parse cannot
 * fail. `messageAnomalies` checks every INVITE's (and other request's) Via and Contact; decoding and parsing them into
 * objects only to learn that they are valid cost ~0.2 µs per message on the bench's traffic (issue #18 regression).
 * Each check accepts a strict subset of what its parser accepts (ASCII only, no whitespace inside, no commas, no
 * quotes, no `@` or `:` where the parser would read them differently), so `true` means "the parser finds nothing to
 * report"; `false` means only "not in the plain form": the caller then runs the parser, which decides. Nothing is
 * allocated. test/sip/plain.test.ts holds every accepted value against the parsers.
 */
import { HOST, TOKEN } from './chars.js';

/** A run of `table` bytes from `i` (not beyond `e`). */
function run(b: Buffer, i: number, e: number, table: Uint8Array): number {
  while (i < e && table[b[i]!] === 1) i++;
  return i;
}

/** `1*5DIGIT` (at most 65535) at `i`: the index after it, or -1 (also when a sixth digit follows). */
function port(b: Buffer, i: number, e: number): number {
  const s = i;
  let n = 0;
  while (i < e && i - s < 5) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
    i++;
  }
  return i === s || n > 65535 || (i < e && b[i]! >= 0x30 && b[i]! <= 0x39) ? -1 : i;
}

/**
 * Header parameters `*(";" token ["=" token])` up to `e`, no whitespace (what readParams reads without a fault).
 * `rportValue`: a parameter named rport (any case) must have an empty value or a port number (the Via parser's check).
 */
function headerParams(b: Buffer, i: number, e: number, rportValue: boolean): boolean {
  while (i < e) {
    if (b[i] !== 0x3b) return false;
    const ns = i + 1;
    i = run(b, ns, e, TOKEN);
    if (i === ns) return false;
    if (i < e && b[i] === 0x3d) {
      if (rportValue && i - ns === 5 && isRport(b, ns)) {
        // Via's rport: empty or a port number (the parser's own check).
        i++;
        if (i < e && b[i] !== 0x3b) {
          i = port(b, i, e);
          if (i < 0) return false;
        }
      } else i = run(b, i + 1, e, TOKEN);
    }
  }
  return true;
}

function isRport(b: Buffer, s: number): boolean {
  return (b[s]! | 0x20) === 0x72 && (b[s + 1]! | 0x20) === 0x70 && (b[s + 2]! | 0x20) === 0x6f && (b[s + 3]! | 0x20) === 0x72 && (b[s + 4]! | 0x20) === 0x74;
}

/**
 * `b[s..e)` (a trimmed Via value) is `SIP/2.0/` token SP host [":" port] *(";" token ["=" token]): parseTopVia accepts
 * it (one via-parm, no IPv6 reference, rport empty or a port number).
 */
export function isPlainVia(b: Buffer, s: number, e: number): boolean {
  if (
    e - s < 11 ||
    b[s] !== 0x53 ||
    b[s + 1] !== 0x49 ||
    b[s + 2] !== 0x50 ||
    b[s + 3] !== 0x2f ||
    b[s + 4] !== 0x32 ||
    b[s + 5] !== 0x2e ||
    b[s + 6] !== 0x30 ||
    b[s + 7] !== 0x2f
  ) {
    return false;
  }
  let i = run(b, s + 8, e, TOKEN);
  if (i === s + 8 || i >= e || b[i] !== 0x20) return false;
  const hs = i + 1;
  i = run(b, hs, e, HOST);
  if (i === hs) return false;
  if (i < e && b[i] === 0x3a) {
    i = port(b, i + 1, e);
    if (i < 0) return false;
  }
  return headerParams(b, i, e, true);
}

/** Bytes of a SIP URI's user part, parameter names and values in the plain form (a subset of the URI grammar's). */
const URI_PLAIN = (() => {
  const t = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const c of "-_.!~*'+%") t[c.charCodeAt(0)] = 1;
  return t;
})();

/**
 * `b[s..e)` (a trimmed Contact value) is `<sip:` or `<sips:`, [user "@"] host [":" port] *(";" name ["=" value]) `>`,
 * then *(";" token ["=" token]): one name-addr whose strict parse and URI parse succeed (so the Contact check notes
 * nothing for it).
 */
export function isPlainContact(b: Buffer, s: number, e: number): boolean {
  if (e - s < 7 || b[s] !== 0x3c || b[s + 1] !== 0x73 || b[s + 2] !== 0x69 || b[s + 3] !== 0x70) return false;
  let i = s + 4;
  if (b[i] === 0x73) i++;
  if (b[i] !== 0x3a) return false;
  const us = i + 1;
  i = run(b, us, e, URI_PLAIN);
  if (i < e && b[i] === 0x40) {
    if (i === us) return false;
    i++;
  } else i = us; // no user part: the host starts after the scheme (and no '@' follows: none is in the plain bytes)
  const hs = i;
  i = run(b, hs, e, HOST);
  if (i === hs) return false;
  if (i < e && b[i] === 0x3a) {
    i = port(b, i + 1, e);
    if (i < 0) return false;
  }
  while (i < e && b[i] === 0x3b) {
    const ns = i + 1;
    i = run(b, ns, e, URI_PLAIN);
    if (i === ns) return false;
    if (i < e && b[i] === 0x3d) i = run(b, i + 1, e, URI_PLAIN);
  }
  if (i >= e || b[i] !== 0x3e) return false;
  return headerParams(b, i + 1, e, false);
}
