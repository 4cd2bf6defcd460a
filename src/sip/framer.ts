/**
 * SIP message framing on stream transports (RFC 3261 §18.3: Content-Length delimits messages on
 * TCP/TLS; §7.5: CRLFs between messages are keep-alives). One framer per flow direction.
 *
 * Frame tracking: every byte the framer holds is covered by "marks" (frame number + absolute stream
 * range). A Datagram that carries one segment gives one exact mark. A Datagram that coalesces
 * several segments gives exact marks when it says where each segment ends (`frameEnds`, see
 * `StreamChunk`); without that, each of its frames is taken to cover the whole payload, and the
 * completing frame of a message ending inside such a payload is the payload's last frame (an upper
 * bound — exact whenever the message ends where the payload ends).
 */
import type { AnomalyKind } from '../anomalies.js';
import type { Anomaly, Datagram } from '../types.js';
import { readContentLength } from './message.js';
import { ID_CONTENT_LENGTH, identifyName } from './names.js';
import { isSipStartLine } from './startline.js';

/**
 * A stream Datagram, optionally with the payload offset just past each contributing segment
 * (`frameEnds[i]` ends `frames[i]`; ascending; the last equals `payload.length`). This is an
 * extension proposed for `Datagram` (TCP reassembly knows it): it makes `frame` exact for messages
 * that end inside a coalesced payload.
 */
export interface StreamChunk extends Datagram {
  readonly frameEnds?: readonly number[];
}

/** One framed message. */
export interface FramedMessage {
  readonly bytes: Buffer;
  /** The frame whose bytes completed the message. */
  readonly frame: number;
  /** Every frame that contributed bytes to the message, ascending. */
  readonly frames: number[];
  /** Framing anomalies of this message (`content-length-missing`). */
  readonly anomalies: Anomaly[];
}

/**
 * Bytes held by every framer sharing it (all TCP connections of one source: `limits.reassemblyBytes`). A framer
 * whose next bytes would take `used` past `max` drops what it holds and resynchronises (anomaly
 * `stream-buffer-limit`): the flow that asks for more is refused, others keep their messages.
 */
export interface StreamBudget {
  used: number;
  readonly max: number;
  /** Times a framer dropped its bytes at the bound. */
  refused: number;
}

export interface FramerLimits {
  /** Header section bytes without an end before the data is dropped (default 64 KiB). */
  readonly maxHeaderBytes?: number;
  /** Largest Content-Length accepted (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Shared bound on the bytes held by all framers of a source. */
  readonly budget?: StreamBudget;
}

/** Stable anomaly kinds of the framer. */
export const FramerAnomaly = {
  gap: 'tcp.stream-gap',
  resync: 'tcp.stream-resync',
  headerTooLarge: 'tcp.stream-header-too-large',
  bodyTooLarge: 'tcp.stream-body-too-large',
  contentLengthMissing: 'sip.content-length-missing',
  bufferLimit: 'tcp.stream-buffer-limit',
} as const satisfies Record<string, AnomalyKind>;

export interface FramerStats {
  messages: number;
  /** Bytes discarded while resynchronising or dropped at a limit or a gap. */
  skippedBytes: number;
  /** CR/LF keep-alive bytes between messages. */
  keepaliveBytes: number;
  /** Messages dropped at a limit. */
  dropped: number;
}

interface Mark {
  readonly frame: number;
  readonly start: number;
  readonly end: number;
}

const DEFAULT_MAX_HEADER = 64 * 1024;
const DEFAULT_MAX_BODY = 1024 * 1024;

export class SipStreamFramer {
  readonly stats: FramerStats = { messages: 0, skippedBytes: 0, keepaliveBytes: 0, dropped: 0 };
  private readonly maxHeader: number;
  private readonly maxBody: number;
  /** Unconsumed bytes, oldest first. */
  private chunks: Buffer[] = [];
  private pending = 0;
  /** Absolute stream offset of the first unconsumed byte. */
  private base = 0;
  private marks: Mark[] = [];
  /** Total length of the message being framed once its header section is known, else -1. */
  private need = -1;
  private needAnomalies: Anomaly[] = [];
  /** Offset (from `base`) up to which the header-end search has already looked. */
  private scanned = 0;
  private resync = false;
  private resyncSkipped = 0;
  private anomalies: Anomaly[] = [];
  private lastFrame = 0;

  private readonly budget: StreamBudget | undefined;

  constructor(limits: FramerLimits = {}) {
    this.maxHeader = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER;
    this.maxBody = limits.maxBodyBytes ?? DEFAULT_MAX_BODY;
    this.budget = limits.budget;
  }

  /** Drop what is held (the connection is gone), giving its bytes back to the shared budget. */
  release(): void {
    if (this.pending > 0) this.consume(this.pending);
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.pending;
  }

