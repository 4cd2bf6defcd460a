/**
 * Messages between `analyze --threads N` and its decode worker (decode-worker.ts), and the batch encoding both sides
 * share. A batch is flat: the datagrams' numbers in one Float64Array, their payloads in one buffer, the header
 * offsets of the SIP messages the worker split in an Int32Array (all three transferred, not cloned), the strings
 * (addresses, methods, Request-URIs …) in a table, and the rare parts (TCP extras, anomalies) as objects. The main
 * thread rebuilds each SIP message from its split (sipMessageFromSplit) without scanning it again. One object per
 * datagram in the message cost more to clone and rebuild than decoding it on the main thread: `--threads 2` was no
 * faster than one thread on SIP-only captures.
 */
import { sipMessageFromSplit, splitOf, type SipParse } from '../sip/index.js';
import type { Anomaly, Datagram, Transport } from '../types.js';
import type { DecodeLimits } from '../decode/limits.js';

/** Payload bytes per batch (one capture read chunk): 1 MB batches left ~12 MB more waiting for the GC at the peak. */
export const BATCH_BYTES = 1 << 18;
/** Batches the worker may have posted but the main thread not yet processed: bounds memory. */
export const MAX_IN_FLIGHT = 4;

/** Numbers per record in `WorkerBatch.meta`, and their offsets. */
const STRIDE = 23;
const KIND = 0;
const SEC = 1;
const NSEC = 2;
const SRC_IP = 3;
const SRC_PORT = 4;
const DST_IP = 5;
const DST_PORT = 6;
const TRANSPORT = 7;
const FRAME = 8;
const AT = 9;
const LEN = 10;
const EXTRA = 11;
// A parsed SIP message (kind SIP): its split (SipSplit), strings in the string table, header offsets in `heads`.
const MSG_KIND = 12;
const STATUS = 13;
const METHOD = 14;
/** The split's start-line text bounds (textStart, textEnd); an INVALID record's reason (a string) in TEXT_START. */
const TEXT_START = 15;
const TEXT_END = 16;
const VERSION = 17;
const BODY_OFFSET = 18;
const BODY_END = 19;
const CONTENT_LENGTH = 20;
const HEADS_AT = 21;
const HEADS_LEN = 22;

/** Record kinds. */
const DATAGRAM = 0;
/** A datagram with TCP extras (flow, gap, frames) in `extra[EXTRA]`. */
const DATAGRAM_EXTRA = 1;
/** A decode anomaly, `extra[EXTRA]`. */
const ANOMALY = 2;
/** A UDP datagram parsed as SIP in the worker; the split's anomalies in `extra[EXTRA]` (-1: none). */
const SIP = 3;
/** MSG_KIND of a SIP record: a request, a response, or a start line that did not parse (reason in TEXT_START). */
const REQUEST = 0;
const RESPONSE = 1;
const INVALID = 2;

const TRANSPORTS: readonly Transport[] = ['udp', 'tcp', 'tls', 'ws'];

type Extra = Pick<Datagram, 'flow' | 'gap' | 'frames'> | Anomaly | readonly Anomaly[];

/** What the decode worker is started with: the capture and the decoder bounds of the Ingest it decodes for. */
export interface DecodeWorkerData {
  readonly file: string;
  readonly limits?: Partial<DecodeLimits>;
}

export interface WorkerBatch {
  readonly type: 'batch';
  /** Records (datagrams and anomalies, in capture order) in `meta`. */
  readonly count: number;
  /** STRIDE numbers per record. */
  readonly meta: ArrayBuffer;
  readonly payload: ArrayBuffer;
  /** Header offsets of the SIP records (Int32Array). */
  readonly heads: ArrayBuffer;
  readonly strings: readonly string[];
  readonly extra: readonly Extra[];
  /** UDP payloads that were neither HEP nor SIP since the previous batch (counted, not sent). */
  readonly skipped: number;
  readonly bytesRead: number;
  readonly fileSize: number | undefined;
}

export interface WorkerDone {
  readonly type: 'done';
  readonly frames: number;
  readonly bytesRead: number;
  readonly fileSize: number | undefined;
  readonly format?: string;
  readonly error?: { readonly code: string; readonly offset: number; readonly message: string };
  /** The worker decoder's frames not decoded, by reason (DecodeStats.notDecoded). */
  readonly notDecoded?: Record<string, number>;
}

export type WorkerMessage = WorkerBatch | WorkerDone | { readonly type: 'failed'; readonly message: string };

