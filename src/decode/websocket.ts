/**
 * SIP over WebSocket inside TCP streams (RFC 7118), what browser softphones (SIP.js, JsSIP) send:
 *
 * - {@link parseHttpHead}: the HTTP/1.1 request or response head of the opening handshake (RFC 6455 §4.1, §4.2.2);
 * - {@link parseWsFrameHeader}: one WebSocket frame header (RFC 6455 §5.2), pure and three-way;
 * - {@link WsMessageDecoder}: one direction of a connection: frames → unmasked (§5.3), defragmented (§5.4) text and
 *   binary messages, control frames (§5.5) skipped, every bound checked and every deviation reported;
 * - {@link WsFlows}: which TCP flow directions are WebSocket: a `GET` with `Upgrade: websocket` at the start of a
 *   direction, answered by `101` at the start of the other direction, switches both to frame decoding (RFC 7118 §4:
 *   subprotocol `sip`; every text or binary message is one SIP message, §5).
 *
 * Decoders are pure functions over Buffer slices; the two classes hold per-flow state, bounded.
 */
import type { AnomalyKind } from '../anomalies.js';
import type { Datagram, Endpoint, Parse, Timestamp } from '../types.js';

/** RFC 6455 §5.2 opcodes. */
export const WsOpcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** One frame header (RFC 6455 §5.2). `consumed` of the parse result is the header length. */
export interface WsFrameHeader {
  readonly fin: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 4): non-zero only with a negotiated extension. */
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  /** Masking key as four bytes (big-endian u32); 0 when not masked. */
  readonly maskKey: number;
  readonly payloadLength: number;
  /** The length was not written in its shortest form (§5.2 "the minimal number of bytes MUST be used"). */
  readonly nonMinimalLength: boolean;
}

/**
 * Parse the frame header at `b[off..]` (RFC 6455 §5.2: 2 bytes, then a 16- or 64-bit extended length, then a 4-byte
 * masking key when MASK is set). Invalid only when the framing itself cannot be trusted: a 64-bit length with its
 * most significant bit set (§5.2 "MUST be 0") or beyond 2^53. Protocol errors that keep the framing intact (reserved
 * opcode, oversized control frame) are returned as ok for the caller to report.
 */
export function parseWsFrameHeader(b: Buffer, off = 0): Parse<WsFrameHeader> {
  const avail = b.length - off;
  if (avail < 2) return { kind: 'incomplete', need: 2 - Math.max(avail, 0) };
  const b0 = b[off] as number;
  const b1 = b[off + 1] as number;
  const masked = (b1 & 0x80) !== 0;
  const len7 = b1 & 0x7f;
  const extLen = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const headerLength = 2 + extLen + (masked ? 4 : 0);
  if (avail < headerLength) return { kind: 'incomplete', need: headerLength - avail };
  let payloadLength = len7;
  let nonMinimalLength = false;
  if (len7 === 126) {
    payloadLength = b.readUInt16BE(off + 2);
    nonMinimalLength = payloadLength < 126;
  } else if (len7 === 127) {
    const hi = b.readUInt32BE(off + 2);
    const lo = b.readUInt32BE(off + 6);
    if ((hi & 0x80000000) !== 0) return { kind: 'invalid', reason: 'websocket 64-bit payload length has its most significant bit set' };
    if (hi > 0x1fffff) return { kind: 'invalid', reason: `websocket payload length ${hi} * 2^32 is beyond any bound` };
    payloadLength = hi * 0x100000000 + lo;
    nonMinimalLength = payloadLength <= 0xffff;
  }
  return {
    kind: 'ok',
    consumed: headerLength,
    value: {
      fin: (b0 & 0x80) !== 0,
      rsv: (b0 >> 4) & 0x07,
      opcode: b0 & 0x0f,
      masked,
      maskKey: masked ? b.readUInt32BE(off + headerLength - 4) : 0,
      payloadLength,
      nonMinimalLength,
    },
  };
}

/** XOR `src` into `dst[at..]` with the masking key, starting at key byte `phase` (RFC 6455 §5.3). */
function unmaskInto(dst: Buffer, at: number, src: Buffer, maskKey: number, phase: number): void {
  const k0 = maskKey >>> 24;
  const k1 = (maskKey >>> 16) & 0xff;
  const k2 = (maskKey >>> 8) & 0xff;
  const k3 = maskKey & 0xff;
  const key = [k0, k1, k2, k3];
  for (let i = 0; i < src.length; i++) dst[at + i] = (src[i] as number) ^ (key[(phase + i) & 3] as number);
}

