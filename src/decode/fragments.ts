/**
 * IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5) fragment reassembly: fragments in any order,
 * duplicates and overlaps trimmed (the first copy of a byte wins; differing copies are an anomaly),
 * bounded in datagrams and bytes, expiring by capture time from the first fragment.
 */
import type { DecodeLimits, DecodeStats, AnomalySink } from './limits.js';

interface Piece {
  readonly off: number;
  readonly data: Buffer;
}

interface PendingDatagram {
  readonly createdMs: number;
  readonly pieces: Piece[];
  bytes: number;
  /** End of the datagram once the last fragment (MF = 0) has been seen, else -1. */
  total: number;
  /** Upper-layer protocol, from the fragment at offset 0 (for IPv6 its fragment header). */
  protocol: number;
}

export interface Reassembled {
  readonly payload: Buffer;
  readonly protocol: number;
}

function byOffset(a: Piece, b: Piece): number {
  return a.off - b.off;
}

export class FragmentReassembler {
  private readonly pending = new Map<string, PendingDatagram>();
  private totalBytes = 0;

  constructor(
    private readonly limits: DecodeLimits,
    private readonly stats: DecodeStats,
    private readonly report: AnomalySink,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /**
   * Add one fragment. `key` identifies the datagram (addresses, protocol for IPv4, id), `data` is
   * the fragment's bytes (copied when kept). Returns the whole payload when this fragment completed it.
   */
  add(
    key: string,
    offset: number,
    more: boolean,
    data: Buffer,
    protocol: number,
    frame: number,
    nowMs: number,
  ): Reassembled | undefined {
    this.stats.fragments++;
    const end = offset + data.length;
    if (end > this.limits.maxFragmentDatagramBytes) {
      this.report('frag.too-large', `fragment ends at byte ${end} (limit ${this.limits.maxFragmentDatagramBytes})`, frame);
      this.drop(key, data.length);
      return undefined;
    }
    let d = this.pending.get(key);
    if (d === undefined) {
      this.makeRoom(data.length, frame);
      d = { createdMs: nowMs, pieces: [], bytes: 0, total: -1, protocol: -1 };
      this.pending.set(key, d);
      this.stats.fragmentDatagrams = this.pending.size;
    }
    if (offset === 0) d.protocol = protocol;
    if (!more) {
      if (d.total >= 0 && d.total !== end) {
        this.report('frag.inconsistent', `two last fragments end at ${d.total} and ${end}`, frame);
        this.drop(key, data.length);
        return undefined;
      }
      d.total = end;
    }
    if (d.total >= 0 && (end > d.total || this.lastEnd(d) > d.total)) {
      this.report('frag.inconsistent', `fragment data beyond the datagram end ${d.total}`, frame);
      this.drop(key, data.length);
      return undefined;
    }
    if (this.insert(d, offset, data)) {
      this.report('frag.overlap-differs', `overlapping fragment bytes differ at offset ${offset}`, frame);
    }
    if (d.total < 0 || d.bytes !== d.total || d.protocol < 0) {
      this.enforceTotal(frame);
      return undefined;
    }
    // Pieces do not overlap and lie within [0, total), so bytes === total means full coverage.
    const out = Buffer.allocUnsafe(d.total);
    for (const p of d.pieces) p.data.copy(out, p.off);
    this.pending.delete(key);
    this.totalBytes -= d.bytes;
    this.stats.fragmentDatagrams = this.pending.size;
    this.stats.fragmentsReassembled++;
    return { payload: out, protocol: d.protocol };
  }

  /** Drop datagrams whose first fragment is older than the timeout. */
  expire(nowMs: number, frame: number): void {
    const cutoff = nowMs - this.limits.fragmentTimeoutMs;
    for (const [key, d] of this.pending) {
      if (d.createdMs > cutoff) break; // insertion order is creation order; the clock is monotonic
      this.stats.fragmentsExpired++;
      this.report('frag.expired', `incomplete after ${this.limits.fragmentTimeoutMs} ms (${d.bytes} bytes held)`, frame);
      this.remove(key, d);
    }
  }

  /** End of input: every incomplete datagram is dropped and counted as expired. */
  flush(frame: number): void {
    for (const [key, d] of this.pending) {
      this.stats.fragmentsExpired++;
      this.report('frag.expired', `incomplete at end of input (${d.bytes} bytes held)`, frame);
      this.remove(key, d);
    }
  }

  private lastEnd(d: PendingDatagram): number {
    const p = d.pieces[d.pieces.length - 1];
    return p === undefined ? 0 : p.off + p.data.length;
  }

  private remove(key: string, d: PendingDatagram): void {
    this.pending.delete(key);
    this.totalBytes -= d.bytes;
    this.stats.bytesDropped += d.bytes;
    this.stats.fragmentDatagrams = this.pending.size;
  }

  private drop(key: string, extra: number): void {
    this.stats.bytesDropped += extra;
    const d = this.pending.get(key);
    if (d !== undefined) this.remove(key, d);
  }

  private evictOldest(frame: number): boolean {
    for (const [key, d] of this.pending) {
      this.stats.fragmentsEvicted++;
      this.report('frag.evicted', `reassembly limits reached (${this.pending.size} datagrams, ${this.totalBytes} bytes)`, frame);
      this.remove(key, d);
      return true;
    }
    return false;
  }

  private makeRoom(incoming: number, frame: number): void {
    while (this.pending.size >= this.limits.maxFragmentDatagrams && this.evictOldest(frame));
    while (this.totalBytes + incoming > this.limits.maxFragmentTotalBytes && this.evictOldest(frame));
  }

  private enforceTotal(frame: number): void {
    while (this.totalBytes > this.limits.maxFragmentTotalBytes && this.evictOldest(frame));
  }

  /**
   * Insert the parts of [offset, offset + data.length) not yet held (copied), comparing the parts
   * that are. Returns true when an overlapping part differs.
   */
  private insert(d: PendingDatagram, offset: number, data: Buffer): boolean {
    const end = offset + data.length;
    let cur = offset;
    let differs = false;
    let added: Piece[] | undefined;
    let copy: Buffer | undefined;
    for (const p of d.pieces) {
      const pEnd = p.off + p.data.length;
      if (pEnd <= cur) continue;
      if (p.off >= end) break;
      if (p.off > cur) {
        copy ??= Buffer.from(data);
        (added ??= []).push({ off: cur, data: copy.subarray(cur - offset, p.off - offset) });
      }
      const os = Math.max(cur, p.off);
      const oe = Math.min(end, pEnd);
      if (!differs && !data.subarray(os - offset, oe - offset).equals(p.data.subarray(os - p.off, oe - p.off))) {
        differs = true;
      }
      cur = pEnd;
      if (cur >= end) break;
    }
    if (cur < end) {
      copy ??= Buffer.from(data);
      (added ??= []).push({ off: cur, data: copy.subarray(cur - offset) });
    }
    if (added !== undefined) {
      for (const p of added) {
        d.pieces.push(p);
        d.bytes += p.data.length;
        this.totalBytes += p.data.length;
      }
      d.pieces.sort(byOffset);
    }
    return differs;
  }
}
