/**
 * From captured frames to Datagrams (DESIGN.md §3, decode stage): link layer, VLAN stacks, PPPoE, MPLS,
 * IPv4 / IPv6 (extension headers, fragments), IP-in-IP, GRE, ERSPAN, VXLAN, UDP, TCP stream reassembly.
 * Frames that carry no IP we decode are counted per reason in `stats.notDecoded`.
 *
 * Stateless header parsing lives in `headers.ts`; the state that must persist across frames
 * (fragments, TCP flows) is owned by this instance, bounded by `DecodeLimits` and expired by the
 * capture time of the frames pushed (never the wall clock).
 */
import type { Anomaly, Datagram, Frame, Timestamp } from '../types.js';
import { tsMillis } from '../types.js';
import { AddressTextCache } from './address-text.js';
import { FragmentReassembler } from './fragments.js';
import {
  EtherType,
  etherTypeReason,
  isGenericIpv6Extension,
  parseErspan,
  parseEthernet,
  parseGre,
  parseMpls,
  parsePppoeSession,
  parseVxlan,
  VXLAN_PORT,
  parseIpv4,
  parseIpv6,
  parseIpv6Fragment,
  parseLink,
  parseTcp,
  parseUdp,
  skipExtensionHeader,
  type InnerStart,
  type Invalid,
  type NotIp,
} from './headers.js';
import {
  countNotDecoded,
  DEFAULT_DECODE_LIMITS,
  newDecodeStats,
  type AnomalySink,
  type DecodeLimits,
  type DecodeStats,
} from './limits.js';
import { TcpReassembler } from './tcp-stream.js';

export interface PacketDecoderOptions {
  /** Called synchronously for every UDP datagram and every in-order run of TCP bytes. */
  onDatagram(d: Datagram): void;
  /** Called synchronously for every anomaly (kinds: `DECODE_ANOMALY_KINDS`). */
  onAnomaly(a: Anomaly): void;
  limits?: Partial<DecodeLimits>;
  /**
   * UDP fast path (issue #18): asked with the payload's range in the frame before a UDP datagram is built; `true`
   * drops it here (counted in `stats.udp`, `stats.datagrams` and through `onUdpDropped`) so that no Datagram,
   * endpoint or payload slice is allocated for it. Must say `true` only for payloads the consumer would skip anyway.
   */
  dropUdp?(b: Buffer, start: number, end: number): boolean;
  /** Called for each datagram `dropUdp` dropped. */
  onUdpDropped?(): void;
}

const FRAGMENT_SWEEP_INTERVAL_MS = 1000;
const NO_TS: Timestamp = { sec: 0, nsec: 0 };

/**
 * Decodes frames pushed in capture order. Payloads delivered are slices of the frame (UDP, in-order
 * TCP) or fresh buffers (reassembled fragments, TCP runs joined from several segments): a consumer
 * that keeps a payload beyond the callback while the source reuses frame buffers must copy it.
 */
export class PacketDecoder {
  readonly stats: DecodeStats = newDecodeStats();
  readonly limits: DecodeLimits;
  private readonly onDatagram: (d: Datagram) => void;
  private readonly dropUdp: ((b: Buffer, start: number, end: number) => boolean) | undefined;
  private readonly onUdpDropped: () => void;
  private readonly report: AnomalySink;
  private readonly addr = new AddressTextCache();
  private readonly fragments: FragmentReassembler;
  private readonly tcp: TcpReassembler;
  /** Capture clock: the latest frame time seen (captures may step back a little; expiry must not). */
  private nowMs = -Infinity;
  private nextFragmentSweepMs = -Infinity;
  private frame = 0;
  private ts: Timestamp = NO_TS;
  private sawIp = false;

  constructor(opts: PacketDecoderOptions) {
    this.limits = Object.freeze({ ...DEFAULT_DECODE_LIMITS, ...opts.limits });
    const onAnomaly = opts.onAnomaly;
    const onDatagram = opts.onDatagram;
    const stats = this.stats;
    this.onDatagram = onDatagram;
    this.dropUdp = opts.dropUdp;
    this.onUdpDropped = opts.onUdpDropped ?? (() => {});
    this.report = (kind, detail, frame) => {
      stats.anomalies++;
      onAnomaly({ kind, detail, frame });
    };
    this.fragments = new FragmentReassembler(this.limits, this.stats, this.report);
    this.tcp = new TcpReassembler(this.limits, this.stats, this.report, onDatagram);
  }

  /** Decode one frame; datagrams and anomalies are delivered through the callbacks before it returns. */
  push(frame: Frame): void {
    const stats = this.stats;
    stats.frames++;
    this.frame = frame.number;
    this.ts = frame.ts;
    this.sawIp = false;
    const t = tsMillis(frame.ts);
    if (t > this.nowMs) this.nowMs = t;
    if (this.nowMs >= this.nextFragmentSweepMs) {
      this.nextFragmentSweepMs = this.nowMs + FRAGMENT_SWEEP_INTERVAL_MS;
      if (this.fragments.size > 0) this.fragments.expire(this.nowMs, frame.number);
    }
    const b = frame.bytes;
    const link = parseLink(frame.linkType, b);
    if (link.kind === 'network') this.network(link.etherType, b, link.offset, b.length, 0);
    else if (link.kind === 'not-ip') this.notIp(link.what);
    else this.invalid(link, b.length);
  }

