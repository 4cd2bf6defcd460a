/**
 * Pure header parsers over `(buffer, offset, end)`: no copies, no state, every length checked
 * before it is read; bad input returns `{kind:'invalid'}` with a named anomaly, never a throw.
 * Offsets in results are absolute (into the same buffer).
 */
import type { DecodeAnomalyKind } from './limits.js';
import { NETMON_MEDIA_LINKTYPE_BASE } from '../sources/capture/netmon.js';

export interface Invalid {
  readonly kind: 'invalid';
  readonly anomaly: DecodeAnomalyKind;
  readonly detail: string;
}

function invalid(anomaly: DecodeAnomalyKind, detail: string): Invalid {
  return { kind: 'invalid', anomaly, detail };
}

export function u16(b: Buffer, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

export function u32(b: Buffer, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

export const EtherType = {
  IPV4: 0x0800,
  IPV6: 0x86dd,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  QINQ_OLD: 0x9100,
  QINQ_OLD2: 0x9200,
  /** Transparent Ethernet bridging (an Ethernet frame inside GRE). */
  TEB: 0x6558,
  /** PPPoE session stage (RFC 2516 §4). */
  PPPOE_SESSION: 0x8864,
  /** MPLS unicast and multicast (RFC 3032 §2, RFC 5332). */
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  /** ERSPAN type I/II inside GRE (draft-foschiano-erspan §4.1, §4.2). */
  ERSPAN_II: 0x88be,
  /** ERSPAN type III inside GRE (draft-foschiano-erspan §4.3). */
  ERSPAN_III: 0x22eb,
} as const;

/** Where the network layer starts: `etherType` says what it is (0x0800, 0x86DD, or anything else). */
export interface NetworkStart {
  readonly kind: 'network';
  readonly etherType: number;
  readonly offset: number;
}

/**
 * Where the network layer starts inside a tunnel or link shim that may also shorten the packet (PPPoE's
 * length field): `end` is the absolute end of what the layer carries.
 */
export interface InnerStart {
  readonly kind: 'network';
  readonly etherType: number;
  readonly offset: number;
  readonly end: number;
}

/** Not IP and so not decoded: `what` is the reason counted per frame (`ethertype 0x88cc`, `link type 147`). */
export interface NotIp {
  readonly kind: 'not-ip';
  readonly what: string;
}

export type LinkResult = NetworkStart | NotIp | Invalid;

function isVlanTpid(t: number): boolean {
  return t === EtherType.VLAN || t === EtherType.QINQ || t === EtherType.QINQ_OLD || t === EtherType.QINQ_OLD2;
}

/**
 * Skip any stack of 802.1Q / 802.1ad / pre-standard QinQ tags (IEEE 802.1Q §9) whose TPID is
 * `type`, at `off` (the first tag's TCI).
 */
export function skipVlanTags(b: Buffer, type: number, off: number, end: number): NetworkStart | Invalid {
  let t = type;
  let o = off;
  while (isVlanTpid(t)) {
    if (o + 4 > end) return invalid('vlan.truncated', `VLAN tag needs 4 bytes, ${end - o} left`);
    t = u16(b, o + 2);
    o += 4;
  }
  return { kind: 'network', etherType: t, offset: o };
}

/** Ethernet II (14 bytes) at `off`, then VLAN tags. 802.3 length frames (type ≤ 1500) are not IP. */
export function parseEthernet(b: Buffer, off: number, end: number): LinkResult {
  if (off + 14 > end) return invalid('link.truncated', `Ethernet header needs 14 bytes, ${end - off} captured`);
  const type = u16(b, off + 12);
  if (type <= 1500) return { kind: 'not-ip', what: '802.3 frame' };
  return skipVlanTags(b, type, off + 14, end);
}

function rawIp(b: Buffer, off: number, end: number): LinkResult {
  if (off >= end) return invalid('link.truncated', 'empty raw IP frame');
  const v = (b[off] ?? 0) >> 4;
  if (v === 4) return { kind: 'network', etherType: EtherType.IPV4, offset: off };
  if (v === 6) return { kind: 'network', etherType: EtherType.IPV6, offset: off };
  return invalid('ip.bad-version', `raw IP version nibble ${v}`);
}

/** BSD loopback address family (any byte order): 2 = AF_INET; 24, 28, 30 = AF_INET6 on BSDs/macOS. */
function nullFamily(b: Buffer, end: number): LinkResult {
  if (end < 4) return invalid('link.truncated', `NULL/LOOP header needs 4 bytes, ${end} captured`);
  const le = ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24)) >>> 0;
  // The family is small, so whichever byte order gives a small value is the one the writer used.
  const family = le < 0x10000 ? le : u32(b, 0);
  if (family === 2) return { kind: 'network', etherType: EtherType.IPV4, offset: 4 };
  if (family === 24 || family === 28 || family === 30) return { kind: 'network', etherType: EtherType.IPV6, offset: 4 };
  return { kind: 'not-ip', what: `loopback family ${family}` };
}

