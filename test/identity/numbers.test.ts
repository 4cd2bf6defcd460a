import { describe, expect, it } from 'vitest';
import {
  classifyNumber,
  createNumberNormaliser,
  normaliseNumber,
  normaliseNumberUncached,
  type NormalisedNumber,
} from '../../src/identity/numbers.js';

const e164 = (n: NormalisedNumber): string | undefined => (n.kind === 'e164' ? n.e164 : undefined);

describe('normaliseNumber: forms of the same Dutch number', () => {
  it.each([
    ['+31201234567', 'NL'],
    ['0201234567', 'NL'],
    ['0031201234567', 'NL'],
    ['201234567', 'NL'],
    ['31201234567', 'NL'],
    ['tel:+31-20-123-4567', 'NL'],
    ['+31 (0)20 123 4567', 'NL'],
    ['020 123 45 67', 'NL'],
    ['(020) 123.4567', 'NL'],
    ['+31201234567;npdi;rn=+31123456', 'NL'],
    ['+31201234567;verstat=TN-Validation-Passed;cpc=ordinary;oli=00', 'NL'],
    ['+31201234567;isub=1234', 'NL'],
    ['%2B31201234567', 'NL'],
    ['1234567;phone-context=+3120', 'NL'],
    ['0201234567;phone-context=+31', 'DE'],
    ['201234567;phone-context=+31', 'US'],
    ['201234567;phone-context=ims.example.net', 'NL'],
    ['0031201234567', 'DE'],
  ])('%s from a %s peer', (input, country) => {
    expect(normaliseNumber(input, country)).toEqual({
      kind: 'e164',
      e164: '+31201234567',
      country: 'NL',
      type: 'fixed',
      category: 'geographic',
      valid: true,
    });
  });
});

describe('normaliseNumber: Dutch numbering plan categories', () => {
  it.each([
    ['0612345678', '+31612345678', 'mobile', 'mobile', true],
    ['0651234567', '+31651234567', 'mobile', 'mobile', true],
    ['0681234567', '+31681234567', 'mobile', 'mobile', true],
    ['0661234567', '+31661234567', 'pager', 'paging', true],
    ['0671234567', '+31671234567', undefined, 'unused', false],
    ['0697123456', '+31697123456', undefined, 'unused', false],
    ['0800123456', '+31800123456', 'tollfree', 'freephone', true],
    ['08001234', '+318001234', 'tollfree', 'freephone', true],
    ['0900123456', '+31900123456', 'premium', 'premium', true],
    ['09061234', '+319061234', 'premium', 'premium', true],
    ['0909123456', '+31909123456', 'premium', 'premium', true],
    ['0851234567', '+31851234567', 'voip', 'voip', true],
    ['0911234567', '+31911234567', 'voip', 'voip', true],
    ['0881234567', '+31881234567', 'uan', 'company', true],
    ['0841234567', '+31841234567', 'uan', 'personal', true],
    ['0871234567', '+31871234567', 'uan', 'personal', true],
    ['097012345678', '+3197012345678', 'm2m', 'm2m', true],
    ['0101234567', '+31101234567', 'fixed', 'geographic', true],
    ['0701234567', '+31701234567', 'fixed', 'geographic', true],
  ])('%s → %s (%s, %s)', (input, expected, type, category, valid) => {
    const n = normaliseNumber(input, 'NL');
    expect(n).toEqual({
      kind: 'e164',
      e164: expected,
      country: 'NL',
      ...(type !== undefined ? { type } : {}),
      category,
      valid,
    });
  });

  it.each([
    ['112', 'emergency'],
    ['14020', 'short'],
    ['140184', 'short'],
    ['1888', 'short'],
    ['116000', 'short'],
    ['116123', 'short'],
  ])('%s is a Dutch short number (%s)', (input, category) => {
    expect(normaliseNumber(input, 'NL')).toEqual({ kind: 'short', raw: input, digits: input, country: 'NL', category });
  });

  it('classifies short numbers written in E.164 form, which only a spoofer would present', () => {
    expect(normaliseNumber('+31112', 'NL')).toEqual({
      kind: 'e164',
      e164: '+31112',
      country: 'NL',
      category: 'emergency',
      valid: false,
    });
  });
});

