/**
 * HEP v3 (Homer Encapsulation Protocol) decoder and encoder, and a framer for HEP over TCP.
 *
 * Wire format (big-endian; DESIGN.md §9, HEP3 spec by sipcapture):
 *   "HEP3" | u16 total length (whole packet, header included) | chunks
 *   chunk  = u16 vendor id | u16 type id | u16 length (including this 6-byte header) | value
 * Vendor 0 chunk types used here: 1 IP family (2 = IPv4, 10 = IPv6), 2 IP protocol, 3/4 src/dst IPv4,
 * 5/6 src/dst IPv6, 7/8 src/dst port, 9 timestamp seconds, 10 timestamp microseconds, 11 payload type
 * (1 = SIP), 12 capture agent id, 14 auth key, 15 payload, 16 compressed payload, 17 correlation id.
 *
 * The decoder is pure (DESIGN.md §8.1): every length is checked before it is read and bad input
 * returns `{kind:'invalid', reason}`; it never throws.
 */
import { gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { Datagram, Endpoint, Origin, Parse, Timestamp, Transport } from '../types.js';
import { SpoofwatchError } from '../types.js';
import { parseIPv4, parseIPv6 } from './addr.js';
import { AddressTextCache } from './address-text.js';

/** One decoded HEP packet (v1, v2 or v3). `payload` is a slice of the input unless it was decompressed. */
export interface HepPacket {
  /** HEP version the agent sent; absent means 3 (the encoder's default). */
  readonly version?: 1 | 2 | 3;
  readonly ipFamily: 4 | 6;
  /** IANA protocol number: 17 UDP, 6 TCP (others are passed through). */
  readonly ipProtocol: number;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  /** Chunk 9 seconds + chunk 10 microseconds; {0,0} when the agent sent no timestamp. */
  readonly ts: Timestamp;
  /** True when chunk 9 was absent, so `ts` is not the agent's capture time. */
  readonly tsMissing?: boolean;
  /** Chunk 11; 1 = SIP. 0 when the agent did not send one. */
  readonly payloadType: number;
  /** Chunk 12, the capture agent id (Kamailio `hep_capture_id`, heplify `-hi`). */
  readonly captureId?: number;
  /** Chunk 14 as text (Kamailio `hep_capture_password` / heplify `-hp`). */
  readonly authKey?: string;
  /** Chunk 17 as text. */
  readonly correlationId?: string;
  readonly payload: Buffer;
  /** The payload arrived in chunk 16 (gzip or zlib deflate) and was inflated. */
  readonly compressed?: boolean;
}

export const HEP_MAGIC = Buffer.from('HEP3', 'latin1');
const HEADER_LEN = 6;
const CHUNK_HEADER_LEN = 6;
/** Upper bound of a HEP packet and of an inflated payload (the total length field is a u16). */
export const HEP_MAX_LEN = 64 * 1024;

/** Vendor-0 chunk types (HEP3 spec, "generic chunk types"). */
export const HepChunk = {
  IP_FAMILY: 1,
  IP_PROTOCOL: 2,
  SRC_IPV4: 3,
  DST_IPV4: 4,
  SRC_IPV6: 5,
  DST_IPV6: 6,
  SRC_PORT: 7,
  DST_PORT: 8,
  TS_SEC: 9,
  TS_USEC: 10,
  PAYLOAD_TYPE: 11,
  CAPTURE_ID: 12,
  AUTH_KEY: 14,
  PAYLOAD: 15,
  COMPRESSED_PAYLOAD: 16,
  CORRELATION_ID: 17,
} as const;

/** Value size of each fixed-size chunk type by type id; 0 for the variable-size and unknown types. */
const FIXED_SIZE: readonly number[] = (() => {
  const t = new Array<number>(18).fill(0);
  const sizes: [number, number][] = [
    [HepChunk.IP_FAMILY, 1],
    [HepChunk.IP_PROTOCOL, 1],
    [HepChunk.SRC_IPV4, 4],
    [HepChunk.DST_IPV4, 4],
    [HepChunk.SRC_IPV6, 16],
    [HepChunk.DST_IPV6, 16],
    [HepChunk.SRC_PORT, 2],
    [HepChunk.DST_PORT, 2],
    [HepChunk.TS_SEC, 4],
    [HepChunk.TS_USEC, 4],
    [HepChunk.PAYLOAD_TYPE, 1],
    [HepChunk.CAPTURE_ID, 4],
  ];
  for (const [type, size] of sizes) t[type] = size;
  return t;
})();

const invalid = (reason: string): { kind: 'invalid'; reason: string } => ({ kind: 'invalid', reason });

/** True when `buf` (shorter than 4 bytes) could still become "HEP3". */
function isMagicPrefix(buf: Buffer): boolean {
  for (let i = 0; i < buf.length && i < 4; i++) if (buf[i] !== HEP_MAGIC[i]) return false;
  return true;
}

/**
 * Inflate a chunk-16 payload, gzip (1f 8b) or zlib (RFC 1950) and, failing both, raw deflate,
 * never producing more than {@link HEP_MAX_LEN} bytes. Returns a reason string on failure.
 */
function inflateBounded(data: Buffer): Buffer | string {
  const opts = { maxOutputLength: HEP_MAX_LEN };
  try {
    if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) return gunzipSync(data, opts);
    // RFC 1950 §2.2: CMF/FLG with CM = 8 and (CMF*256 + FLG) divisible by 31.
    if (data.length >= 2 && ((data[0] ?? 0) & 0x0f) === 8 && (((data[0] ?? 0) << 8) | (data[1] ?? 0)) % 31 === 0) {
      return inflateSync(data, opts);
    }
    return inflateRawSync(data, opts);
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : '';
    if (code === 'ERR_BUFFER_TOO_LARGE' || (e instanceof RangeError && /larger than/i.test(e.message))) {
      return `compressed payload inflates beyond ${HEP_MAX_LEN} bytes`;
    }
    return 'compressed payload does not inflate';
  }
}