/**
 * The network layer of a captured frame of pcap link type `linkType`
 * (https://www.tcpdump.org/linktypes.html).
 */
export function parseLink(linkType: number, b: Buffer): LinkResult {
  const end = b.length;
  switch (linkType) {
    case 1:
      return parseEthernet(b, 0, end);
    case 113: {
      // Linux cooked v1: type(2) ARPHRD(2) addrlen(2) addr(8) protocol(2)
      if (end < 16) return invalid('link.truncated', `SLL header needs 16 bytes, ${end} captured`);
      return skipVlanTags(b, u16(b, 14), 16, end);
    }
    case 276: {
      // Linux cooked v2: protocol(2) reserved(2) ifindex(4) ARPHRD(2) pkttype(1) addrlen(1) addr(8)
      if (end < 20) return invalid('link.truncated', `SLL2 header needs 20 bytes, ${end} captured`);
      return skipVlanTags(b, u16(b, 0), 20, end);
    }
    case 101:
    case 12: // DLT_RAW as written by some BSD tools
    case 14:
      return rawIp(b, 0, end);
    case 228:
      return { kind: 'network', etherType: EtherType.IPV4, offset: 0 };
    case 229:
      return { kind: 'network', etherType: EtherType.IPV6, offset: 0 };
    case 0:
    case 108:
      return nullFamily(b, end);
    default:
      return unsupportedLink(linkType);
  }
}

/** Not malformed: a medium we do not decode (802.11, token ring …), counted per link type (or NetMon media type). */
function unsupportedLink(linkType: number): NotIp {
  return {
    kind: 'not-ip',
    what: linkType >= NETMON_MEDIA_LINKTYPE_BASE ? `netmon media type ${linkType - NETMON_MEDIA_LINKTYPE_BASE}` : `link type ${linkType}`,
  };
}

/** The reason counted for a frame whose (inner) ethertype is not decoded: `ethertype 0x88cc`. */
export function etherTypeReason(etherType: number): string {
  return `ethertype 0x${etherType.toString(16).padStart(4, '0')}`;
}

/** PPP protocol numbers (RFC 1661 §2, RFC 1332, RFC 5072) that carry IP. */
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;

/**
 * PPPoE session header (RFC 2516 §4: VER/TYPE 0x11, CODE 0x00, SESSION_ID, LENGTH) and the PPP protocol field
 * (RFC 1661 §2) at `off`. The PPPoE length bounds the payload (Ethernet padding is excluded); a length beyond
 * the captured bytes keeps the captured end (the IP layer reports the cut).
 */
export function parsePppoeSession(b: Buffer, off: number, end: number): InnerStart | NotIp | Invalid {
  if (off + 8 > end) return invalid('pppoe.truncated', `PPPoE session header and PPP protocol need 8 bytes, ${end - off} left`);
  const vt = b[off] ?? 0;
  if (vt !== 0x11) return invalid('pppoe.bad-header', `PPPoE version/type 0x${vt.toString(16)} (expected 0x11)`);
  const code = b[off + 1] ?? 0;
  if (code !== 0) return invalid('pppoe.bad-header', `PPPoE session code 0x${code.toString(16)} (expected 0x00)`);
  const len = u16(b, off + 4);
  if (len < 2) return invalid('pppoe.bad-header', `PPPoE length ${len} leaves no room for the PPP protocol`);
  const stop = Math.min(end, off + 6 + len);
  const proto = u16(b, off + 6);
  if (proto === PPP_IPV4) return { kind: 'network', etherType: EtherType.IPV4, offset: off + 8, end: stop };
  if (proto === PPP_IPV6) return { kind: 'network', etherType: EtherType.IPV6, offset: off + 8, end: stop };
  return { kind: 'not-ip', what: `ppp protocol 0x${proto.toString(16).padStart(4, '0')}` };
}

function isIpOrVlan(t: number): boolean {
  return t === EtherType.IPV4 || t === EtherType.IPV6 || isVlanTpid(t);
}

