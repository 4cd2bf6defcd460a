/**
 * TCP stream reassembly per flow direction (RFC 9293 §3.4 sequence space, §3.10.7 segment
 * arrival). Delivers each direction's bytes in order, once, as soon as they are contiguous:
 *
 * - SYN sets the initial sequence number; a flow first seen mid-stream starts at its first data
 *   segment and its first payload is flagged `gap` (it may start inside a message).
 * - Out-of-order segments are held (copied) until the hole before them fills. Retransmitted and
 *   overlapping bytes are trimmed: the first copy wins, a differing copy is an anomaly.
 * - A hole that does not fill (per-flow or total buffer full, flow idle, ending or evicted, or end of
 *   input) is skipped: the bytes after it are delivered with `gap: true`.
 * - FIN (once every byte before it arrived) and RST end the flow and free its state; a small
 *   tombstone keeps late retransmissions from reopening it.
 * - Sequence numbers wrap: positions are compared as signed 32-bit differences.
 */
import type { Datagram, Endpoint, Timestamp } from '../types.js';
import type { AnomalySink, DecodeLimits, DecodeStats } from './limits.js';
import { TcpFlag } from './headers.js';

interface Piece {
  readonly seq: number;
  readonly data: Buffer;
  readonly frame: number;
  readonly ts: Timestamp;
}

class FlowDirection {
  /** Next sequence number to deliver. */
  nextSeq: number;
  isn = -1;
  /** The next payload must be flagged `gap` (flow seen mid-stream). */
  gapPending: boolean;
  /** Held segments, sorted by sequence, not overlapping, all after `nextSeq`. */
  readonly held: Piece[] = [];
  heldBytes = 0;
  lastMs: number;
  /** `lastMs` when this flow was last (re)inserted in the LRU map. */
  orderMs: number;
  /** Sequence number after the last byte, once FIN was seen. */
  finEnd = -1;
  /** Last delivered bytes, ending at `nextSeq`, for comparing retransmissions. */
  tail: Buffer | undefined;
  tailLen = 0;

  constructor(
    readonly key: string,
    readonly src: Endpoint,
    readonly dst: Endpoint,
    seq: number,
    gapPending: boolean,
    nowMs: number,
  ) {
    this.nextSeq = seq;
    this.gapPending = gapPending;
    this.lastMs = nowMs;
    this.orderMs = nowMs;
  }
}

interface Tombstone {
  /** Sequence number after the last byte delivered. */
  readonly end: number;
  /** Closed by idle expiry or eviction (not FIN/RST): a segment at `end` continues the stream. */
  readonly resumable: boolean;
  readonly ms: number;
}

/** Signed distance a − b in 32-bit sequence space. */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

function byFrame(a: number, b: number): number {
  return a - b;
}

const SWEEP_INTERVAL_MS = 1000;

export class TcpReassembler {
  /** Insertion order approximates LRU; see `oldest()`. */
  private readonly flows = new Map<string, FlowDirection>();
  /** Flows that saw FIN with a hole still open, in FIN order. */
  private readonly closing = new Map<string, number>();
  private readonly tombstones = new Map<string, Tombstone>();
  private totalHeld = 0;
  private nextSweepMs = -Infinity;
  /** Capture clock of the segment being processed. */
  private nowMs = 0;

  constructor(
    private readonly limits: DecodeLimits,
    private readonly stats: DecodeStats,
    private readonly report: AnomalySink,
    private readonly emit: (d: Datagram) => void,
  ) {}

  get size(): number {
    return this.flows.size;
  }

