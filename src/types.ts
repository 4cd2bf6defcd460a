/**
 * The normalised types that flow between pipeline stages (DESIGN.md §3).
 * Each stage owns its module; this file holds only the contracts between them.
 */

import type { AnomalyKind } from './anomalies.js';

/** Capture time: integer seconds since the epoch plus nanoseconds (keeps nanosecond pcap exact). */
export interface Timestamp {
  readonly sec: number;
  /** 0 … 999_999_999 */
  readonly nsec: number;
}

/** Milliseconds since the epoch (float), for clocks and windows. */
export function tsMillis(ts: Timestamp): number {
  return ts.sec * 1000 + ts.nsec / 1e6;
}

/** Epoch seconds with 9 decimals, as tshark prints frame.time_epoch. */
export function tsString(ts: Timestamp): string {
  return `${ts.sec}.${String(ts.nsec).padStart(9, '0')}`;
}

/** Where a frame/datagram came from, so every alert can point back to its evidence. */
export type Origin =
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'socket'; readonly listener: string }
  | { readonly kind: 'hep'; readonly listener: string; readonly agentId?: number }
  | { readonly kind: 'interface'; readonly iface: string };

/** Link-layer types we decode (pcap LINKTYPE_* values). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** One captured packet as read from a source. `bytes` is a slice, never a copy, where possible. */
export interface Frame {
  /** 1-based frame number within its source (file or stream). */
  readonly number: number;
  readonly ts: Timestamp;
  readonly linkType: number;
  readonly bytes: Buffer;
  /** Original length on the wire (may exceed bytes.length when the snaplen cut it). */
  readonly origLen: number;
  /** pcapng interface id (0 for classic pcap). */
  readonly iface: number;
}

export interface Endpoint {
  /** Textual address: dotted IPv4 or RFC 5952 compressed IPv6. */
  readonly ip: string;
  readonly port: number;
}

export type Transport = 'udp' | 'tcp' | 'tls' | 'ws';

/** The HEP capture agent that reported a message (a proxy's siptrace, heplify): where the packet came from, its id. */
export interface HepAgent {
  /** `ip:port` (IPv6 bracketed) the HEP packet was sent from. */
  readonly address: string;
  /** HEP capture id (v2 time header, v3 chunk 12); absent for HEP v1. */
  readonly captureId?: number;
  /**
   * Transport of the HEP feed itself (not of the SIP inside): with address and capture id, the route a message
   * arrived by (issue #20: the same message over HEP UDP and HEP TCP is kept once, with both routes).
   */
  readonly feed?: 'udp' | 'tcp';
}

/**
 * A transport payload ready for SIP. UDP: one datagram. TCP: the next in-order bytes of one
 * direction of a flow (the SIP layer frames messages by Content-Length).
 */
export interface Datagram {
  readonly ts: Timestamp;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly transport: Transport;
  readonly payload: Buffer;
  /** Frame number of the frame that completed this payload (last fragment / segment). */
  readonly frame: number;
  /** TCP only: stable key of this flow direction, e.g. "10.0.0.1:5060>10.0.0.2:5060". */
  readonly flow?: string;
  /** TCP only: bytes were lost before this payload; the framer must resynchronise. */
  readonly gap?: boolean;
  /** TCP only: frame numbers of every segment that contributed bytes to this payload (ascending). */
  readonly frames?: readonly number[];
}

/** A named, counted problem with the input. Never an alert by itself (DESIGN.md §3). */
export interface Anomaly {
  /** A registered name (src/anomalies.ts). */
  readonly kind: AnomalyKind;
  readonly detail: string;
  readonly frame?: number;
}

/** Three-way parse result for data that may arrive split (DESIGN.md §8.2). */
export type Parse<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly consumed: number }
  | { readonly kind: 'incomplete'; readonly need?: number }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Error with a stable code (DESIGN.md §8.6). */
export class SpoofwatchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SpoofwatchError';
  }
}