  /** Anomalies not tied to a framed message (gaps, resynchronisation, limits); drains the list. */
  takeAnomalies(): Anomaly[] {
    const a = this.anomalies;
    this.anomalies = [];
    return a;
  }

  /** Feed the next in-order bytes of the flow; returns the messages they complete. */
  push(d: StreamChunk): FramedMessage[] {
    this.lastFrame = d.frame;
    if (d.gap === true) {
      if (this.pending > 0) {
        this.note(FramerAnomaly.gap, `bytes lost before frame ${d.frame}; ${this.pending} buffered bytes dropped`);
        this.stats.skippedBytes += this.pending;
        this.consume(this.pending);
      } else {
        this.note(FramerAnomaly.gap, `bytes lost before frame ${d.frame}`);
      }
      this.need = -1;
      this.startResync();
    }
    const payload = d.payload;
    const budget = this.budget;
    if (budget !== undefined && budget.used + payload.length > budget.max && payload.length > 0) {
      budget.refused++;
      this.note(FramerAnomaly.bufferLimit, `all streams hold ${budget.used} bytes (limit ${budget.max}); ${this.pending} buffered bytes and ${payload.length} new dropped`);
      this.stats.skippedBytes += this.pending + payload.length;
      this.stats.dropped++;
      if (this.pending > 0) this.consume(this.pending);
      this.need = -1;
      this.startResync();
      return [];
    }
    if (payload.length > 0) {
      if (budget !== undefined) budget.used += payload.length;
      const start = this.base + this.pending;
      const frames = d.frames !== undefined && d.frames.length > 0 ? d.frames : [d.frame];
      const ends = d.frameEnds;
      if (ends !== undefined && ends.length === frames.length && ends[ends.length - 1] === payload.length) {
        let prev = 0;
        for (let i = 0; i < frames.length; i++) {
          const e = ends[i]!;
          if (e > prev) this.marks.push({ frame: frames[i]!, start: start + prev, end: start + e });
          prev = e;
        }
      } else {
        for (const f of frames) this.marks.push({ frame: f, start, end: start + payload.length });
      }
      this.chunks.push(payload);
      this.pending += payload.length;
    }
    return this.drain();
  }

  private note(kind: AnomalyKind, detail: string): void {
    this.anomalies.push({ kind, detail, frame: this.lastFrame });
  }

  private startResync(): void {
    this.resync = true;
    this.resyncSkipped = 0;
  }

  private drain(): FramedMessage[] {
    const out: FramedMessage[] = [];
    for (;;) {
      if (this.pending === 0) break;
      if (this.resync && !this.resynchronise()) break;
      if (this.need < 0) {
        this.skipKeepalives();
        if (this.pending === 0) break;
        if (!this.readHeader()) break;
        if (this.need < 0) continue;
      }
      if (this.pending < this.need) break;
      out.push(this.take(this.need));
      this.need = -1;
    }
    return out;
  }

  /** Collapse the unconsumed bytes into one Buffer (bounded: only done while a header section is open). */
  private flat(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.pending)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private skipKeepalives(): void {
    let n = 0;
    for (const c of this.chunks) {
      let i = 0;
      while (i < c.length && (c[i] === 0x0d || c[i] === 0x0a)) i++;
      n += i;
      if (i < c.length) break;
    }
    if (n > 0) {
      this.stats.keepaliveBytes += n;
      this.consume(n);
    }
  }

  /**
   * Look for the end of the header section of the message at the front. Sets `need` when found;
   * returns false when more bytes are needed. Garbage or an oversized header section switches to
   * resynchronisation (returns true so the caller loops).
   */
  private readHeader(): boolean {
    const b = this.flat();
    const lf = b.indexOf(0x0a);
    if (lf < 0) return this.checkHeaderLimit(b);
    const le = lf > 0 && b[lf - 1] === 0x0d ? lf - 1 : lf;
    if (!isSipStartLine(b, 0, le)) {
      this.startResync();
      return true;
    }
    // End of the header section: an empty line (CRLF CRLF, or LF LF).
    let i = Math.max(lf, this.scanned);
    let end = -1;
    for (;;) {
      const n = b.indexOf(0x0a, i);
      if (n < 0) break;
      if (b[n + 1] === 0x0a) {
        end = n + 2;
        break;
      }
      if (b[n + 1] === 0x0d && b[n + 2] === 0x0a) {
        end = n + 3;
        break;
      }
      if (n + 2 >= b.length) break;
      i = n + 1;
    }
    if (end < 0) {
      this.scanned = Math.max(lf, b.length - 3);
      return this.checkHeaderLimit(b);
    }
    this.scanned = 0;
    const anomalies: Anomaly[] = [];
    let cl = findContentLength(b, lf + 1, end);
    if (cl === -1) {
      // RFC 3261 §20.14: Content-Length is mandatory on stream transports.
      anomalies.push({ kind: FramerAnomaly.contentLengthMissing, detail: 'no Content-Length on a stream; assuming 0', frame: this.lastFrame });
      cl = 0;
    } else if (cl === -2) {
      // Unusable value (negative, not a number): the parser reports it; frame the header section
      // alone and let resynchronisation skip whatever body followed.
      cl = 0;
    }
    if (cl > this.maxBody) {
      this.note(FramerAnomaly.bodyTooLarge, `Content-Length ${cl} exceeds ${this.maxBody}; message dropped`);
      this.stats.dropped++;
      this.stats.skippedBytes += end;
      this.consume(end);
      this.startResync();
      return true;
    }
    this.need = end + cl;
    this.needAnomalies = anomalies;
    return true;
  }