  /** Process one segment of the flow direction `key`. `payload` may be a slice of the frame. */
  segment(
    key: string,
    srcIp: string,
    srcPort: number,
    dstIp: string,
    dstPort: number,
    seq: number,
    flags: number,
    payload: Buffer,
    frame: number,
    ts: Timestamp,
    nowMs: number,
  ): void {
    this.nowMs = nowMs;
    if (nowMs >= this.nextSweepMs) this.sweep(nowMs, frame);
    let st = this.flows.get(key);
    if ((flags & TcpFlag.RST) !== 0) {
      if (st !== undefined) this.close(st, 'RST', false);
      return;
    }
    let dataSeq = seq;
    if ((flags & TcpFlag.SYN) !== 0) {
      dataSeq = (seq + 1) >>> 0;
      if (st === undefined || st.isn !== seq) {
        // A new connection (or a reused 4-tuple): whatever the old one held is skipped.
        if (st !== undefined) this.close(st, 'new SYN', false);
        this.tombstones.delete(key);
        st = this.open(key, srcIp, srcPort, dstIp, dstPort, dataSeq, false, nowMs, frame);
        st.isn = seq;
      }
    } else if (st === undefined) {
      const len = payload.length;
      if (len === 0) return; // pure ACK / lone FIN of an unknown flow: nothing to deliver
      let start = seq;
      let gapPending = true;
      const tomb = this.tombstones.get(key);
      if (tomb !== undefined) {
        if (seqDiff((seq + len) >>> 0, tomb.end) <= 0) {
          this.stats.tcpRetransmissions++;
          return; // late retransmission of a closed flow's bytes
        }
        this.tombstones.delete(key);
        if (seqDiff(seq, tomb.end) <= 0) {
          start = tomb.end;
          gapPending = !tomb.resumable;
        }
      }
      st = this.open(key, srcIp, srcPort, dstIp, dstPort, start, gapPending, nowMs, frame);
    }
    st.lastMs = nowMs;
    if (payload.length > 0) this.data(st, dataSeq, payload, frame, ts);
    if ((flags & TcpFlag.FIN) !== 0 && st.finEnd < 0) {
      st.finEnd = (dataSeq + payload.length) >>> 0;
      if (st.nextSeq !== st.finEnd) this.closing.set(key, nowMs);
    }
    if (st.finEnd >= 0 && seqDiff(st.nextSeq, st.finEnd) >= 0) this.close(st, 'FIN', false);
  }

  /** End of input: skip every hole, deliver what is held, forget every flow. */
  flush(frame: number): void {
    for (const st of [...this.flows.values()]) this.close(st, 'end of input', true);
    this.closing.clear();
    this.tombstones.clear();
  }

  private open(
    key: string,
    srcIp: string,
    srcPort: number,
    dstIp: string,
    dstPort: number,
    seq: number,
    gapPending: boolean,
    nowMs: number,
    frame: number,
  ): FlowDirection {
    while (this.flows.size >= this.limits.maxTcpFlows) {
      const victim = this.oldest();
      if (victim === undefined) break;
      this.stats.flowsEvicted++;
      this.report('tcp.flow-evicted', `flow limit ${this.limits.maxTcpFlows} reached: ${victim.key}`, frame);
      this.close(victim, 'evicted', true);
    }
    const st = new FlowDirection(key, { ip: srcIp, port: srcPort }, { ip: dstIp, port: dstPort }, seq, gapPending, nowMs);
    this.flows.set(key, st);
    this.stats.tcpFlowsOpened++;
    this.stats.tcpFlows = this.flows.size;
    return st;
  }

  /**
   * Forget a flow direction after delivering what it holds (holes skipped). `resumable` tombstones
   * let a later segment at the same position continue without a gap (idle expiry, eviction).
   */
  private close(st: FlowDirection, reason: string, resumable: boolean): void {
    while (st.held.length > 0) this.skipHole(st, reason);
    this.flows.delete(st.key);
    this.closing.delete(st.key);
    this.stats.tcpFlows = this.flows.size;
    this.stats.tcpFlowsClosed++;
    if (this.tombstones.size >= this.limits.maxTcpFlows) {
      for (const k of this.tombstones.keys()) {
        this.tombstones.delete(k);
        break;
      }
    }
    this.tombstones.set(st.key, { end: st.nextSeq, resumable, ms: this.nowMs });
  }

  /** The least recently used flow: re-queue flows touched since they were queued, lazily. */
  private oldest(): FlowDirection | undefined {
    for (;;) {
      const first = this.flows.values().next();
      if (first.done === true) return undefined;
      const st = first.value;
      if (st.lastMs === st.orderMs) return st;
      this.flows.delete(st.key);
      st.orderMs = st.lastMs;
      this.flows.set(st.key, st);
    }
  }