/** The worker's side: datagrams and anomalies in, one transferable batch out. */
export class BatchWriter {
  private meta = new Float64Array(STRIDE * 1024);
  private count = 0;
  private payload = Buffer.allocUnsafeSlow(BATCH_BYTES);
  private used = 0;
  private heads = new Int32Array(16 * 1024);
  private headsUsed = 0;
  private strings: string[] = [];
  private stringIndex = new Map<string, number>();
  private extra: Extra[] = [];
  skipped = 0;

  get empty(): boolean {
    return this.count === 0 && this.skipped === 0;
  }

  /** Whether `bytes` more payload bytes fit in this batch's buffer (post the batch first when not). */
  fits(bytes: number): boolean {
    return this.used + bytes <= this.payload.length;
  }

  /** A datagram Ingest takes as it is: a HEP packet or TCP stream bytes (with their flow, gap and frames). */
  datagram(d: Datagram): void {
    const tcp = d.flow !== undefined || d.gap !== undefined || d.frames !== undefined;
    const o = this.record(d, tcp ? DATAGRAM_EXTRA : DATAGRAM);
    if (!tcp) return;
    this.meta[o + EXTRA] = this.extra.length;
    this.extra.push({
      ...(d.flow !== undefined ? { flow: d.flow } : {}),
      ...(d.gap !== undefined ? { gap: d.gap } : {}),
      ...(d.frames !== undefined ? { frames: d.frames } : {}),
    });
  }

  /** A UDP datagram (not HEP) that was parsed as SIP here, with what the parse gave. */
  sip(d: Datagram, parsed: SipParse): void {
    const o = this.record(d, SIP);
    const m = this.meta;
    if (parsed.kind === 'invalid') {
      m[o + MSG_KIND] = INVALID;
      m[o + TEXT_START] = this.string(parsed.reason);
      return;
    }
    const s = splitOf(parsed);
    m[o + MSG_KIND] = s.kind === 'request' ? REQUEST : RESPONSE;
    m[o + STATUS] = s.status;
    m[o + METHOD] = this.string(s.method);
    m[o + TEXT_START] = s.textStart;
    m[o + TEXT_END] = s.textEnd;
    m[o + VERSION] = this.string(s.version);
    m[o + BODY_OFFSET] = s.bodyOffset;
    m[o + BODY_END] = s.bodyEnd;
    m[o + CONTENT_LENGTH] = s.contentLength ?? -1;
    m[o + EXTRA] = -1;
    if (s.anomalies.length > 0) {
      m[o + EXTRA] = this.extra.length;
      this.extra.push(s.anomalies);
    }
    const h = s.h;
    this.heads = grown(this.heads, this.headsUsed + h.length, newHeads);
    m[o + HEADS_AT] = this.headsUsed;
    m[o + HEADS_LEN] = h.length;
    for (let k = 0; k < h.length; k++) this.heads[this.headsUsed + k] = h[k]!;
    this.headsUsed += h.length;
  }

  /** A record of `kind` with the datagram's numbers, its payload appended; returns the record's offset in meta. */
  private record(d: Datagram, kind: number): number {
    const p = d.payload;
    // A payload larger than a batch (a reassembled message) grows this batch's buffer to hold it.
    this.payload = grown(this.payload, this.used + p.length, newPayload);
    p.copy(this.payload, this.used);
    const o = this.slot(kind);
    const m = this.meta;
    m[o + SEC] = d.ts.sec;
    m[o + NSEC] = d.ts.nsec;
    m[o + SRC_IP] = this.string(d.src.ip);
    m[o + SRC_PORT] = d.src.port;
    m[o + DST_IP] = this.string(d.dst.ip);
    m[o + DST_PORT] = d.dst.port;
    m[o + TRANSPORT] = TRANSPORTS.indexOf(d.transport);
    m[o + FRAME] = d.frame;
    m[o + AT] = this.used;
    m[o + LEN] = p.length;
    this.used += p.length;
    return o;
  }

  anomaly(a: Anomaly): void {
    const o = this.slot(ANOMALY);
    this.meta[o + EXTRA] = this.extra.length;
    this.extra.push({ kind: a.kind, detail: a.detail, ...(a.frame !== undefined ? { frame: a.frame } : {}) });
  }