/**
 * An MPLS label stack (RFC 3032 §2.1: 4-byte entries, S bit on the last) at `off`, then what it carries, by the
 * first nibble (RFC 4928 §2): 4 = IPv4, 6 = IPv6, 0 = a pseudowire control word (RFC 4385 §3) followed by an
 * Ethernet frame (RFC 4448 §3).
 */
export function parseMpls(b: Buffer, off: number, end: number): InnerStart | NotIp | Invalid {
  let o = off;
  for (;;) {
    if (o + 4 > end) return invalid('mpls.truncated', `MPLS label stack entry needs 4 bytes, ${end - o} left`);
    const bottom = ((b[o + 2] ?? 0) & 0x01) !== 0;
    o += 4;
    if (bottom) break;
  }
  if (o >= end) return invalid('mpls.truncated', 'nothing after the bottom of the MPLS label stack');
  const nibble = (b[o] ?? 0) >> 4;
  if (nibble === 4) return { kind: 'network', etherType: EtherType.IPV4, offset: o, end };
  if (nibble === 6) return { kind: 'network', etherType: EtherType.IPV6, offset: o, end };
  if (nibble === 0) {
    // An Ethernet pseudowire, with or without the control word (RFC 4448 §4.6 makes it optional): a destination
    // MAC may also start with a 0 nibble, so the control word is assumed unless only the frame without it has an
    // IP or VLAN ethertype where Ethernet puts it.
    if (o + 4 > end) return invalid('mpls.truncated', `pseudowire control word needs 4 bytes, ${end - o} left`);
    if (o + 14 <= end && !isIpOrVlan(u16(b, o + 16)) && isIpOrVlan(u16(b, o + 12))) {
      return { kind: 'network', etherType: EtherType.TEB, offset: o, end };
    }
    return { kind: 'network', etherType: EtherType.TEB, offset: o + 4, end };
  }
  return { kind: 'not-ip', what: `mpls payload nibble ${nibble}` };
}

/**
 * ERSPAN inside GRE (draft-foschiano-erspan-03): type I (GRE 0x88be without a sequence number) has no header;
 * type II (0x88be, version 1) an 8-byte header; type III (0x22eb, version 2) a 12-byte header plus an 8-byte
 * platform-specific subheader when its O bit is set. The mirrored frame follows; type III frame type 0 is
 * Ethernet, 2 is IP (by its version nibble).
 */
export function parseErspan(greProtocol: number, greSequence: boolean, b: Buffer, off: number, end: number): InnerStart | NotIp | Invalid {
  if (greProtocol === EtherType.ERSPAN_II) {
    if (!greSequence) return { kind: 'network', etherType: EtherType.TEB, offset: off, end };
    if (off + 8 > end) return invalid('erspan.truncated', `ERSPAN type II header needs 8 bytes, ${end - off} left`);
    const ver = (b[off] ?? 0) >> 4;
    if (ver !== 1) return invalid('erspan.bad-header', `ERSPAN version ${ver} under GRE protocol 0x88be`);
    return { kind: 'network', etherType: EtherType.TEB, offset: off + 8, end };
  }
  if (off + 12 > end) return invalid('erspan.truncated', `ERSPAN type III header needs 12 bytes, ${end - off} left`);
  const ver = (b[off] ?? 0) >> 4;
  if (ver !== 2) return invalid('erspan.bad-header', `ERSPAN version ${ver} under GRE protocol 0x22eb`);
  const last = b[off + 11] ?? 0;
  const frameType = ((b[off + 10] ?? 0) >> 2) & 0x1f;
  const len = (last & 0x01) !== 0 ? 20 : 12;
  if (off + len > end) return invalid('erspan.truncated', `ERSPAN type III header with subheader needs ${len} bytes, ${end - off} left`);
  if (frameType === 0) return { kind: 'network', etherType: EtherType.TEB, offset: off + len, end };
  if (frameType === 2) {
    if (off + len >= end) return invalid('erspan.truncated', 'ERSPAN type III IP frame is empty');
    const v = (b[off + len] ?? 0) >> 4;
    if (v === 4) return { kind: 'network', etherType: EtherType.IPV4, offset: off + len, end };
    if (v === 6) return { kind: 'network', etherType: EtherType.IPV6, offset: off + len, end };
    return invalid('ip.bad-version', `ERSPAN IP frame version nibble ${v}`);
  }
  return { kind: 'not-ip', what: `erspan frame type ${frameType}` };
}

/** The IANA-assigned VXLAN port (RFC 7348 §5). */
export const VXLAN_PORT = 4789;

