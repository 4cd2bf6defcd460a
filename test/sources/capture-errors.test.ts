import { describe, expect, it } from 'vitest';
import { hex, splitOutcomes, type PlainFrame } from './capture-helpers.js';

const PCAP_LE = hex(`
  d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
  00105e5f 40e20100 04000000 3c000000 deadbeef             // record 1 at 24
`); // 44 bytes; the next record starts at 44
const REC1: PlainFrame = {
  number: 1,
  sec: 1600000000,
  nsec: 123456000,
  linkType: 1,
  iface: 0,
  origLen: 60,
  bytes: 'deadbeef',
};

const SHB_LE = '0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000';
const IDB_LE = '01000000 14000000 0100 0000 00000400 14000000';
const EPB_LE = '06000000 24000000 00000000 00000000 01000000 02000000 02000000 abcd0000 24000000';
/** SHB at 0, IDB at 28, EPB at 48; the next block starts at 84. */
const PCAPNG_LE = hex(SHB_LE + IDB_LE + EPB_LE);
const EPB1: PlainFrame = { number: 1, sec: 0, nsec: 1000, linkType: 1, iface: 0, origLen: 2, bytes: 'abcd' };

interface Case {
  name: string;
  bytes: Buffer;
  frames: PlainFrame[];
  code: string;
  offset: number;
  need?: number;
  have?: number;
  message?: string;
}

