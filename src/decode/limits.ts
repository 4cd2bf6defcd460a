/**
 * Limits, counters and anomaly names of the packet decoder (DESIGN.md §8.4: everything that grows
 * has a limit and an expiry driven by capture time; every drop is counted).
 */

import type { AnomalyKind } from '../anomalies.js';

export interface DecodeLimits {
  /** IP datagrams being reassembled at once; the oldest is evicted beyond this. */
  readonly maxFragmentDatagrams: number;
  /** Largest reassembled fragmentable part (RFC 791 / RFC 8200: a 16-bit length, 65 535). */
  readonly maxFragmentDatagramBytes: number;
  /** Bytes held in fragments across all datagrams being reassembled. */
  readonly maxFragmentTotalBytes: number;
  /** A datagram not complete this long after its first fragment (capture time) is dropped. */
  readonly fragmentTimeoutMs: number;
  /** TCP flow directions tracked at once; the least recently used is evicted beyond this. */
  readonly maxTcpFlows: number;
  /** Out-of-order bytes held per flow direction before the oldest hole is skipped. */
  readonly maxTcpFlowBufferBytes: number;
  /** Out-of-order bytes held across all flows before holes of the LRU flows are skipped. */
  readonly maxTcpTotalBufferBytes: number;
  /** A flow direction with no segment this long (capture time) is forgotten. */
  readonly tcpIdleTimeoutMs: number;
  /** After FIN, how long a hole before the FIN may wait to be filled. */
  readonly tcpFinTimeoutMs: number;
  /**
   * Bytes of already-delivered stream kept per flow to compare retransmissions against
   * (differing retransmitted bytes are an anomaly). 0 disables the comparison.
   */
  readonly tcpRetransmitCompareBytes: number;
  /** Nested encapsulations (VLAN stacks count as one, each IP / GRE / Ethernet layer as one). */
  readonly maxEncapsulationDepth: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxFragmentDatagrams: 1024,
  maxFragmentDatagramBytes: 65_535,
  maxFragmentTotalBytes: 16 * 1024 * 1024,
  fragmentTimeoutMs: 30_000,
  maxTcpFlows: 65_536,
  maxTcpFlowBufferBytes: 1024 * 1024,
  maxTcpTotalBufferBytes: 64 * 1024 * 1024,
  tcpIdleTimeoutMs: 120_000,
  tcpFinTimeoutMs: 5_000,
  tcpRetransmitCompareBytes: 1024,
  maxEncapsulationDepth: 8,
});

/**
 * The decoder's bounds from the config's `limits` (DESIGN.md §8.4): `fragments` datagrams in reassembly (oldest
 * evicted, RFC 791 §3.2 / RFC 8200 §4.5), `fragmentTimeoutSeconds`, `flows` TCP flow directions (least recently
 * used evicted), `flowIdleSeconds`, `flowBufferBytes` out-of-order bytes per flow and `reassemblyBytes` across all
 * flows (the oldest hole is skipped, RFC 9293 §3.10.7.4 leaves buffering to the receiver).
 */
export function decodeLimitsOf(l: {
  readonly fragments: number;
  readonly fragmentTimeoutSeconds: number;
  readonly flows: number;
  readonly flowIdleSeconds: number;
  readonly flowBufferBytes: number;
  readonly reassemblyBytes: number;
}): Partial<DecodeLimits> {
  return {
    maxFragmentDatagrams: l.fragments,
    fragmentTimeoutMs: l.fragmentTimeoutSeconds * 1000,
    maxTcpFlows: l.flows,
    tcpIdleTimeoutMs: l.flowIdleSeconds * 1000,
    maxTcpFlowBufferBytes: l.flowBufferBytes,
    maxTcpTotalBufferBytes: l.reassemblyBytes,
  };
}

/** Every anomaly kind the decoder emits (stable names: metrics and `analyze` output use them). */
export const DECODE_ANOMALY_KINDS = [
  /** Frame shorter than its link-layer header. */
  'link.truncated',
  /** VLAN tag cut short. */
  'vlan.truncated',
  /** IP version nibble is neither 4 nor 6, or not the one the link layer announced. */
  'ip.bad-version',
  /** Fewer bytes than the IPv4 header (20 bytes, or IHL × 4). */
  'ipv4.truncated',
  /** IHL below 5. */
  'ipv4.bad-header-length',
  /** Total length smaller than the header. */
  'ipv4.bad-total-length',
  /** Captured bytes end before the total length (snaplen); the packet is dropped. */
  'ipv4.payload-truncated',
  'ipv6.truncated',
  'ipv6.payload-truncated',
  /** An IPv6 extension header (or IPsec AH) runs past the payload. */
  'ipv6.ext-truncated',
  /** Overlapping fragments carry different bytes (the first copy is kept). */
  'frag.overlap-differs',
  /** Fragments disagree on the datagram's end; the datagram is dropped. */
  'frag.inconsistent',
  /** Fragments reach beyond 65 535 bytes; the datagram is dropped. */
  'frag.too-large',
  /** Datagram not complete within the timeout (or at end of input); dropped. */
  'frag.expired',
  /** Datagram dropped to respect the concurrent-datagram or byte limits. */
  'frag.evicted',
  'udp.truncated',
  /** UDP length below 8. */
  'udp.bad-length',
  /** UDP length differs from the IP payload length; the smaller is used. */
  'udp.length-mismatch',
  'tcp.truncated',
  /** Data offset below 5 words or past the segment. */
  'tcp.bad-header-length',
  /** Retransmitted or overlapping bytes differ from the first copy (the first copy is kept). */
  'tcp.overlap-differs',
  /** Bytes never arrived; delivery skipped them and flagged the next payload `gap: true`. */
  'tcp.gap',
  /** A flow's (or all flows') out-of-order buffer was full, forcing a hole to be skipped. */
  'tcp.buffer-limit',
  /** A flow direction was evicted to respect the flow limit. */
  'tcp.flow-evicted',
  /** PPPoE session header or PPP protocol field cut short. */
  'pppoe.truncated',
  /** PPPoE version/type other than 0x11, a non-zero session code, or a length below 2. */
  'pppoe.bad-header',
  /** MPLS label stack (or the pseudowire control word after it) cut short. */
  'mpls.truncated',
  /** ERSPAN header cut short. */
  'erspan.truncated',
  /** ERSPAN version that does not match its GRE protocol. */
  'erspan.bad-header',
  /** VXLAN header cut short. */
  'vxlan.truncated',
  'gre.truncated',
  /** GRE version other than 0, or the RFC 1701 routing bit. */
  'gre.unsupported',
  /** More nested encapsulations than `maxEncapsulationDepth`. */
  'encap.too-deep',
] as const satisfies readonly AnomalyKind[];

