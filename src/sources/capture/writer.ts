/**
 * Capture writers: classic pcap and pcapng, for crafted test captures and exported evidence that
 * Wireshark/tshark must open. Each writer produces Buffers; given a sink (e.g. a `fs.WriteStream`) it writes
 * every piece there instead of keeping it.
 *
 * Formats: draft-ietf-opsawg-pcap (classic) and draft-ietf-opsawg-pcapng (SHB §4.1, IDB §4.2, EPB §4.3,
 * options §3.5). Invalid input to a writer is a programming error and throws `SpoofwatchError`
 * (`CAPTURE_WRITE_INVALID`).
 */
import { SpoofwatchError, type Timestamp } from '../../types.js';
import { MAX_CAPLEN } from './parser.js';

/** Where a writer sends its bytes; a Node `Writable` fits. `false` from write() means "slow down". */
export interface CaptureSink {
  write(chunk: Buffer): boolean;
}

export interface WritePacket {
  readonly ts: Timestamp;
  readonly bytes: Buffer;
  /** Length on the wire; defaults to `bytes.length`. */
  readonly origLen?: number;
}

export type Endianness = 'le' | 'be';

function invalid(what: string): never {
  throw new SpoofwatchError('CAPTURE_WRITE_INVALID', `capture writer: ${what}`);
}

function checkPacket(p: WritePacket): void {
  const { sec, nsec } = p.ts;
  if (!Number.isInteger(sec) || sec < 0 || !Number.isInteger(nsec) || nsec < 0 || nsec > 999_999_999) {
    invalid(`bad timestamp ${sec}.${nsec}`);
  }
  if (p.bytes.length > MAX_CAPLEN) invalid(`packet of ${p.bytes.length} bytes exceeds ${MAX_CAPLEN}`);
  if (p.origLen !== undefined && (!Number.isInteger(p.origLen) || p.origLen < 0 || p.origLen > 0xffffffff)) {
    invalid(`bad original length ${p.origLen}`);
  }
}

class Output {
  private readonly chunks: Buffer[] = [];
  constructor(private readonly sink: CaptureSink | undefined) {}
  emit(b: Buffer): boolean {
    if (this.sink) return this.sink.write(b);
    this.chunks.push(b);
    return true;
  }
  toBuffer(): Buffer {
    if (this.sink) invalid('toBuffer() is unavailable when writing to a sink');
    return Buffer.concat(this.chunks);
  }
}

function w32(b: Buffer, o: number, v: number, le: boolean): void {
  if (le) b.writeUInt32LE(v >>> 0, o);
  else b.writeUInt32BE(v >>> 0, o);
}

function w16(b: Buffer, o: number, v: number, le: boolean): void {
  if (le) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
}

const pad4 = (n: number): number => (n + 3) & ~3;

export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet (e.g. 1 Ethernet). */
  readonly linkType: number;
  /** Byte order of the file; default 'le'. */
  readonly endianness?: Endianness;
  /** Timestamp resolution: 'us' (magic 0xa1b2c3d4, default) or 'ns' (0xa1b23c4d). */
  readonly resolution?: 'us' | 'ns';
  /** Snapshot length in the header; default 262144. */
  readonly snaplen?: number;
}

/** Classic pcap writer. The file header is emitted on construction. */
export class PcapWriter {
  private readonly out: Output;
  private readonly le: boolean;
  private readonly nano: boolean;

  constructor(options: PcapWriterOptions, sink?: CaptureSink) {
    this.out = new Output(sink);
    this.le = (options.endianness ?? 'le') === 'le';
    this.nano = options.resolution === 'ns';
    const h = Buffer.alloc(24);
    w32(h, 0, this.nano ? 0xa1b23c4d : 0xa1b2c3d4, this.le);
    w16(h, 4, 2, this.le);
    w16(h, 6, 4, this.le);
    // thiszone and sigfigs stay 0
    w32(h, 16, options.snaplen ?? MAX_CAPLEN, this.le);
    w32(h, 20, options.linkType, this.le);
    this.out.emit(h);
  }

  /** Append one packet record; returns the sink's back-pressure signal (always true without a sink). */
  add(p: WritePacket): boolean {
    checkPacket(p);
    if (p.ts.sec > 0xffffffff) invalid(`timestamp ${p.ts.sec} does not fit classic pcap`);
    const b = Buffer.allocUnsafe(16 + p.bytes.length);
    w32(b, 0, p.ts.sec, this.le);
    w32(b, 4, this.nano ? p.ts.nsec : Math.floor(p.ts.nsec / 1000), this.le);
    w32(b, 8, p.bytes.length, this.le);
    w32(b, 12, p.origLen ?? p.bytes.length, this.le);
    p.bytes.copy(b, 16);
    return this.out.emit(b);
  }

  /** Everything written so far (only without a sink). */
  toBuffer(): Buffer {
    return this.out.toBuffer();
  }
}

export interface PcapngPacket extends WritePacket {
  /** LINKTYPE_* of this packet; selects (or creates) its interface. */
  readonly linkType: number;
  /** if_tsresol byte: 6 = µs, 9 = ns (default), 0x80|n = 2^-n s. Selects (or creates) its interface. */
  readonly tsresol?: number;
  /** opt_comment (UTF-8), shown by Wireshark as the packet comment. */
  readonly comment?: string;
}

