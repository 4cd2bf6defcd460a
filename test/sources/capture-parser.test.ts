import { describe, expect, it } from 'vitest';
import { CaptureParser, pcapngTimestamp } from '../../src/sources/capture/parser.js';
import { PcapWriter, PcapngWriter } from '../../src/sources/capture/writer.js';
import type { Frame } from '../../src/types.js';
import { feed, hex, splitOutcomes, type PlainFrame } from './capture-helpers.js';

// ---- hand-written captures -------------------------------------------------------------------

/** Classic pcap, little-endian, µs, Ethernet, two records. */
const PCAP_LE_US = hex(`
  d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000   // magic LE µs, v2.4, snaplen 65535, linktype 1
  00105e5f 40e20100 04000000 3c000000 deadbeef             // 1600000000.123456, caplen 4, origlen 60
  01105e5f 3f420f00 02000000 02000000 cafe                 // 1600000001.999999, caplen 2
`);

/** Classic pcap, big-endian, µs, RAW (101). */
const PCAP_BE_US = hex(`
  a1b2c3d4 0002 0004 00000000 00000000 0000ffff 00000065
  5f5e1000 0001e240 00000004 00000004 45000014
`);

/** Classic pcap, little-endian, ns, Linux SLL (113). */
const PCAP_LE_NS = hex(`
  4d3cb2a1 0200 0400 00000000 00000000 00000400 71000000
  00105e5f 15cd5b07 03000000 dc050000 010203               // 1600000000.123456789, caplen 3, origlen 1500
`);

/** Classic pcap, big-endian, ns; link-type field carries FCS bits above LT_LINKTYPE (0x14000001 → 1). */
const PCAP_BE_NS = hex(`
  a1b23c4d 0002 0004 00000000 00000000 00040000 14000001
  5f5e1000 3b9ac9ff 00000001 00000001 99                   // 1600000000.999999999
`);

/**
 * pcapng: a big-endian section with two interfaces (Ethernet at tsresol 9 with snaplen 8, RAW at tsresol 6),
 * EPBs, an unknown block, an SPB and an obsolete Packet Block; then a little-endian section with if_tsoffset
 * and a power-of-2 tsresol.
 */
const PCAPNG_TWO_SECTIONS = hex(`
  // --- section 1, big-endian
  0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffff ffffffff 0000001c
  // IDB 0: Ethernet, snaplen 8, if_tsresol 9
  00000001 00000020 0001 0000 00000008 0009 0001 09000000 00000000 00000020
  // IDB 1: RAW, snaplen 65535, if_name "lo", if_tsresol 6
  00000001 00000028 0065 0000 0000ffff 0002 0002 6c6f0000 0009 0001 06000000 00000000 00000028
  // EPB iface 0, 1600000000123456789 ns, caplen 5
  00000006 00000028 00000000 16345785 dffbcd15 00000005 00000005 0102030405000000 00000028
  // EPB iface 1, 1600000001000002 µs, caplen 4, opt_comment "hi"
  00000006 00000030 00000001 0005af31 07b34242 00000004 00000004 45000014 0001 0002 68690000 00000000 00000030
  // unknown block type 0xbad
  00000bad 00000010 01020304 00000010
  // SPB: origlen 10, 8 bytes captured (snaplen 8)
  00000003 00000018 0000000a 1112131415161718 00000018
  // obsolete Packet Block: iface 1, drops 0, 1600000002500000 µs, caplen 3
  00000002 00000024 0001 0000 0005af31 07ca25a0 00000003 00000003 a1a2a300 00000024
  // --- section 2, little-endian
  0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000
  // IDB 0: Linux SLL, default tsresol (µs), if_tsoffset 100
  01000000 24000000 7100 0000 00000400 0e00 0800 6400000000000000 00000000 24000000
  // IDB 1: Ethernet, if_tsresol 2^-10
  01000000 20000000 0100 0000 00000400 0900 0100 8a000000 00000000 20000000
  // EPB iface 0: 5000000 µs
  06000000 24000000 00000000 00000000 404b4c00 01000000 01000000 aa000000 24000000
  // EPB iface 1: 3584 / 1024 s
  06000000 24000000 01000000 00000000 000e0000 02000000 02000000 bbcc0000 24000000
`);