/**
 * Decode one HEP v3 packet from the start of `buf`.
 * - `incomplete` when `buf` is a prefix of a packet (fewer bytes than the declared total length),
 * - `invalid` with a named reason for anything malformed,
 * - `ok` with `consumed` = the total length; bytes after it are left for the next call.
 * `addrs`: the caller's address-text cache for a feed it decodes packet after packet (a HEP feed names the same few
 * proxies and peers in almost every packet; formatting them twice per packet was a fifth of the decode). Without
 * one, the packet gets a cache of its own.
 */
export function decodeHep(buf: Buffer, addrs: AddressTextCache = new AddressTextCache()): Parse<HepPacket> {
  const b0 = buf[0];
  if (b0 === 1 || b0 === 2) return decodeHepV12(buf, buf.length, addrs);
  if (buf.length < HEADER_LEN) {
    return isMagicPrefix(buf) ? { kind: 'incomplete', need: HEADER_LEN } : invalid('not HEP3: bad magic');
  }
  if (buf.readUInt32BE(0) !== 0x48455033) return invalid('not HEP3: bad magic');
  const total = buf.readUInt16BE(4);
  if (total < HEADER_LEN) return invalid(`total length ${total} below header size`);
  if (total > HEP_MAX_LEN) return invalid(`total length ${total} above ${HEP_MAX_LEN}`);
  if (buf.length < total) return { kind: 'incomplete', need: total };

  let family: number | undefined;
  let ipProtocol: number | undefined;
  let src4: string | undefined;
  let dst4: string | undefined;
  let src6: string | undefined;
  let dst6: string | undefined;
  let srcPort: number | undefined;
  let dstPort: number | undefined;
  let tsSec: number | undefined;
  let tsUsec: number | undefined;
  let payloadType: number | undefined;
  let captureId: number | undefined;
  let authKey: string | undefined;
  let correlationId: string | undefined;
  let payload: Buffer | undefined;
  let compressed: Buffer | undefined;
  /** Bit t set once a known vendor-0 chunk of type t (1…17) was read. */
  let seen = 0;

  let off = HEADER_LEN;
  while (off < total) {
    if (total - off < CHUNK_HEADER_LEN) return invalid(`truncated chunk header at offset ${off}`);
    const vendor = buf.readUInt16BE(off);
    const type = buf.readUInt16BE(off + 2);
    const len = buf.readUInt16BE(off + 4);
    if (len < CHUNK_HEADER_LEN) return invalid(`chunk ${vendor}/${type} length ${len} below chunk header size`);
    if (len > total - off) return invalid(`chunk ${vendor}/${type} length ${len} runs past total length`);
    const v = off + CHUNK_HEADER_LEN;
    const size = len - CHUNK_HEADER_LEN;
    off += len;
    // Vendor chunks (and vendor-0 types we do not know) are extensions: skip them.
    if (vendor !== 0) continue;
    const fixed = type < FIXED_SIZE.length ? FIXED_SIZE[type]! : 0;
    if (fixed !== 0 && size !== fixed) return invalid(`chunk type ${type} has ${size} value bytes, expected ${fixed}`);
    const known = fixed !== 0 || type === 14 || type === 15 || type === 16 || type === 17;
    if (!known) continue;
    // A packet that names two source addresses (or two payloads) is ambiguous evidence.
    const bit = 1 << type;
    if ((seen & bit) !== 0) return invalid(`duplicate chunk type ${type}`);
    seen |= bit;
    switch (type) {
      case HepChunk.IP_FAMILY:
        family = buf[v];
        break;
      case HepChunk.IP_PROTOCOL:
        ipProtocol = buf[v];
        break;
      // (Sizes were checked above: 4 / 16 value bytes inside the packet, as the cache requires.)
      case HepChunk.SRC_IPV4:
        src4 = addrs.ipv4(buf, v);
        break;
      case HepChunk.DST_IPV4:
        dst4 = addrs.ipv4(buf, v);
        break;
      case HepChunk.SRC_IPV6:
        src6 = addrs.ipv6(buf, v);
        break;
      case HepChunk.DST_IPV6:
        dst6 = addrs.ipv6(buf, v);
        break;
      case HepChunk.SRC_PORT:
        srcPort = buf.readUInt16BE(v);
        break;
      case HepChunk.DST_PORT:
        dstPort = buf.readUInt16BE(v);
        break;
      case HepChunk.TS_SEC:
        tsSec = buf.readUInt32BE(v);
        break;
      case HepChunk.TS_USEC:
        tsUsec = buf.readUInt32BE(v);
        break;
      case HepChunk.PAYLOAD_TYPE:
        payloadType = buf[v];
        break;
      case HepChunk.CAPTURE_ID:
        captureId = buf.readUInt32BE(v);
        break;
      case HepChunk.AUTH_KEY:
        authKey = buf.toString('utf8', v, v + size);
        break;
      case HepChunk.PAYLOAD:
        payload = buf.subarray(v, v + size);
        break;
      case HepChunk.COMPRESSED_PAYLOAD:
        compressed = buf.subarray(v, v + size);
        break;
      case HepChunk.CORRELATION_ID:
        correlationId = buf.toString('utf8', v, v + size);
        break;
    }
  }

  if (family === undefined) return invalid('missing IP family chunk (1)');
  if (family !== 2 && family !== 10) return invalid(`unknown IP family ${family}`);
  const ipFamily: 4 | 6 = family === 2 ? 4 : 6;
  const srcIp = ipFamily === 4 ? src4 : src6;
  const dstIp = ipFamily === 4 ? dst4 : dst6;
  if (srcIp === undefined) return invalid(ipFamily === 4 ? 'missing source IPv4 chunk (3)' : 'missing source IPv6 chunk (5)');
  if (dstIp === undefined) return invalid(ipFamily === 4 ? 'missing destination IPv4 chunk (4)' : 'missing destination IPv6 chunk (6)');
  if (srcPort === undefined) return invalid('missing source port chunk (7)');
  if (dstPort === undefined) return invalid('missing destination port chunk (8)');
  if (ipProtocol === undefined) return invalid('missing IP protocol chunk (2)');
  if (tsUsec !== undefined && tsUsec > 999_999) return invalid(`timestamp microseconds ${tsUsec} out of range`);
  if (payload !== undefined && compressed !== undefined) return invalid('both payload (15) and compressed payload (16) chunks');
  let isCompressed = false;
  if (compressed !== undefined) {
    const inflated = inflateBounded(compressed);
    if (typeof inflated === 'string') return invalid(inflated);
    payload = inflated;
    isCompressed = true;
  }
  if (payload === undefined) return invalid('missing payload chunk (15 or 16)');

  const packet: HepPacket = {
    ipFamily,
    ipProtocol,
    src: { ip: srcIp, port: srcPort },
    dst: { ip: dstIp, port: dstPort },
    ts: { sec: tsSec ?? 0, nsec: (tsUsec ?? 0) * 1000 },
    ...(tsSec === undefined ? { tsMissing: true } : {}),
    payloadType: payloadType ?? 0,
    ...(captureId !== undefined ? { captureId } : {}),
    ...(authKey !== undefined ? { authKey } : {}),
    ...(correlationId !== undefined ? { correlationId } : {}),
    payload,
    ...(isCompressed ? { compressed: true } : {}),
  };
  return { kind: 'ok', value: packet, consumed: total };
}