export type DecodeAnomalyKind = (typeof DECODE_ANOMALY_KINDS)[number];

/** Distinct reasons `DecodeStats.notDecoded` keeps; further reasons are counted under {@link NOT_DECODED_OTHER}. */
export const MAX_NOT_DECODED_REASONS = 32;
/** The reason under which frames are counted once {@link MAX_NOT_DECODED_REASONS} distinct reasons are known. */
export const NOT_DECODED_OTHER = 'other';

/** Counters of one decoder. All monotonic except `tcpFlows` / `fragmentDatagrams` (current sizes). */
export interface DecodeStats {
  frames: number;
  /** Frames (or tunnelled payloads) whose link / GRE protocol is not IP. */
  nonIp: number;
  /**
   * Frames not decoded, by reason (`ethertype 0x88cc`, `link type 147`, `ip protocol 50`, `ppp protocol 0xc021`):
   * every `nonIp` and `otherProtocols` frame counted once under its reason. At most
   * {@link MAX_NOT_DECODED_REASONS} keys plus {@link NOT_DECODED_OTHER}, so it is a bounded metrics label set.
   */
  notDecoded: Record<string, number>;
  /** Outermost IP packets decoded. */
  ipPackets: number;
  /** IP headers inside another IP / GRE packet. */
  tunnelled: number;
  /** IP protocols we do not decode (ICMP, ESP, SCTP …). */
  otherProtocols: number;
  fragments: number;
  fragmentsReassembled: number;
  fragmentsExpired: number;
  fragmentsEvicted: number;
  udp: number;
  tcpSegments: number;
  /** Segments (or parts) that carried only bytes already delivered. */
  tcpRetransmissions: number;
  tcpGaps: number;
  /** Bytes that never arrived, skipped at gaps. */
  tcpGapBytes: number;
  tcpFlowsOpened: number;
  tcpFlowsClosed: number;
  flowsEvicted: number;
  flowsExpired: number;
  datagrams: number;
  anomalies: number;
  /** Captured bytes that were received but never delivered (truncated, expired, evicted, invalid). */
  bytesDropped: number;
  /** Current number of tracked TCP flow directions. */
  tcpFlows: number;
  /** Current number of datagrams being reassembled. */
  fragmentDatagrams: number;
}

export function newDecodeStats(): DecodeStats {
  return {
    frames: 0,
    nonIp: 0,
    notDecoded: {},
    ipPackets: 0,
    tunnelled: 0,
    otherProtocols: 0,
    fragments: 0,
    fragmentsReassembled: 0,
    fragmentsExpired: 0,
    fragmentsEvicted: 0,
    udp: 0,
    tcpSegments: 0,
    tcpRetransmissions: 0,
    tcpGaps: 0,
    tcpGapBytes: 0,
    tcpFlowsOpened: 0,
    tcpFlowsClosed: 0,
    flowsEvicted: 0,
    flowsExpired: 0,
    datagrams: 0,
    anomalies: 0,
    bytesDropped: 0,
    tcpFlows: 0,
    fragmentDatagrams: 0,
  };
}

/** Count one frame not decoded for `reason`, keeping the reason set bounded. */
export function countNotDecoded(stats: DecodeStats, reason: string): void {
  const m = stats.notDecoded;
  const n = m[reason];
  if (n !== undefined) m[reason] = n + 1;
  else if (Object.keys(m).length < MAX_NOT_DECODED_REASONS) m[reason] = 1;
  else m[NOT_DECODED_OTHER] = (m[NOT_DECODED_OTHER] ?? 0) + 1;
}

/** Add the per-reason counts `from` into `into`, with the bound {@link countNotDecoded} keeps. */
export function mergeNotDecoded(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [reason, n] of Object.entries(from)) {
    if (into[reason] !== undefined || Object.keys(into).length < MAX_NOT_DECODED_REASONS) into[reason] = (into[reason] ?? 0) + n;
    else into[NOT_DECODED_OTHER] = (into[NOT_DECODED_OTHER] ?? 0) + n;
  }
}

/** How a stateful stage reports an anomaly back to the decoder. */
export type AnomalySink = (kind: DecodeAnomalyKind, detail: string, frame: number) => void;
