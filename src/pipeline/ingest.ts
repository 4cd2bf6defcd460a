/**
 * The source → SIP half of the pipeline (DESIGN.md §3) for ONE source (a file, a socket, a HEP feed): frames are
 * decoded to datagrams, HEP is unwrapped wherever it appears (HEP listeners, and HEP inside captures on any port),
 * TCP streams are framed per flow, SIP is recognised by content on any port and parsed once. Frame numbers are
 * per source, so each source gets its own Ingest; they all feed one Analyzer.
 */
import { PacketDecoder } from '../decode/packet-decoder.js';
import { decodeLimitsOf, type DecodeLimits } from '../decode/limits.js';
import type { LimitsConfig } from '../config/types.js';
import { decodeHep, hepToDatagram, HepStreamFramer, looksLikeHepV12, type HepPacket } from '../decode/hep.js';
import { AddressTextCache } from '../decode/address-text.js';
import { DEFAULT_WS_FLOW_LIMITS, WsFlows, type WsFlowLimits, type WsFlowMessage } from '../decode/websocket.js';
import { matchStartLine, SL_SIZE } from '../sip/startline.js';
import { isSipStartLine, looksLikeSip, messageAnomalies, parseIfSip, parseSipMessage, SipParseScratch, SipStreamFramer, type SipMessage, type SipParse, type StreamBudget } from '../sip/index.js';
import type { MessageMeta } from '../correlate/facts.js';
import type { HepRejection } from '../sources/source.js';
import type { Anomaly, Datagram, Endpoint, Frame, HepAgent, Timestamp } from '../types.js';
import { tsMillis } from '../types.js';

export interface SipEvent {
  readonly msg: SipMessage;
  readonly meta: MessageMeta;
  /** Every frame that carried part of the message (TCP segments, IP fragments), ascending. */
  readonly frames: readonly number[];
  /** HEP capture agent id, when the message came in HEP. */
  readonly hepCaptureId?: number | undefined;
}

/** The first rejected HEP packet of one agent (source IP address), reported once per agent. */
export type { HepRejection } from '../sources/source.js';

/** Per-agent HEP counts, to tell an agent whose every packet is rejected (a version or format we cannot read). */
export interface HepAgentCounts {
  ok: number;
  rejected: number;
  /** Capture ms (live: wall ms) of the agent's last rejected packet. */
  lastRejectedMs: number;
}

/** Agents tracked per Ingest (a feed has a handful; beyond this the newest are not tracked). */
const MAX_HEP_AGENTS = 1024;

export interface IngestStats {
  frames: number;
  datagrams: number;
  hepPackets: number;
  sipMessages: number;
  /** UDP payloads that are neither SIP nor HEP (RTP, DNS …): not errors, just not ours. */
  notSip: number;
  /** Payloads that looked like SIP but whose start line did not parse. */
  invalidSip: number;
  /** HEP packets that decoded but carry no SIP, by HEP payload type (5 RTCP, 100 Kamailio `hlog` …): not anomalies. */
  hepNotSip: Record<string, number>;
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
  /** Called once per HEP agent, on its first packet that does not decode (for one log line, never per packet). */
  readonly onHepRejected?: (r: HepRejection) => void;
  /** Clock for HEP packets that carry no capture time (HEP v1; v3 without chunk 9) from a live feed. */
  readonly now?: () => Timestamp;
  /** Header bytes of one SIP message without an end before a stream drops them (`limits.messageBytes`; 64 KiB). */
  readonly maxStreamHeaderBytes?: number;
  /** Bytes held by all TCP streams' framers together (`limits.reassemblyBytes`; default 64 MiB). */
  readonly maxStreamBytes?: number;
}

/**
 * The Ingest bounds from the config's `limits` (issue #18: one Limits object into every bound): the decoder's
 * (fragments, TCP flows and their buffers), `flows` stream framers, `messageBytes` of an unfinished header section
 * per stream and `reassemblyBytes` held by all streams together.
 */
export function ingestLimitsOf(l: LimitsConfig): Pick<IngestOptions, 'decodeLimits' | 'maxStreams' | 'maxStreamBytes' | 'maxStreamHeaderBytes'> {
  return { decodeLimits: decodeLimitsOf(l), maxStreams: l.flows, maxStreamBytes: l.reassemblyBytes, maxStreamHeaderBytes: l.messageBytes };
}

