/**
 * The source → SIP half of the pipeline (DESIGN.md §3) for ONE source (a file, a socket, a HEP feed): frames are
 * decoded to datagrams, HEP is unwrapped wherever it appears (HEP listeners, and HEP inside captures on any port),
 * TCP streams are framed per flow, SIP is recognised by content on any port and parsed once. Frame numbers are
 * per source, so each source gets its own Ingest; they all feed one Analyzer.
 */
import { PacketDecoder } from '../decode/packet-decoder.js';
import type { DecodeLimits } from '../decode/limits.js';
import { decodeHep, hepToDatagram } from '../decode/hep.js';
import { AddressTextCache } from '../decode/address-text.js';
import { DEFAULT_WS_FLOW_LIMITS, WsFlows, type WsFlowLimits, type WsFlowMessage } from '../decode/websocket.js';
import { looksLikeSip, messageAnomalies, parseSipMessage, SipStreamFramer, type SipMessage, type SipParse } from '../sip/index.js';
import type { MessageMeta } from '../correlate/facts.js';
import type { Anomaly, Datagram, Frame } from '../types.js';

export interface SipEvent {
  readonly msg: SipMessage;
  readonly meta: MessageMeta;
  /** Every frame that carried part of the message (TCP segments, IP fragments), ascending. */
  readonly frames: readonly number[];
  /** HEP capture agent id, when the message came in HEP. */
  readonly hepCaptureId?: number | undefined;
}

export interface IngestStats {
  frames: number;
  datagrams: number;
  hepPackets: number;
  sipMessages: number;
  /** UDP payloads that are neither SIP nor HEP (RTP, DNS …): not errors, just not ours. */
  notSip: number;
  /** Payloads that looked like SIP but whose start line did not parse. */
  invalidSip: number;
  anomalies: Record<string, number>;
}

export interface IngestOptions {
  /** Human-readable origin put on every message: file path, `udp:127.0.0.1:5060`, `hep:…`. */
  readonly origin: string;
  readonly onMessage: (e: SipEvent) => void;
  readonly onAnomaly?: (a: Anomaly) => void;
  readonly decodeLimits?: Partial<DecodeLimits>;
  /** Maximum concurrent TCP flows with a SIP framer (oldest evicted beyond it). */
  readonly maxStreams?: number;
  /** Bounds of SIP over WebSocket found in TCP streams (RFC 7118). */
  readonly wsLimits?: Partial<WsFlowLimits>;
}

const HEP_MAGIC = 0x48455033; // "HEP3"

/**
 * How Ingest takes a datagram: a whole HEP packet, a whole SIP message, a whole payload that is neither (RTP, DNS …,
 * counted, not an error), or bytes of a TCP stream to frame. `inHep`: it came out of a HEP packet (not unwrapped
 * twice). analyze's decode worker asks the same to split the SIP messages and drop the rest before handing over.
 */
export function datagramKind(d: Datagram, inHep = false): 'hep' | 'sip' | 'other' | 'stream' {
  const p = d.payload;
  if (d.transport !== 'udp') {
    if (d.flow !== undefined) return 'stream';
    // One WebSocket message is one SIP message (RFC 7118 §5); never HEP: a client must not choose its own source.
    if (d.transport === 'ws') return looksLikeSip(p) ? 'sip' : 'other';
  }
  if (!inHep && p.length >= 4 && p.readUInt32BE(0) === HEP_MAGIC) return 'hep';
  return looksLikeSip(p) ? 'sip' : 'other';
}

export class Ingest {
  readonly stats: IngestStats = { frames: 0, datagrams: 0, hepPackets: 0, sipMessages: 0, notSip: 0, invalidSip: 0, anomalies: {} };
  private readonly decoder: PacketDecoder;
  private readonly framers = new Map<string, SipStreamFramer>();
  /** Address texts of the HEP packets this Ingest decodes (its own cache, as the packet decoder has one). */
  private readonly hepAddrs = new AddressTextCache();
  private readonly maxStreams: number;
  /** TCP flows that are (or may become) WebSocket connections. */
  private readonly ws: WsFlows;
  private frameCount = 0;