  /**
   * End of input: TCP bytes held behind a hole are delivered (flagged `gap`), incomplete fragments
   * are dropped (`frag.expired`), and all flow state is released.
   */
  flush(): void {
    this.tcp.flush(this.frame);
    this.fragments.flush(this.frame);
  }

  /** TCP flow directions currently tracked. */
  get tcpFlows(): number {
    return this.tcp.size;
  }

  /** IP datagrams currently being reassembled. */
  get pendingFragments(): number {
    return this.fragments.size;
  }

  private invalid(r: Invalid, bytes: number): void {
    this.stats.bytesDropped += bytes;
    this.report(r.anomaly, r.detail, this.frame);
  }

  /** A frame (or tunnelled payload) that carries no IP we decode, counted under `reason`. */
  private notIp(reason: string): void {
    this.stats.nonIp++;
    countNotDecoded(this.stats, reason);
  }

  private network(etherType: number, b: Buffer, off: number, end: number, depth: number): void {
    if (depth > this.limits.maxEncapsulationDepth) {
      this.stats.bytesDropped += end - off;
      this.report('encap.too-deep', `more than ${this.limits.maxEncapsulationDepth} nested encapsulations`, this.frame);
      return;
    }
    // IPv4 and IPv6 first, as before: every other ethertype costs ordinary traffic nothing (and keeps this small
    // enough to be inlined into push()).
    if (etherType === EtherType.IPV4) this.ipv4(b, off, end, depth);
    else if (etherType === EtherType.IPV6) this.ipv6(b, off, end, depth);
    else this.otherNetwork(etherType, b, off, end, depth);
  }

  /** Ethernet inside a tunnel (GRE TEB, ERSPAN, VXLAN, pseudowire), PPPoE, MPLS; anything else is counted. */
  private otherNetwork(etherType: number, b: Buffer, off: number, end: number, depth: number): void {
    switch (etherType) {
      case EtherType.TEB: {
        const inner = parseEthernet(b, off, end);
        if (inner.kind === 'network') this.network(inner.etherType, b, inner.offset, end, depth + 1);
        else if (inner.kind === 'not-ip') this.notIp(inner.what);
        else this.invalid(inner, end - off);
        return;
      }
      case EtherType.PPPOE_SESSION:
        return this.inner(parsePppoeSession(b, off, end), b, off, end, depth);
      case EtherType.MPLS:
      case EtherType.MPLS_MULTICAST:
        return this.inner(parseMpls(b, off, end), b, off, end, depth);
      default:
        this.notIp(etherTypeReason(etherType));
    }
  }

  /** The layer inside a PPPoE session, an MPLS stack, ERSPAN or VXLAN. */
  private inner(r: InnerStart | NotIp | Invalid, b: Buffer, off: number, end: number, depth: number): void {
    if (r.kind === 'network') this.network(r.etherType, b, r.offset, r.end, depth + 1);
    else if (r.kind === 'not-ip') this.notIp(r.what);
    else this.invalid(r, end - off);
  }

  private countIp(): void {
    if (this.sawIp) this.stats.tunnelled++;
    else {
      this.sawIp = true;
      this.stats.ipPackets++;
    }
  }

  private ipv4(b: Buffer, off: number, end: number, depth: number): void {
    const h = parseIpv4(b, off, end);
    if (h.kind === 'invalid') return this.invalid(h, end - off);
    this.countIp();
    const src = this.addr.ipv4(b, off + 12);
    const dst = this.addr.ipv4(b, off + 16);
    const start = off + h.headerLength;
    if (!h.moreFragments && h.fragmentOffset === 0) {
      this.transport(h.protocol, b, start, h.end, src, dst, false, depth);
      return;
    }
    // RFC 791: a datagram is identified by source, destination, protocol and identification.
    const key = `4 ${src} ${dst} ${h.protocol} ${h.id}`;
    const r = this.fragments.add(
      key,
      h.fragmentOffset,
      h.moreFragments,
      b.subarray(start, h.end),
      h.protocol,
      this.frame,
      this.nowMs,
    );
    if (r !== undefined) this.transport(r.protocol, r.payload, 0, r.payload.length, src, dst, false, depth);
  }

  private ipv6(b: Buffer, off: number, end: number, depth: number): void {
    const h = parseIpv6(b, off, end);
    if (h.kind === 'invalid') return this.invalid(h, end - off);
    this.countIp();
    const src = this.addr.ipv6(b, off + 8);
    const dst = this.addr.ipv6(b, off + 24);
    this.transport(h.nextHeader, b, off + 40, h.end, src, dst, true, depth);
  }