const HEP_MAGIC = 0x48455033; // "HEP3"

/**
 * How Ingest takes a datagram: a whole HEP packet, a whole SIP message, a whole payload that is neither (RTP, DNS …,
 * counted, not an error), or bytes of a TCP stream to frame. `inHep`: it came out of a HEP packet (not unwrapped
 * twice). analyze's decode worker asks the same to split the SIP messages and drop the rest before handing over.
 */
export function datagramKind(d: Datagram, inHep = false): 'hep' | 'sip' | 'other' | 'stream' {
  const k = framingOf(d, inHep);
  return k !== 'whole' ? k : looksLikeSip(d.payload) ? 'sip' : 'other';
}

/** {@link datagramKind} but for the SIP probe: 'whole' is a whole payload that is SIP exactly when it looks like SIP. */
function framingOf(d: Datagram, inHep: boolean): 'hep' | 'stream' | 'whole' {
  const p = d.payload;
  if (d.transport !== 'udp') {
    if (d.flow !== undefined) return 'stream';
    // One WebSocket message is one SIP message (RFC 7118 §5); never HEP: a client must not choose its own source.
    if (d.transport === 'ws') return 'whole';
  }
  if (!inHep) {
    // One byte decides for ordinary SIP (it starts with a letter other than 'H', or 'H' of a non-HEP3 word).
    const b0 = p[0];
    if (b0 === 0x48 ? p.length >= 4 && p.readUInt32BE(0) === HEP_MAGIC : (b0 === 1 || b0 === 2) && looksLikeHepV12(p)) return 'hep';
  }
  return 'whole';
}

/** True when a TCP stream starts like HEP (v3 magic, or a plausible v1/v2 header): it is framed as a HEP feed. */
function streamIsHep(p: Buffer): boolean {
  const b0 = p[0];
  return b0 === 0x48 ? p.length >= 4 && p.readUInt32BE(0) === HEP_MAGIC : (b0 === 1 || b0 === 2) && looksLikeHepV12(p);
}

/** Bytes of a flow begun mid-stream held while neither a SIP nor a HEP start shows; beyond them it is framed as SIP. */
const MAX_UNDECIDED_BYTES = 4 * 1024;

/** A TCP flow whose first bytes were neither a SIP start nor a HEP start (a capture begun mid-connection). */
interface UndecidedFlow {
  readonly undecided: true;
  /** Its segments so far (copies), handed to the framer once it is chosen. */
  readonly held: Datagram[];
  bytes: number;
}

const HEP_MAGIC_BYTES = Buffer.from('HEP3', 'latin1');

/**
 * Where a flow that started mid-stream shows what it carries: the first HEP start (v3 magic, or a v1/v2 header followed by
 * the first letter of a SIP message) and the first SIP start line, whichever comes first; undefined when neither is in
 * `p` yet. A HEP feed carries SIP text too, so a start line after a HEP header must not make it a SIP flow: that would
 * read the agent's copies as if the agent had sent them.
 */
function midStreamKind(p: Buffer): 'hep' | 'sip' | undefined {
  let hepAt = p.indexOf(HEP_MAGIC_BYTES);
  for (let i = 0; i < p.length && (hepAt < 0 || i < hepAt); i++) {
    const b = p[i];
    if (b !== 1 && b !== 2) continue;
    const hl = p[i + 1];
    const fam = p[i + 2];
    if (!((hl === 16 && fam === 2) || (hl === 40 && fam === 10))) continue;
    const first = p[i + hl + (b === 2 ? 12 : 0)];
    if (first !== undefined && ((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a))) {
      hepAt = i;
      break;
    }
  }
  let sipAt = -1;
  for (let line = 0; line < p.length; ) {
    const lf = p.indexOf(0x0a, line);
    if (lf < 0) break;
    const le = lf > line && p[lf - 1] === 0x0d ? lf - 1 : lf;
    if (isSipStartLine(p, line, le)) {
      sipAt = line;
      break;
    }
    line = lf + 1;
  }
  if (hepAt >= 0 && (sipAt < 0 || hepAt < sipAt)) return 'hep';
  return sipAt >= 0 ? 'sip' : undefined;
}

