import { describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../src/decode/addr.js';

const v6 = (hex: string): Buffer => Buffer.from(hex.replace(/[^0-9a-f]/gi, ''), 'hex');

describe('formatIPv6 (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['fe80:0000:0000:0000:0000:0000:0000:0000', 'fe80::'],
    // §4.2.2: one zero group is not compressed
    ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'],
    // §4.2.3: the longest run wins …
    ['2001:0000:0000:0001:0000:0000:0000:0001', '2001:0:0:1::1'],
    // … and the first on a tie
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    // §4.3: lowercase
    ['2001:0DB8:ABCD:0000:0000:0000:0000:00FF', '2001:db8:abcd::ff'],
    // §5: IPv4-mapped keeps a dotted quad
    ['0000:0000:0000:0000:0000:ffff:c000:0201', '::ffff:192.0.2.1'],
  ];
  for (const [hex, text] of cases) {
    it(`${hex} → ${text}`, () => {
      expect(formatIPv6(v6(hex))).toBe(text);
      expect(parseIPv6(text)).toEqual(v6(hex));
    });
  }
  it('reads at an offset and refuses to read past the end', () => {
    const b = Buffer.concat([Buffer.from([9, 9]), v6('20010db8000000000000000000000001')]);
    expect(formatIPv6(b, 2)).toBe('2001:db8::1');
    expect(formatIPv6(b, 3)).toBeUndefined();
  });
});

describe('parse/format IPv4', () => {
  it('round trips and rejects non-addresses', () => {
    expect(formatIPv4(Buffer.from([192, 0, 2, 255]))).toBe('192.0.2.255');
    expect(formatIPv4(Buffer.from([1, 2, 3]))).toBeUndefined();
    expect(parseIPv4('10.0.0.1')).toEqual(Buffer.from([10, 0, 0, 1]));
    expect(parseIPv4('256.0.0.1')).toBeUndefined();
    expect(parseIPv4('01.0.0.1')).toBeUndefined();
    expect(parseIPv4('1.2.3')).toBeUndefined();
  });
  it('parseIPv6 rejects malformed text', () => {
    expect(parseIPv6('1::2::3')).toBeUndefined();
    expect(parseIPv6('1:2:3:4:5:6:7')).toBeUndefined();
    expect(parseIPv6('12345::')).toBeUndefined();
    expect(parseIPv6('::ffff:1.2.3.256')).toBeUndefined();
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toEqual(v6('00010002000300040005000600070008'));
  });
});