  /** The payload of an IP packet: extension headers, fragments, tunnels, UDP, TCP. */
  private transport(
    protocol: number,
    buf: Buffer,
    offset: number,
    endOffset: number,
    src: string,
    dst: string,
    v6: boolean,
    depth: number,
  ): void {
    let proto = protocol;
    let b = buf;
    let off = offset;
    let end = endOffset;
    for (;;) {
      switch (proto) {
        case 17:
          return this.udp(b, off, end, src, dst, depth);
        case 6:
          return this.tcpSegment(b, off, end, src, dst, v6);
        case 4:
          return this.network(EtherType.IPV4, b, off, end, depth + 1);
        case 41:
          return this.network(EtherType.IPV6, b, off, end, depth + 1);
        case 47: {
          const g = parseGre(b, off, end);
          if (g.kind === 'invalid') return this.invalid(g, end - off);
          if (g.protocol === EtherType.ERSPAN_II || g.protocol === EtherType.ERSPAN_III) {
            return this.inner(parseErspan(g.protocol, g.sequence, b, g.offset, end), b, g.offset, end, depth + 1);
          }
          return this.network(g.protocol, b, g.offset, end, depth + 1);
        }
        case 51: {
          const n = skipExtensionHeader(proto, b, off, end);
          if (n.kind === 'invalid') return this.invalid(n, end - off);
          proto = n.protocol;
          off = n.offset;
          continue;
        }
        case 44: {
          if (!v6) break;
          const f = parseIpv6Fragment(b, off, end);
          if (f.kind === 'invalid') return this.invalid(f, end - off);
          if (f.fragmentOffset === 0 && !f.moreFragments) {
            // Atomic fragment (RFC 6946): not part of any reassembly.
            proto = f.nextHeader;
            off = f.offset;
            continue;
          }
          // RFC 8200 §4.5: source, destination and identification name the datagram.
          const key = `6 ${src} ${dst} ${f.id}`;
          const r = this.fragments.add(
            key,
            f.fragmentOffset,
            f.moreFragments,
            b.subarray(f.offset, end),
            f.nextHeader,
            this.frame,
            this.nowMs,
          );
          if (r === undefined) return;
          proto = r.protocol;
          b = r.payload;
          off = 0;
          end = r.payload.length;
          continue;
        }
        case 59:
          if (v6) return; // no next header
          break;
        default:
          if (v6 && isGenericIpv6Extension(proto)) {
            const n = skipExtensionHeader(proto, b, off, end);
            if (n.kind === 'invalid') return this.invalid(n, end - off);
            proto = n.protocol;
            off = n.offset;
            continue;
          }
      }
      this.stats.otherProtocols++;
      countNotDecoded(this.stats, `ip protocol ${proto}`);
      return;
    }
  }

  private udp(b: Buffer, off: number, end: number, src: string, dst: string, depth: number): void {
    const u = parseUdp(b, off, end);
    if (u.kind === 'invalid') return this.invalid(u, end - off);
    if (u.mismatch) {
      this.report('udp.length-mismatch', `UDP length ${u.lengthField}, IP payload ${end - off}`, this.frame);
      this.stats.bytesDropped += end - u.end;
    }
    // RFC 7348 §5: an Ethernet frame inside; one compare for every other datagram.
    if (u.dstPort === VXLAN_PORT && this.vxlan(b, off + 8, u.end, depth)) return;
    this.stats.udp++;
    this.stats.datagrams++;
    if (this.dropUdp !== undefined && this.dropUdp(b, off + 8, u.end)) return this.onUdpDropped();
    this.onDatagram({
      ts: this.ts,
      src: { ip: src, port: u.srcPort },
      dst: { ip: dst, port: u.dstPort },
      transport: 'udp',
      payload: b.subarray(off + 8, u.end),
      frame: this.frame,
    });
  }

  /** A VXLAN packet's inner frame; false when the payload is no VXLAN header (then it is an ordinary datagram). */
  private vxlan(b: Buffer, off: number, end: number, depth: number): boolean {
    const x = parseVxlan(b, off, end);
    if (x === undefined) return false;
    this.inner(x, b, off, end, depth + 1);
    return true;
  }

  private tcpSegment(b: Buffer, off: number, end: number, src: string, dst: string, v6: boolean): void {
    const t = parseTcp(b, off, end);
    if (t.kind === 'invalid') return this.invalid(t, end - off);
    this.stats.tcpSegments++;
    const key = v6
      ? `[${src}]:${t.srcPort}>[${dst}]:${t.dstPort}`
      : `${src}:${t.srcPort}>${dst}:${t.dstPort}`;
    this.tcp.segment(
      key,
      src,
      t.srcPort,
      dst,
      t.dstPort,
      t.seq,
      t.flags,
      b.subarray(t.offset, end),
      this.frame,
      this.ts,
      this.nowMs,
    );
  }
}
