/**
 * Packet builder for tests and crafted captures: link layers (Ethernet + VLAN tags, Linux SLL/SLL2,
 * BSD NULL/LOOP, PPPoE session), MPLS label stacks, IPv4 (options, fragmentation), IPv6 (extension headers,
 * fragmentation), UDP, TCP, GRE, ERSPAN type II/III, VXLAN, IP-in-IP and LLDP. Each function returns a fresh Buffer of the exact wire bytes; IPv4 header
 * checksums are computed, UDP/TCP checksums are computed when `checksum` addresses are given.
 *
 * Simple by design: no validation beyond what is needed to produce well-formed bytes, so tests can
 * also craft malformed packets by overriding length fields.
 */

export const EtherTypes = {
  IPV4: 0x0800,
  ARP: 0x0806,
  IPV6: 0x86dd,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  QINQ_OLD: 0x9100,
  TEB: 0x6558,
  PPPOE_DISCOVERY: 0x8863,
  PPPOE_SESSION: 0x8864,
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  ERSPAN_II: 0x88be,
  ERSPAN_III: 0x22eb,
  LLDP: 0x88cc,
} as const;

/** PPP protocol numbers (RFC 1661, RFC 1332, RFC 5072). */
export const PppProtocols = { IPV4: 0x0021, IPV6: 0x0057, LCP: 0xc021 } as const;

/** The VXLAN UDP port (RFC 7348 §5). */
export const VXLAN_PORT = 4789;

export const IpProto = {
  HOPOPT: 0,
  ICMP: 1,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  NONE: 59,
  DSTOPTS: 60,
} as const;

export const TcpFlags = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/** BSD address family values seen in NULL/LOOP headers. */
export const AddressFamily = { INET: 2, INET6_NETBSD: 24, INET6_FREEBSD: 28, INET6_DARWIN: 30 } as const;

// ---------------------------------------------------------------- addresses

/** 4 bytes of a dotted quad. Throws on malformed text (builder input is the test's own). */
export function ipv4Bytes(text: string): Buffer {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) {
    throw new Error(`not an IPv4 address: ${text}`);
  }
  return Buffer.from(parts);
}

/** 16 bytes of an IPv6 address (`::` and a dotted IPv4 tail accepted). */
export function ipv6Bytes(text: string): Buffer {
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > lastColon) {
    const v4 = ipv4Bytes(s.slice(lastColon + 1));
    tail.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  let words: number[];
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    const head = groups(s.slice(0, dbl));
    const rest = groups(s.slice(dbl + 2));
    const fill = 8 - tail.length - head.length - rest.length;
    words = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    words = [...groups(s), ...tail];
  }
  if (words.length !== 8 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) {
    throw new Error(`not an IPv6 address: ${text}`);
  }
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

function addressBytes(text: string): Buffer {
  return text.includes(':') ? ipv6Bytes(text) : ipv4Bytes(text);
}

function macBytes(text: string): Buffer {
  const b = Buffer.from(text.replace(/[:-]/g, ''), 'hex');
  if (b.length !== 6) throw new Error(`not a MAC address: ${text}`);
  return b;
}

