/**
 * Minimal DER reader (ITU-T X.690 §8, §10): just enough to walk an X.509 certificate to its extensions
 * and decode a TNAuthList (RFC 8226). Pure functions over a Buffer; every length is checked before it
 * is read, and bad input returns `{kind:'invalid'}` instead of throwing (DESIGN.md §8.1).
 */

/** One tag-length-value element located inside a buffer. */
export interface Tlv {
  /** The identifier octet (class, constructed bit, tag number); only low tag numbers are supported. */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

export type DerResult<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'invalid'; readonly reason: string };

export const DerTag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads the element that starts at `offset` and must end at or before `limit`. */
export function readTlv(buf: Buffer, offset: number, limit: number = buf.length): DerResult<Tlv> {
  const end0 = Math.min(limit, buf.length);
  if (offset + 2 > end0) return { kind: 'invalid', reason: `truncated DER element at offset ${offset}` };
  const tag = buf.readUInt8(offset);
  if ((tag & 0x1f) === 0x1f) return { kind: 'invalid', reason: `high tag number form at offset ${offset}` };
  const first = buf.readUInt8(offset + 1);
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const n = first & 0x7f;
    if (n === 0) return { kind: 'invalid', reason: `indefinite length at offset ${offset} (not DER)` };
    if (n > 4) return { kind: 'invalid', reason: `length of ${n} octets at offset ${offset}` };
    if (offset + 2 + n > end0) return { kind: 'invalid', reason: `truncated length at offset ${offset}` };
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf.readUInt8(offset + 2 + i);
    contentStart = offset + 2 + n;
  }
  const end = contentStart + length;
  if (end > end0) return { kind: 'invalid', reason: `element at offset ${offset} overruns its container` };
  return { kind: 'ok', value: { tag, start: offset, contentStart, end } };
}

/** Reads a whole buffer (or slice) that must contain exactly one element. */
export function readSingle(buf: Buffer, expectedTag?: number): DerResult<Tlv> {
  const r = readTlv(buf, 0);
  if (r.kind === 'invalid') return r;
  if (r.value.end !== buf.length) return { kind: 'invalid', reason: 'trailing bytes after DER element' };
  if (expectedTag !== undefined && r.value.tag !== expectedTag) {
    return { kind: 'invalid', reason: `expected tag 0x${hex(expectedTag)}, found 0x${hex(r.value.tag)}` };
  }
  return r;
}

/** The elements inside a constructed element, in order. */
export function childrenOf(buf: Buffer, parent: Tlv): DerResult<Tlv[]> {
  if ((parent.tag & 0x20) === 0) return { kind: 'invalid', reason: `tag 0x${hex(parent.tag)} is not constructed` };
  const items: Tlv[] = [];
  let at = parent.contentStart;
  while (at < parent.end) {
    const r = readTlv(buf, at, parent.end);
    if (r.kind === 'invalid') return r;
    items.push(r.value);
    at = r.value.end;
  }
  return { kind: 'ok', value: items };
}

/** Content octets of an element (a view, not a copy). */
export function contentOf(buf: Buffer, tlv: Tlv): Buffer {
  return buf.subarray(tlv.contentStart, tlv.end);
}

/** Dotted form of an OBJECT IDENTIFIER's content octets (X.690 §8.19). */
export function decodeOid(content: Buffer): DerResult<string> {
  if (content.length === 0) return { kind: 'invalid', reason: 'empty OID' };
  const arcs: number[] = [];
  let value = 0;
  let inArc = false;
  for (let i = 0; i < content.length; i++) {
    const b = content.readUInt8(i);
    if (!inArc && b === 0x80) return { kind: 'invalid', reason: 'OID arc with leading 0x80' };
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) return { kind: 'invalid', reason: 'OID arc too large' };
    if (b & 0x80) {
      inArc = true;
      continue;
    }
    if (arcs.length === 0) {
      if (value < 40) arcs.push(0, value);
      else if (value < 80) arcs.push(1, value - 40);
      else arcs.push(2, value - 80);
    } else arcs.push(value);
    value = 0;
    inArc = false;
  }
  if (inArc) return { kind: 'invalid', reason: 'truncated OID arc' };
  return { kind: 'ok', value: arcs.join('.') };
}

/** Non-negative INTEGER content as a JS number (rejects negatives and values beyond 2^53). */
export function decodeUnsigned(content: Buffer): DerResult<number> {
  if (content.length === 0) return { kind: 'invalid', reason: 'empty INTEGER' };
  if (content.readUInt8(0) & 0x80) return { kind: 'invalid', reason: 'negative INTEGER' };
  if (content.length > 7) return { kind: 'invalid', reason: 'INTEGER too large' };
  let v = 0;
  for (let i = 0; i < content.length; i++) v = v * 256 + content.readUInt8(i);
  if (!Number.isSafeInteger(v)) return { kind: 'invalid', reason: 'INTEGER too large' };
  return { kind: 'ok', value: v };
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
