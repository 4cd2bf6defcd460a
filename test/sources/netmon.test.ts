/**
 * Microsoft Network Monitor 2.x files and Kuznetzov's modified pcap (issue #16 point 4 and 5): exact frames
 * (numbers, times, link types, bytes) at every split of the input, media types, and truncation / corruption as
 * the same kind of error the pcap reader gives (code, file, offset).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openCapture, parseCapture } from '../../src/sources/capture/index.js';
import { NETMON_MEDIA_LINKTYPE_BASE } from '../../src/sources/capture/netmon.js';
import { feed, hex, splitOutcomes, type PlainFrame } from './capture-helpers.js';

interface NmFrame {
  /** µs from the capture start (header time offset). */
  readonly deltaUs: number;
  readonly media: number;
  readonly bytes: Buffer;
  /** 2.3 only: the frame's UTC time as a FILETIME (100 ns since 1601). */
  readonly filetime?: bigint;
  readonly origLen?: number;
}

/** A NetMon 2.`minor` file: header, `gap` junk bytes, the frames (in `order` physically), the frame table. */
function netmonFile(minor: number, frames: readonly NmFrame[], opts: { order?: number[]; gap?: number; start?: number[] } = {}): Buffer {
  const head = Buffer.alloc(128);
  head.write('GMBU', 0, 'latin1');
  head[4] = minor;
  head[5] = 2;
  head.writeUInt16LE(1, 6);
  // 2024-02-29 (Thursday) 23:59:59.750
  (opts.start ?? [2024, 2, 4, 29, 23, 59, 59, 750]).forEach((v, i) => head.writeUInt16LE(v, 8 + 2 * i));
  const trailer = minor === 0 ? 0 : minor === 1 ? 2 : minor === 2 ? 6 : 15;
  const parts: Buffer[] = [head, Buffer.alloc(opts.gap ?? 0, 0xaa)];
  let pos = 128 + (opts.gap ?? 0);
  const offsets: number[] = new Array<number>(frames.length);
  for (const i of opts.order ?? frames.map((_, k) => k)) {
    const f = frames[i]!;
    const h = Buffer.alloc(16);
    h.writeBigUInt64LE(BigInt(f.deltaUs), 0);
    h.writeUInt32LE(f.origLen ?? f.bytes.length, 8);
    h.writeUInt32LE(f.bytes.length, 12);
    const t = Buffer.alloc(trailer);
    if (trailer >= 2) t.writeUInt16LE(f.media, 0);
    if (trailer >= 15) t.writeBigUInt64LE(f.filetime ?? 0n, 6);
    offsets[i] = pos;
    parts.push(h, f.bytes, t);
    pos += 16 + f.bytes.length + trailer;
  }
  const table = Buffer.alloc(frames.length * 4);
  offsets.forEach((o, i) => table.writeUInt32LE(o, i * 4));
  head.writeUInt32LE(pos, 24);
  head.writeUInt32LE(table.length, 28);
  parts.push(table);
  return Buffer.concat(parts);
}

const START = Date.UTC(2024, 1, 29, 23, 59, 59, 750) / 1000; // 1709251199.75
const START_SEC = Math.floor(START);

const frame = (number: number, sec: number, nsec: number, linkType: number, bytes: string, origLen = bytes.length / 2): PlainFrame => ({
  number,
  sec,
  nsec,
  linkType,
  iface: 0,
  origLen,
  bytes,
});