/** RFC 1071 Internet checksum over the concatenation of `parts`. */
export function internetChecksum(...parts: Buffer[]): number {
  const all = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i + 1 < all.length; i += 2) sum += all.readUInt16BE(i);
  if (all.length % 2 === 1) sum += (all[all.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

// ---------------------------------------------------------------- link layers

export interface VlanTag {
  /** 0x8100 (802.1Q, default), 0x88a8 (802.1ad) or 0x9100 (pre-standard QinQ). */
  readonly tpid?: number;
  readonly vid: number;
  readonly pcp?: number;
}

function vlanTags(tags: readonly VlanTag[], etherType: number): { firstType: number; bytes: Buffer } {
  if (tags.length === 0) return { firstType: etherType, bytes: Buffer.alloc(0) };
  const out = Buffer.alloc(tags.length * 4);
  tags.forEach((t, i) => {
    out.writeUInt16BE((((t.pcp ?? 0) & 7) << 13) | (t.vid & 0x0fff), i * 4);
    const next = tags[i + 1];
    out.writeUInt16BE(next === undefined ? etherType : (next.tpid ?? EtherTypes.VLAN), i * 4 + 2);
  });
  return { firstType: tags[0]?.tpid ?? EtherTypes.VLAN, bytes: out };
}

export interface EthernetOptions {
  readonly etherType: number;
  readonly payload: Buffer;
  readonly src?: string;
  readonly dst?: string;
  /** Outermost first. */
  readonly vlans?: readonly VlanTag[];
  /** Pad to the 60-byte Ethernet minimum, as NICs do. */
  readonly pad?: boolean;
}

/** Ethernet II frame (no FCS). */
export function ethernet(o: EthernetOptions): Buffer {
  const hdr = Buffer.alloc(14);
  macBytes(o.dst ?? '02:00:00:00:00:02').copy(hdr, 0);
  macBytes(o.src ?? '02:00:00:00:00:01').copy(hdr, 6);
  const v = vlanTags(o.vlans ?? [], o.etherType);
  hdr.writeUInt16BE(v.firstType, 12);
  const frame = Buffer.concat([hdr, v.bytes, o.payload]);
  if (o.pad === true && frame.length < 60) return Buffer.concat([frame, Buffer.alloc(60 - frame.length)]);
  return frame;
}

export interface SllOptions {
  /** Ethertype of the payload. */
  readonly protocol: number;
  readonly payload: Buffer;
  /** 0 to us, 4 outgoing … */
  readonly packetType?: number;
  /** ARPHRD_ type; 1 = Ethernet, 772 = loopback. */
  readonly arphrd?: number;
  readonly address?: Buffer;
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113). */
export function sll(o: SllOptions): Buffer {
  const h = Buffer.alloc(16);
  const addr = o.address ?? Buffer.from([2, 0, 0, 0, 0, 1]);
  h.writeUInt16BE(o.packetType ?? 0, 0);
  h.writeUInt16BE(o.arphrd ?? 1, 2);
  h.writeUInt16BE(addr.length, 4);
  addr.copy(h, 6, 0, Math.min(8, addr.length));
  h.writeUInt16BE(o.protocol, 14);
  return Buffer.concat([h, o.payload]);
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276). */
export function sll2(o: SllOptions & { readonly ifindex?: number }): Buffer {
  const h = Buffer.alloc(20);
  const addr = o.address ?? Buffer.from([2, 0, 0, 0, 0, 1]);
  h.writeUInt16BE(o.protocol, 0);
  h.writeUInt32BE(o.ifindex ?? 1, 4);
  h.writeUInt16BE(o.arphrd ?? 1, 8);
  h.writeUInt8(o.packetType ?? 0, 10);
  h.writeUInt8(addr.length, 11);
  addr.copy(h, 12, 0, Math.min(8, addr.length));
  return Buffer.concat([h, o.payload]);
}

/**
 * BSD loopback header: LINKTYPE_NULL (0) stores the family in the capturing host's byte order
 * (`'le'` on x86), LINKTYPE_LOOP (108) in network byte order (`'be'`).
 */
export function loopback(family: number, payload: Buffer, byteOrder: 'le' | 'be'): Buffer {
  const h = Buffer.alloc(4);
  if (byteOrder === 'le') h.writeUInt32LE(family, 0);
  else h.writeUInt32BE(family, 0);
  return Buffer.concat([h, payload]);
}

// ---------------------------------------------------------------- IPv4

export interface Ipv4Options {
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  readonly payload: Buffer;
  readonly id?: number;
  readonly ttl?: number;
  /** IP options, padded with zeros (EOL) to a multiple of 4 bytes. */
  readonly options?: Buffer;
  readonly dontFragment?: boolean;
  readonly moreFragments?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  readonly fragmentOffset?: number;
  /** Override the total length field (for malformed packets). */
  readonly totalLength?: number;
}

/** IPv4 packet (RFC 791) with a correct header checksum. */
export function ipv4(o: Ipv4Options): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const optLen = Math.ceil(opts.length / 4) * 4;
  const hl = 20 + optLen;
  const h = Buffer.alloc(hl);
  h[0] = 0x40 | (hl / 4);
  h.writeUInt16BE(o.totalLength ?? hl + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 0x1234, 4);
  const ff =
    (o.dontFragment === true ? 0x4000 : 0) | (o.moreFragments === true ? 0x2000 : 0) | ((o.fragmentOffset ?? 0) / 8);
  h.writeUInt16BE(ff, 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.protocol;
  ipv4Bytes(o.src).copy(h, 12);
  ipv4Bytes(o.dst).copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(internetChecksum(h), 10);
  return Buffer.concat([h, o.payload]);
}

/**
 * Split `o.payload` into IPv4 fragments carrying at most `maxData` bytes each (rounded down to a
 * multiple of 8), in order. Returns complete IPv4 packets.
 */
export function fragmentIpv4(o: Ipv4Options, maxData: number): Buffer[] {
  const step = Math.floor(maxData / 8) * 8;
  if (step <= 0) throw new Error('fragment size below 8 bytes');
  const out: Buffer[] = [];
  for (let off = 0; off < o.payload.length; off += step) {
    const last = off + step >= o.payload.length;
    out.push(
      ipv4({ ...o, payload: o.payload.subarray(off, off + step), fragmentOffset: off, moreFragments: !last }),
    );
  }
  return out;
}

// ---------------------------------------------------------------- IPv6

export interface Ipv6Extension {
  /** 0 hop-by-hop, 43 routing, 60 destination options, 51 AH (other generic types work too). */
  readonly type: number;
  /** Header body after the next-header and length bytes; zero-padded to the header's unit. */
  readonly data?: Buffer;
}

/** Encode a chain of extension headers ending in `last` (the upper-layer protocol). */
export function ipv6ExtensionChain(exts: readonly Ipv6Extension[], last: number): { first: number; bytes: Buffer } {
  const parts: Buffer[] = [];
  exts.forEach((e, i) => {
    const next = exts[i + 1]?.type ?? last;
    const body = e.data ?? Buffer.alloc(0);
    if (e.type === IpProto.AH) {
      // RFC 4302: length in 4-octet units minus 2; 12 bytes minimum (SPI, sequence) + ICV.
      const total = Math.max(12, Math.ceil((2 + body.length) / 4) * 4);
      const h = Buffer.alloc(total);
      h[0] = next;
      h[1] = total / 4 - 2;
      body.copy(h, 2);
      parts.push(h);
    } else {
      const total = Math.max(8, Math.ceil((2 + body.length) / 8) * 8);
      const h = Buffer.alloc(total);
      h[0] = next;
      h[1] = total / 8 - 1;
      body.copy(h, 2);
      parts.push(h);
    }
  });
  return { first: exts[0]?.type ?? last, bytes: Buffer.concat(parts) };
}

export interface Ipv6Options {
  readonly src: string;
  readonly dst: string;
  /** Upper-layer protocol of `payload`. */
  readonly nextHeader: number;
  readonly payload: Buffer;
  readonly hopLimit?: number;
  readonly flowLabel?: number;
  /** Extension headers placed before `payload`, in order. */
  readonly extensions?: readonly Ipv6Extension[];
  /** Override the payload length field. */
  readonly payloadLength?: number;
}

/** IPv6 packet (RFC 8200). */
export function ipv6(o: Ipv6Options): Buffer {
  const chain = ipv6ExtensionChain(o.extensions ?? [], o.nextHeader);
  const body = Buffer.concat([chain.bytes, o.payload]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE((6 << 28) | ((o.flowLabel ?? 0) & 0xfffff), 0);
  h.writeUInt16BE(o.payloadLength ?? body.length, 4);
  h[6] = chain.first;
  h[7] = o.hopLimit ?? 64;
  ipv6Bytes(o.src).copy(h, 8);
  ipv6Bytes(o.dst).copy(h, 24);
  return Buffer.concat([h, body]);
}

/**
 * Fragment an IPv6 packet (RFC 8200 §4.5): `o.extensions` form the unfragmentable part (repeated
 * in every fragment), `o.payload` with `o.nextHeader` the fragmentable part, at most `maxData`
 * bytes (rounded down to a multiple of 8) per fragment.
 */
export function fragmentIpv6(o: Ipv6Options, maxData: number, id = 0x01020304): Buffer[] {
  const step = Math.floor(maxData / 8) * 8;
  if (step <= 0) throw new Error('fragment size below 8 bytes');
  const out: Buffer[] = [];
  for (let off = 0; off < o.payload.length; off += step) {
    const last = off + step >= o.payload.length;
    out.push(ipv6Fragment(o, off, o.payload.subarray(off, off + step), !last, id));
  }
  return out;
}

/** One IPv6 fragment carrying `data` at byte `offset` of the fragmentable part. */
export function ipv6Fragment(o: Ipv6Options, offset: number, data: Buffer, more: boolean, id: number): Buffer {
  const fh = Buffer.alloc(8);
  fh[0] = o.nextHeader;
  fh.writeUInt16BE((offset & 0xfff8) | (more ? 1 : 0), 2);
  fh.writeUInt32BE(id >>> 0, 4);
  const chain = ipv6ExtensionChain(o.extensions ?? [], IpProto.FRAGMENT);
  const body = Buffer.concat([chain.bytes, fh, data]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(6 << 28, 0);
  h.writeUInt16BE(body.length, 4);
  h[6] = chain.first;
  h[7] = o.hopLimit ?? 64;
  ipv6Bytes(o.src).copy(h, 8);
  ipv6Bytes(o.dst).copy(h, 24);
  return Buffer.concat([h, body]);
}

// ---------------------------------------------------------------- transports

function pseudoHeader(src: string, dst: string, protocol: number, length: number): Buffer {
  const s = addressBytes(src);
  const d = addressBytes(dst);
  if (s.length === 4) {
    const tail = Buffer.alloc(4);
    tail[1] = protocol;
    tail.writeUInt16BE(length, 2);
    return Buffer.concat([s, d, tail]);
  }
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(length, 0);
  tail[7] = protocol;
  return Buffer.concat([s, d, tail]);
}

export interface ChecksumAddresses {
  readonly src: string;
  readonly dst: string;
}

export interface UdpOptions {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Buffer;
  /** Override the length field. */
  readonly length?: number;
  /** Compute the checksum over this pseudo-header; otherwise the checksum is 0 (none). */
  readonly checksum?: ChecksumAddresses;
}

export function udp(o: UdpOptions): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(o.srcPort, 0);
  h.writeUInt16BE(o.dstPort, 2);
  h.writeUInt16BE(o.length ?? 8 + o.payload.length, 4);
  if (o.checksum !== undefined) {
    const len = 8 + o.payload.length;
    const c = internetChecksum(pseudoHeader(o.checksum.src, o.checksum.dst, IpProto.UDP, len), h, o.payload);
    h.writeUInt16BE(c === 0 ? 0xffff : c, 6);
  }
  return Buffer.concat([h, o.payload]);
}

export interface TcpOptions {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack?: number;
  /** `TcpFlags` bits; ACK is not implied. */
  readonly flags: number;
  readonly window?: number;
  readonly payload?: Buffer;
  /** TCP options, zero-padded to a multiple of 4 bytes. */
  readonly options?: Buffer;
  readonly checksum?: ChecksumAddresses;
}

export function tcp(o: TcpOptions): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const hl = 20 + Math.ceil(opts.length / 4) * 4;
  const payload = o.payload ?? Buffer.alloc(0);
  const h = Buffer.alloc(hl);
  h.writeUInt16BE(o.srcPort, 0);
  h.writeUInt16BE(o.dstPort, 2);
  h.writeUInt32BE(o.seq >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = (hl / 4) << 4;
  h[13] = o.flags;
  h.writeUInt16BE(o.window ?? 65535, 14);
  opts.copy(h, 20);
  if (o.checksum !== undefined) {
    const c = internetChecksum(pseudoHeader(o.checksum.src, o.checksum.dst, IpProto.TCP, hl + payload.length), h, payload);
    h.writeUInt16BE(c, 16);
  }
  return Buffer.concat([h, payload]);
}

export interface GreOptions {
  /** Ethertype of the payload: 0x0800, 0x86DD, 0x6558 (Ethernet). */
  readonly protocol: number;
  readonly payload: Buffer;
  /** Include (and compute) the checksum field. */
  readonly checksum?: boolean;
  readonly key?: number;
  readonly sequence?: number;
  /** Version bits (0 for plain GRE; 1 is PPTP's enhanced GRE). */
  readonly version?: number;
}

/** GRE header (RFC 2784, RFC 2890 key and sequence number) + payload. */
export function gre(o: GreOptions): Buffer {
  const hasC = o.checksum === true;
  const len = 4 + (hasC ? 4 : 0) + (o.key !== undefined ? 4 : 0) + (o.sequence !== undefined ? 4 : 0);
  const h = Buffer.alloc(len);
  const flags =
    (hasC ? 0x8000 : 0) | (o.key !== undefined ? 0x2000 : 0) | (o.sequence !== undefined ? 0x1000 : 0) | ((o.version ?? 0) & 7);
  h.writeUInt16BE(flags, 0);
  h.writeUInt16BE(o.protocol, 2);
  let p = 4 + (hasC ? 4 : 0);
  if (o.key !== undefined) {
    h.writeUInt32BE(o.key >>> 0, p);
    p += 4;
  }
  if (o.sequence !== undefined) h.writeUInt32BE(o.sequence >>> 0, p);
  if (hasC) h.writeUInt16BE(internetChecksum(h, o.payload), 4);
  return Buffer.concat([h, o.payload]);
}

// ---------------------------------------------------------------- conveniences

/** IPv4 or IPv6 packet (by address form) carrying `payload` of `protocol`. */
export function ip(src: string, dst: string, protocol: number, payload: Buffer): Buffer {
  return src.includes(':')
    ? ipv6({ src, dst, nextHeader: protocol, payload })
    : ipv4({ src, dst, protocol, payload });
}

/** Ethertype of an IP packet built here (by its version nibble). */
export function etherTypeOf(ipPacket: Buffer): number {
  return (ipPacket[0] ?? 0) >> 4 === 6 ? EtherTypes.IPV6 : EtherTypes.IPV4;
}

/** IP-in-IP: `inner` (an IPv4 or IPv6 packet) inside an outer IPv4/IPv6 header (protocol 4 or 41). */
export function ipInIp(outerSrc: string, outerDst: string, inner: Buffer): Buffer {
  const proto = etherTypeOf(inner) === EtherTypes.IPV6 ? IpProto.IPV6 : IpProto.IPIP;
  return ip(outerSrc, outerDst, proto, inner);
}

/** A UDP datagram in IPv4/IPv6, with its checksum. */
export function udpPacket(src: string, srcPort: number, dst: string, dstPort: number, payload: Buffer): Buffer {
  return ip(src, dst, IpProto.UDP, udp({ srcPort, dstPort, payload, checksum: { src, dst } }));
}

/** A TCP segment in IPv4/IPv6, with its checksum. */
export function tcpPacket(
  src: string,
  srcPort: number,
  dst: string,
  dstPort: number,
  seg: { seq: number; ack?: number; flags: number; payload?: Buffer },
): Buffer {
  return ip(src, dst, IpProto.TCP, tcp({ srcPort, dstPort, ...seg, checksum: { src, dst } }));
}

// ---------------------------------------------------------------- PPPoE, MPLS, ERSPAN, VXLAN, LLDP

/** PPPoE session header (RFC 2516 §4: ver/type 0x11, code 0, session id, length) + PPP protocol + payload. */
export function pppoeSession(o: { readonly sessionId: number; readonly protocol: number; readonly payload: Buffer }): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x11;
  h[1] = 0;
  h.writeUInt16BE(o.sessionId & 0xffff, 2);
  h.writeUInt16BE(2 + o.payload.length, 4);
  h.writeUInt16BE(o.protocol, 6);
  return Buffer.concat([h, o.payload]);
}

/** PPP protocol of an IP packet built here. */
export function pppProtocolOf(ipPacket: Buffer): number {
  return etherTypeOf(ipPacket) === EtherTypes.IPV6 ? PppProtocols.IPV6 : PppProtocols.IPV4;
}

export interface MplsLabel {
  readonly label: number;
  readonly tc?: number;
  readonly ttl?: number;
}

/**
 * An MPLS label stack (RFC 3032 §2.1; outermost first, S bit on the last) + payload; with `controlWord`, the
 * 4-byte pseudowire control word of RFC 4385 §3 (all zero but the sequence number) goes before the payload.
 */
export function mpls(labels: readonly MplsLabel[], payload: Buffer, controlWord?: { readonly sequence: number }): Buffer {
  const h = Buffer.alloc(labels.length * 4);
  labels.forEach((l, i) => {
    const bottom = i === labels.length - 1 ? 1 : 0;
    h.writeUInt32BE((((l.label & 0xfffff) << 12) | (((l.tc ?? 0) & 7) << 9) | (bottom << 8) | ((l.ttl ?? 64) & 0xff)) >>> 0, i * 4);
  });
  const cw = controlWord ? Buffer.from([0, 0, (controlWord.sequence >> 8) & 0xff, controlWord.sequence & 0xff]) : Buffer.alloc(0);
  return Buffer.concat([h, cw, payload]);
}

/** ERSPAN type II header (draft-foschiano-erspan §4.2: version 1, VLAN, COS, En, T, session id, index) + frame. */
export function erspanII(o: { readonly sessionId: number; readonly vlan?: number; readonly index?: number; readonly payload: Buffer }): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE((1 << 12) | ((o.vlan ?? 0) & 0x0fff), 0);
  h.writeUInt16BE(o.sessionId & 0x3ff, 2); // COS 0, En 0 (no VLAN tagging info), T 0
  h.writeUInt32BE((o.index ?? 0) & 0xfffff, 4);
  return Buffer.concat([h, o.payload]);
}

/**
 * ERSPAN type III header (draft-foschiano-erspan §4.3: version 2, VLAN, COS, BSO, T, session id, timestamp, SGT,
 * P, frame type, hardware id, D, granularity, O) + frame; `subheader` adds the 8-byte platform-specific subheader.
 */
export function erspanIII(o: {
  readonly sessionId: number;
  readonly timestamp: number;
  readonly frameType?: number;
  readonly hwId?: number;
  readonly subheader?: Buffer;
  readonly payload: Buffer;
}): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(2 << 12, 0);
  h.writeUInt16BE(o.sessionId & 0x3ff, 2);
  h.writeUInt32BE(o.timestamp >>> 0, 4);
  h.writeUInt16BE(0, 8); // SGT
  const hw = (o.hwId ?? 0) & 0x3f;
  h[10] = (((o.frameType ?? 0) & 0x1f) << 2) | (hw >> 4);
  h[11] = ((hw & 0x0f) << 4) | (3 << 1) | (o.subheader ? 1 : 0); // granularity 3 (IEEE 1588)
  if (o.subheader && o.subheader.length !== 8) throw new Error('ERSPAN III subheader is 8 bytes');
  return Buffer.concat([h, o.subheader ?? Buffer.alloc(0), o.payload]);
}

/** VXLAN header (RFC 7348 §5: I flag, VNI) + Ethernet frame. */
export function vxlan(vni: number, frame: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08;
  h.writeUInt32BE(((vni & 0xffffff) << 8) >>> 0, 4);
  return Buffer.concat([h, frame]);
}

/** An LLDPDU (IEEE 802.1AB §8): chassis id (MAC), port id (interface name), TTL, end. */
export function lldpdu(chassisMac: string, portName: string, ttl = 120): Buffer {
  const tlv = (type: number, value: Buffer): Buffer => {
    const h = Buffer.alloc(2);
    h.writeUInt16BE(((type & 0x7f) << 9) | (value.length & 0x1ff), 0);
    return Buffer.concat([h, value]);
  };
  const ttlBytes = Buffer.alloc(2);
  ttlBytes.writeUInt16BE(ttl, 0);
  return Buffer.concat([
    tlv(1, Buffer.concat([Buffer.from([4]), macBytes(chassisMac)])),
    tlv(2, Buffer.concat([Buffer.from([5]), Buffer.from(portName, 'latin1')])),
    tlv(3, ttlBytes),
    tlv(0, Buffer.alloc(0)),
  ]);
}