  private sweep(nowMs: number, frame: number): void {
    this.nextSweepMs = nowMs + SWEEP_INTERVAL_MS;
    const finCutoff = nowMs - this.limits.tcpFinTimeoutMs;
    for (const [key, ms] of this.closing) {
      if (ms > finCutoff) break;
      const st = this.flows.get(key);
      if (st !== undefined) this.close(st, 'FIN', false);
      else this.closing.delete(key);
    }
    const idleCutoff = nowMs - this.limits.tcpIdleTimeoutMs;
    for (;;) {
      const st = this.oldest();
      if (st === undefined || st.lastMs > idleCutoff) break;
      this.stats.flowsExpired++;
      this.close(st, 'idle', true);
    }
    for (const [key, t] of this.tombstones) {
      if (t.ms > idleCutoff) break;
      this.tombstones.delete(key);
    }
  }

  private data(st: FlowDirection, seq: number, payload: Buffer, frame: number, ts: Timestamp): void {
    const len = payload.length;
    const d = seqDiff(seq, st.nextSeq);
    let p = payload;
    let s = seq;
    if (d < 0) {
      // Bytes before nextSeq were delivered already: compare what we still remember, then trim.
      this.compareDelivered(st, d, payload, frame);
      if (d + len <= 0) {
        this.stats.tcpRetransmissions++;
        return;
      }
      p = payload.subarray(-d);
      s = st.nextSeq;
    }
    if (s === st.nextSeq && st.held.length === 0) {
      // The common case: in order, nothing held. Deliver the slice as is.
      st.nextSeq = (st.nextSeq + p.length) >>> 0;
      this.deliver(st, p, [frame], frame, ts, false);
      return;
    }
    const inOrder = s === st.nextSeq;
    // In-order bytes are delivered before this call returns, so they need no copy.
    this.hold(st, s, inOrder ? p : Buffer.from(p), frame, ts);
    if (inOrder) {
      this.drain(st, false);
      return;
    }
    if (st.heldBytes > this.limits.maxTcpFlowBufferBytes) {
      this.report('tcp.buffer-limit', `${st.heldBytes} out-of-order bytes held on ${st.key}`, frame);
      while (st.heldBytes > this.limits.maxTcpFlowBufferBytes && st.held.length > 0) this.skipHole(st, 'flow buffer full');
    }
    if (this.totalHeld > this.limits.maxTcpTotalBufferBytes) {
      this.report('tcp.buffer-limit', `${this.totalHeld} out-of-order bytes held in all flows`, frame);
      for (const victim of [...this.flows.values()]) {
        if (this.totalHeld <= this.limits.maxTcpTotalBufferBytes) break;
        while (victim.held.length > 0) this.skipHole(victim, 'total buffer full');
      }
    }
  }

  /** Compare the part of a segment before `nextSeq` (at signed offset `d` < 0) with the tail kept. */
  private compareDelivered(st: FlowDirection, d: number, payload: Buffer, frame: number): void {
    if (st.tail === undefined || st.tailLen === 0) return;
    const from = Math.max(d, -st.tailLen);
    const to = Math.min(d + payload.length, 0);
    if (from >= to) return;
    const mine = payload.subarray(from - d, to - d);
    const kept = st.tail.subarray(st.tailLen + from, st.tailLen + to);
    if (!mine.equals(kept)) {
      this.report('tcp.overlap-differs', `retransmitted bytes differ on ${st.key}`, frame);
    }
  }