const f = (
  number: number,
  sec: number,
  nsec: number,
  linkType: number,
  iface: number,
  origLen: number,
  bytes: string,
): PlainFrame => ({ number, sec, nsec, linkType, iface, origLen, bytes });

describe('CaptureParser on hand-written bytes', () => {
  const cases: [string, Buffer, PlainFrame[]][] = [
    [
      'pcap LE µs',
      PCAP_LE_US,
      [f(1, 1600000000, 123456000, 1, 0, 60, 'deadbeef'), f(2, 1600000001, 999999000, 1, 0, 2, 'cafe')],
    ],
    ['pcap BE µs', PCAP_BE_US, [f(1, 1600000000, 123456000, 101, 0, 4, '45000014')]],
    ['pcap LE ns', PCAP_LE_NS, [f(1, 1600000000, 123456789, 113, 0, 1500, '010203')]],
    ['pcap BE ns', PCAP_BE_NS, [f(1, 1600000000, 999999999, 1, 0, 1, '99')]],
    [
      'pcapng BE+LE sections, 2 IDBs each, SPB, PB, unknown block',
      PCAPNG_TWO_SECTIONS,
      [
        f(1, 1600000000, 123456789, 1, 0, 5, '0102030405'),
        f(2, 1600000001, 2000, 101, 1, 4, '45000014'),
        f(3, 0, 0, 1, 0, 10, '1112131415161718'),
        f(4, 1600000002, 500000000, 101, 1, 3, 'a1a2a3'),
        f(5, 105, 0, 113, 0, 1, 'aa'),
        f(6, 3, 500000000, 1, 1, 2, 'bbcc'),
      ],
    ],
  ];

  for (const [name, bytes, expected] of cases) {
    it(`${name}: exact frames, identical at every split and byte by byte`, () => {
      const { whole, mismatches } = splitOutcomes(bytes);
      expect(whole).toEqual({ frames: expected, error: undefined });
      expect(mismatches).toEqual([]);
    });
  }

  it('reports the detected format', () => {
    const p1 = new CaptureParser(() => {});
    p1.push(PCAP_BE_NS);
    expect(p1.format).toBe('pcap');
    const p2 = new CaptureParser(() => {});
    p2.push(PCAPNG_TWO_SECTIONS.subarray(0, 4));
    expect(p2.format).toBe('pcapng');
  });

  it('delivers frames as slices of the pushed chunk, not copies', () => {
    const frames: Frame[] = [];
    const p = new CaptureParser((fr) => frames.push(fr));
    p.push(PCAP_LE_US);
    p.end();
    expect(frames[0]!.bytes.buffer).toBe(PCAP_LE_US.buffer);
    expect(frames[0]!.bytes.byteOffset).toBe(PCAP_LE_US.byteOffset + 40);
  });

  it('keeps only the incomplete tail between pushes', () => {
    const p = new CaptureParser(() => {});
    p.push(PCAP_LE_US.subarray(0, 50)); // header 24 + record 1 (20) + 6 bytes of record 2
    expect(p.frames).toBe(1);
    expect(p.offset).toBe(44);
    expect(p.pendingBytes).toBe(6);
    expect(p.pendingNeed).toBe(16);
  });
});

describe('pcapngTimestamp', () => {
  it('converts exactly at every resolution path', () => {
    // 2^64-1 ns
    expect(pcapngTimestamp(0xffffffff, 0xffffffff, 9, 0)).toEqual({ sec: 18446744073, nsec: 709551615 });
    expect(pcapngTimestamp(0x16345785, 0xdffbcd15, 9, 0)).toEqual({ sec: 1600000000, nsec: 123456789 });
    expect(pcapngTimestamp(0x0005af31, 0x07b34242, 6, -1)).toEqual({ sec: 1600000000, nsec: 2000 });
    expect(pcapngTimestamp(0, 12345, 0, 0)).toEqual({ sec: 12345, nsec: 0 });
    // 10^-12 s (BigInt path): 1.5 s + 1 ps truncates to whole ns
    expect(pcapngTimestamp(0x15d, 0x3ef79801, 12, 0)).toEqual({ sec: 1, nsec: 500000000 });
    // 2^-20 s: 1 s + 2^19 units = 1.5 s
    expect(pcapngTimestamp(0, (1 << 20) + (1 << 19), 0x94, 0)).toEqual({ sec: 1, nsec: 500000000 });
    // 2^-32 s (BigInt path): hi is seconds, lo 2^31 is half a second
    expect(pcapngTimestamp(1600000000, 0x80000000, 0xa0, 0)).toEqual({ sec: 1600000000, nsec: 500000000 });
  });
});