/**
 * VXLAN header (RFC 7348 §5: flags with the I bit 0x08, 24 reserved bits, VNI, 8 reserved bits) at `off`, then an
 * Ethernet frame. Returns undefined unless the flags byte is exactly the I bit (0x08), so a UDP payload that merely
 * uses the port (a SIP message: its first byte is a letter or a digit) stays an ordinary datagram.
 */
export function parseVxlan(b: Buffer, off: number, end: number): InnerStart | Invalid | undefined {
  if (off >= end) return undefined;
  const flags = b[off] ?? 0;
  if ((flags & 0xf7) !== 0 || (flags & 0x08) === 0) return undefined;
  if (off + 8 > end) return invalid('vxlan.truncated', `VXLAN header needs 8 bytes, ${end - off} left`);
  return { kind: 'network', etherType: EtherType.TEB, offset: off + 8, end };
}

export interface Ipv4Header {
  readonly kind: 'ipv4';
  readonly headerLength: number;
  /** Absolute end of this packet's payload (total length, or the captured end for TSO's 0). */
  readonly end: number;
  readonly protocol: number;
  readonly id: number;
  readonly moreFragments: boolean;
  /** Fragment offset in bytes. */
  readonly fragmentOffset: number;
}

/** IPv4 header (RFC 791 §3.1) at `off`. Trailing link padding beyond the total length is excluded. */
export function parseIpv4(b: Buffer, off: number, end: number): Ipv4Header | Invalid {
  const avail = end - off;
  if (avail < 20) return invalid('ipv4.truncated', `IPv4 header needs 20 bytes, ${avail} captured`);
  const vihl = b[off] ?? 0;
  if (vihl >> 4 !== 4) return invalid('ip.bad-version', `version ${vihl >> 4} where IPv4 was announced`);
  const hl = (vihl & 0x0f) * 4;
  if (hl < 20) return invalid('ipv4.bad-header-length', `IHL ${hl / 4}`);
  if (hl > avail) return invalid('ipv4.truncated', `IPv4 header with options needs ${hl} bytes, ${avail} captured`);
  let total = u16(b, off + 2);
  // Outgoing packets captured before TCP segmentation offload carry total length 0.
  if (total === 0) total = avail;
  if (total < hl) return invalid('ipv4.bad-total-length', `total length ${total} < header length ${hl}`);
  if (total > avail) {
    return invalid('ipv4.payload-truncated', `total length ${total}, ${avail} captured`);
  }
  const ff = u16(b, off + 6);
  return {
    kind: 'ipv4',
    headerLength: hl,
    end: off + total,
    protocol: b[off + 9] ?? 0,
    id: u16(b, off + 4),
    moreFragments: (ff & 0x2000) !== 0,
    fragmentOffset: (ff & 0x1fff) * 8,
  };
}

export interface Ipv6Header {
  readonly kind: 'ipv6';
  readonly nextHeader: number;
  /** Absolute end of the payload (payload length; the captured end for a jumbogram). */
  readonly end: number;
}

/** IPv6 fixed header (RFC 8200 §3) at `off`; the payload starts at `off + 40`. */
export function parseIpv6(b: Buffer, off: number, end: number): Ipv6Header | Invalid {
  const avail = end - off;
  if (avail < 40) return invalid('ipv6.truncated', `IPv6 header needs 40 bytes, ${avail} captured`);
  const v = (b[off] ?? 0) >> 4;
  if (v !== 6) return invalid('ip.bad-version', `version ${v} where IPv6 was announced`);
  const plen = u16(b, off + 4);
  const nh = b[off + 6] ?? 0;
  // Payload length 0 with hop-by-hop options is a jumbogram (RFC 2675): the capture says how long.
  if (plen === 0 && nh === 0) return { kind: 'ipv6', nextHeader: nh, end };
  if (40 + plen > avail) return invalid('ipv6.payload-truncated', `payload length ${plen}, ${avail - 40} captured`);
  return { kind: 'ipv6', nextHeader: nh, end: off + 40 + plen };
}

/** IPv6 extension headers with the generic (next, length in 8-octet units) layout. */
export function isGenericIpv6Extension(proto: number): boolean {
  // hop-by-hop, routing, destination options, mobility, HIP, shim6 (RFC 8200 §4, RFC 7045)
  return proto === 0 || proto === 43 || proto === 60 || proto === 135 || proto === 139 || proto === 140;
}

export interface NextHeader {
  readonly kind: 'next';
  readonly protocol: number;
  readonly offset: number;
}