/**
 * HEP v1/v2 layout (Kamailio siptrace `hep_version` 1|2, sipcapture `hepv2_received`; captagent 4): no total length,
 * the payload runs to the end of the datagram.
 *   hep_hdr (8):      u8 version (1|2) | u8 header length (8 + address block) | u8 family (2 AF_INET, 10 AF_INET6)
 *                     | u8 IP protocol | u16 source port | u16 destination port (ports in network byte order)
 *   hep_iphdr (8) / hep_ip6hdr (32): source address | destination address
 *   v2 only, hep_timehdr (12, a C struct with 2 bytes of tail padding): u32 tv_sec | u32 tv_usec | u16 capture id,
 *                     all three little-endian (Kamailio writes them with `to_le` / host order on x86)
 * The header length field counts hep_hdr and the address block, not the time header (Kamailio sets it so).
 */
const V12_HEADER_LEN = 8;
const V2_TIME_LEN = 12;

type V12Layout = { readonly kind: 'ok'; readonly family: 4 | 6; readonly headerLen: number } | { readonly kind: 'incomplete'; readonly need: number } | { readonly kind: 'invalid'; readonly reason: string };

/** Checks the fixed part of a HEP v1/v2 header at the start of `buf` (whose first byte is 1 or 2). */
function v12Layout(buf: Buffer): V12Layout {
  const version = buf[0];
  const hl = buf[1];
  const fam = buf[2];
  if (hl !== undefined && hl !== 16 && hl !== 40) return invalid(`HEP v${version}: header length ${hl}, expected 16 (IPv4) or 40 (IPv6)`);
  if (fam !== undefined && fam !== 2 && fam !== 10) return invalid(`HEP v${version}: unknown address family ${fam}`);
  if (hl === undefined || fam === undefined) return { kind: 'incomplete', need: V12_HEADER_LEN };
  const family: 4 | 6 = fam === 2 ? 4 : 6;
  if (hl !== (family === 4 ? 16 : 40)) return invalid(`HEP v${version}: header length ${hl} does not match IPv${family}`);
  const headerLen = hl + (version === 2 ? V2_TIME_LEN : 0);
  if (buf.length < headerLen) return { kind: 'incomplete', need: headerLen };
  return { kind: 'ok', family, headerLen };
}