/** A whole text or binary message of one direction. */
export interface WsMessage {
  readonly opcode: number;
  readonly payload: Buffer;
  /** The frame (capture frame or socket read) whose bytes completed the message. */
  readonly frame: number;
  /** Every frame that carried part of the message, ascending. */
  readonly frames: readonly number[];
  readonly ts: Timestamp;
}

/** Stable anomaly kinds of the WebSocket decoders. */
export const WsAnomaly = {
  /** §5.1: a client MUST mask every frame it sends. */
  unmaskedClientFrame: 'ws.unmasked-client-frame',
  /** §5.1: a server MUST NOT mask. */
  maskedServerFrame: 'ws.masked-server-frame',
  nonMinimalLength: 'ws.non-minimal-length',
  reservedBits: 'ws.reserved-bits',
  reservedOpcode: 'ws.reserved-opcode',
  /** §5.5: control frames are at most 125 bytes and never fragmented. */
  badControlFrame: 'ws.bad-control-frame',
  /** A continuation frame with no message started. */
  orphanContinuation: 'ws.orphan-continuation',
  /** A new text/binary frame while a fragmented message was still open: the open one is dropped. */
  interruptedMessage: 'ws.interrupted-message',
  messageTooLarge: 'ws.message-too-large',
  /** RSV1 with permessage-deflate (RFC 7692): compressed messages are not decoded. */
  compressed: 'ws.compressed-unsupported',
  /** Bytes after a close frame. */
  afterClose: 'ws.data-after-close',
  /** Framing lost (invalid header, or TCP bytes missing): the rest of the direction is skipped. */
  lost: 'ws.framing-lost',
  handshakeTooLarge: 'ws.handshake-too-large',
  /** An Upgrade: websocket request not answered by 101: the flow is framed as plain SIP again. */
  upgradeRefused: 'ws.upgrade-refused',
  flowEvicted: 'ws.flow-evicted',
  /** The budget for unfinished messages of all connections is spent: a message is skipped. */
  bufferLimit: 'ws.buffer-limit',
  /** Decoding starts again at a frame boundary after lost bytes. */
  resync: 'ws.resync',
  /** A WebSocket connection picked up without its handshake (capture started after it). */
  midStream: 'ws.mid-stream',
} as const satisfies Record<string, AnomalyKind>;

export type WsAnomalySink = (kind: AnomalyKind, detail: string, frame: number) => void;

export interface WsDecoderLimits {
  /** Largest message (all fragments together); larger ones are skipped without buffering. */
  readonly maxMessageBytes: number;
  /**
   * Bytes of unfinished messages buffered by all decoders sharing this object (one per Ingest); beyond `max` the
   * message that would exceed it is skipped. Without it only the per-message bound applies.
   */
  readonly budget?: WsBudget;
}

/** A byte budget shared by decoders. */
export interface WsBudget {
  used: number;
  readonly max: number;
}

const MAX_HEADER = 14;

/**
 * One direction of a WebSocket connection, after the handshake: bytes in (any split), messages out. Control frames
 * are skipped; a close frame ends the direction. Framing errors that leave the next frame boundary known are
 * reported and decoding goes on; those that do not (or a TCP gap) end decoding of the direction.
 */
export class WsMessageDecoder {
  /** Header bytes split across pushes (at most 13). */
  private hdr = Buffer.alloc(MAX_HEADER);
  private hdrLen = 0;
  private cur: WsFrameHeader | undefined;
  private got = 0;
  /** The current frame's payload is kept (a data frame of a message not being skipped). */
  private keep = false;
  /** The open message: its bytes as they arrived (unmasked copies), their total, opcode; `skipping`: dropped. */
  private fragments: Buffer[] = [];
  private msgBytes = 0;
  private msgOpcode = -1;
  private skipping = false;
  private msgFrames: number[] = [];
  private closed = false;
  private lost = false;
  /** Bytes were pushed already (a gap before the first byte loses nothing). */
  private started = false;
  /** Frames seen since the current WS frame began (its header may sit in an earlier push). */
  private frameFrames: number[] = [];
  messages = 0;

  /** Between frames: the next byte would start a frame header. */
  get atFrameBoundary(): boolean {
    return this.cur === undefined && this.hdrLen === 0;
  }