/** Skip one generic extension header, or IPsec AH (RFC 4302 §2.2: length in 4-octet units − 2). */
export function skipExtensionHeader(proto: number, b: Buffer, off: number, end: number): NextHeader | Invalid {
  if (off + 2 > end) return invalid('ipv6.ext-truncated', `extension header ${proto} needs 2 bytes, ${end - off} left`);
  const len = proto === 51 ? ((b[off + 1] ?? 0) + 2) * 4 : ((b[off + 1] ?? 0) + 1) * 8;
  if (off + len > end) return invalid('ipv6.ext-truncated', `extension header ${proto} of ${len} bytes, ${end - off} left`);
  return { kind: 'next', protocol: b[off] ?? 0, offset: off + len };
}

export interface Ipv6Fragment {
  readonly kind: 'fragment';
  readonly nextHeader: number;
  readonly fragmentOffset: number;
  readonly moreFragments: boolean;
  readonly id: number;
  /** Absolute offset of the fragment data. */
  readonly offset: number;
}

/** IPv6 fragment header (RFC 8200 §4.5). */
export function parseIpv6Fragment(b: Buffer, off: number, end: number): Ipv6Fragment | Invalid {
  if (off + 8 > end) return invalid('ipv6.ext-truncated', `fragment header needs 8 bytes, ${end - off} left`);
  const fo = u16(b, off + 2);
  return {
    kind: 'fragment',
    nextHeader: b[off] ?? 0,
    fragmentOffset: fo & 0xfff8,
    moreFragments: (fo & 1) !== 0,
    id: u32(b, off + 4),
    offset: off + 8,
  };
}

export interface UdpHeader {
  readonly kind: 'udp';
  readonly srcPort: number;
  readonly dstPort: number;
  /** Absolute end of the payload (the smaller of the UDP length and the IP payload). */
  readonly end: number;
  /** The UDP length field disagreed with the IP payload length. */
  readonly mismatch: boolean;
  readonly lengthField: number;
}

/** UDP header (RFC 768). The checksum is not verified: loopback captures carry offloaded ones. */
export function parseUdp(b: Buffer, off: number, end: number): UdpHeader | Invalid {
  if (off + 8 > end) return invalid('udp.truncated', `UDP header needs 8 bytes, ${end - off} left`);
  const len = u16(b, off + 4);
  if (len < 8) return invalid('udp.bad-length', `UDP length ${len}`);
  const ipLen = end - off;
  return {
    kind: 'udp',
    srcPort: u16(b, off),
    dstPort: u16(b, off + 2),
    end: off + Math.min(len, ipLen),
    mismatch: len !== ipLen,
    lengthField: len,
  };
}

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

export interface TcpHeader {
  readonly kind: 'tcp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly flags: number;
  /** Absolute offset of the payload (its end is the IP payload end). */
  readonly offset: number;
}

/** TCP header (RFC 9293 §3.1). */
export function parseTcp(b: Buffer, off: number, end: number): TcpHeader | Invalid {
  if (off + 20 > end) return invalid('tcp.truncated', `TCP header needs 20 bytes, ${end - off} left`);
  const hl = ((b[off + 12] ?? 0) >> 4) * 4;
  if (hl < 20 || off + hl > end) {
    return invalid('tcp.bad-header-length', `data offset ${hl} bytes, ${end - off} in segment`);
  }
  return {
    kind: 'tcp',
    srcPort: u16(b, off),
    dstPort: u16(b, off + 2),
    seq: u32(b, off + 4),
    flags: b[off + 13] ?? 0,
    offset: off + hl,
  };
}

export interface GreHeader {
  readonly kind: 'gre';
  readonly protocol: number;
  readonly offset: number;
  /** The S bit: a sequence number is present (tells ERSPAN type I from type II). */
  readonly sequence: boolean;
}

/** GRE version 0 (RFC 2784 with RFC 2890 key and sequence number). */
export function parseGre(b: Buffer, off: number, end: number): GreHeader | Invalid {
  if (off + 4 > end) return invalid('gre.truncated', `GRE header needs 4 bytes, ${end - off} left`);
  const flags = u16(b, off);
  const version = flags & 0x7;
  if (version !== 0) return invalid('gre.unsupported', `GRE version ${version}`);
  if (flags & 0x4000) return invalid('gre.unsupported', 'GRE routing (RFC 1701) present');
  let len = 4;
  if (flags & 0x8000) len += 4; // checksum + reserved1
  if (flags & 0x2000) len += 4; // key
  if (flags & 0x1000) len += 4; // sequence number
  if (off + len > end) return invalid('gre.truncated', `GRE header needs ${len} bytes, ${end - off} left`);
  return { kind: 'gre', protocol: u16(b, off + 2), offset: off + len, sequence: (flags & 0x1000) !== 0 };
}
