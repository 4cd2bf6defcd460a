import { describe, expect, it } from 'vitest';
import { AddressTextCache, ipv4Text, ipv6Text } from '../../src/decode/address-text.js';
import { rng } from './helpers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

describe('ipv6Text (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['fe80:0000:0000:0000:0000:0000:0000:0000', 'fe80::'],
    ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'], // §4.2.2 single zero group
    ['2001:0000:0000:0001:0000:0000:0000:0001', '2001:0:0:1::1'], // §4.2.3 longest run
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // §4.2.3 first of equal runs
    ['2001:0DB8:ABCD:0000:0000:0000:0000:00FF', '2001:db8:abcd::ff'], // §4.3 lowercase
    ['0000:0000:0000:0000:0000:ffff:c000:0201', '::ffff:192.0.2.1'], // §5 IPv4-mapped
    ['0000:0000:0000:0000:0000:ffff:0000:0000', '::ffff:0.0.0.0'],
    ['0000:0000:0000:0000:ffff:ffff:c000:0201', '::ffff:ffff:c000:201'], // not mapped
    ['0001:0000:0001:0000:0001:0000:0001:0000', '1:0:1:0:1:0:1:0'],
    ['0001:0002:0003:0004:0005:0006:0000:0000', '1:2:3:4:5:6::'],
  ];
  for (const [h, text] of cases) {
    it(`${h} → ${text}`, () => {
      expect(ipv6Text(hex(h), 0)).toBe(text);
      expect(ipv6Text(Buffer.concat([Buffer.alloc(3), hex(h)]), 3)).toBe(text);
    });
  }

  it('agrees with the WHATWG URL serializer on random zero-heavy addresses', () => {
    const r = rng(3);
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.alloc(16);
      for (let g = 0; g < 8; g++) if (r() < 0.5) b.writeUInt16BE(Math.floor(r() * 0x10000) >> (r() < 0.5 ? 12 : 0), g * 2);
      if (b.readUInt16BE(10) === 0xffff && b.subarray(0, 10).every((x) => x === 0)) continue; // URL prints mapped as hex
      const expected = new URL(`http://[${b.toString('hex').replace(/(.{4})(?!$)/g, '$1:')}]/`).hostname.slice(1, -1);
      expect(ipv6Text(b, 0)).toBe(expected);
    }
  });
});

describe('AddressTextCache', () => {
  it('returns the same text as the formatters, also after it was cleared', () => {
    const c = new AddressTextCache(4);
    const b = Buffer.alloc(16);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10; i++) {
        b.writeUInt32BE(0x0a000000 + i, 0);
        expect(c.ipv4(b, 0)).toBe(ipv4Text(b, 0));
        expect(c.ipv4(b, 0)).toBe(`10.0.0.${i}`);
        b.writeUInt32BE(0x20010db8, 0);
        b.writeUInt32BE(i, 12);
        expect(c.ipv6(b, 0)).toBe(ipv6Text(b, 0));
      }
    }
  });
});