/** A TCP flow of a capture that carries a HEP feed (an agent → collector connection), with its framer's counts. */
interface HepFlow {
  readonly framer: HepStreamFramer;
  seenInvalid: number;
  seenGarbage: number;
}

const agentKey = (e: Endpoint): string => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);

/** STUN's magic cookie (RFC 8489 §5), bytes 4–7 of every STUN message. */
const STUN_COOKIE = 0x2112a442;

/**
 * The UDP fast path's test (issue #18, {@link PacketDecoderOptions.dropUdp}): true for a payload that is RTP/RTCP
 * (first byte 128–191), DTLS (20–63) or STUN (0 or 3 with the magic cookie) by RFC 7983 §7's demultiplexing AND is
 * not SIP by the same probe {@link datagramKind} uses — so it drops exactly what `datagramKind` calls 'other' and
 * no more: SIP after junk bytes (which may start with any of those bytes) still reaches the parser. HEP v3 ('H')
 * and HEP v1/v2 (first byte 1 or 2) are never in these ranges. A first byte outside them answers false after one
 * compare (SIP, HEP and the rest go the ordinary way). Allocates nothing; `scratch` is the caller's.
 */
export function isMediaNotSip(b: Buffer, start: number, end: number, scratch: Int32Array): boolean {
  if (start >= end) return false;
  const c = b[start]!;
  if (c >= 128) {
    if (c > 191) return false;
  } else if (c >= 20) {
    if (c > 63) return false;
  } else if (c !== 0 && c !== 3) return false;
  else if (end - start < 8 || b.readUInt32BE(start + 4) !== STUN_COOKIE) return false;
  return matchStartLine(b, start, end, false, scratch) < 0;
}

/** A dropUdp for the decoder: RTP, RTCP, DTLS and STUN that are not SIP ({@link isMediaNotSip}). */
export function mediaFilter(): (b: Buffer, start: number, end: number) => boolean {
  const scratch = new Int32Array(SL_SIZE);
  return (b, start, end) => isMediaNotSip(b, start, end, scratch);
}

export class Ingest {
  readonly stats: IngestStats = { frames: 0, datagrams: 0, hepPackets: 0, sipMessages: 0, notSip: 0, invalidSip: 0, hepNotSip: {}, anomalies: {} };
  /** HEP packets decoded and rejected, by agent IP address (bounded by MAX_HEP_AGENTS). */
  readonly hepAgents = new Map<string, HepAgentCounts>();
  private readonly decoder: PacketDecoder;
  private readonly framers = new Map<string, SipStreamFramer | HepFlow | UndecidedFlow>();
  /** The agents of this source's HEP packets, one object per (address, capture id): no allocation per packet. */
  private readonly agentCache = new Map<string, HepAgent>();
  /** While a HEP packet is unwrapped: its agent (undefined otherwise, so every event keeps one shape). */
  private agent: HepAgent | undefined;
  /** Address texts of the HEP packets this Ingest decodes (its own cache, as the packet decoder has one). */
  private readonly hepAddrs = new AddressTextCache();
  private readonly maxStreams: number;
  /** TCP flows that are (or may become) WebSocket connections. */
  private readonly ws: WsFlows;
  private frameCount = 0;
  /** The SIP parser's working memory, reused message after message. */
  private readonly sipScratch = new SipParseScratch();
  /** What all stream framers hold together (issue #18: 10,000 connections × up to ~1 MB had no global cap). */
  readonly streamBudget: StreamBudget;

  constructor(private readonly opts: IngestOptions) {
    this.maxStreams = opts.maxStreams ?? 65_536;
    this.streamBudget = { used: 0, max: opts.maxStreamBytes ?? 64 * 1024 * 1024, refused: 0 };
    this.ws = new WsFlows(
      { ...DEFAULT_WS_FLOW_LIMITS, maxFlows: this.maxStreams, ...opts.wsLimits },
      (kind, detail, frame) => this.anomaly({ kind, detail, frame }),
      looksLikeSip,
    );
    this.decoder = new PacketDecoder({
      onDatagram: (d) => this.datagram(d),
      onAnomaly: (a) => this.anomaly(a),
      // RTP and the like are counted as 'other' before any Datagram exists for them (issue #18).
      dropUdp: mediaFilter(),
      onUdpDropped: () => this.countSkipped(1),
      ...(opts.decodeLimits ? { limits: opts.decodeLimits } : {}),
    });
  }