describe('normaliseNumber: UK, DE, US basics', () => {
  it.each([
    ['999', 'GB', 'emergency'],
    ['112', 'GB', 'emergency'],
    ['110', 'DE', 'emergency'],
    ['112', 'DE', 'emergency'],
    ['115', 'DE', 'short'],
    ['911', 'US', 'emergency'],
    ['411', 'US', 'short'],
  ])('%s in %s is %s', (input, country, category) => {
    expect(normaliseNumber(input, country)).toEqual({ kind: 'short', raw: input, digits: input, country, category });
  });

  it.each([
    ['02079460000', 'GB', '+442079460000', 'GB', 'fixed', 'geographic'],
    ['09001234567', 'GB', '+449001234567', 'GB', 'premium', 'premium'],
    ['08001234567', 'GB', '+448001234567', 'GB', 'tollfree', 'freephone'],
    ['08081234567', 'GB', '+448081234567', 'GB', 'tollfree', 'freephone'],
    ['07400123456', 'GB', '+447400123456', 'GB', 'mobile', 'mobile'],
    ['030 1234567', 'DE', '+49301234567', 'DE', 'fixed', 'geographic'],
    ['09001234567', 'DE', '+499001234567', 'DE', 'premium', 'premium'],
    ['08001234567', 'DE', '+498001234567', 'DE', 'tollfree', 'freephone'],
    ['015112345678', 'DE', '+4915112345678', 'DE', 'mobile', 'mobile'],
    ['(202) 456-0123', 'US', '+12024560123', 'US', 'fixed-or-mobile', 'geographic'],
    // 555-0100…0199 is NANPA's fictional block (US rule pack): valid to libphonenumber, no real line.
    ['(202) 555-0123', 'US', '+12025550123', 'US', 'fixed-or-mobile', 'fictional'],
    ['1-900-555-0123', 'US', '+19005550123', 'US', 'premium', 'premium'],
    ['8005550123', 'US', '+18005550123', 'US', 'tollfree', 'freephone'],
    ['011 31 20 123 4567', 'US', '+31201234567', 'NL', 'fixed', 'geographic'],
  ])('%s from %s → %s', (input, peerCountry, expected, country, type, category) => {
    expect(normaliseNumber(input, peerCountry)).toEqual({ kind: 'e164', e164: expected, country, type, category, valid: true });
  });

  it('takes digits that carry a foreign country code without "+" when that is the valid reading', () => {
    expect(e164(normaliseNumber('4930123456', 'NL'))).toBe('+4930123456');
  });

  it('keeps an invalid national reading when no reading is valid (a PBX extension)', () => {
    expect(normaliseNumber('1001', 'NL')).toEqual({ kind: 'e164', e164: '+311001', country: 'NL', category: 'geographic', valid: false });
  });
});

describe('normaliseNumber: not numbers', () => {
  it.each(['anonymous', 'Anonymous', 'RESTRICTED', 'unavailable', 'unknown', 'private', 'withheld', '', '  ', 'anonymous;cpc=ordinary'])(
    '%j is withheld',
    (input) => {
      expect(normaliseNumber(input, 'NL')).toEqual({ kind: 'withheld', raw: input });
    },
  );

  it.each(['ING Bank', 'alice', 'Belastingdienst', '+31abc', 'Bänk'])('%j is alphanumeric', (input) => {
    expect(normaliseNumber(input, 'NL')).toEqual({ kind: 'alphanumeric', raw: input });
  });

  it.each([
    ['*31#', 'not a number ("*31#")'],
    ['+0123456', 'not an E.164 number ("+0123456")'],
    ['+12345678901234567', 'not an E.164 number ("+12345678901234567")'],
    ['0', 'not a phone number ("0")'],
    ['%E0%A4%A', 'bad percent-encoding'],
  ])('%j is invalid', (input, reason) => {
    expect(normaliseNumber(input, 'NL')).toEqual({ kind: 'invalid', raw: input, reason });
  });

  it('needs a known country for a national number', () => {
    expect(normaliseNumber('0201234567', 'ZZ')).toEqual({
      kind: 'invalid',
      raw: '0201234567',
      reason: 'national number without a known country ("ZZ")',
    });
  });

  it('keeps an unknown country code as E.164-shaped but invalid', () => {
    expect(normaliseNumber('+999123456', 'NL')).toEqual({ kind: 'e164', e164: '+999123456', category: 'other', valid: false });
  });
});

