/**
 * What every live source of the daemon (socket listeners, HEP listeners, folder watch, interface capture)
 * exposes: a name usable as a metrics label, whether it is up, when it last saw a packet, and counters.
 * Counters only grow; anomalies are named (DESIGN.md §3: malformed input is an anomaly, counted, not an alert).
 */
import { mergeNotDecoded } from '../decode/limits.js';
import type { HepPacket } from '../decode/hep.js';
import type { Datagram, Endpoint, Frame, Timestamp } from '../types.js';

/** The first undecodable HEP packet of an agent, reported once (issue #16: one log line, never per packet). */
export interface HepRejection {
  /** Where that packet came from (`ip:port`), or the source's own name when the address is unknown. */
  readonly agent: string;
  readonly reason: string;
  /** Up to 32 first bytes of the packet, hex. */
  readonly head: string;
  readonly frame: number;
}

/**
 * Where a source hands what it reads (DESIGN.md §3 "Layer rule": a source does not know who listens). The daemon
 * wires it to the pipeline's Ingest; a source only pushes frames, datagrams and HEP packets and reads the counts.
 */
export interface IngestSink {
  /** A captured frame (file, interface). */
  pushFrame(frame: Frame): void;
  /** A UDP datagram or the next bytes of a TCP connection (`flow` set); `hepCaptureId` when it came inside HEP. */
  pushDatagram(d: Datagram, hepCaptureId?: number): void;
  /** A HEP packet (one datagram; decoded by the sink); `from` is the agent that sent it. */
  pushHep(buf: Buffer, frame: number, from?: Endpoint): void;
  /** A HEP packet already decoded (a TCP feed's framer). */
  pushHepPacket(p: HepPacket, frame: number, from?: Endpoint): void;
  /** A HEP packet that did not decode (counted per agent; the first of each agent reported once). */
  rejectHep(reason: string, frame: number, from: Endpoint | undefined, head: Buffer): void;
  /** Agents whose every HEP packet was rejected (at least `minRejected`, the last one since `sinceMs`). */
  hepAgentsAllRejected(minRejected?: number, sinceMs?: number): string[];
  /** A TCP connection closed: forget its stream state. */
  closeFlow(flow: string): void;
  /** End of input: emit what is still held. */
  flush(): void;
  readonly stats: IngestCounts;
  readonly decodeStats: { readonly notDecoded: Readonly<Record<string, number>> };
}

/** The counts a source folds into its own. */
export interface IngestCounts {
  readonly datagrams: number;
  readonly sipMessages: number;
  readonly hepPackets: number;
  readonly anomalies: Readonly<Record<string, number>>;
  /** HEP packets that carry no SIP, by HEP payload type. */
  readonly hepNotSip: Readonly<Record<string, number>>;
}

/** Makes the sink of one input (a listener, a file, an interface): `origin` names it in every alert's evidence. */
export type IngestFactory = (opts: {
  readonly origin: string;
  readonly maxStreams?: number;
  /** Clock for HEP packets that carry no capture time (HEP v1) from a live feed. */
  readonly now?: () => Timestamp;
  readonly onHepRejected?: (r: HepRejection) => void;
}) => IngestSink;

export interface SourceCounters {
  /** Reads from the source: UDP datagrams, TCP reads, HEP packets, capture frames. */
  frames: number;
  datagrams: number;
  sipMessages: number;
  hepPackets: number;
  bytes: number;
  /** Anomalies by kind: the source's own (oversize, idle timeout …) plus those of its Ingest(s). */
  anomalies: Record<string, number>;
  /** Captured frames not decoded, by bounded reason (`ethertype 0x88cc`, `link type 147`: DecodeStats.notDecoded). */
  notDecoded: Record<string, number>;
}

export interface SourceStatus {
  /** Stable, bounded name (metrics label): `sip-udp`, `sip-tcp`, `hep-udp`, `hep-tcp`, `watch`, `interface`. */
  readonly name: string;
  readonly up: boolean;
  /** Where it listens or reads: `udp:127.0.0.1:5060`, a folder, an interface. */
  readonly address: string;
  /** Wall-clock ms of the last packet, if any. */
  readonly lastPacketMs?: number;
  /** Why it is down. */
  readonly error?: string;
  readonly counters: SourceCounters;
  /** Open TCP connections (TCP listeners only). */
  readonly connections?: number;
  /** HEP listeners: agent addresses that sent packets of which none decoded (the source is degraded). */
  readonly hepAgentsRejected?: readonly string[];
  /** HEP listeners: packets that carry no SIP, by HEP payload type (5 RTCP, 100 log …); not anomalies. */
  readonly hepNotSip?: Readonly<Record<string, number>>;
}

export interface LiveSource {
  readonly name: string;
  status(): SourceStatus;
  /** Stop reading and release sockets/processes/timers; resolves when done. */
  close(): Promise<void>;
}

export function newCounters(): SourceCounters {
  return { frames: 0, datagrams: 0, sipMessages: 0, hepPackets: 0, bytes: 0, anomalies: {}, notDecoded: {} };
}

export function bump(m: Record<string, number>, kind: string, n = 1): void {
  m[kind] = (m[kind] ?? 0) + n;
}

/** Source counters with the Ingest's own counts folded in (ingests: the live ones plus totals of closed ones). */
export function mergeIngest(own: SourceCounters, ingests: readonly IngestSink[], closed?: SourceCounters): SourceCounters {
  const out: SourceCounters = { ...own, anomalies: { ...own.anomalies }, notDecoded: { ...own.notDecoded } };
  const add = (c: Omit<IngestCounts, 'hepNotSip'>) => {
    out.datagrams += c.datagrams;
    out.sipMessages += c.sipMessages;
    out.hepPackets += c.hepPackets;
    for (const [k, v] of Object.entries(c.anomalies)) bump(out.anomalies, k, v);
  };
  for (const i of ingests) {
    add(i.stats);
    mergeNotDecoded(out.notDecoded, i.decodeStats.notDecoded);
  }
  if (closed) {
    add(closed);
    mergeNotDecoded(out.notDecoded, closed.notDecoded);
  }
  return out;
}

/** Fold an Ingest's counts into `into` (used when a per-file Ingest is discarded). */
export function absorbIngest(into: SourceCounters, ingest: IngestSink): void {
  into.datagrams += ingest.stats.datagrams;
  into.sipMessages += ingest.stats.sipMessages;
  into.hepPackets += ingest.stats.hepPackets;
  for (const [k, v] of Object.entries(ingest.stats.anomalies)) bump(into.anomalies, k, v);
  mergeNotDecoded(into.notDecoded, ingest.decodeStats.notDecoded);
}

/** Wall clock as a capture timestamp (live sources stamp packets on arrival). */
export function wallTimestamp(ms: number = Date.now()): Timestamp {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.round((ms - sec * 1000) * 1e6) };
}