  /** Bytes were pushed already. */
  get hasStarted(): boolean {
    return this.started;
  }

  /** Framing was lost (invalid header or missing bytes): nothing more is decoded. */
  get isLost(): boolean {
    return this.lost;
  }

  constructor(
    private readonly fromClient: boolean,
    private readonly limits: WsDecoderLimits,
    private readonly report: WsAnomalySink,
  ) {}

  /** Feed the next in-order bytes. `frames`: the capture frames that carried them (default `[frame]`). */
  push(data: Buffer, frame: number, ts: Timestamp, frames?: readonly number[], gap = false): WsMessage[] {
    const out: WsMessage[] = [];
    if (gap && this.started && !this.lost) this.lose('TCP bytes missing', frame);
    if (this.lost || data.length === 0) return out;
    this.started = true;
    if (this.closed) {
      this.report(WsAnomaly.afterClose, `${data.length} bytes after the close frame`, frame);
      return out;
    }
    const here = frames !== undefined && frames.length > 0 ? frames : [frame];
    let off = 0;
    while (off < data.length && !this.lost && !this.closed) {
      for (const f of here) if (!this.frameFrames.includes(f)) this.frameFrames.push(f);
      let h = this.cur;
      if (h === undefined) {
        off = this.readHeader(data, off, frame);
        h = this.cur as WsFrameHeader | undefined;
        if (h === undefined) break;
      }
      const n = Math.min(h.payloadLength - this.got, data.length - off);
      if (n > 0 && this.keep) this.store(h, data.subarray(off, off + n), frame);
      this.got += n;
      off += n;
      if (this.got === h.payloadLength) this.endFrame(h, frame, ts, out);
    }
    return out;
  }

  /**
   * Copy (unmasked) payload bytes of the current frame as they arrive: memory follows the bytes really received,
   * never a length a header merely claims.
   */
  private store(h: WsFrameHeader, src: Buffer, frame: number): void {
    const budget = this.limits.budget;
    if (budget !== undefined && budget.used + src.length > budget.max) {
      this.report(WsAnomaly.bufferLimit, `unfinished messages of all connections exceed ${budget.max} bytes; this one skipped`, frame);
      this.dropBuffered();
      this.skipping = true;
      this.keep = false;
      return;
    }
    const chunk = Buffer.allocUnsafe(src.length);
    if (h.masked) unmaskInto(chunk, 0, src, h.maskKey, this.got & 3);
    else src.copy(chunk);
    this.fragments.push(chunk);
    this.msgBytes += chunk.length;
    if (budget !== undefined) budget.used += chunk.length;
  }

  /** Forget the open message's bytes, returning them to the budget. */
  private dropBuffered(): void {
    if (this.limits.budget !== undefined) this.limits.budget.used -= this.msgBytes;
    this.fragments = [];
    this.msgBytes = 0;
  }

  /** Consume header bytes from `data[off..]`; sets `cur` once a whole header is known. Returns the new offset. */
  private readHeader(data: Buffer, off: number, frame: number): number {
    let b: Buffer;
    let base: number;
    let fromHdr = this.hdrLen;
    if (fromHdr === 0) {
      b = data;
      base = off;
    } else {
      const take = Math.min(MAX_HEADER - fromHdr, data.length - off);
      data.copy(this.hdr, fromHdr, off, off + take);
      b = this.hdr.subarray(0, fromHdr + take);
      base = 0;
    }
    const r = parseWsFrameHeader(b, base);
    if (r.kind === 'incomplete') {
      // Keep what there is (at most 13 bytes) for the next push.
      if (fromHdr === 0) {
        data.copy(this.hdr, 0, off);
        this.hdrLen = data.length - off;
      } else {
        this.hdrLen = b.length;
      }
      return data.length;
    }
    if (r.kind === 'invalid') {
      this.lose(r.reason, frame);
      return data.length;
    }
    const next = off + (r.consumed - fromHdr);
    this.hdrLen = 0;
    fromHdr = 0;
    this.startFrame(r.value, frame);
    return next;
  }