describe('NetMon 2.x: frames by the frame table, at every split of the input', () => {
  it('2.1: per-frame media types, times from the start, holes and reordered records, metadata skipped', () => {
    const frames: NmFrame[] = [
      { deltaUs: 0, media: 1, bytes: hex('0102030405') },
      { deltaUs: 250_001, media: 9, bytes: hex('4500') },
      { deltaUs: 300_000, media: 0xfffe, bytes: hex('dddd') }, // DNS cache: metadata, no frame number
      { deltaUs: 1_000_000, media: 0xe000 + 113, bytes: hex('aabb'), origLen: 1500 }, // converted pcap, Linux SLL
      { deltaUs: 2_000_000, media: 6, bytes: hex('80') }, // 802.11 with NetMon's radio header
      { deltaUs: 3_000_000, media: 0, bytes: hex('cc') },
    ];
    const file = netmonFile(1, frames, { order: [2, 0, 5, 1, 3, 4], gap: 7 });
    const { whole, mismatches } = splitOutcomes(file);
    expect(mismatches).toEqual([]);
    expect(whole.error).toBeUndefined();
    expect(whole.frames).toEqual([
      frame(1, START_SEC, 750_000_000, 1, '0102030405'),
      frame(2, START_SEC + 1, 1_000, 101, '4500'),
      frame(3, START_SEC + 1, 750_000_000, 113, 'aabb', 1500),
      frame(4, START_SEC + 2, 750_000_000, NETMON_MEDIA_LINKTYPE_BASE + 6, '80'),
      frame(5, START_SEC + 3, 750_000_000, 1, 'cc'),
    ]);
  });

  it('2.0: no trailer, the header media type for every frame', () => {
    const file = netmonFile(0, [
      { deltaUs: 5, media: 0, bytes: hex('11') },
      { deltaUs: 10, media: 0, bytes: hex('2222') },
    ]);
    const { whole, mismatches } = splitOutcomes(file);
    expect(mismatches).toEqual([]);
    expect(whole).toEqual({
      frames: [frame(1, START_SEC, 750_005_000, 1, '11'), frame(2, START_SEC, 750_010_000, 1, '2222')],
      error: undefined,
    });
  });

  it('2.3: the per-frame UTC FILETIME wins over start + offset', () => {
    const ft = (sec: number, hundredNs: number): bigint => (BigInt(sec) + 11_644_473_600n) * 10_000_000n + BigInt(hundredNs);
    const file = netmonFile(3, [
      { deltaUs: 999, media: 1, bytes: hex('01'), filetime: ft(1_700_000_000, 1_234_567) },
      { deltaUs: 999, media: 7, bytes: hex('6000'), filetime: ft(1_700_000_001, 9_999_999) },
    ]);
    const { whole, mismatches } = splitOutcomes(file);
    expect(mismatches).toEqual([]);
    expect(whole.frames).toEqual([frame(1, 1_700_000_000, 123_456_700, 1, '01'), frame(2, 1_700_000_001, 999_999_900, 101, '6000')]);
  });

  it('the format is reported as netmon', () => {
    const r = parseCapture(netmonFile(1, [{ deltaUs: 0, media: 1, bytes: hex('00') }]));
    expect(r.error).toBeUndefined();
    expect(r.frames).toHaveLength(1);
  });
});

describe('NetMon 2.x: truncation and corruption are errors naming file and offset', () => {
  const good = netmonFile(1, [
    { deltaUs: 0, media: 1, bytes: hex('0102030405') },
    { deltaUs: 1, media: 1, bytes: hex('0607') },
  ]);
  // Header 128, frame 1 at 128 (16 + 5 + 2 = 23), frame 2 at 151 (16 + 2 + 2 = 20), table at 171 (8 bytes) → 179.
  it('layout of the test file', () => {
    expect(good.length).toBe(179);
    expect(good.readUInt32LE(24)).toBe(171);
  });

  const err = (bytes: Buffer) => feed([bytes], 'calls.cap');
  it('file header cut', () => {
    expect(err(good.subarray(0, 40))).toEqual({
      frames: [],
      error: { code: 'CAPTURE_TRUNCATED', offset: 0, need: 64, have: 40, message: 'calls.cap: truncated NetMon file header: needs 64 bytes, file ends after 40 at byte 0' },
    });
    expect(err(good.subarray(0, 3)).error?.code).toBe('CAPTURE_TRUNCATED');
  });

  it('frame table cut (a file cut anywhere after the header loses its index)', () => {
    expect(err(good.subarray(0, 175))).toEqual({
      frames: [],
      error: {
        code: 'CAPTURE_TRUNCATED',
        offset: 171,
        need: 8,
        have: 4,
        message: 'calls.cap: truncated NetMon file: the frame table needs 8 bytes, file ends after 4; no frame can be located at byte 171',
      },
    });
    expect(err(good.subarray(0, 150)).error).toEqual({
      code: 'CAPTURE_TRUNCATED',
      offset: 171,
      need: 8,
      have: 0,
      message: 'calls.cap: truncated NetMon file: the frame table needs 8 bytes, file ends 21 bytes before it (after 150); no frame can be located at byte 171',
    });
    for (let len = 64; len < good.length; len++) {
      const o = err(good.subarray(0, len));
      expect(o.frames, `cut at ${len}`).toEqual([]);
      expect(o.error?.code, `cut at ${len}`).toBe('CAPTURE_TRUNCATED');
      expect(o.error?.message, `cut at ${len}`).toMatch(/^calls\.cap: .* at byte \d+$/);
    }
  });

  it('a frame record that runs past the end: the frames before it are delivered', () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(200, 151 + 12); // frame 2 claims 200 captured bytes
    expect(err(bad)).toEqual({
      frames: [frame(1, START_SEC, 750_000_000, 1, '0102030405')],
      error: { code: 'CAPTURE_TRUNCATED', offset: 151, need: 218, have: 28, message: 'calls.cap: truncated NetMon frame record: needs 218 bytes, file ends after 28 at byte 151' },
    });
  });

  it('corrupt: captured length over the maximum, table entry outside the file, bad table length, version 1.x', () => {
    const huge = Buffer.from(good);
    huge.writeUInt32LE(0x7fffffff, 128 + 12);
    expect(err(huge).error).toMatchObject({ code: 'CAPTURE_CORRUPT', offset: 128 });
    const outside = Buffer.from(good);
    outside.writeUInt32LE(5000, 175);
    expect(err(outside)).toMatchObject({
      frames: [frame(1, START_SEC, 750_000_000, 1, '0102030405')],
      error: { code: 'CAPTURE_CORRUPT', offset: 175, message: 'calls.cap: corrupt NetMon frame table: entry 1 points at byte 5000, outside the file (179 bytes) at byte 175' },
    });
    const odd = Buffer.from(good);
    odd.writeUInt32LE(7, 28);
    expect(err(odd).error).toMatchObject({ code: 'CAPTURE_CORRUPT', offset: 28 });
    const v1 = Buffer.from(good);
    v1[5] = 1;
    expect(err(v1).error).toMatchObject({ code: 'CAPTURE_CORRUPT', offset: 5, message: 'calls.cap: NetMon file version 1.1 is not read (only 2.x) at byte 5' });
    expect(err(hex('52545353 0001 0100')).error).toMatchObject({ code: 'CAPTURE_NOT_A_CAPTURE', offset: 0 });
  });
});