  /** Insert the parts of [seq, seq + data.length) not held yet; compare the parts that are. */
  private hold(st: FlowDirection, seq: number, data: Buffer, frame: number, ts: Timestamp): void {
    const start = seqDiff(seq, st.nextSeq);
    const end = start + data.length;
    let cur = start;
    let differs = false;
    let i = 0;
    const held = st.held;
    while (i < held.length && cur < end) {
      const h = held[i] as Piece;
      const hs = seqDiff(h.seq, st.nextSeq);
      const he = hs + h.data.length;
      if (he <= cur) {
        i++;
        continue;
      }
      if (hs >= end) break;
      if (hs > cur) {
        const piece = { seq: (st.nextSeq + cur) >>> 0, data: data.subarray(cur - start, hs - start), frame, ts };
        held.splice(i, 0, piece);
        this.account(st, piece.data.length);
        i++;
      }
      const os = Math.max(cur, hs);
      const oe = Math.min(end, he);
      if (!differs && !data.subarray(os - start, oe - start).equals(h.data.subarray(os - hs, oe - hs))) differs = true;
      cur = he;
      i++;
    }
    if (cur < end) {
      const piece = { seq: (st.nextSeq + cur) >>> 0, data: data.subarray(cur - start), frame, ts };
      held.splice(i, 0, piece);
      this.account(st, piece.data.length);
    }
    if (differs) this.report('tcp.overlap-differs', `overlapping segment bytes differ on ${st.key}`, frame);
  }

  private account(st: FlowDirection, n: number): void {
    st.heldBytes += n;
    this.totalHeld += n;
  }

  /** Deliver the held pieces contiguous with `nextSeq`, as one payload. */
  private drain(st: FlowDirection, gap: boolean): void {
    const held = st.held;
    let chunks: Buffer[] | undefined;
    let first: Buffer | undefined;
    const frames: number[] = [];
    let lastFrame = -1;
    let lastTs: Timestamp | undefined;
    while (held.length > 0) {
      const h = held[0] as Piece;
      const rel = seqDiff(h.seq, st.nextSeq);
      if (rel > 0) break;
      held.shift();
      this.account(st, -h.data.length);
      if (-rel >= h.data.length) continue;
      const chunk = rel < 0 ? h.data.subarray(-rel) : h.data;
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
      st.nextSeq = (st.nextSeq + chunk.length) >>> 0;
      frames.push(h.frame);
      if (h.frame >= lastFrame) {
        lastFrame = h.frame;
        lastTs = h.ts;
      }
    }
    if (first === undefined || lastTs === undefined) return;
    frames.sort(byFrame);
    let n = 0;
    for (let i = 0; i < frames.length; i++) {
      if (i === 0 || frames[i] !== frames[n - 1]) frames[n++] = frames[i] as number;
    }
    frames.length = n;
    this.deliver(st, chunks === undefined ? first : Buffer.concat(chunks), frames, lastFrame, lastTs, gap);
  }

  /** Skip the hole before the first held piece and deliver from there with `gap: true`. */
  private skipHole(st: FlowDirection, reason: string): void {
    const h = st.held[0];
    if (h === undefined) return;
    const missing = seqDiff(h.seq, st.nextSeq);
    if (missing > 0) {
      this.stats.tcpGaps++;
      this.stats.tcpGapBytes += missing;
      this.report('tcp.gap', `${missing} bytes missing on ${st.key} (${reason})`, h.frame);
      st.nextSeq = h.seq;
      st.tailLen = 0;
    }
    this.drain(st, missing > 0);
  }

  private deliver(
    st: FlowDirection,
    payload: Buffer,
    frames: readonly number[],
    frame: number,
    ts: Timestamp,
    gap: boolean,
  ): void {
    this.remember(st, payload);
    const g = gap || st.gapPending;
    st.gapPending = false;
    this.stats.datagrams++;
    this.emit(
      g
        ? { ts, src: st.src, dst: st.dst, transport: 'tcp', payload, frame, flow: st.key, gap: true, frames }
        : { ts, src: st.src, dst: st.dst, transport: 'tcp', payload, frame, flow: st.key, frames },
    );
  }

  /** Keep the last `tcpRetransmitCompareBytes` delivered bytes (copied: the frame may be reused). */
  private remember(st: FlowDirection, payload: Buffer): void {
    const cap = this.limits.tcpRetransmitCompareBytes;
    if (cap <= 0) return;
    const tail = (st.tail ??= Buffer.allocUnsafe(cap));
    const n = payload.length;
    if (n >= cap) {
      payload.copy(tail, 0, n - cap);
      st.tailLen = cap;
      return;
    }
    const keep = Math.min(st.tailLen, cap - n);
    if (keep > 0) tail.copy(tail, 0, st.tailLen - keep, st.tailLen);
    payload.copy(tail, keep);
    st.tailLen = keep + n;
  }
}