const cases: Case[] = [
  {
    name: 'empty input',
    bytes: Buffer.alloc(0),
    frames: [],
    code: 'CAPTURE_EMPTY',
    offset: 0,
    message: 'test.cap: empty file (0 bytes) at byte 0',
  },
  {
    name: 'text file',
    bytes: Buffer.from('hello world\n'),
    frames: [],
    code: 'CAPTURE_NOT_A_CAPTURE',
    offset: 0,
    message: 'test.cap: not a pcap or pcapng capture (magic 0x68656c6c) at byte 0',
  },
  { name: '3 bytes, not a magic prefix', bytes: hex('1f8b08'), frames: [], code: 'CAPTURE_NOT_A_CAPTURE', offset: 0 },
  { name: '2 bytes of a pcap magic', bytes: hex('d4c3'), frames: [], code: 'CAPTURE_TRUNCATED', offset: 0, need: 24, have: 2 },
  {
    name: 'pcap header cut',
    bytes: PCAP_LE.subarray(0, 10),
    frames: [],
    code: 'CAPTURE_TRUNCATED',
    offset: 0,
    need: 24,
    have: 10,
    message: 'test.cap: truncated pcap file header: needs 24 bytes, file ends after 10 at byte 0',
  },
  {
    name: 'pcap record header cut',
    bytes: Buffer.concat([PCAP_LE, hex('01105e5f 3f420f00 0200')]),
    frames: [REC1],
    code: 'CAPTURE_TRUNCATED',
    offset: 44,
    need: 16,
    have: 10,
  },
  {
    name: 'pcap record data cut',
    bytes: Buffer.concat([PCAP_LE, hex('01105e5f 3f420f00 02000000 02000000 ca')]),
    frames: [REC1],
    code: 'CAPTURE_TRUNCATED',
    offset: 44,
    need: 18,
    have: 17,
    message: 'test.cap: truncated packet record: needs 18 bytes, file ends after 17 at byte 44',
  },
  {
    name: 'pcap caplen above 256 KiB',
    bytes: Buffer.concat([PCAP_LE, hex('01105e5f 3f420f00 01000400 01000400'), Buffer.alloc(300)]),
    frames: [REC1],
    code: 'CAPTURE_CORRUPT',
    offset: 44,
    message:
      'test.cap: corrupt packet record: captured length 262145 exceeds 262144; reading stopped, nothing from here on was read at byte 44',
  },
  {
    name: 'pcapng block length not a multiple of 4 (valid EPB after it is not read)',
    bytes: Buffer.concat([PCAPNG_LE, hex('adde0000 11000000 00000000 00000000 00'), hex(EPB_LE)]),
    frames: [EPB1],
    code: 'CAPTURE_CORRUPT',
    offset: 84,
    message:
      'test.cap: corrupt pcapng block (type 0xdead): total length 17 is not a multiple of 4; reading stopped, nothing from here on was read at byte 84',
  },
  {
    name: 'pcapng block length below 12',
    bytes: Buffer.concat([PCAPNG_LE, hex('adde0000 08000000 08000000'), hex(EPB_LE)]),
    frames: [EPB1],
    code: 'CAPTURE_CORRUPT',
    offset: 84,
  },
  {
    name: 'pcapng trailing length differs',
    bytes: Buffer.concat([PCAPNG_LE, hex('adde0000 10000000 00000000 14000000'), hex(EPB_LE)]),
    frames: [EPB1],
    code: 'CAPTURE_CORRUPT',
    offset: 84,
  },
  {
    name: 'pcapng block length above 64 MiB',
    bytes: Buffer.concat([PCAPNG_LE, hex('adde0000 04000004 00000000'), hex(EPB_LE)]),
    frames: [EPB1],
    code: 'CAPTURE_CORRUPT',
    offset: 84,
  },
  {
    name: 'pcapng EPB with unknown interface id',
    bytes: Buffer.concat([
      PCAPNG_LE,
      hex('06000000 24000000 05000000 00000000 01000000 02000000 02000000 abcd0000 24000000'),
      hex(EPB_LE),
    ]),
    frames: [EPB1],
    code: 'CAPTURE_CORRUPT',
    offset: 84,
    message:
      'test.cap: corrupt pcapng enhanced packet block: unknown interface id 5 (1 defined); reading stopped, nothing from here on was read at byte 84',
  },
  {
    name: 'pcapng EPB caplen larger than its block',
    bytes: Buffer.concat([
      PCAPNG_LE,
      hex('06000000 24000000 00000000 00000000 01000000 64000000 64000000 abcd0000 24000000'),
    ]),
    frames: [EPB1],
    code: 'CAPTURE_CORRUPT',
    offset: 84,
  },
  {
    name: 'pcapng SPB before any IDB',
    bytes: hex(SHB_LE + '03000000 14000000 02000000 abcd0000 14000000'),
    frames: [],
    code: 'CAPTURE_CORRUPT',
    offset: 28,
  },
  {
    name: 'pcapng block overrunning the declared section length',
    // section length 48: IDB (20) fits, EPB (36) would end at 28+56 > 28+48
    bytes: hex('0a0d0d0a 1c000000 4d3c2b1a 0100 0000 30000000 00000000 1c000000' + IDB_LE + EPB_LE),
    frames: [],
    code: 'CAPTURE_CORRUPT',
    offset: 48,
  },
  {
    name: 'pcapng later section with a bad byte-order magic',
    bytes: Buffer.concat([PCAPNG_LE, hex('0a0d0d0a 1c000000 11223344 0100 0000 ffffffff ffffffff 1c000000')]),
    frames: [EPB1],
    code: 'CAPTURE_CORRUPT',
    offset: 84,
  },
  {
    name: 'pcapng first SHB with a bad byte-order magic',
    bytes: hex('0a0d0d0a 1c000000 11223344 0100 0000 ffffffff ffffffff 1c000000'),
    frames: [],
    code: 'CAPTURE_NOT_A_CAPTURE',
    offset: 0,
  },
  {
    name: 'pcapng cut inside a block',
    bytes: Buffer.concat([PCAPNG_LE, hex(EPB_LE).subarray(0, 26)]),
    frames: [EPB1],
    code: 'CAPTURE_TRUNCATED',
    offset: 84,
    need: 36,
    have: 26,
    message: 'test.cap: truncated pcapng block: needs 36 bytes, file ends after 26 at byte 84',
  },
  {
    name: 'pcapng cut inside a block header',
    bytes: Buffer.concat([PCAPNG_LE, hex(EPB_LE).subarray(0, 5)]),
    frames: [EPB1],
    code: 'CAPTURE_TRUNCATED',
    offset: 84,
    need: 12,
    have: 5,
  },
];

describe('capture errors: exact code, offset and the frames before them, at every split', () => {
  for (const c of cases) {
    it(c.name, () => {
      const { whole, mismatches } = splitOutcomes(c.bytes);
      expect(whole.frames).toEqual(c.frames);
      expect(whole.error).toMatchObject({ code: c.code, offset: c.offset, need: c.need, have: c.have });
      if (c.message !== undefined) expect(whole.error?.message).toBe(c.message);
      expect(whole.error?.message).not.toContain('\n');
      expect(mismatches).toEqual([]);
    });
  }
});