  constructor(private readonly opts: IngestOptions) {
    this.maxStreams = opts.maxStreams ?? 65_536;
    this.ws = new WsFlows(
      { ...DEFAULT_WS_FLOW_LIMITS, maxFlows: this.maxStreams, ...opts.wsLimits },
      (kind, detail, frame) => this.anomaly({ kind, detail, frame }),
      looksLikeSip,
    );
    this.decoder = new PacketDecoder({
      onDatagram: (d) => this.datagram(d),
      onAnomaly: (a) => this.anomaly(a),
      ...(opts.decodeLimits ? { limits: opts.decodeLimits } : {}),
    });
  }

  get decodeStats() {
    return this.decoder.stats;
  }

  /** A captured frame (file, interface). */
  pushFrame(frame: Frame): void {
    this.stats.frames++;
    this.frameCount = frame.number;
    this.decoder.push(frame);
  }

  /** A transport payload from a socket: a UDP datagram or the next bytes of a TCP connection (`flow` set). */
  pushDatagram(d: Datagram, hepCaptureId?: number): void {
    this.datagram(d, hepCaptureId);
  }

  /**
   * A UDP datagram that was recognised as SIP (not HEP) and parsed elsewhere (analyze's decode worker), counted and
   * handed on as {@link datagram} would after parsing it here.
   */
  pushSip(d: Datagram, parsed: SipParse): void {
    this.stats.datagrams++;
    this.parsed(parsed, d, [d.frame]);
  }

  /** A decode anomaly reported elsewhere (analyze's decode worker), in capture order. */
  pushAnomaly(a: Anomaly): void {
    this.anomaly(a);
  }

  /** Datagrams decoded elsewhere that could be neither HEP nor SIP (counted as {@link datagram} would). */
  countSkipped(n: number): void {
    this.stats.datagrams += n;
    this.stats.notSip += n;
  }

  /** A HEP packet from a HEP listener (already framed). */
  pushHep(buf: Buffer, frame: number): void {
    this.hep(buf, frame);
  }

  /** End of input: emit what the decoder still holds and close every stream framer. */
  flush(): void {
    this.decoder.flush();
    this.framers.clear();
    this.ws.clear();
  }

  /** Forget a TCP connection's framer (socket closed). */
  closeFlow(flow: string): void {
    this.framers.delete(flow);
    this.ws.forget(flow);
  }

  private anomaly(a: Anomaly): void {
    this.stats.anomalies[a.kind] = (this.stats.anomalies[a.kind] ?? 0) + 1;
    this.opts.onAnomaly?.(a);
  }

  private datagram(d: Datagram, hepCaptureId?: number): void {
    this.stats.datagrams++;
    switch (datagramKind(d, hepCaptureId !== undefined)) {
      case 'hep':
        this.hep(d.payload, d.frame);
        return;
      case 'other':
        this.stats.notSip++;
        return;
      case 'sip':
        this.message(d.payload, d, [d.frame], hepCaptureId);
        return;
      case 'stream':
        this.stream(d as Datagram & { flow: string }, hepCaptureId);
    }
  }

  /** Bytes of a TCP (TLS, WS) connection, framed into SIP messages per flow. */
  private stream(d: Datagram & { flow: string }, hepCaptureId: number | undefined): void {
    let framer = this.framers.get(d.flow);
    // SIP over WebSocket (RFC 7118): flows that opened with a handshake (or a frame carrying SIP) never get a SIP
    // framer, so a flow that has one pays nothing here.
    if (framer === undefined && (this.ws.has(d.flow) || this.ws.isCandidate(d))) {
      this.webSocket(d, hepCaptureId);
      return;
    }
    if (framer === undefined) framer = this.newFramer(d);
    for (const m of framer.push(d)) {
      for (const a of m.anomalies) this.anomaly(a);
      this.message(m.bytes, { ...d, frame: m.frame }, m.frames, hepCaptureId);
    }
    for (const a of framer.takeAnomalies()) this.anomaly(a);
  }

