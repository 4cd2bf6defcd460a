/**
 * Push-based streaming parser for classic pcap, pcapng and NetMon 2.x captures. Pure: no I/O, no timers, never
 * throws on bad input (errors are values, see {@link CaptureError}).
 *
 * Formats:
 * - classic pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html): magic 0xa1b2c3d4 (µs) and
 *   0xa1b23c4d (ns), written in either byte order; and Alexey Kuznetzov's modified pcap (magic 0xa1b2cd34, µs,
 *   24-byte record headers: the classic 16 plus interface index, protocol, packet type and padding), as libpcap's
 *   savefile.c reads it.
 * - Microsoft Network Monitor 2.x (magic "GMBU", see netmon.ts): its frame table is at the end of the file, so the
 *   whole input is collected (at most {@link MAX_NETMON_BYTES}) and its frames are delivered by `end()`.
 * - pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html): several sections, each with its
 *   own byte order (§4.1 SHB byte-order magic), several interfaces (§4.2 IDB) with `if_tsresol` (power of 10 or
 *   of 2) and `if_tsoffset`, Enhanced Packet Blocks (§4.3), Simple Packet Blocks (§4.4, interface 0, no
 *   timestamp), obsolete Packet Blocks (appendix, type 2); every other block type is skipped by its length.
 *
 * Memory: only the incomplete tail of the input is kept. A frame's `bytes` is a slice (not a copy) of the
 * pushed chunk when its record lies fully inside that chunk; records that span chunks are concatenated once,
 * when complete. A consumer that keeps frames long after delivery keeps their chunk alive and should copy
 * (`Buffer.from(frame.bytes)`).
 *
 * Delivery: frames go to a synchronous callback, in order, during `push`/`end` (the fastest shape: no
 * per-frame arrays or promises). After an error no more frames are delivered and further input is ignored.
 */
import type { Frame, Timestamp } from '../../types.js';
import { CaptureError } from './errors.js';
import { MAX_NETMON_BYTES, NETMON1_MAGIC, NETMON2_MAGIC, readNetmon } from './netmon.js';

/** Largest captured length accepted for one packet (tcpdump/Wireshark's maximum snaplen). */
export const MAX_CAPLEN = 256 * 1024;
/** Largest pcapng block accepted. */
export const MAX_BLOCK = 64 * 1024 * 1024;

export type CaptureFormat = 'pcap' | 'pcapng' | 'netmon';

export interface CaptureParserOptions {
  /** Name used in error messages (`<file>: <what> at byte <offset>`). Default `<capture>`. */
  readonly file?: string;
  /** Called once when the parser stops on an error (the error is also readable as `parser.error`). */
  readonly onError?: (error: CaptureError) => void;
}

enum Mode {
  Magic,
  PcapHeader,
  Pcap,
  Pcapng,
  Netmon,
  Stopped,
}

const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
/** Record header of Kuznetzov's modified pcap (magic 0xa1b2cd34). */
const PCAP_MODIFIED_RECORD_HEADER = 24;
const PCAPNG_BLOCK_HEADER = 12; // type + length + (SHB) byte-order magic; every block is at least 12 bytes
const SHB_TYPE = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;

/** How one pcapng interface turns a 64-bit timestamp into {sec, nsec}. */
interface PcapngInterface {
  readonly linkType: number;
  readonly snaplen: number;
  /** if_tsresol byte: bit 7 clear = 10^-n s, set = 2^-n s (pcapng §4.2). Default 6. */
  readonly tsresol: number;
  /** if_tsoffset: seconds added to every timestamp. */
  readonly tsoffset: number;
}