/**
 * Cheap test for a HEP v1/v2 packet at the start of a datagram: version byte, a header length and family that
 * agree, and room for the header. A SIP message starts with a letter, so this never costs SIP more than one compare.
 */
export function looksLikeHepV12(buf: Buffer): boolean {
  const b0 = buf[0];
  if (b0 !== 1 && b0 !== 2) return false;
  const lay = v12Layout(buf);
  return lay.kind === 'ok' && buf.length > lay.headerLen;
}

/** Decode a HEP v1/v2 packet occupying `buf[0, end)`; the payload is everything after the header. */
function decodeHepV12(buf: Buffer, end: number, addrs: AddressTextCache): Parse<HepPacket> {
  const lay = v12Layout(end === buf.length ? buf : buf.subarray(0, end));
  if (lay.kind !== 'ok') return lay;
  const version = buf[0] === 1 ? 1 : 2;
  const v4 = lay.family === 4;
  const src = v4 ? addrs.ipv4(buf, V12_HEADER_LEN) : addrs.ipv6(buf, V12_HEADER_LEN);
  const dst = v4 ? addrs.ipv4(buf, V12_HEADER_LEN + 4) : addrs.ipv6(buf, V12_HEADER_LEN + 16);
  let ts: Timestamp = { sec: 0, nsec: 0 };
  let captureId: number | undefined;
  if (version === 2) {
    const t = (buf[1] ?? 0) as number;
    const usec = buf.readUInt32LE(t + 4);
    if (usec > 999_999) return invalid(`HEP v2: timestamp microseconds ${usec} out of range`);
    ts = { sec: buf.readUInt32LE(t), nsec: usec * 1000 };
    captureId = buf.readUInt16LE(t + 8);
  }
  if (end <= lay.headerLen) return invalid(`HEP v${version}: no payload after the ${lay.headerLen}-byte header`);
  const packet: HepPacket = {
    version,
    ipFamily: lay.family,
    ipProtocol: buf[3] ?? 0,
    src: { ip: src, port: buf.readUInt16BE(4) },
    dst: { ip: dst, port: buf.readUInt16BE(6) },
    ts,
    ...(version === 1 ? { tsMissing: true } : {}),
    // v1/v2 have no payload type: they carry SIP only.
    payloadType: 1,
    ...(captureId !== undefined ? { captureId } : {}),
    payload: buf.subarray(lay.headerLen, end),
  };
  return { kind: 'ok', value: packet, consumed: end };
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * The value of the Content-Length (or compact `l`) header among the header lines `buf[start, end)`, RFC 3261 §20.14 /
 * §7.3.3; undefined when absent, -1 when unparseable.
 */
function contentLengthOf(buf: Buffer, start: number, end: number): number | undefined {
  let line = start;
  while (line < end) {
    let eol = buf.indexOf(0x0a, line);
    if (eol < 0 || eol > end) eol = end;
    // The colon of this line only (a search past the line would make a long header block quadratic).
    const at = buf.subarray(line, eol).indexOf(0x3a);
    const colon = at < 0 ? -1 : line + at;
    if (colon > line) {
      const name = buf.toString('latin1', line, colon).trim().toLowerCase();
      if (name === 'content-length' || name === 'l') {
        const v = buf.toString('latin1', colon + 1, eol).trim();
        return /^[0-9]{1,9}$/.test(v) ? Number(v) : -1;
      }
    }
    line = eol + 1;
  }
  return undefined;
}

/**
 * Frame one HEP v1/v2 packet at the start of a TCP byte stream. v1/v2 have no length field, so the packet ends where
 * its SIP message ends: the header, then SIP headers up to the empty line, then Content-Length body bytes (RFC 3261
 * §18.3; a message without Content-Length on a stream is taken as bodiless).
 */
interface V12Frame {
  readonly r: Parse<HepPacket>;
  /** Incomplete: the end of SIP headers is known not to start before this offset (resume the search there). */
  readonly scanned?: number;
  /** Invalid: the bytes up to this offset cannot hold a packet start worth trying (resynchronise there). */
  readonly skip?: number;
}

function frameHepV12(buf: Buffer, addrs: AddressTextCache, scannedBefore: number): V12Frame {
  const lay = v12Layout(buf);
  if (lay.kind !== 'ok') return { r: lay };
  const limit = Math.min(buf.length, lay.headerLen + HEP_MAX_LEN);
  // Each byte is searched once per packet, however the stream is split (a byte-by-byte sender stays linear).
  const eoh = buf.subarray(0, limit).indexOf(CRLFCRLF, Math.max(lay.headerLen, scannedBefore));
  const v = buf[0];
  if (eoh < 0) {
    const scanned = Math.max(lay.headerLen, limit - 3);
    if (buf.length - lay.headerLen >= HEP_MAX_LEN) return { r: invalid(`HEP v${v} over TCP: no end of SIP headers within ${HEP_MAX_LEN} bytes`), skip: scanned };
    return { r: { kind: 'incomplete', need: buf.length + 1 }, scanned };
  }
  // A broken message's header block cannot hold the start of a good packet whose SIP starts after it: skip it whole,
  // so hostile look-alike headers cost one pass, not one per byte.
  const cl = contentLengthOf(buf, lay.headerLen, eoh);
  if (cl === -1) return { r: invalid(`HEP v${v} over TCP: unparseable Content-Length`), skip: eoh + 4 };
  const end = eoh + 4 + (cl ?? 0);
  if (end - lay.headerLen > HEP_MAX_LEN) return { r: invalid(`HEP v${v} over TCP: message of ${end - lay.headerLen} bytes above ${HEP_MAX_LEN}`), skip: eoh + 4 };
  if (buf.length < end) return { r: { kind: 'incomplete', need: end }, scanned: eoh };
  return { r: decodeHepV12(buf, end, addrs) };
}

/** True when `buf[pos…]` can be (or, near the end, can still become) the start of a HEP v1, v2 or v3 packet. */
function hepStartAt(buf: Buffer, pos: number): boolean {
  const b0 = buf[pos];
  if (b0 === 1 || b0 === 2) {
    const hl = buf[pos + 1];
    const fam = buf[pos + 2];
    if (hl === undefined) return true;
    if (hl !== 16 && hl !== 40) return false;
    return fam === undefined || (fam === 2 && hl === 16) || (fam === 10 && hl === 40);
  }
  if (buf.length - pos >= 4) return buf.readUInt32BE(pos) === 0x48455033;
  return isMagicPrefix(buf.subarray(pos));
}

/** Address bytes of the few addresses an encoder sees again and again (hep-send, the bench), bounded. */
const ADDR_CACHE = new Map<string, Buffer>();
const ADDR_CACHE_MAX = 1024;

function addrBytes(family: 4 | 6, ip: string): Buffer {
  const key = family === 4 ? ip : `6/${ip}`;
  let b = ADDR_CACHE.get(key);
  if (b === undefined) {
    b = family === 4 ? parseIPv4(ip) : parseIPv6(ip);
    if (!b) throw new SpoofwatchError('HEP_ENCODE', `address ${ip} is not IPv${family}`);
    if (ADDR_CACHE.size >= ADDR_CACHE_MAX) ADDR_CACHE.clear();
    ADDR_CACHE.set(key, b);
  }
  return b;
}

/** Write a chunk header at `o` for a value of `len` bytes; returns the offset of the value. */
function chunkHead(b: Buffer, o: number, type: number, len: number): number {
  b.writeUInt16BE(0, o);
  b.writeUInt16BE(type, o + 2);
  b.writeUInt16BE(CHUNK_HEADER_LEN + len, o + 4);
  return o + CHUNK_HEADER_LEN;
}

/**
 * Encode a packet as HEP v3, chunks in the order heplify writes them
 * (1, 2, 3|5, 4|6, 7, 8, 9, 10, 11, 12, 14?, 15|16, 17?). With `compressed: true` the payload is
 * gzip-compressed into chunk 16. `ts.nsec` is truncated to microseconds (HEP has no finer field).
 * Throws `SpoofwatchError` (code `HEP_ENCODE`) on an address that does not match the family or a
 * packet that would exceed the 16-bit total length. One buffer, written in place (it was ~30 small
 * buffers and two concatenations per packet: most of what `hep-send` and the bench's sender spent).
 */
export function encodeHep(p: HepPacket): Buffer {
  const v4 = p.ipFamily === 4;
  const src = addrBytes(p.ipFamily, p.src.ip);
  const dst = addrBytes(p.ipFamily, p.dst.ip);
  const payload = p.compressed ? gzipSync(p.payload) : p.payload;
  const auth = p.authKey !== undefined ? Buffer.from(p.authKey, 'utf8') : undefined;
  const corr = p.correlationId !== undefined ? Buffer.from(p.correlationId, 'utf8') : undefined;
  const total =
    HEADER_LEN +
    9 * CHUNK_HEADER_LEN +
    (1 + 1 + src.length + dst.length + 2 + 2 + 4 + 4 + 1) +
    (p.captureId !== undefined ? CHUNK_HEADER_LEN + 4 : 0) +
    (auth ? CHUNK_HEADER_LEN + auth.length : 0) +
    CHUNK_HEADER_LEN +
    payload.length +
    (corr ? CHUNK_HEADER_LEN + corr.length : 0);
  if (total > 0xffff) throw new SpoofwatchError('HEP_ENCODE', `packet of ${total} bytes exceeds the 16-bit total length`);
  const b = Buffer.allocUnsafe(total);
  HEP_MAGIC.copy(b, 0);
  b.writeUInt16BE(total, 4);
  let o = chunkHead(b, HEADER_LEN, HepChunk.IP_FAMILY, 1);
  b[o++] = v4 ? 2 : 10;
  o = chunkHead(b, o, HepChunk.IP_PROTOCOL, 1);
  b[o++] = p.ipProtocol & 0xff;
  o = chunkHead(b, o, v4 ? HepChunk.SRC_IPV4 : HepChunk.SRC_IPV6, src.length);
  o += src.copy(b, o);
  o = chunkHead(b, o, v4 ? HepChunk.DST_IPV4 : HepChunk.DST_IPV6, dst.length);
  o += dst.copy(b, o);
  o = b.writeUInt16BE(p.src.port, chunkHead(b, o, HepChunk.SRC_PORT, 2));
  o = b.writeUInt16BE(p.dst.port, chunkHead(b, o, HepChunk.DST_PORT, 2));
  o = b.writeUInt32BE(p.ts.sec >>> 0, chunkHead(b, o, HepChunk.TS_SEC, 4));
  o = b.writeUInt32BE(Math.floor(p.ts.nsec / 1000) >>> 0, chunkHead(b, o, HepChunk.TS_USEC, 4));
  o = chunkHead(b, o, HepChunk.PAYLOAD_TYPE, 1);
  b[o++] = p.payloadType & 0xff;
  if (p.captureId !== undefined) o = b.writeUInt32BE(p.captureId >>> 0, chunkHead(b, o, HepChunk.CAPTURE_ID, 4));
  if (auth) o += auth.copy(b, chunkHead(b, o, HepChunk.AUTH_KEY, auth.length)) + CHUNK_HEADER_LEN;
  o = chunkHead(b, o, p.compressed ? HepChunk.COMPRESSED_PAYLOAD : HepChunk.PAYLOAD, payload.length);
  o += payload.copy(b, o);
  if (corr) o += corr.copy(b, chunkHead(b, o, HepChunk.CORRELATION_ID, corr.length)) + CHUNK_HEADER_LEN;
  return b;
}

/**
 * Encode a packet as HEP v1 or v2 (the layout Kamailio's siptrace sends with `hep_version` 1|2; see the v1/v2 layout
 * above): v2 adds the capture time (microseconds) and the capture id, truncated to 16 bits as the format has it.
 * Throws `SpoofwatchError` (code `HEP_ENCODE`) on an address that does not match the family.
 */
export function encodeHepV12(p: HepPacket, version: 1 | 2): Buffer {
  const v4 = p.ipFamily === 4;
  const src = addrBytes(p.ipFamily, p.src.ip);
  const dst = addrBytes(p.ipFamily, p.dst.ip);
  const hl = V12_HEADER_LEN + src.length + dst.length;
  const headerLen = hl + (version === 2 ? V2_TIME_LEN : 0);
  const b = Buffer.alloc(headerLen + p.payload.length);
  b[0] = version;
  b[1] = hl;
  b[2] = v4 ? 2 : 10;
  b[3] = p.ipProtocol & 0xff;
  b.writeUInt16BE(p.src.port, 4);
  b.writeUInt16BE(p.dst.port, 6);
  src.copy(b, V12_HEADER_LEN);
  dst.copy(b, V12_HEADER_LEN + src.length);
  if (version === 2) {
    b.writeUInt32LE(p.ts.sec >>> 0, hl);
    b.writeUInt32LE(Math.floor(p.ts.nsec / 1000) >>> 0, hl + 4);
    b.writeUInt16LE((p.captureId ?? 0) & 0xffff, hl + 8);
  }
  p.payload.copy(b, headerLen);
  return b;
}

/** Counters of a {@link HepStreamFramer}; every byte it throws away is counted here. */
export interface HepFramerStats {
  packets: number;
  /** Bytes skipped while looking for the next "HEP3" (garbage between or before packets). */
  garbageBytes: number;
  /** Resynchronisations: times the framer had to search for "HEP3" after unexpected bytes. */
  resyncs: number;
  /** Packets that started with "HEP3" but did not decode; the framer resynchronised after them. */
  invalid: number;
  lastInvalidReason?: string;
}

/**
 * Frames HEP v1, v2 and v3 packets out of a TCP byte stream (v3 by its total length; v1/v2, which have none, by the
 * Content-Length of the SIP message they carry). After garbage or an invalid packet it resynchronises at the next
 * possible packet start; it holds at most one packet (≤ 64 KiB plus a header) plus a few bytes of a possible start,
 * so its memory is bounded whatever the peer sends.
 */
export class HepStreamFramer {
  private pending: Buffer = Buffer.alloc(0);
  private inGarbage = false;
  private readonly addrs = new AddressTextCache();
  /** v1/v2 packet pending at the start of the buffer: its SIP end-of-headers does not start before this offset. */
  private v12Scanned = 0;
  readonly stats: HepFramerStats = { packets: 0, garbageBytes: 0, resyncs: 0, invalid: 0 };

  /** Bytes currently held waiting for the rest of a packet. */
  get buffered(): number {
    return this.pending.length;
  }

  /** Feed the next bytes of the stream; returns every packet completed by them, in order. */
  push(chunk: Buffer): HepPacket[] {
    // Returned payloads are slices of `chunk` when nothing was pending (socket reads are fresh
    // buffers, so that is safe), otherwise of a private copy.
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: HepPacket[] = [];
    let pos = 0;
    while (pos < buf.length) {
      if (!hepStartAt(buf, pos)) {
        if (!this.inGarbage) {
          this.stats.resyncs++;
          this.inGarbage = true;
        }
        let next = pos + 1;
        while (next < buf.length && !hepStartAt(buf, next)) next++;
        // A possible start within the last 3 bytes is kept for the next read.
        this.stats.garbageBytes += next - pos;
        pos = next;
        continue;
      }
      const sub = pos === 0 ? buf : buf.subarray(pos);
      const b0 = buf[pos];
      const v12 = b0 === 1 || b0 === 2 ? frameHepV12(sub, this.addrs, pos === 0 ? this.v12Scanned : 0) : undefined;
      const r = v12 ? v12.r : decodeHep(sub, this.addrs);
      if (r.kind === 'incomplete') {
        this.v12Scanned = v12?.scanned ?? 0;
        break;
      }
      this.v12Scanned = 0;
      if (r.kind === 'invalid') {
        // The length of a broken packet cannot be trusted: skip its magic (v3), its first byte or the header block
        // it claimed (v1/v2), and resync.
        this.stats.invalid++;
        this.stats.lastInvalidReason = r.reason;
        const skip = v12 ? Math.max(1, v12.skip ?? 1) : 4;
        this.stats.garbageBytes += skip;
        this.stats.resyncs++;
        this.inGarbage = true;
        pos += skip;
        continue;
      }
      this.inGarbage = false;
      this.stats.packets++;
      out.push(r.value);
      pos += r.consumed;
    }
    buf = buf.subarray(pos);
    // Copy the remainder so a large chunk is not kept alive by a few pending bytes.
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return out;
  }
}

/** A Datagram from a HEP packet, with the origin it came through (agent id = capture id). */
export type HepDatagram = Datagram & { readonly origin: Extract<Origin, { kind: 'hep' }> };

export type HepDatagramResult =
  | { readonly kind: 'datagram'; readonly datagram: HepDatagram }
  | { readonly kind: 'skipped'; readonly reason: 'not-sip' | 'unsupported-protocol' };

const endpointKey = (e: Endpoint): string => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);