describe('CaptureParser on writer output', () => {
  const packets = [
    { ts: { sec: 1700000000, nsec: 1 }, bytes: Buffer.from('first'), origLen: 100 },
    { ts: { sec: 1700000000, nsec: 999999999 }, bytes: Buffer.alloc(0) },
    { ts: { sec: 1700000123, nsec: 456789000 }, bytes: Buffer.from('0123456789abcdef0', 'utf8') },
  ];

  for (const endianness of ['le', 'be'] as const) {
    for (const resolution of ['us', 'ns'] as const) {
      it(`pcap ${endianness} ${resolution}`, () => {
        const w = new PcapWriter({ linkType: 228, endianness, resolution });
        for (const p of packets) w.add(p);
        const { whole, mismatches } = splitOutcomes(w.toBuffer());
        const trunc = (n: number): number => (resolution === 'us' ? Math.floor(n / 1000) * 1000 : n);
        expect(whole.frames).toEqual([
          f(1, 1700000000, trunc(1), 228, 0, 100, Buffer.from('first').toString('hex')),
          f(2, 1700000000, trunc(999999999), 228, 0, 0, ''),
          f(3, 1700000123, 456789000, 228, 0, 17, Buffer.from('0123456789abcdef0').toString('hex')),
        ]);
        expect(whole.error).toBeUndefined();
        expect(mismatches).toEqual([]);
      });
    }
  }

  for (const endianness of ['le', 'be'] as const) {
    it(`pcapng ${endianness}: interfaces per (linkType, tsresol), comments, several sections`, () => {
      const a = new PcapngWriter({ endianness, application: 'spoofwatch test' });
      a.add({ ...packets[0]!, linkType: 1, tsresol: 9, comment: 'evidence: INVITE' });
      a.add({ ...packets[1]!, linkType: 101, tsresol: 6 });
      a.add({ ...packets[2]!, linkType: 1, tsresol: 9 });
      a.add({ ...packets[2]!, linkType: 1, tsresol: 0x94 });
      expect(a.interfaceCount).toBe(3);
      const b = new PcapngWriter({ endianness: endianness === 'le' ? 'be' : 'le' });
      b.add({ ...packets[0]!, linkType: 276 });
      const { whole, mismatches } = splitOutcomes(Buffer.concat([a.toBuffer(), b.toBuffer()]));
      const first = Buffer.from('first').toString('hex');
      const third = Buffer.from('0123456789abcdef0').toString('hex');
      expect(whole).toEqual({
        frames: [
          f(1, 1700000000, 1, 1, 0, 100, first),
          f(2, 1700000000, 999999000, 101, 1, 0, ''),
          f(3, 1700000123, 456789000, 1, 0, 17, third),
          // 2^-20 s units: 0.456789 s → 478977 units → 456788063 ns (floor both ways)
          f(4, 1700000123, 456788063, 1, 2, 17, third),
          f(5, 1700000000, 1, 276, 0, 100, first),
        ],
        error: undefined,
      });
      expect(mismatches).toEqual([]);
    });
  }

  it('a record spanning many small chunks is assembled once and exactly', () => {
    const big = Buffer.alloc(200_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const w = new PcapngWriter();
    w.add({ ts: { sec: 1, nsec: 2 }, bytes: big, linkType: 1 });
    const file = w.toBuffer();
    const chunks: Buffer[] = [];
    for (let i = 0; i < file.length; i += 1000) chunks.push(file.subarray(i, i + 1000));
    const out = feed(chunks);
    expect(out.error).toBeUndefined();
    expect(out.frames).toHaveLength(1);
    expect(out.frames[0]!.bytes).toBe(big.toString('hex'));
  });
});
