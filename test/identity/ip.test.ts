import { describe, expect, it } from 'vitest';
import { cidrContains, formatIp, parseCidr, parseIp } from '../../src/identity/ip.js';

describe('parseIp / formatIp', () => {
  it.each([
    ['192.0.2.1', 4, '192.0.2.1'],
    ['::ffff:192.0.2.1', 4, '192.0.2.1'],
    ['::FFFF:c000:0201', 4, '192.0.2.1'],
    ['2001:db8::1', 6, '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 6, '2001:db8::1'],
    ['fe80::1%eth0', 6, 'fe80::1'],
    ['[::1]', 6, '::1'],
    ['::', 6, '::'],
    ['2001:db8:0:0:1:0:0:1', 6, '2001:db8::1:0:0:1'],
    ['1:2:3:4:5:6:7:8', 6, '1:2:3:4:5:6:7:8'],
    ['64:ff9b::192.0.2.33', 6, '64:ff9b::c000:221'],
  ])('%s', (text, family, formatted) => {
    const a = parseIp(text);
    expect(a?.family).toBe(family);
    expect(a === undefined ? undefined : formatIp(a)).toBe(formatted);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', 'example.com'])(
    'rejects %j',
    (text) => {
      expect(parseIp(text)).toBeUndefined();
    },
  );
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8', 104],
    ['192.0.2.7', '192.0.2.7/32', 128],
    ['0.0.0.0/0', '0.0.0.0/0', 96],
    ['2001:db8::/32', '2001:db8::/32', 32],
    ['::1', '::1/128', 128],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8', 104],
    ['::/0', '::/0', 0],
  ])('%s', (text, canonical, prefix) => {
    const r = parseCidr(text);
    expect(r.kind === 'ok' ? [r.cidr.text, r.cidr.prefix] : r).toEqual([canonical, prefix]);
  });

  it.each([
    ['10.0.0.1/8', 'host bits set after the prefix ("10.0.0.1/8"; did you mean "10.0.0.0/8"?)'],
    ['10.0.0.0/33', 'prefix length must be 0-32 ("10.0.0.0/33")'],
    ['10.0.0.0/', 'prefix length must be 0-32 ("10.0.0.0/")'],
    ['2001:db8::1/32', 'host bits set after the prefix ("2001:db8::1/32"; did you mean "2001:db8::/32"?)'],
    ['nonsense/8', 'not an IPv4 or IPv6 address or CIDR ("nonsense/8")'],
  ])('rejects %s', (text, reason) => {
    expect(parseCidr(text)).toEqual({ kind: 'invalid', reason });
  });

  it('matches IPv4 networks against IPv4-mapped IPv6 sources and ::/0 against everything', () => {
    const v4 = parseCidr('10.0.0.0/8');
    const all = parseCidr('::/0');
    if (v4.kind !== 'ok' || all.kind !== 'ok') throw new Error('parse');
    expect(cidrContains(v4.cidr, parseIp('::ffff:10.1.2.3')!)).toBe(true);
    expect(cidrContains(v4.cidr, parseIp('11.1.2.3')!)).toBe(false);
    expect(cidrContains(v4.cidr, parseIp('2001:db8::1')!)).toBe(false);
    expect(cidrContains(all.cidr, parseIp('10.1.2.3')!)).toBe(true);
  });
});