describe('classifyNumber', () => {
  it.each([
    ['+31612345678', 'mobile'],
    ['+31661234567', 'paging'],
    ['+31671234567', 'unused'],
    ['+31697123456', 'unused'],
    ['+31800123456', 'freephone'],
    ['+31900123456', 'premium'],
    ['+31906123456', 'premium'],
    ['+31909123456', 'premium'],
    ['+31851234567', 'voip'],
    ['+31911234567', 'voip'],
    ['+31881234567', 'company'],
    ['+31841234567', 'personal'],
    ['+31871234567', 'personal'],
    ['+3197012345678', 'm2m'],
    ['+31201234567', 'geographic'],
    ['+31112', 'emergency'],
    ['+3114020', 'short'],
    ['+311888', 'short'],
    ['+31116000', 'short'],
    ['+44999', 'emergency'],
    ['+449001234567', 'premium'],
    ['+448001234567', 'freephone'],
    ['+448081234567', 'freephone'],
    ['+49110', 'emergency'],
    ['+499001234567', 'premium'],
    ['+498001234567', 'freephone'],
    ['+1911', 'emergency'],
    ['+19005550123', 'premium'],
    ['+881612345678', 'satellite'],
    ['+882161234567', 'satellite'],
    ['+8801712345678', 'mobile'],
    ['+33612345678', 'mobile'],
    ['+33142685300', 'geographic'],
  ])('%s is %s', (n, category) => {
    expect(classifyNumber(n)).toBe(category);
  });
});

describe('createNumberNormaliser', () => {
  it('caches results up to its bound and returns the same frozen object', () => {
    const norm = createNumberNormaliser({ cacheSize: 2 });
    const a = norm.normalise('0201234567', 'NL');
    expect(norm.normalise('0201234567', 'NL')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    norm.normalise('0612345678', 'NL');
    norm.normalise('0101234567', 'NL');
    expect(norm.size).toBe(2);
    // The oldest entry was evicted: a fresh (equal, not identical) object comes back.
    const again = norm.normalise('0201234567', 'NL');
    expect(again).not.toBe(a);
    expect(again).toEqual(a);
  });

  it('keeps the numbers in use and never more than its bound, over many new numbers and countries', () => {
    const norm = createNumberNormaliser({ cacheSize: 100 });
    const hot = norm.normalise('+31201234567', 'NL');
    let early: unknown;
    for (let i = 0; i < 5_000; i++) {
      const n = norm.normalise(`+3161${String(1_000_000 + i)}`, i % 2 ? 'NL' : 'DE');
      if (i === 0) early = n;
      expect(norm.size).toBeLessThanOrEqual(100);
      // Asked for again now and then (less often than the cache turns over by half): the same object every time.
      if (i % 40 === 0) expect(norm.normalise('+31201234567', 'NL')).toBe(hot);
    }
    expect(norm.size).toBeGreaterThanOrEqual(50);
    // A number not asked for since a full turn-over is gone: an equal, new object.
    const first = norm.normalise('+31611000000', 'DE');
    expect(first).not.toBe(early);
    expect(first).toEqual(early);
    expect(first).toEqual(normaliseNumberUncached('+31611000000', 'DE'));
    expect(norm.normalise('+31611000000', 'DE')).toBe(first);
  });

  it('works with a bound of one', () => {
    const norm = createNumberNormaliser({ cacheSize: 1 });
    const a = norm.normalise('+31201234567', 'NL');
    expect(norm.normalise('+31201234567', 'NL')).toBe(a);
    norm.normalise('+31612345678', 'NL');
    expect(norm.size).toBe(1);
    expect(norm.normalise('+31201234567', 'NL')).not.toBe(a);
  });

  it('keys the cache by country too', () => {
    const norm = createNumberNormaliser();
    expect(e164(norm.normalise('0301234567', 'DE'))).toBe('+49301234567');
    expect(e164(norm.normalise('0301234567', 'NL'))).toBe('+31301234567');
    expect(normaliseNumberUncached('0301234567', 'DE')).toEqual(norm.normalise('0301234567', 'DE'));
  });
});