  private startFrame(h: WsFrameHeader, frame: number): void {
    this.cur = h;
    this.got = 0;
    this.keep = false;
    if (h.masked !== this.fromClient) {
      this.report(h.masked ? WsAnomaly.maskedServerFrame : WsAnomaly.unmaskedClientFrame, `opcode ${h.opcode}, ${h.payloadLength} bytes`, frame);
    }
    if (h.nonMinimalLength) this.report(WsAnomaly.nonMinimalLength, `length ${h.payloadLength} in a longer encoding`, frame);
    const op = h.opcode;
    if (op >= 0x8) {
      if (op > 0xa) this.report(WsAnomaly.reservedOpcode, `opcode ${op}`, frame);
      else if (h.payloadLength > 125 || !h.fin) this.report(WsAnomaly.badControlFrame, `opcode ${op}, ${h.payloadLength} bytes, fin ${h.fin}`, frame);
      return; // control payloads are not kept
    }
    if (op > 0x2) {
      this.report(WsAnomaly.reservedOpcode, `opcode ${op}`, frame);
      return;
    }
    if (op === WsOpcode.continuation) {
      if (this.msgOpcode < 0) {
        this.report(WsAnomaly.orphanContinuation, `${h.payloadLength} bytes`, frame);
        return;
      }
    } else {
      if (this.msgOpcode >= 0) {
        this.report(WsAnomaly.interruptedMessage, `${this.msgBytes} bytes of an unfinished message dropped`, frame);
        this.resetMessage();
      }
      this.msgOpcode = op;
      if ((h.rsv & 0x4) !== 0) {
        // RFC 7692 permessage-deflate sets RSV1 on the first frame of a compressed message.
        this.report(WsAnomaly.compressed, `compressed message (RSV1) skipped`, frame);
        this.skipping = true;
      } else if (h.rsv !== 0) {
        this.report(WsAnomaly.reservedBits, `RSV ${h.rsv}`, frame);
      }
    }
    if (this.skipping) return;
    if (this.msgBytes + h.payloadLength > this.limits.maxMessageBytes) {
      this.report(WsAnomaly.messageTooLarge, `message of more than ${this.limits.maxMessageBytes} bytes skipped`, frame);
      this.skipping = true;
      this.dropBuffered();
      return;
    }
    this.keep = true;
  }

  private endFrame(h: WsFrameHeader, frame: number, ts: Timestamp, out: WsMessage[]): void {
    const frames = this.frameFrames;
    this.frameFrames = [];
    this.cur = undefined;
    this.keep = false;
    if (h.opcode === WsOpcode.close) {
      this.closed = true;
      return;
    }
    if (h.opcode >= 0x8 || h.opcode > 0x2 || this.msgOpcode < 0) return;
    for (const f of frames) if (!this.msgFrames.includes(f)) this.msgFrames.push(f);
    if (!h.fin) return;
    if (!this.skipping) {
      const payload = this.fragments.length === 1 ? (this.fragments[0] as Buffer) : Buffer.concat(this.fragments, this.msgBytes);
      this.messages++;
      out.push({ opcode: this.msgOpcode, payload, frame, frames: this.msgFrames.sort((a, b) => a - b), ts });
    }
    this.resetMessage();
  }

  private resetMessage(): void {
    this.dropBuffered();
    this.msgOpcode = -1;
    this.skipping = false;
    this.msgFrames = [];
  }

  private lose(reason: string, frame: number): void {
    this.lost = true;
    this.report(WsAnomaly.lost, reason, frame);
    this.resetMessage();
    this.cur = undefined;
    this.keep = false;
  }

  /** Give the open message's bytes back to the budget (flow closed or forgotten). */
  dispose(): void {
    this.dropBuffered();
  }
}

// ------------------------------------------------------------------------------------------------ HTTP handshake

/** An HTTP/1.1 message head: start line and header fields in order (names lower-cased). */
export interface HttpHead {
  readonly startLine: string;
  readonly headers: readonly (readonly [string, string])[];
  /** Bytes up to and including the empty line. */
  readonly length: number;
}

/**
 * Parse the head of an HTTP/1.1 message at the start of `b` (RFC 9112 §2.1: start line, fields, empty line; LF
 * alone is tolerated as a line end, §2.2). Incomplete until the empty line; invalid past `maxBytes`. Latin-1
 * decoding keeps every byte; folded lines (obs-fold) join the previous field.
 */