  get decodeStats() {
    return this.decoder.stats;
  }

  /** The decoder bounds this Ingest was built with: analyze's decode worker decodes for it with the same. */
  get decodeLimits(): Partial<DecodeLimits> | undefined {
    return this.opts.decodeLimits;
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

  /** A HEP packet from a HEP listener (already framed); `from`: the agent that sent it. */
  pushHep(buf: Buffer, frame: number, from?: Endpoint): void {
    this.hep(buf, frame, from);
  }

  /** A HEP packet framed elsewhere (the HEP TCP listener's framer); `from`: the agent that sent it. */
  pushHepPacket(p: HepPacket, frame: number, from?: Endpoint): void {
    this.hepPacket(p, frame, 'tcp', from);
  }

  /**
   * A HEP packet (or a run of stream bytes) that did not decode: counted as `hep.invalid`, and the agent's first one
   * reported through `onHepRejected`. `head`: the first bytes, for the log line.
   */
  rejectHep(reason: string, frame: number, from: Endpoint | undefined, head: Buffer): void {
    this.anomaly({ kind: 'hep.invalid', detail: reason, frame });
    // By address, not port: a TCP agent reconnects from a new port, a UDP sender may change socket.
    const key = from ? from.ip : this.opts.origin;
    let c = this.hepAgents.get(key);
    if (!c && this.hepAgents.size < MAX_HEP_AGENTS) this.hepAgents.set(key, (c = { ok: 0, rejected: 0, lastRejectedMs: 0 }));
    if (!c) return;
    const now = this.opts.now?.();
    c.lastRejectedMs = now ? tsMillis(now) : 0;
    if (c.rejected++ === 0) this.opts.onHepRejected?.({ agent: from ? agentKey(from) : key, reason, head: head.subarray(0, 32).toString('hex'), frame });
  }

  /**
   * Agents that sent HEP packets and had every one of them rejected: at least `minRejected`, the last one at or after
   * `sinceMs` (so one stray or spoofed datagram does not mark a feed degraded, and an agent that stopped recovers).
   */
  hepAgentsAllRejected(minRejected = 1, sinceMs = 0): string[] {
    const out: string[] = [];
    for (const [k, c] of this.hepAgents) if (c.ok === 0 && c.rejected >= minRejected && c.lastRejectedMs >= sinceMs) out.push(k);
    return out;
  }

  /** End of input: emit what the decoder still holds and close every stream framer. */
  flush(): void {
    this.decoder.flush();
    for (const f of this.framers.values()) if (f instanceof SipStreamFramer) f.release();
    this.framers.clear();
    this.ws.clear();
  }

  /** Forget a TCP connection's framer (socket closed). */
  closeFlow(flow: string): void {
    const framer = this.framers.get(flow);
    if (framer instanceof SipStreamFramer) framer.release();
    this.framers.delete(flow);
    this.ws.forget(flow);
  }

  private anomaly(a: Anomaly): void {
    this.stats.anomalies[a.kind] = (this.stats.anomalies[a.kind] ?? 0) + 1;
    this.opts.onAnomaly?.(a);
  }

  private datagram(d: Datagram, hepCaptureId?: number): void {
    this.stats.datagrams++;
    switch (framingOf(d, hepCaptureId !== undefined)) {
      case 'hep':
        this.hep(d.payload, d.frame, d.src, d.ts);
        return;
      case 'whole': {
        // datagramKind's probe and the parse in one start-line match: SIP exactly when it parses.
        const msg = parseIfSip(d.payload, d.frame, this.sipScratch);
        if (msg === undefined) this.stats.notSip++;
        else this.parsed(msg, d, [d.frame], hepCaptureId);
        return;
      }
      case 'stream':
        this.stream(d as Datagram & { flow: string }, hepCaptureId);
    }
  }

  /** Bytes of a TCP (TLS, WS) connection, framed into SIP messages (or, for a HEP feed, HEP packets) per flow. */
  private stream(d: Datagram & { flow: string }, hepCaptureId: number | undefined): void {
    const framer = this.framers.get(d.flow);
    // SIP over WebSocket (RFC 7118): flows that opened with a handshake (or a frame carrying SIP) never get a framer,
    // so a flow that has one pays nothing here.
    if (framer === undefined && (this.ws.has(d.flow) || this.ws.isCandidate(d))) {
      this.webSocket(d, hepCaptureId);
      return;
    }
    this.plainStream(d, framer, hepCaptureId);
  }

  /** Bytes of a TCP flow that is not WebSocket: a SIP framer, or a HEP feed, or (begun mid-stream) undecided yet. */
  private plainStream(
    d: Datagram & { flow: string },
    existing: SipStreamFramer | HepFlow | UndecidedFlow | undefined,
    hepCaptureId: number | undefined,
  ): void {
    let framer = existing;
    if (framer !== undefined && !(framer instanceof SipStreamFramer)) {
      if ('undecided' in framer) this.midStream(framer, d, hepCaptureId);
      else this.hepStream(framer, d);
      return;
    }
    if (!framer) {
      if (this.framers.size >= this.maxStreams) {
        const oldest = this.framers.keys().next();
        if (!oldest.done) {
          const evicted = this.framers.get(oldest.value);
          if (evicted instanceof SipStreamFramer) evicted.release();
          this.framers.delete(oldest.value);
          this.anomaly({ kind: 'tcp.stream-evicted', detail: `too many TCP streams; dropped ${oldest.value}`, frame: d.frame });
        }
      }
      if (hepCaptureId === undefined && streamIsHep(d.payload)) {
        const flow: HepFlow = { framer: new HepStreamFramer(), seenInvalid: 0, seenGarbage: 0 };
        this.framers.set(d.flow, flow);
        this.hepStream(flow, d);
        return;
      }
      if (hepCaptureId === undefined && d.payload.length > 0 && !looksLikeSip(d.payload)) {
        // Neither starts here: a capture that began mid-connection. Look before choosing (see midStreamKind).
        const flow: UndecidedFlow = { undecided: true, held: [], bytes: 0 };
        this.framers.set(d.flow, flow);
        this.midStream(flow, d, hepCaptureId);
        return;
      }
      framer = this.sipFramer();
      this.framers.set(d.flow, framer);
    }
    for (const m of framer.push(d)) {
      for (const a of m.anomalies) this.anomaly(a);
      this.message(m.bytes, { ...d, frame: m.frame }, m.frames, hepCaptureId);
    }
    for (const a of framer.takeAnomalies()) this.anomaly(a);
  }

  /** A SIP framer for a new TCP flow, within the streams' shared byte budget (`limits.reassemblyBytes`). */
  private sipFramer(): SipStreamFramer {
    return new SipStreamFramer({ budget: this.streamBudget, ...(this.opts.maxStreamHeaderBytes !== undefined ? { maxHeaderBytes: this.opts.maxStreamHeaderBytes } : {}) });
  }

  private webSocket(d: Datagram & { flow: string }, hepCaptureId: number | undefined): void {
    const r = this.ws.push(d);
    if (r.kind === 'not-ws') {
      for (const x of r.release ?? [d]) {
        const flow = x as Datagram & { flow: string };
        this.plainStream(flow, this.framers.get(flow.flow), hepCaptureId);
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

  /**
   * A flow begun mid-stream: its segments are held until a HEP or a SIP start shows (or MAX_UNDECIDED_BYTES pass: then
   * SIP, as before), then the chosen framer gets them all in order and resynchronises itself, counting what it skips.
   */
  private midStream(flow: UndecidedFlow, d: Datagram & { flow: string }, hepCaptureId: number | undefined): void {
    flow.held.push({ ...d, payload: Buffer.from(d.payload) });
    flow.bytes += d.payload.length;
    const kind = midStreamKind(d.payload) ?? (flow.bytes > MAX_UNDECIDED_BYTES ? 'sip' : undefined);
    if (kind === undefined) return;
    if (kind === 'hep') {
      const hep: HepFlow = { framer: new HepStreamFramer(), seenInvalid: 0, seenGarbage: 0 };
      this.framers.set(d.flow, hep);
      for (const h of flow.held) this.hepStream(hep, h);
      return;
    }
    this.framers.set(d.flow, this.sipFramer());
    for (const h of flow.held) this.stream(h as Datagram & { flow: string }, hepCaptureId);
  }

  /** Bytes of a HEP feed over TCP inside a capture, framed as the live HEP TCP listener frames them. */
  private hepStream(flow: HepFlow, d: Datagram): void {
    const packets = flow.framer.push(d.payload);
    const st = flow.framer.stats;
    if (st.invalid > flow.seenInvalid) {
      const n = st.invalid - flow.seenInvalid;
      flow.seenInvalid = st.invalid;
      for (let i = 0; i < n; i++) this.rejectHep(st.lastInvalidReason ?? 'invalid HEP packet', d.frame, d.src, d.payload);
    }
    if (st.garbageBytes > flow.seenGarbage) {
      this.anomaly({ kind: 'hep.tcp-resync', detail: `${st.garbageBytes - flow.seenGarbage} bytes skipped to the next HEP packet`, frame: d.frame });
      flow.seenGarbage = st.garbageBytes;
    }
    for (const p of packets) this.hepPacket(p, d.frame, 'tcp', d.src, d.ts);
  }

  private hep(buf: Buffer, frame: number, from?: Endpoint, outerTs?: Timestamp): void {
    const r = decodeHep(buf, this.hepAddrs);
    if (r.kind !== 'ok') {
      this.rejectHep(r.kind === 'invalid' ? r.reason : 'truncated HEP packet', frame, from, buf);
      return;
    }
    this.hepPacket(r.value, frame, 'udp', from, outerTs);
  }

  /**
   * `outerTs`: the time of the frame that carried the packet (inside a capture); a packet without its own capture time
   * (HEP v1) takes it, or, live, the `now` clock.
   */
  private hepPacket(p: HepPacket, frame: number, feed: 'udp' | 'tcp', from?: Endpoint, outerTs?: Timestamp): void {
    this.stats.hepPackets++;
    const key = from ? from.ip : this.opts.origin;
    let c = this.hepAgents.get(key);
    if (!c && this.hepAgents.size < MAX_HEP_AGENTS) this.hepAgents.set(key, (c = { ok: 0, rejected: 0, lastRejectedMs: 0 }));
    if (c) c.ok++;
    const now = outerTs !== undefined ? () => outerTs : this.opts.now;
    const h = hepToDatagram(p, { listener: this.opts.origin, frame, ...(now ? { now } : {}) });
    if (h.kind === 'skipped') {
      this.stats.notSip++;
      if (h.reason === 'not-sip') {
        const t = String(p.payloadType);
        this.stats.hepNotSip[t] = (this.stats.hepNotSip[t] ?? 0) + 1;
      } else this.anomaly({ kind: 'hep.unsupported-protocol', detail: `IP protocol ${p.ipProtocol}`, frame });
      return;
    }
    // HEP carries whole SIP messages, even when the original transport was TCP.
    const { flow: _flow, ...dg } = h.datagram as Datagram & { flow?: string };
    // The message carries the agent that reported it (address, capture id): the alert's network evidence.
    this.agent = from ? this.agentOf(from, p.captureId, feed) : undefined;
    try {
      this.datagram(dg, p.captureId ?? 0);
    } finally {
      this.agent = undefined;
    }
  }

  private agentOf(from: Endpoint, captureId: number | undefined, feed: 'udp' | 'tcp'): HepAgent {
    const k = `${from.ip}|${from.port}|${captureId ?? ''}|${feed}`;
    let a = this.agentCache.get(k);
    if (a === undefined) {
      const address = agentKey(from);
      a = captureId !== undefined ? { address, captureId, feed } : { address, feed };
      if (this.agentCache.size >= MAX_HEP_AGENTS) this.agentCache.clear();
      this.agentCache.set(k, a);
    }
    return a;
  }

  private message(bytes: Buffer, d: Datagram, frames: readonly number[], hepCaptureId?: number): void {
    this.parsed(parseSipMessage(bytes, d.frame, this.sipScratch), d, frames, hepCaptureId);
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
      meta: { ts: d.ts, frame: d.frame, src: d.src, dst: d.dst, transport: d.transport, origin: this.opts.origin, agent: this.agent },
      frames,
      hepCaptureId,
    });
  }
}