function rd32(b: Buffer, o: number, le: boolean): number {
  return le
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000
    : b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

function rd16(b: Buffer, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * Exact conversion of a pcapng timestamp (hi:lo units of the interface's resolution) to {sec, nsec}.
 * Resolutions finer than 1 ns are truncated to whole nanoseconds.
 */
export function pcapngTimestamp(hi: number, lo: number, tsresol: number, tsoffset: number): Timestamp {
  const exp = tsresol & 0x7f;
  if ((tsresol & 0x80) === 0 && exp <= 9) {
    // Long division of the 64-bit value by U = 10^exp in base-2^16 digits: every intermediate stays < 2^53.
    const u = POW10[exp]!;
    let r = hi >>> 16;
    const q3 = Math.floor(r / u);
    r = (r - q3 * u) * 65536 + (hi & 0xffff);
    const q2 = Math.floor(r / u);
    r = (r - q2 * u) * 65536 + (lo >>> 16);
    const q1 = Math.floor(r / u);
    r = (r - q1 * u) * 65536 + (lo & 0xffff);
    const q0 = Math.floor(r / u);
    r -= q0 * u;
    return { sec: ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0 + tsoffset, nsec: r * POW10[9 - exp]! };
  }
  if ((tsresol & 0x80) !== 0 && exp <= 23) {
    // 2^-exp units: shift; frac * 1e9 < 2^53 so the scaled fraction is exact.
    const frac = lo & ((1 << exp) - 1);
    return {
      sec: hi * 2 ** (32 - exp) + (exp === 0 ? lo : lo >>> exp) + tsoffset,
      nsec: Math.floor((frac * 1e9) / 2 ** exp),
    };
  }
  const t = (BigInt(hi) << 32n) | BigInt(lo);
  const units = (tsresol & 0x80) === 0 ? 10n ** BigInt(exp) : 1n << BigInt(exp);
  const frac = t % units;
  return { sec: Number(t / units) + tsoffset, nsec: Number((frac * 1_000_000_000n) / units) };
}

/**
 * Streaming pcap/pcapng parser. Feed bytes with {@link push}, finish with {@link end}; frames arrive at the
 * callback given to the constructor, numbered from 1 across the whole input (all pcapng sections).
 *
 * Errors: `parser.error` (and `options.onError`) after the first problem. Frames before the failing
 * record are all delivered; nothing at or after `error.offset` is.
 */
export class CaptureParser {
  private readonly file: string;
  private readonly onFrame: (frame: Frame) => void;
  private readonly onError: ((error: CaptureError) => void) | undefined;
  private mode: Mode = Mode.Magic;
  private le = true;
  private nano = false;
  /** Record header size of the classic pcap variant being read. */
  private recordHeader = PCAP_RECORD_HEADER;
  private pcapLinkType = 0;
  /** NetMon: the input collected so far (from byte 0), parsed by `end()`. */
  private netmonChunks: Buffer[] = [];
  private ifaces: PcapngInterface[] = [];
  /** Absolute end of the current pcapng section when its SHB gave a length, else -1. */
  private sectionEnd = -1;
  /** Incomplete tail: chunks (or chunk slices) not yet parsed, starting at absolute offset `consumed`. */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Bytes the next record needs, counted from `consumed` (header size until the header is known). */
  private need = 4;
  /** Absolute offset of the first unparsed byte. */
  private consumed = 0;
  /** Absolute offset of index 0 of the buffer currently being parsed. */
  private base = 0;
  private pushed = 0;
  private frameCount = 0;
  private failure: CaptureError | undefined;
  private ended = false;

  constructor(onFrame: (frame: Frame) => void, options: CaptureParserOptions = {}) {
    this.onFrame = onFrame;
    this.file = options.file ?? '<capture>';
    this.onError = options.onError;
  }

  /** The error that stopped parsing, if any. */
  get error(): CaptureError | undefined {
    return this.failure;
  }
  /** Frames delivered so far. */
  get frames(): number {
    return this.frameCount;
  }
  /** Bytes pushed so far (decompressed). */
  get bytesPushed(): number {
    return this.pushed;
  }
  /** Absolute offset up to which input was fully parsed. */
  get offset(): number {
    return this.consumed;
  }
  /** Detected format, once the magic has been seen. */
  get format(): CaptureFormat | undefined {
    return this.detected;
  }
  private detected: CaptureFormat | undefined;

  /** Bytes of an incomplete record kept until more input arrives. */
  get pendingBytes(): number {
    return this.pendingLen;
  }
  /** Bytes the incomplete record needs in total (its header size while the header itself is incomplete). */
  get pendingNeed(): number {
    return this.need;
  }

  /** True after `end()` or an error: further input is ignored. */
  get done(): boolean {
    return this.ended || this.mode === Mode.Stopped;
  }

  /** Feed the next bytes of the capture. Delivers every frame completed by them. */
  push(chunk: Buffer): void {
    if (this.done || chunk.length === 0) return;
    this.pushed += chunk.length;
    let off = 0;
    // Complete a record that spans chunks: gather exactly `need` bytes, concatenated once.
    while (this.pendingLen > 0) {
      const want = this.need - this.pendingLen;
      if (chunk.length - off < want) {
        this.pending.push(off === 0 ? chunk : chunk.subarray(off));
        this.pendingLen += chunk.length - off;
        return;
      }
      this.pending.push(chunk.subarray(off, off + want));
      off += want;
      const joined = Buffer.concat(this.pending, this.need);
      this.pending = [];
      this.pendingLen = 0;
      const used = this.run(joined);
      if (this.stopped()) return;
      if (used < joined.length) {
        // The header is now known and the record needs more bytes than we gathered.
        this.pending.push(joined.subarray(used));
        this.pendingLen = joined.length - used;
      }
    }
    if (off === chunk.length) return;
    const rest = off === 0 ? chunk : chunk.subarray(off);
    const used = this.run(rest);
    if (!this.stopped() && used < rest.length) {
      this.pending.push(used === 0 ? rest : rest.subarray(used));
      this.pendingLen = rest.length - used;
    }
  }

  /** Signal the end of input: reports `CAPTURE_EMPTY` / `CAPTURE_TRUNCATED` when applicable. */
  end(): void {
    if (this.done) return;
    this.ended = true;
    if (this.pushed === 0) {
      this.fail('CAPTURE_EMPTY', 0, 'empty file (0 bytes)');
      return;
    }
    if (this.mode === Mode.Netmon) {
      this.netmonEnd();
      return;
    }
    if (this.pendingLen === 0) return;
    if (this.mode === Mode.Magic) {
      const head = Buffer.concat(this.pending);
      if (isMagicPrefix(head, PCAP_MAGICS)) {
        this.truncated(PCAP_HEADER, 'pcap file header');
      } else if (isMagicPrefix(head, [[0x47, 0x4d, 0x42, 0x55]])) {
        this.truncated(64, 'NetMon file header');
      } else if (isMagicPrefix(head, [[0x0a, 0x0d, 0x0d, 0x0a]])) {
        this.truncated(PCAPNG_BLOCK_HEADER, 'pcapng section header block');
      } else {
        this.fail('CAPTURE_NOT_A_CAPTURE', 0, 'not a pcap or pcapng capture (too short for a magic number)');
      }
      return;
    }
    const what =
      this.mode === Mode.PcapHeader ? 'pcap file header' : this.mode === Mode.Pcap ? 'packet record' : 'pcapng block';
    this.truncated(this.need, what);
  }

  private truncated(need: number, what: string): void {
    const have = this.pendingLen;
    this.fail(
      'CAPTURE_TRUNCATED',
      this.consumed,
      `truncated ${what}: needs ${need} bytes, file ends after ${have}`,
      need,
      have,
    );
  }

  private fail(code: CaptureError['code'], offset: number, what: string, need?: number, have?: number): void {
    this.mode = Mode.Stopped;
    this.pending = [];
    this.pendingLen = 0;
    this.failure = new CaptureError(code, this.file, offset, what, need, have);
    this.onError?.(this.failure);
  }

  private corrupt(pos: number, what: string): number {
    this.fail('CAPTURE_CORRUPT', this.base + pos, `${what}; reading stopped, nothing from here on was read`);
    return pos;
  }

  /** Parse as many records of `buf` as possible (buf starts at `consumed`); returns bytes used. */
  private run(buf: Buffer): number {
    this.base = this.consumed;
    let pos = 0;
    for (;;) {
      switch (this.mode) {
        case Mode.Magic:
          pos = this.parseMagic(buf, pos);
          break;
        case Mode.PcapHeader:
          pos = this.parsePcapHeader(buf, pos);
          break;
        case Mode.Pcap:
          pos = this.parsePcap(buf, pos);
          break;
        case Mode.Pcapng:
          pos = this.parsePcapng(buf, pos);
          break;
        case Mode.Netmon:
          return this.collectNetmon(buf, pos);
        case Mode.Stopped:
          return pos;
      }
      this.consumed = this.base + pos;
      // A parse step returns with `need` set when the next record is incomplete.
      if (this.stopped() || buf.length - pos < this.need) return pos;
    }
  }

  /** Read through a method so TypeScript does not narrow `mode` across calls that change it. */
  private stopped(): boolean {
    return this.mode === Mode.Stopped;
  }

  private parseMagic(buf: Buffer, pos: number): number {
    if (buf.length - pos < 4) {
      this.need = 4;
      return pos;
    }
    const be = rd32(buf, pos, false);
    switch (be) {
      case 0xa1b2c3d4:
      case 0xa1b23c4d:
        this.le = false;
        this.nano = be === 0xa1b23c4d;
        this.detected = 'pcap';
        this.mode = Mode.PcapHeader;
        this.need = PCAP_HEADER;
        return pos;
      case 0xd4c3b2a1:
      case 0x4d3cb2a1:
        this.le = true;
        this.nano = be === 0x4d3cb2a1;
        this.detected = 'pcap';
        this.mode = Mode.PcapHeader;
        this.need = PCAP_HEADER;
        return pos;
      case 0xa1b2cd34:
      case 0x34cdb2a1:
        this.le = be === 0x34cdb2a1;
        this.recordHeader = PCAP_MODIFIED_RECORD_HEADER;
        this.detected = 'pcap';
        this.mode = Mode.PcapHeader;
        this.need = PCAP_HEADER;
        return pos;
      case NETMON2_MAGIC:
        this.detected = 'netmon';
        this.mode = Mode.Netmon;
        this.need = 1;
        return pos;
      case NETMON1_MAGIC:
        this.fail('CAPTURE_NOT_A_CAPTURE', this.base + pos, 'Network Monitor 1.x capture (magic RTSS): not read, only NetMon 2.x');
        return pos;
      case SHB_TYPE:
        this.detected = 'pcapng';
        this.mode = Mode.Pcapng;
        this.need = PCAPNG_BLOCK_HEADER;
        return pos;
      default:
        this.fail(
          'CAPTURE_NOT_A_CAPTURE',
          this.base + pos,
          `not a pcap or pcapng capture (magic 0x${be.toString(16).padStart(8, '0')})`,
        );
        return pos;
    }
  }

  private parsePcapHeader(buf: Buffer, pos: number): number {
    if (buf.length - pos < PCAP_HEADER) {
      this.need = PCAP_HEADER;
      return pos;
    }
    // LT_LINKTYPE(): the upper bits of the link-type field carry FCS information.
    this.pcapLinkType = rd32(buf, pos + 20, this.le) & 0x03ffffff;
    this.mode = Mode.Pcap;
    this.need = this.recordHeader;
    return pos + PCAP_HEADER;
  }

  private parsePcap(buf: Buffer, pos: number): number {
    const le = this.le;
    const end = buf.length;
    const linkType = this.pcapLinkType;
    const fracScale = this.nano ? 1 : 1000;
    const rh = this.recordHeader;
    for (;;) {
      if (end - pos < rh) {
        this.need = rh;
        return pos;
      }
      const caplen = rd32(buf, pos + 8, le);
      if (caplen > MAX_CAPLEN) {
        return this.corrupt(pos, `corrupt packet record: captured length ${caplen} exceeds ${MAX_CAPLEN}`);
      }
      const total = rh + caplen;
      if (end - pos < total) {
        this.need = total;
        return pos;
      }
      let sec = rd32(buf, pos, le);
      let nsec = rd32(buf, pos + 4, le) * fracScale;
      if (nsec >= 1e9) {
        // Out-of-range fraction from a sloppy writer: carry into seconds to keep nsec < 1e9.
        sec += Math.floor(nsec / 1e9);
        nsec %= 1e9;
      }
      this.onFrame({
        number: ++this.frameCount,
        ts: { sec, nsec },
        linkType,
        bytes: buf.subarray(pos + rh, pos + total),
        origLen: rd32(buf, pos + 12, le),
        iface: 0,
      });
      pos += total;
    }
  }

  /** NetMon: keep the rest of `buf` (chunks are never reused by their producer) until `end()`. */
  private collectNetmon(buf: Buffer, pos: number): number {
    // Everything from byte 0 is held: the bytes pushed so far.
    if (this.pushed > MAX_NETMON_BYTES) {
      this.netmonChunks = [];
      this.fail(
        'CAPTURE_CORRUPT',
        this.base + pos,
        `NetMon capture larger than ${MAX_NETMON_BYTES} bytes: its frame table is at the end, and reading it would hold the whole file in memory; reading stopped, no frame was read`,
      );
      return pos;
    }
    this.netmonChunks.push(pos === 0 ? buf : buf.subarray(pos));
    return buf.length;
  }

  private netmonEnd(): void {
    const whole = this.netmonChunks.length === 1 ? this.netmonChunks[0]! : Buffer.concat(this.netmonChunks);
    this.netmonChunks = [];
    const r = readNetmon(whole, this.file, MAX_CAPLEN, (frame) => {
      this.frameCount = frame.number;
      this.onFrame(frame);
    });
    this.consumed = this.pushed;
    if (r.error) {
      this.mode = Mode.Stopped;
      this.failure = r.error;
      this.onError?.(r.error);
    }
  }

  private parsePcapng(buf: Buffer, pos: number): number {
    const end = buf.length;
    for (;;) {
      if (end - pos < PCAPNG_BLOCK_HEADER) {
        this.need = PCAPNG_BLOCK_HEADER;
        return pos;
      }
      let le = this.le;
      const type = rd32(buf, pos, le);
      if (type === SHB_TYPE) {
        const bomLe = rd32(buf, pos + 8, true);
        if (bomLe === BOM) le = true;
        else if (rd32(buf, pos + 8, false) === BOM) le = false;
        else if (this.base + pos === 0) {
          this.fail('CAPTURE_NOT_A_CAPTURE', 0, 'not a pcap or pcapng capture (bad pcapng byte-order magic)');
          return pos;
        } else {
          return this.corrupt(pos, 'corrupt pcapng section header: bad byte-order magic');
        }
      }
      const len = rd32(buf, pos + 4, le);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
        return this.corrupt(
          pos,
          `corrupt pcapng block (type 0x${type.toString(16)}): total length ${len} ${
            len > MAX_BLOCK ? `exceeds ${MAX_BLOCK}` : len < 12 ? 'is below 12' : 'is not a multiple of 4'
          }`,
        );
      }
      if (type !== SHB_TYPE && this.sectionEnd >= 0 && this.base + pos + len > this.sectionEnd) {
        return this.corrupt(
          pos,
          `corrupt pcapng block (type 0x${type.toString(16)}): total length ${len} overruns the section length`,
        );
      }
      if (end - pos < len) {
        this.need = len;
        return pos;
      }
      const trailing = rd32(buf, pos + len - 4, le);
      if (trailing !== len) {
        return this.corrupt(
          pos,
          `corrupt pcapng block (type 0x${type.toString(16)}): trailing length ${trailing} differs from leading length ${len}`,
        );
      }
      switch (type) {
        case SHB_TYPE:
          if (!this.sectionHeader(buf, pos, len, le)) return pos;
          break;
        case 1:
          if (!this.interfaceDescription(buf, pos, len)) return pos;
          break;
        case 6:
        case 2:
          if (!this.packetBlock(buf, pos, len, type)) return pos;
          break;
        case 3:
          if (!this.simplePacket(buf, pos, len)) return pos;
          break;
        default:
          // Interface statistics, name resolution, decryption secrets, custom …: not needed, skipped by length.
          break;
      }
      pos += len;
    }
  }

  private sectionHeader(buf: Buffer, pos: number, len: number, le: boolean): boolean {
    if (len < 28) {
      this.corrupt(pos, `corrupt pcapng section header: total length ${len} is below 28`);
      return false;
    }
    this.le = le;
    this.ifaces = [];
    const hi = rd32(buf, pos + 16 + (le ? 4 : 0), le);
    const lo = rd32(buf, pos + 16 + (le ? 0 : 4), le);
    // Section length -1 means "not specified"; a plausible value bounds the blocks that follow.
    this.sectionEnd = hi === 0xffffffff && lo === 0xffffffff ? -1 : hi < 0x200000 ? this.base + pos + len + hi * 2 ** 32 + lo : -1;
    return true;
  }

  private interfaceDescription(buf: Buffer, pos: number, len: number): boolean {
    if (len < 20) {
      this.corrupt(pos, `corrupt pcapng interface description: total length ${len} is below 20`);
      return false;
    }
    const le = this.le;
    let tsresol = 6;
    let tsoffset = 0;
    // Options (pcapng §3.5): code, length, value padded to 4. A malformed option list ends option parsing only.
    const optEnd = pos + len - 4;
    let o = pos + 16;
    while (optEnd - o >= 4) {
      const code = rd16(buf, o, le);
      const olen = rd16(buf, o + 2, le);
      if (code === 0 || olen > optEnd - o - 4) break;
      if (code === 9 && olen >= 1) tsresol = buf[o + 4]!;
      else if (code === 14 && olen >= 8) {
        // Signed 64-bit seconds; |offset| < 2^53 in any sane file.
        const hi = rd32(buf, o + 4 + (le ? 4 : 0), le);
        const lo = rd32(buf, o + 4 + (le ? 0 : 4), le);
        tsoffset = (hi | 0) * 2 ** 32 + lo;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    this.ifaces.push({ linkType: rd16(buf, pos + 8, le), snaplen: rd32(buf, pos + 12, le), tsresol, tsoffset });
    return true;
  }

  private packetBlock(buf: Buffer, pos: number, len: number, type: number): boolean {
    const name = type === 6 ? 'enhanced packet block' : 'packet block';
    if (len < 32) {
      this.corrupt(pos, `corrupt pcapng ${name}: total length ${len} is below 32`);
      return false;
    }
    const le = this.le;
    const id = type === 6 ? rd32(buf, pos + 8, le) : rd16(buf, pos + 8, le);
    const iface = this.ifaces[id];
    if (iface === undefined) {
      this.corrupt(pos, `corrupt pcapng ${name}: unknown interface id ${id} (${this.ifaces.length} defined)`);
      return false;
    }
    const caplen = rd32(buf, pos + 20, le);
    if (caplen > MAX_CAPLEN || caplen > len - 32) {
      this.corrupt(
        pos,
        `corrupt pcapng ${name}: captured length ${caplen} exceeds ${caplen > MAX_CAPLEN ? MAX_CAPLEN : `the block (${len - 32})`}`,
      );
      return false;
    }
    this.onFrame({
      number: ++this.frameCount,
      ts: pcapngTimestamp(rd32(buf, pos + 12, le), rd32(buf, pos + 16, le), iface.tsresol, iface.tsoffset),
      linkType: iface.linkType,
      bytes: buf.subarray(pos + 28, pos + 28 + caplen),
      origLen: rd32(buf, pos + 24, le),
      iface: id,
    });
    return true;
  }

  private simplePacket(buf: Buffer, pos: number, len: number): boolean {
    if (len < 16) {
      this.corrupt(pos, `corrupt pcapng simple packet block: total length ${len} is below 16`);
      return false;
    }
    const iface = this.ifaces[0];
    if (iface === undefined) {
      this.corrupt(pos, 'corrupt pcapng simple packet block: unknown interface id 0 (0 defined)');
      return false;
    }
    const origLen = rd32(buf, pos + 8, this.le);
    // pcapng §4.4: captured length = min(original length, snaplen); the block bounds it too.
    let caplen = Math.min(origLen, len - 16);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    if (caplen > MAX_CAPLEN) {
      this.corrupt(pos, `corrupt pcapng simple packet block: captured length ${caplen} exceeds ${MAX_CAPLEN}`);
      return false;
    }
    this.onFrame({
      number: ++this.frameCount,
      // A Simple Packet Block has no timestamp.
      ts: { sec: 0, nsec: 0 },
      linkType: iface.linkType,
      bytes: buf.subarray(pos + 12, pos + 12 + caplen),
      origLen,
      iface: 0,
    });
    return true;
  }
}

const PCAP_MAGICS: readonly (readonly number[])[] = [
  [0xa1, 0xb2, 0xc3, 0xd4],
  [0xd4, 0xc3, 0xb2, 0xa1],
  [0xa1, 0xb2, 0x3c, 0x4d],
  [0x4d, 0x3c, 0xb2, 0xa1],
  [0xa1, 0xb2, 0xcd, 0x34],
  [0x34, 0xcd, 0xb2, 0xa1],
];

function isMagicPrefix(head: Buffer, magics: readonly (readonly number[])[]): boolean {
  return magics.some((m) => head.every((b, i) => m[i] === b));
}

/** Parse a whole in-memory capture: convenience for tests and small files. */
export function parseCapture(
  bytes: Buffer,
  options: CaptureParserOptions = {},
): { frames: Frame[]; error: CaptureError | undefined } {
  const frames: Frame[] = [];
  const parser = new CaptureParser((f) => frames.push(f), options);
  parser.push(bytes);
  parser.end();
  return { frames, error: parser.error };
}