export function parseHttpHead(b: Buffer, maxBytes: number): Parse<HttpHead> {
  let end = -1;
  let i = 0;
  for (;;) {
    const lf = b.indexOf(0x0a, i);
    if (lf < 0 || lf >= maxBytes) break;
    if (b[lf + 1] === 0x0a) {
      end = lf + 2;
      break;
    }
    if (b[lf + 1] === 0x0d && b[lf + 2] === 0x0a) {
      end = lf + 3;
      break;
    }
    if (lf + 2 >= b.length) break;
    i = lf + 1;
  }
  if (end < 0) {
    return b.length >= maxBytes ? { kind: 'invalid', reason: `HTTP head longer than ${maxBytes} bytes` } : { kind: 'incomplete' };
  }
  const lines = b.toString('latin1', 0, end).split(/\r?\n/);
  const startLine = lines[0] ?? '';
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && headers.length > 0) {
      const last = headers[headers.length - 1] as [string, string];
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { kind: 'ok', consumed: end, value: { startLine, headers, length: end } };
}

/** Comma-separated tokens of every `name` field, lower-cased (RFC 9110 §5.6.1). */
export function headerTokens(h: HttpHead, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of h.headers) {
    if (n !== name) continue;
    for (const t of v.split(',')) {
      const s = t.split(';')[0]?.trim().toLowerCase();
      if (s) out.push(s);
    }
  }
  return out;
}

/** The opening handshake request (RFC 6455 §4.1): a GET with `Upgrade: websocket`. */
export function isWebSocketUpgrade(h: HttpHead): boolean {
  return /^GET\s/i.test(h.startLine) && headerTokens(h, 'upgrade').includes('websocket');
}

/** The server accepted the upgrade (RFC 6455 §4.2.2: status 101). */
export function isSwitchingProtocols(h: HttpHead): boolean {
  return /^HTTP\/\d(?:\.\d)?\s+101(?:\s|$)/i.test(h.startLine);
}

// ------------------------------------------------------------------------------------------------ flows

/** What one payload of a TCP flow direction became. */
export type WsPushResult =
  /**
   * Not (or no longer) WebSocket: frame these datagrams as plain SIP, each under its own `flow`, in this order. They
   * include the pushed one; without `release` it is the pushed datagram alone.
   */
  | { readonly kind: 'not-ws'; readonly release?: readonly Datagram[] }
  /** Taken by the WebSocket layer: messages completed by it (of this direction or, after a 101, of the client's). */
  | { readonly kind: 'ws'; readonly messages: readonly WsFlowMessage[] };

/** A WebSocket message with the flow it travelled on. */
export interface WsFlowMessage extends WsMessage {
  readonly src: Endpoint;
  readonly dst: Endpoint;
  /** The handshake named the `sip` subprotocol (RFC 7118 §4), in the request or the response. */
  readonly sip: boolean;
}

export interface WsFlowLimits extends WsDecoderLimits {
  /** Flow directions in handshake or WebSocket state; the oldest is forgotten beyond this. */
  readonly maxFlows: number;
  /** Largest HTTP head of the handshake. */
  readonly maxHandshakeBytes: number;
  /** Bytes held by all flows together: handshakes, frames waiting for a 101, unfinished messages. */
  readonly maxBufferedBytes: number;
}

export const DEFAULT_WS_FLOW_LIMITS: WsFlowLimits = Object.freeze({
  maxFlows: 65_536,
  maxHandshakeBytes: 16 * 1024,
  maxMessageBytes: 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
});

type FlowState =
  /** Collecting the request head (client direction). */
  | { readonly kind: 'request'; held: Datagram[]; bytes: number }
  /** Request was an upgrade; waiting for the other direction's answer. Later bytes are held, bounded. */
  | {
      readonly kind: 'await-response';
      /** Every datagram of the direction so far (the head first). */
      held: Datagram[];
      /** Bytes held after the head. */
      bytes: number;
      readonly sip: boolean;
      /** Bytes after the head within the head's datagrams, and the datagrams after those. */
      readonly after: Datagram | undefined;
      readonly headDatagrams: number;
    }
  /** Collecting the response head (server direction). */
  | { readonly kind: 'response'; held: Datagram[]; bytes: number }
  | { readonly kind: 'ws'; readonly decoder: WsMessageDecoder; readonly sip: boolean; readonly src: Endpoint; readonly dst: Endpoint };

type HoldingState = Exclude<FlowState, { kind: 'ws' }>;

const GET = Buffer.from('GET ');
const HTTP = Buffer.from('HTTP/');

/** `payload` starts with `word` (or is a non-empty prefix of it). */
function startsWithWord(payload: Buffer, word: Buffer): boolean {
  const n = Math.min(payload.length, word.length);
  return n > 0 && payload.compare(word, 0, n, 0, n) === 0;
}