  /** The batch so far and the buffers to transfer with it; the writer starts a new one. */
  take(bytesRead: number, fileSize: number | undefined): { batch: WorkerBatch; transfer: ArrayBuffer[] } {
    const meta = this.meta.buffer.slice(0, this.count * STRIDE * 8);
    const payload = this.payload.buffer;
    const heads = this.heads.buffer.slice(0, this.headsUsed * 4);
    const batch: WorkerBatch = {
      type: 'batch',
      count: this.count,
      meta,
      payload,
      heads,
      strings: this.strings,
      extra: this.extra,
      skipped: this.skipped,
      bytesRead,
      fileSize,
    };
    this.count = 0;
    this.payload = Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.used = 0;
    this.headsUsed = 0;
    this.strings = [];
    this.stringIndex = new Map();
    this.extra = [];
    this.skipped = 0;
    return { batch, transfer: [meta, payload, heads] };
  }

  /** Start the next record (of `kind`); returns its offset in meta, which grows when full. */
  private slot(kind: number): number {
    const o = this.count * STRIDE;
    this.meta = grown(this.meta, o + STRIDE, newMeta);
    this.meta[o + KIND] = kind;
    this.count++;
    return o;
  }

  private string(s: string): number {
    let i = this.stringIndex.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.stringIndex.set(s, i);
    }
    return i;
  }
}

export interface BatchSink {
  datagram(d: Datagram): void;
  sip(d: Datagram, parsed: SipParse): void;
  anomaly(a: Anomaly): void;
}

/** `a` when `need` elements fit in it, else a copy of it in a new array of at least twice its length. */
function grown<T extends ArrayLike<number> & { set(a: ArrayLike<number>): void }>(a: T, need: number, make: (n: number) => T): T {
  if (need <= a.length) return a;
  const b = make(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}
const newMeta = (n: number) => new Float64Array(n);
const newHeads = (n: number) => new Int32Array(n);
const newPayload = (n: number) => Buffer.allocUnsafeSlow(n);

/** The main thread's side: hand a batch's records to `sink` in their order. */
export function readBatch(b: WorkerBatch, sink: BatchSink): void {
  const m = new Float64Array(b.meta);
  const payload = Buffer.from(b.payload);
  const heads = new Int32Array(b.heads);
  const { strings, extra } = b;
  for (let r = 0; r < b.count; r++) {
    const o = r * STRIDE;
    const kind = m[o + KIND];
    if (kind === ANOMALY) {
      sink.anomaly(extra[m[o + EXTRA]!] as Anomaly);
      continue;
    }
    const at = m[o + AT]!;
    const base = {
      ts: { sec: m[o + SEC]!, nsec: m[o + NSEC]! },
      src: { ip: strings[m[o + SRC_IP]!]!, port: m[o + SRC_PORT]! },
      dst: { ip: strings[m[o + DST_IP]!]!, port: m[o + DST_PORT]! },
      transport: TRANSPORTS[m[o + TRANSPORT]!]!,
      payload: payload.subarray(at, at + m[o + LEN]!),
      frame: m[o + FRAME]!,
    };
    if (kind === SIP) sink.sip(base, sipOf(m, o, base, heads, strings, extra));
    else sink.datagram(kind === DATAGRAM_EXTRA ? { ...base, ...(extra[m[o + EXTRA]!] as Pick<Datagram, 'flow' | 'gap' | 'frames'>) } : base);
  }
}

function sipOf(m: Float64Array, o: number, d: Datagram, heads: Int32Array, strings: readonly string[], extra: readonly Extra[]): SipParse {
  const kind = m[o + MSG_KIND];
  if (kind === INVALID) return { kind: 'invalid', reason: strings[m[o + TEXT_START]!]! };
  const h: number[] = [];
  const at = m[o + HEADS_AT]!;
  const end = at + m[o + HEADS_LEN]!;
  for (let k = at; k < end; k++) h.push(heads[k]!);
  const x = m[o + EXTRA]!;
  const cl = m[o + CONTENT_LENGTH]!;
  return sipMessageFromSplit(d.payload, d.frame, {
    kind: kind === REQUEST ? 'request' : 'response',
    method: strings[m[o + METHOD]!]!,
    status: m[o + STATUS]!,
    textStart: m[o + TEXT_START]!,
    textEnd: m[o + TEXT_END]!,
    version: strings[m[o + VERSION]!]!,
    anomalies: x < 0 ? [] : (extra[x] as Anomaly[]),
    h,
    bodyOffset: m[o + BODY_OFFSET]!,
    bodyEnd: m[o + BODY_END]!,
    contentLength: cl < 0 ? undefined : cl,
  });
}