  private checkHeaderLimit(b: Buffer): boolean {
    if (b.length <= this.maxHeader) return false;
    this.note(FramerAnomaly.headerTooLarge, `header section exceeds ${this.maxHeader} bytes; dropped`);
    this.stats.dropped++;
    this.stats.skippedBytes += b.length;
    this.consume(b.length);
    this.startResync();
    return false;
  }

  /**
   * Discard bytes up to the next line that is a SIP start line. Returns true once positioned on
   * one; false when more bytes are needed (the unfinished last line is kept).
   */
  private resynchronise(): boolean {
    const b = this.flat();
    let i = 0;
    for (;;) {
      const lf = b.indexOf(0x0a, i);
      if (lf < 0) break;
      const le = lf > i && b[lf - 1] === 0x0d ? lf - 1 : lf;
      if (isSipStartLine(b, i, le)) {
        this.skip(i);
        this.resync = false;
        this.note(FramerAnomaly.resync, `${this.resyncSkipped} bytes skipped to the next start line`);
        return true;
      }
      i = lf + 1;
    }
    // Keep the unfinished last line (it may become a start line), unless it is absurdly long.
    if (b.length - i > this.maxHeader) i = b.length;
    this.skip(i);
    return false;
  }

  private skip(n: number): void {
    if (n === 0) return;
    this.resyncSkipped += n;
    this.stats.skippedBytes += n;
    this.consume(n);
  }

  /** Remove `n` bytes from the front. */
  private consume(n: number): void {
    this.base += n;
    this.pending -= n;
    if (this.budget !== undefined) this.budget.used -= n;
    this.scanned = 0;
    let left = n;
    while (left > 0) {
      const c = this.chunks[0]!;
      if (c.length <= left) {
        left -= c.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    let k = 0;
    while (k < this.marks.length && this.marks[k]!.end <= this.base) k++;
    if (k > 0) this.marks.splice(0, k);
  }

  private take(n: number): FramedMessage {
    const first = this.chunks[0]!;
    const bytes = first.length >= n ? first.subarray(0, n) : Buffer.concat(this.chunks, this.pending).subarray(0, n);
    const a = this.base;
    const z = a + n;
    const frames: number[] = [];
    let frame = -1;
    for (const m of this.marks) {
      if (m.start >= z) break;
      if (m.end <= a) continue;
      if (!frames.includes(m.frame)) frames.push(m.frame);
      if (m.start <= z - 1 && z - 1 < m.end && m.frame > frame) frame = m.frame;
    }
    frames.sort((x, y) => x - y);
    const msg: FramedMessage = { bytes, frame: frame < 0 ? this.lastFrame : frame, frames, anomalies: this.needAnomalies };
    this.needAnomalies = [];
    this.stats.messages++;
    this.consume(n);
    return msg;
  }
}

/**
 * Content-Length (or `l`) in the header section `b[s..e)`: the value, -1 when absent, -2 when
 * present but not a usable number.
 */
function findContentLength(b: Buffer, s: number, e: number): number {
  let i = s;
  while (i < e) {
    let lf = b.indexOf(0x0a, i);
    if (lf < 0 || lf > e) lf = e;
    let colon = i;
    while (colon < lf && b[colon] !== 0x3a) colon++;
    if (colon < lf && b[i] !== 0x20 && b[i] !== 0x09) {
      let ne = colon;
      while (ne > i && (b[ne - 1] === 0x20 || b[ne - 1] === 0x09)) ne--;
      // Only "Content-Length" (14 bytes) or its compact form "l" can be it: other names are not walked.
      if ((ne - i === 14 || ne - i === 1) && identifyName(b, i, ne) === ID_CONTENT_LENGTH) {
        let vs = colon + 1;
        let ve = lf > i && b[lf - 1] === 0x0d ? lf - 1 : lf;
        while (vs < ve && (b[vs] === 0x20 || b[vs] === 0x09)) vs++;
        while (ve > vs && (b[ve - 1] === 0x20 || b[ve - 1] === 0x09)) ve--;
        const n = readContentLength(b, vs, ve);
        return n < 0 ? -2 : n;
      }
    }
    i = lf + 1;
  }
  return -1;
}