/** The key of the opposite direction: `a:1>b:2` → `b:2>a:1` (addresses never contain `>`). */
export function reverseFlow(flow: string): string {
  const i = flow.indexOf('>');
  return `${flow.slice(i + 1)}>${flow.slice(0, i)}`;
}

function concatPayloads(ds: readonly Datagram[]): Buffer {
  return ds.length === 1 ? (ds[0] as Datagram).payload : Buffer.concat(ds.map((d) => d.payload));
}

/** Copy a datagram's payload: the capture reader's buffers may be reused once the push returns. */
function hold(d: Datagram): Datagram {
  return { ...d, payload: Buffer.from(d.payload) };
}

/**
 * Finds the WebSocket connections among TCP flows (RFC 6455 §4 handshake at the start of both directions) and decodes
 * their messages. Callers ask {@link isCandidate} on the first payload of a new flow direction (cheap byte test) and
 * route that flow through {@link push} while {@link has} says so.
 */
export class WsFlows {
  private readonly flows = new Map<string, FlowState>();
  /** Shared by every flow's decoder and the held handshake bytes (see {@link WsFlowLimits.maxBufferedBytes}). */
  private readonly budget: WsBudget;

  /**
   * `looksLikeSip`: the SIP layer's probe, for connections first seen after their handshake (the decode stage does
   * not import the SIP layer; the pipeline hands its probe in).
   */
  constructor(
    private readonly limits: WsFlowLimits,
    private readonly report: WsAnomalySink,
    private readonly looksLikeSip?: (b: Buffer) => boolean,
  ) {
    this.budget = { used: 0, max: limits.maxBufferedBytes };
  }

  /** Bytes held by all flows now (handshakes, early frames, unfinished messages). */
  get bufferedBytes(): number {
    return this.budget.used;
  }

  get size(): number {
    return this.flows.size;
  }

  has(flow: string): boolean {
    return this.flows.has(flow);
  }

  /** A first payload that may open a handshake: `GET ` on any direction, `HTTP/` answering a pending upgrade. */
  isCandidate(d: Datagram & { flow: string }): boolean {
    if (d.gap === true) return this.midStream(d);
    if (startsWithWord(d.payload, GET)) return true;
    if (!startsWithWord(d.payload, HTTP)) return false;
    return this.flows.get(reverseFlow(d.flow))?.kind === 'await-response';
  }

  /**
   * A flow first seen after its handshake (capture started while a softphone stayed connected: browsers keep one
   * WebSocket open for hours). Taken as WebSocket when its first bytes are a whole text/binary frame header whose
   * (unmasked) payload starts like SIP; masked frames are the client's (RFC 6455 §5.3). Frames split differently from
   * segments are not found this way; the flow is then framed as plain SIP, as before.
   */
  private midStream(d: Datagram & { flow: string }): boolean {
    const masked = this.sipFrameAt(d.payload);
    if (masked === undefined) return false;
    this.report(WsAnomaly.midStream, `${d.flow}: ${masked ? 'client' : 'server'} frames without a handshake seen`, d.frame);
    this.set(d.flow, { kind: 'ws', decoder: this.decoder(masked), sip: true, src: d.src, dst: d.dst }, d.frame);
    return true;
  }

  /**
   * Whether `p` starts with a text/binary frame header whose (unmasked) payload starts like SIP; then whether that
   * frame is masked (a client's, RFC 6455 §5.3). Cheap first-byte test before anything else.
   */
  private sipFrameAt(p: Buffer): boolean | undefined {
    const b0 = p[0];
    // FIN set or not, no RSV, opcode text or binary: 0x01, 0x02, 0x81, 0x82.
    if (this.looksLikeSip === undefined || b0 === undefined || (b0 & 0x7c) !== 0 || (b0 & 0x03) === 0 || (b0 & 0x03) === 3) return undefined;
    const h = parseWsFrameHeader(p);
    if (h.kind !== 'ok' || h.value.payloadLength < 12) return undefined;
    const n = Math.min(h.value.payloadLength, p.length - h.consumed, 1024);
    const head = Buffer.allocUnsafe(n);
    if (h.value.masked) unmaskInto(head, 0, p.subarray(h.consumed, h.consumed + n), h.value.maskKey, 0);
    else p.copy(head, 0, h.consumed, h.consumed + n);
    return this.looksLikeSip(head) ? h.value.masked : undefined;
  }

