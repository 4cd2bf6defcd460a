/**
 * Microsoft Network Monitor 2.x capture files (`.cap`, magic "GMBU"), as NetMon 3.x's help ("Capture File
 * Format") documents them and Wireshark's wiretap/netmon.c reads them. Pure: a whole file in a Buffer in, frames
 * to a callback, errors as values.
 *
 * Layout (all little-endian):
 * - file header: magic (4), minor and major version (1 + 1), media type (2, for 2.0 files), capture start as a
 *   SYSTEMTIME (8 × u16: year, month, day of week, day, hour, minute, second, millisecond), then u32 pairs of
 *   offset/length: frame table, user data, comments, process info (offset/count), network info; padded to 128.
 * - frame records anywhere after it: time offset from the start (u64 µs), original length (u32), captured
 *   length (u32), the bytes, and from version 2.1 on a trailer: media type (u16); 2.2 adds a process info index
 *   (u32); 2.3 adds the frame's UTC time as a FILETIME (u64, 100 ns since 1601-01-01) and a time zone index (u8).
 * - the frame table: one u32 file offset per frame, in frame order. It is the only reliable index: writers
 *   leave holes between frames, and some put a frame physically before its predecessor.
 *
 * Because the frame table comes last, the whole file is needed before the first frame can be found: the caller
 * collects it (bounded by {@link MAX_NETMON_BYTES}).
 *
 * Media types: 0 and 1 Ethernet; 7, 8 and 9 raw IP (tunnel, wireless WAN, raw IP frames); 0xE000 + a pcap link
 * type for converted pcap files; 0xFFFC, 0xFFFD and 0xFFFE (reassembly headers, adapter lists, DNS cache) are
 * metadata and skipped without a frame number, as Wireshark skips them. Every other medium (802.11 with NetMon's
 * radio header, token ring, NetMon filters and events …) is delivered with link type
 * `NETMON_MEDIA_LINKTYPE_BASE + media`, so the decoder counts it as not decoded under its media type.
 */
import type { Frame } from '../../types.js';
import { CaptureError } from './errors.js';

/** Magic of NetMon 2.x files ("GMBU"), read as a big-endian u32. */
export const NETMON2_MAGIC = 0x474d4255;
/** Magic of NetMon 1.x files ("RTSS"), not read (a different record layout). */
export const NETMON1_MAGIC = 0x52545353;
/** The part of the file header that is read (the rest, to 128 bytes, is padding). */
export const NETMON_HEADER = 64;
/** Largest NetMon file read: the whole file is held until its frame table (at the end) is known. */
export const MAX_NETMON_BYTES = 256 * 1024 * 1024;
/**
 * Link type given to frames of a NetMon medium that has no pcap link type we decode: this base plus the media
 * type (above every pcap link type, which are 16-bit values).
 */
export const NETMON_MEDIA_LINKTYPE_BASE = 0x10000;

const FRAME_HEADER = 16;
/** Seconds from 1601-01-01 (FILETIME epoch) to 1970-01-01. */
const FILETIME_EPOCH_OFFSET = 11_644_473_600n;

/** Trailer bytes after each frame's data, by minor version (2.0: none; 2.1: 2; 2.2: 6; 2.3 and later: 15). */
function trailerSize(minor: number): number {
  return minor === 0 ? 0 : minor === 1 ? 2 : minor === 2 ? 6 : 15;
}

/** The link type of a frame of NetMon media type `media`, or undefined for metadata records that are skipped. */
export function netmonLinkType(media: number): number | undefined {
  if (media === 0 || media === 1) return 1; // Ethernet
  if (media === 7 || media === 8 || media === 9) return 101; // raw IP
  if (media === 0xfffc || media === 0xfffd || media === 0xfffe) return undefined;
  if ((media & 0xf000) === 0xe000 && !(media >= 0xe080 && media <= 0xe08a)) return media & 0x0fff;
  return NETMON_MEDIA_LINKTYPE_BASE + media;
}

export interface NetmonResult {
  readonly frames: number;
  readonly error: CaptureError | undefined;
}

/**
 * Read a whole NetMon 2.x file: frames go to `onFrame` in frame-table order, numbered from 1 (metadata records
 * take no number). Frames before a bad record are delivered; the error names the file and the record's offset.
 * `maxCaplen` bounds one frame's captured length.
 */