/**
 * Turn a decoded HEP packet into the Datagram the SIP layer consumes. Only SIP payloads
 * (payload type 1) over UDP (17), TCP (6) or Kamailio's TLS/WS marker (22) become datagrams; anything else is `skipped` with a
 * reason the listener counts. `frame` numbers packets within the listener (1-based).
 */
export function hepToDatagram(
  p: HepPacket,
  origin: { readonly listener: string; readonly frame: number; readonly now?: () => Timestamp },
): HepDatagramResult {
  if (p.payloadType !== 1) return { kind: 'skipped', reason: 'not-sip' };
  let transport: Transport;
  if (p.ipProtocol === 17) transport = 'udp';
  else if (p.ipProtocol === 6) transport = 'tcp';
  // Kamailio's siptrace marks TLS, WS and WSS with IPPROTO_IDP (22), its "fake proto type" (siptrace_hep.c
  // pipport2su; its sipcapture reads 22 back as TLS): an encrypted-transport message, not one to drop.
  else if (p.ipProtocol === 22) transport = 'tls';
  else return { kind: 'skipped', reason: 'unsupported-protocol' };
  const ts = p.tsMissing && origin.now ? origin.now() : p.ts;
  const datagram: HepDatagram = {
    ts,
    src: p.src,
    dst: p.dst,
    transport,
    payload: p.payload,
    frame: origin.frame,
    ...(transport === 'tcp' ? { flow: `${endpointKey(p.src)}>${endpointKey(p.dst)}` } : {}),
    origin: {
      kind: 'hep',
      listener: origin.listener,
      ...(p.captureId !== undefined ? { agentId: p.captureId } : {}),
    },
  };
  return { kind: 'datagram', datagram };
}