  private newFramer(d: Datagram & { flow: string }): SipStreamFramer {
    if (this.framers.size >= this.maxStreams) {
      const oldest = this.framers.keys().next();
      if (!oldest.done) {
        this.framers.delete(oldest.value);
        this.anomaly({ kind: 'tcp.stream-evicted', detail: `too many TCP streams; dropped ${oldest.value}`, frame: d.frame });
      }
    }
    const framer = new SipStreamFramer();
    this.framers.set(d.flow, framer);
    return framer;
  }

  private webSocket(d: Datagram & { flow: string }, hepCaptureId: number | undefined): void {
    const r = this.ws.push(d);
    if (r.kind === 'not-ws') {
      for (const x of r.release ?? [d]) {
        const framer = this.framers.get(x.flow ?? '') ?? this.newFramer(x as Datagram & { flow: string });
        for (const m of framer.push(x)) {
          for (const a of m.anomalies) this.anomaly(a);
          this.message(m.bytes, { ...x, frame: m.frame }, m.frames, hepCaptureId);
        }
        for (const a of framer.takeAnomalies()) this.anomaly(a);
      }
      return;
    }
    for (const m of r.messages) this.wsMessage(m, hepCaptureId);
  }

  /** One text or binary WebSocket message: one SIP message (RFC 7118 §5), transport `ws`. */
  private wsMessage(m: WsFlowMessage, hepCaptureId: number | undefined): void {
    const d: Datagram = { ts: m.ts, src: m.src, dst: m.dst, transport: 'ws', payload: m.payload, frame: m.frame };
    // Without the `sip` subprotocol only what looks like SIP is taken (a WebSocket of another application).
    if (!m.sip && !looksLikeSip(m.payload)) {
      this.stats.notSip++;
      return;
    }
    this.message(m.payload, d, m.frames, hepCaptureId);
  }

  private hep(buf: Buffer, frame: number): void {
    const r = decodeHep(buf, this.hepAddrs);
    if (r.kind !== 'ok') {
      this.anomaly({ kind: 'hep.invalid', detail: r.kind === 'invalid' ? r.reason : 'truncated HEP packet', frame });
      return;
    }
    this.stats.hepPackets++;
    const h = hepToDatagram(r.value, { listener: this.opts.origin, frame });
    if (h.kind === 'skipped') {
      this.stats.notSip++;
      return;
    }
    // HEP carries whole SIP messages, even when the original transport was TCP.
    const { flow: _flow, ...dg } = h.datagram as Datagram & { flow?: string };
    this.datagram(dg, r.value.captureId ?? 0);
  }

  private message(bytes: Buffer, d: Datagram, frames: readonly number[], hepCaptureId?: number): void {
    this.parsed(parseSipMessage(bytes, d.frame), d, frames, hepCaptureId);
  }

  private parsed(msg: SipParse, d: Datagram, frames: readonly number[], hepCaptureId?: number): void {
    if (msg.kind === 'invalid') {
      this.stats.invalidSip++;
      this.anomaly({ kind: 'sip.invalid', detail: msg.reason, frame: d.frame });
      return;
    }
    this.stats.sipMessages++;
    // Every anomaly of the message, counted here for every reader (analyze, messages, the daemon's metrics): the same
    // list whichever rules later read which headers (issue #18.4).
    for (const a of messageAnomalies(msg)) this.anomaly(a);
    // One shape for every event (a conditional spread here cost an object and a copy per message).
    this.opts.onMessage({
      msg,
      meta: { ts: d.ts, frame: d.frame, src: d.src, dst: d.dst, transport: d.transport, origin: this.opts.origin },
      frames,
      hepCaptureId,
    });
  }
}