  forget(flow: string): void {
    const st = this.flows.get(flow);
    if (st !== undefined) this.giveUp(flow, st);
  }

  clear(): void {
    for (const st of this.flows.values()) this.release(st);
    this.flows.clear();
  }

  /** Copy `d` into a holding state's list, within the budget; false when the budget is spent. */
  private holdIn(st: HoldingState, d: Datagram): boolean {
    if (this.budget.used + d.payload.length > this.budget.max) {
      this.report(WsAnomaly.bufferLimit, `bytes held by all WebSocket flows exceed ${this.budget.max}; ${d.flow ?? ''} framed as plain SIP`, d.frame);
      return false;
    }
    st.held.push(hold(d));
    this.budget.used += d.payload.length;
    return true;
  }

  /** Return what a state holds to the budget. */
  private release(st: FlowState): void {
    if (st.kind === 'ws') st.decoder.dispose();
    else for (const h of st.held) this.budget.used -= h.payload.length;
  }

  /** Forget a flow's state (whether or not it was stored yet). */
  private giveUp(flow: string, st: FlowState): void {
    this.release(st);
    if (this.flows.get(flow) === st) this.flows.delete(flow);
  }

  /** Bytes of a flow direction that {@link isCandidate} accepted or {@link has} knows. */
  push(d: Datagram & { flow: string }): WsPushResult {
    const st = this.flows.get(d.flow);
    if (st === undefined) {
      if (startsWithWord(d.payload, GET)) return this.request(d, this.start(d, { kind: 'request', held: [], bytes: 0 }));
      if (startsWithWord(d.payload, HTTP)) {
        if (this.flows.get(reverseFlow(d.flow))?.kind !== 'await-response') return { kind: 'not-ws' };
        return this.response(d, this.start(d, { kind: 'response', held: [], bytes: 0 }));
      }
      return { kind: 'not-ws' };
    }
    switch (st.kind) {
      case 'request':
        return this.request(d, st);
      case 'response':
        return this.response(d, st);
      case 'await-response': {
        if (d.gap === true || st.bytes + d.payload.length > this.limits.maxMessageBytes || !this.holdIn(st, d)) {
          // Too much before an answer: give up on WebSocket for this direction.
          this.giveUp(d.flow, st);
          return { kind: 'not-ws', release: [...st.held, d] };
        }
        st.bytes += d.payload.length;
        return { kind: 'ws', messages: [] };
      }
      case 'ws': {
        // A new handshake on the same 4-tuple (a reused port after the old connection closed): "GET " or "HTTP/"
        // where a frame header is due is never a valid frame (RSV1 with opcode 7 or 8), so it starts over.
        if (st.decoder.atFrameBoundary && (startsWithWord(d.payload, GET) || startsWithWord(d.payload, HTTP))) {
          this.giveUp(d.flow, st);
          return this.push(d);
        }
        if ((d.gap === true && st.decoder.hasStarted) || st.decoder.isLost) {
          // Bytes were lost: start again if this payload begins with a SIP frame (segments usually start one).
          const masked = this.sipFrameAt(d.payload);
          if (masked !== undefined) {
            if (!st.decoder.isLost) this.report(WsAnomaly.lost, 'TCP bytes missing', d.frame);
            this.report(WsAnomaly.resync, `${d.flow}: decoding again at a frame boundary`, d.frame);
            const next: FlowState = { ...st, decoder: this.decoder(masked) };
            this.set(d.flow, next, d.frame);
            return { kind: 'ws', messages: this.decode(next, d.payload, { ...d, gap: false }) };
          }
        }
        return { kind: 'ws', messages: this.decode(st, d.payload, d) };
      }
    }
  }

  /** Store a new flow's first state (evicting the oldest flow at the limit). */
  private start<T extends FlowState>(d: Datagram & { flow: string }, st: T): T {
    this.set(d.flow, st, d.frame);
    return st;
  }

  /** Store `st` for `flow`; a state it replaces gives back what it held (a holding state's list moves with it). */
  private set(flow: string, st: FlowState, frame: number): void {
    const old = this.flows.get(flow);
    if (old === undefined && this.flows.size >= this.limits.maxFlows) {
      const oldest = this.flows.entries().next();
      if (!oldest.done) {
        this.giveUp(oldest.value[0], oldest.value[1]);
        this.report(WsAnomaly.flowEvicted, `WebSocket flow limit ${this.limits.maxFlows} reached: ${oldest.value[0]}`, frame);
      }
    }
    if (old !== undefined && old !== st) {
      this.release(old);
      if (st.kind !== 'ws') for (const h of st.held) this.budget.used += h.payload.length;
    }
    this.flows.set(flow, st);
  }