export function readNetmon(f: Buffer, file: string, maxCaplen: number, onFrame: (frame: Frame) => void): NetmonResult {
  let frames = 0;
  const fail = (code: CaptureError['code'], offset: number, what: string, need?: number, have?: number): NetmonResult => ({
    frames,
    error: new CaptureError(code, file, offset, what, need, have),
  });
  if (f.length < NETMON_HEADER) {
    return fail('CAPTURE_TRUNCATED', 0, `truncated NetMon file header: needs ${NETMON_HEADER} bytes, file ends after ${f.length}`, NETMON_HEADER, f.length);
  }
  const minor = f[4]!;
  const major = f[5]!;
  if (major !== 2) return fail('CAPTURE_CORRUPT', 5, `NetMon file version ${major}.${minor} is not read (only 2.x)`);
  const fileMedia = f.readUInt16LE(6);
  // SYSTEMTIME of the capture start. NetMon writes the capturing machine's local time without saying which zone;
  // it is read as UTC. Version 2.3 frames carry their own UTC time, which is used instead.
  const startMs = Date.UTC(f.readUInt16LE(8), f.readUInt16LE(10) - 1, f.readUInt16LE(14), f.readUInt16LE(16), f.readUInt16LE(18), f.readUInt16LE(20), f.readUInt16LE(22));
  if (!Number.isFinite(startMs)) return fail('CAPTURE_CORRUPT', 8, 'corrupt NetMon file header: impossible capture start time');
  const startSec = Math.floor(startMs / 1000);
  const startNs = (startMs - startSec * 1000) * 1_000_000;
  const tableOffset = f.readUInt32LE(24);
  const tableLength = f.readUInt32LE(28);
  if (tableLength === 0 || tableLength % 4 !== 0) {
    return fail('CAPTURE_CORRUPT', 28, `corrupt NetMon file header: frame table length ${tableLength} ${tableLength === 0 ? 'is 0' : 'is not a multiple of 4'}`);
  }
  if (tableOffset < NETMON_HEADER) {
    return fail('CAPTURE_CORRUPT', 24, `corrupt NetMon file header: frame table offset ${tableOffset} is inside the file header`);
  }
  if (tableOffset + tableLength > f.length) {
    // The table is the last thing written: a file cut anywhere after its header loses it (and with it every frame).
    const have = Math.max(0, f.length - tableOffset);
    return fail(
      'CAPTURE_TRUNCATED',
      tableOffset,
      `truncated NetMon file: the frame table needs ${tableLength} bytes, file ends ${tableOffset > f.length ? `${tableOffset - f.length} bytes before it (after ${f.length})` : `after ${have}`}; no frame can be located`,
      tableLength,
      have,
    );
  }
  const trailer = trailerSize(minor);
  for (let i = 0; i < tableLength / 4; i++) {
    const off = f.readUInt32LE(tableOffset + 4 * i);
    if (off < NETMON_HEADER || off >= f.length) {
      return fail('CAPTURE_CORRUPT', tableOffset + 4 * i, `corrupt NetMon frame table: entry ${i} points at byte ${off}, outside the file (${f.length} bytes)`);
    }
    if (off + FRAME_HEADER > f.length) {
      return fail('CAPTURE_TRUNCATED', off, `truncated NetMon frame record: needs ${FRAME_HEADER} bytes, file ends after ${f.length - off}`, FRAME_HEADER, f.length - off);
    }
    const origLen = f.readUInt32LE(off + 8);
    const caplen = f.readUInt32LE(off + 12);
    if (caplen > maxCaplen) return fail('CAPTURE_CORRUPT', off, `corrupt NetMon frame record: captured length ${caplen} exceeds ${maxCaplen}; reading stopped`);
    const total = FRAME_HEADER + caplen + trailer;
    if (off + total > f.length) {
      return fail('CAPTURE_TRUNCATED', off, `truncated NetMon frame record: needs ${total} bytes, file ends after ${f.length - off}`, total, f.length - off);
    }
    const media = trailer > 0 ? f.readUInt16LE(off + FRAME_HEADER + caplen) : fileMedia;
    const linkType = netmonLinkType(media);
    if (linkType === undefined) continue;
    let sec: number;
    let nsec: number;
    if (trailer >= 15) {
      const ft = f.readBigUInt64LE(off + FRAME_HEADER + caplen + 6);
      sec = Number(ft / 10_000_000n - FILETIME_EPOCH_OFFSET);
      nsec = Number(ft % 10_000_000n) * 100;
    } else {
      // µs from the start; Microsoft documents it unsigned, Wireshark reads it as signed after scaling.
      const deltaNs = BigInt.asIntN(64, f.readBigUInt64LE(off) * 10n) * 100n + BigInt(startNs);
      let s = deltaNs / 1_000_000_000n;
      let ns = deltaNs % 1_000_000_000n;
      if (ns < 0n) {
        ns += 1_000_000_000n;
        s -= 1n;
      }
      sec = startSec + Number(s);
      nsec = Number(ns);
    }
    onFrame({
      number: ++frames,
      ts: { sec, nsec },
      linkType,
      bytes: f.subarray(off + FRAME_HEADER, off + FRAME_HEADER + caplen),
      origLen,
      iface: 0,
    });
  }
  return { frames, error: undefined };
}