export interface PcapngWriterOptions {
  /** Byte order of the section; default 'le'. */
  readonly endianness?: Endianness;
  /** shb_userappl, e.g. 'spoofwatch 0.1.0'. */
  readonly application?: string;
  /** Snaplen written in every IDB; default 262144. */
  readonly snaplen?: number;
}

/** Encode pcapng options (§3.5): code, length, value padded to 4, then opt_endofopt. Empty list → no bytes. */
function encodeOptions(opts: readonly (readonly [number, Buffer])[], le: boolean): Buffer {
  if (opts.length === 0) return Buffer.alloc(0);
  const size = opts.reduce((n, [, v]) => n + 4 + pad4(v.length), 0) + 4;
  const b = Buffer.alloc(size);
  let o = 0;
  for (const [code, v] of opts) {
    if (v.length > 0xffff) invalid(`option ${code} of ${v.length} bytes is too long`);
    w16(b, o, code, le);
    w16(b, o + 2, v.length, le);
    v.copy(b, o + 4);
    o += 4 + pad4(v.length);
  }
  return b; // the trailing 4 zero bytes are opt_endofopt
}

/** Timestamp → 64-bit count of if_tsresol units, as [high, low]. */
function toUnits(ts: Timestamp, tsresol: number): [number, number] {
  const exp = BigInt(tsresol & 0x7f);
  let t: bigint;
  if ((tsresol & 0x80) === 0) {
    const units = 10n ** exp;
    const frac = exp <= 9n ? BigInt(ts.nsec) / 10n ** (9n - exp) : BigInt(ts.nsec) * 10n ** (exp - 9n);
    t = BigInt(ts.sec) * units + frac;
  } else {
    t = (BigInt(ts.sec) << exp) + (BigInt(ts.nsec) << exp) / 1_000_000_000n;
  }
  if (t >= 1n << 64n) invalid(`timestamp ${ts.sec}.${ts.nsec} overflows 64 bits at tsresol ${tsresol}`);
  return [Number(t >> 32n), Number(t & 0xffffffffn)];
}

/**
 * pcapng writer: one section (SHB emitted on construction), one interface per (linkType, tsresol)
 * pair, added on demand before its first packet, and one Enhanced Packet Block per packet.
 */
export class PcapngWriter {
  private readonly out: Output;
  private readonly le: boolean;
  private readonly snaplen: number;
  private readonly ifaces = new Map<string, number>();

  constructor(options: PcapngWriterOptions = {}, sink?: CaptureSink) {
    this.out = new Output(sink);
    this.le = (options.endianness ?? 'le') === 'le';
    this.snaplen = options.snaplen ?? MAX_CAPLEN;
    const opts = encodeOptions(
      options.application !== undefined ? [[4, Buffer.from(options.application, 'utf8')]] : [],
      this.le,
    );
    const len = 28 + opts.length;
    const b = Buffer.alloc(len);
    w32(b, 0, 0x0a0d0d0a, this.le);
    w32(b, 4, len, this.le);
    w32(b, 8, 0x1a2b3c4d, this.le);
    w16(b, 12, 1, this.le);
    w16(b, 14, 0, this.le);
    b.fill(0xff, 16, 24); // section length -1: not specified
    opts.copy(b, 24);
    w32(b, len - 4, len, this.le);
    this.out.emit(b);
  }

  /** Number of interfaces (IDBs) written so far. */
  get interfaceCount(): number {
    return this.ifaces.size;
  }

  private interfaceFor(linkType: number, tsresol: number): number {
    const key = `${linkType}/${tsresol}`;
    const known = this.ifaces.get(key);
    if (known !== undefined) return known;
    if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) invalid(`bad link type ${linkType}`);
    if (!Number.isInteger(tsresol) || tsresol < 0 || tsresol > 0xff) invalid(`bad tsresol ${tsresol}`);
    const opts = encodeOptions([[9, Buffer.from([tsresol])]], this.le);
    const len = 20 + opts.length;
    const b = Buffer.alloc(len);
    w32(b, 0, 1, this.le);
    w32(b, 4, len, this.le);
    w16(b, 8, linkType, this.le);
    w32(b, 12, this.snaplen, this.le);
    opts.copy(b, 16);
    w32(b, len - 4, len, this.le);
    this.out.emit(b);
    const id = this.ifaces.size;
    this.ifaces.set(key, id);
    return id;
  }

  /** Append one packet (an EPB, after its IDB if new); returns the sink's back-pressure signal. */
  add(p: PcapngPacket): boolean {
    checkPacket(p);
    const tsresol = p.tsresol ?? 9;
    const id = this.interfaceFor(p.linkType, tsresol);
    const [hi, lo] = toUnits(p.ts, tsresol);
    const opts = encodeOptions(p.comment !== undefined ? [[1, Buffer.from(p.comment, 'utf8')]] : [], this.le);
    const caplen = p.bytes.length;
    const len = 32 + pad4(caplen) + opts.length;
    const b = Buffer.alloc(len);
    w32(b, 0, 6, this.le);
    w32(b, 4, len, this.le);
    w32(b, 8, id, this.le);
    w32(b, 12, hi, this.le);
    w32(b, 16, lo, this.le);
    w32(b, 20, caplen, this.le);
    w32(b, 24, p.origLen ?? caplen, this.le);
    p.bytes.copy(b, 28);
    opts.copy(b, 28 + pad4(caplen));
    w32(b, len - 4, len, this.le);
    return this.out.emit(b);
  }

  /** Everything written so far (only without a sink). */
  toBuffer(): Buffer {
    return this.out.toBuffer();
  }
}