  private request(d: Datagram & { flow: string }, st: Extract<FlowState, { kind: 'request' }>): WsPushResult {
    if (!this.holdIn(st, d)) {
      this.giveUp(d.flow, st);
      return { kind: 'not-ws', release: [...st.held, d] };
    }
    st.bytes += d.payload.length;
    const all = concatPayloads(st.held);
    const r = parseHttpHead(all, this.limits.maxHandshakeBytes);
    if (r.kind === 'incomplete' && d.gap !== true) return { kind: 'ws', messages: [] };
    if (r.kind !== 'ok' || !isWebSocketUpgrade(r.value)) {
      if (r.kind === 'invalid') this.report(WsAnomaly.handshakeTooLarge, r.reason, d.frame);
      this.giveUp(d.flow, st);
      return { kind: 'not-ws', release: st.held };
    }
    const sip = headerTokens(r.value, 'sec-websocket-protocol').includes('sip');
    const tail = all.subarray(r.consumed);
    const after = tail.length > 0 ? { ...d, payload: tail } : undefined;
    this.set(d.flow, { kind: 'await-response', held: st.held, bytes: tail.length, sip, after, headDatagrams: st.held.length }, d.frame);
    return { kind: 'ws', messages: [] };
  }

  private response(d: Datagram & { flow: string }, st: Extract<FlowState, { kind: 'response' }>): WsPushResult {
    const clientFlow = reverseFlow(d.flow);
    const client = this.flows.get(clientFlow);
    if (client?.kind !== 'await-response' || !this.holdIn(st, d)) {
      this.giveUp(d.flow, st);
      return st.held.length > 0 ? { kind: 'not-ws', release: [...st.held, d] } : { kind: 'not-ws' };
    }
    st.bytes += d.payload.length;
    const all = concatPayloads(st.held);
    const r = parseHttpHead(all, this.limits.maxHandshakeBytes);
    if (r.kind === 'incomplete' && d.gap !== true) return { kind: 'ws', messages: [] };
    if (r.kind !== 'ok' || !isSwitchingProtocols(r.value)) {
      // Refused (or not HTTP after all): both directions are framed as SIP again, from their first byte.
      this.report(WsAnomaly.upgradeRefused, r.kind === 'ok' ? r.value.startLine.slice(0, 80) : r.kind === 'invalid' ? r.reason : 'TCP bytes missing', d.frame);
      this.giveUp(d.flow, st);
      this.giveUp(clientFlow, client);
      // The client's held bytes belong to the other direction: the caller frames them under their own flow.
      return { kind: 'not-ws', release: [...client.held, ...st.held] };
    }
    const sip = client.sip || headerTokens(r.value, 'sec-websocket-protocol').includes('sip');
    const server: FlowState = { kind: 'ws', decoder: this.decoder(false), sip, src: d.src, dst: d.dst };
    const first = client.held[0] as Datagram;
    const clientWs: FlowState = { kind: 'ws', decoder: this.decoder(true), sip, src: first.src, dst: first.dst };
    this.set(d.flow, server, d.frame);
    this.set(clientFlow, clientWs, d.frame);
    const messages: WsFlowMessage[] = [];
    // Frames the client sent before the answer arrived (pipelined), then the server's bytes after its head.
    const early = client.held.slice(client.headDatagrams);
    if (client.after !== undefined) early.unshift(client.after);
    for (const e of early) messages.push(...this.decode(clientWs, e.payload, e));
    const rest = all.subarray(r.consumed);
    if (rest.length > 0) messages.push(...this.decode(server, rest, d));
    return { kind: 'ws', messages };
  }

  private decoder(fromClient: boolean): WsMessageDecoder {
    return new WsMessageDecoder(fromClient, { maxMessageBytes: this.limits.maxMessageBytes, budget: this.budget }, this.report);
  }

  private decode(st: Extract<FlowState, { kind: 'ws' }>, payload: Buffer, d: Datagram): WsFlowMessage[] {
    const ms = st.decoder.push(payload, d.frame, d.ts, d.frames, d.gap === true);
    return ms.map((m) => ({ ...m, src: st.src, dst: st.dst, sip: st.sip }));
  }
}