describe("Kuznetzov's modified pcap (magic 0xa1b2cd34, 24-byte records)", () => {
  const le = hex(`
    34cdb2a1 0200 0400 00000000 00000000 00000400 01000000
    00105e5f 40e20100 02000000 3c000000 02000000 0008 04 00 abcd
    01105e5f 00000000 01000000 01000000 03000000 dd86 00 00 ef
  `);
  const be = hex(`
    a1b2cd34 0002 0004 00000000 00000000 00040000 00000001
    5f5e1000 0001e240 00000002 0000003c 00000002 0800 04 00 abcd
  `);
  it('little-endian: two records, at every split', () => {
    const { whole, mismatches } = splitOutcomes(le);
    expect(mismatches).toEqual([]);
    expect(whole).toEqual({
      frames: [
        { number: 1, sec: 1_600_000_000, nsec: 123_456_000, linkType: 1, iface: 0, origLen: 60, bytes: 'abcd' },
        { number: 2, sec: 1_600_000_001, nsec: 0, linkType: 1, iface: 0, origLen: 1, bytes: 'ef' },
      ],
      error: undefined,
    });
  });
  it('big-endian', () => {
    expect(feed([be]).frames).toEqual([{ number: 1, sec: 1_600_000_000, nsec: 123_456_000, linkType: 1, iface: 0, origLen: 60, bytes: 'abcd' }]);
  });
  it('a record header cut is truncation at the record, needing 24 bytes', () => {
    expect(feed([le.subarray(0, 24 + 26 + 10)], 'k.pcap').error).toEqual({
      code: 'CAPTURE_TRUNCATED',
      offset: 50,
      need: 24,
      have: 10,
      message: 'k.pcap: truncated packet record: needs 24 bytes, file ends after 10 at byte 50',
    });
    expect(feed([le.subarray(0, 2)]).error?.code).toBe('CAPTURE_TRUNCATED');
  });
});

describe('reading NetMon files from disk', () => {
  it('gzip-compressed and plain give the same frames; batches() delivers them (they come at the end)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-netmon-'));
    try {
      const plainFile = 'test/captures/crafted/netmon2.cap';
      const gz = join(dir, 'netmon2.cap.gz');
      writeFileSync(gz, gzipSync(readFileSync(plainFile)));
      const a: string[] = [];
      const sa = await openCapture(plainFile, { chunkSize: 100 }).forEach((f) => a.push(`${f.number} ${f.ts.sec}.${f.ts.nsec} ${f.linkType} ${f.bytes.length}`));
      const b: string[] = [];
      const reader = openCapture(gz);
      for await (const batch of reader.batches()) for (const f of batch) b.push(`${f.number} ${f.ts.sec}.${f.ts.nsec} ${f.linkType} ${f.bytes.length}`);
      expect(sa).toMatchObject({ format: 'netmon', frames: 13, error: undefined, gzip: false });
      expect(reader.format).toBe('netmon');
      expect(reader.gzip).toBe(true);
      expect(a).toHaveLength(13);
      expect(b).toEqual(a);
      expect(a[3]).toBe(`4 1700000000.280000000 ${NETMON_MEDIA_LINKTYPE_BASE + 6} 40`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const haveTshark = spawnSync('tshark', ['-v']).status === 0;
if (!haveTshark) console.warn('tshark missing: NetMon time check skipped (apt-get install -y tshark); CI installs it');

describe.skipIf(!haveTshark)('tshark reads the crafted files with our frame times', () => {
  for (const name of ['netmon2.cap', 'pcap-kuznetzov.pcap']) {
    it(name, () => {
      const file = join('test/captures/crafted', name);
      const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.cap_len'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        env: { ...process.env, TZ: 'UTC' },
      });
      const theirs = out.trim().split('\n');
      const { frames, error } = parseCapture(readFileSync(file));
      expect(error).toBeUndefined();
      expect(frames.map((f) => `${f.number}\t${f.ts.sec}.${String(f.ts.nsec).padStart(9, '0')}\t${f.bytes.length}`)).toEqual(theirs);
    });
  }
});
