import { describe, expect, it } from 'vitest';
import { NumberMatcher, NumberSet, parseNumberPattern, rangeToPrefixes } from '../../src/identity/number-set.js';

describe('parseNumberPattern', () => {
  it.each([
    ['+3120555', { kind: 'ok', pattern: { kind: 'prefix', prefix: '+3120555' } }],
    ['+31205550000-+31205559999', { kind: 'ok', pattern: { kind: 'range', lo: '+31205550000', hi: '+31205559999' } }],
    ['031205550000', { kind: 'invalid', reason: 'not an E.164 prefix or range ("031205550000")' }],
    ['+', { kind: 'invalid', reason: 'not an E.164 prefix or range ("+")' }],
    ['+0123', { kind: 'invalid', reason: 'not an E.164 prefix or range ("+0123")' }],
    ['+3120-+312099', { kind: 'invalid', reason: 'range ends differ in length ("+3120-+312099")' }],
    ['+312099-+312000', { kind: 'invalid', reason: 'range start is after its end ("+312099-+312000")' }],
    ['+1234567890123456', { kind: 'invalid', reason: 'not an E.164 prefix or range ("+1234567890123456")' }],
  ])('%s', (text, expected) => {
    expect(parseNumberPattern(text)).toEqual(expected);
  });
});

describe('rangeToPrefixes', () => {
  it.each([
    ['0000', '9999', ['']],
    ['1000', '1999', ['1']],
    ['1200', '1234', ['120', '121', '122', '1230', '1231', '1232', '1233', '1234']],
    ['1234', '1234', ['1234']],
    ['1295', '1304', ['1295', '1296', '1297', '1298', '1299', '1300', '1301', '1302', '1303', '1304']],
    ['1250', '3149', ['125', '126', '127', '128', '129', '13', '14', '15', '16', '17', '18', '19', '2', '30', '310', '311', '312', '313', '314']],
  ])('%s-%s', (lo, hi, prefixes) => {
    expect(rangeToPrefixes(lo, hi)).toEqual(prefixes);
  });

  it('covers exactly the range (exhaustive over 3-digit numbers)', () => {
    for (const [lo, hi] of [
      [0, 999],
      [17, 583],
      [99, 100],
      [400, 409],
      [401, 409],
      [555, 555],
    ] as const) {
      const l = String(lo).padStart(3, '0');
      const h = String(hi).padStart(3, '0');
      const prefixes = rangeToPrefixes(l, h);
      for (let n = 0; n < 1000; n++) {
        const s = String(n).padStart(3, '0');
        const covered = prefixes.filter((p) => s.startsWith(p)).length;
        expect(covered, `${s} in ${l}-${h}`).toBe(n >= lo && n <= hi ? 1 : 0);
      }
    }
  });
});

describe('NumberSet', () => {
  const set = new NumberSet(['+3120555', '+31101234000-+31101234999', '+4420794600'.concat('00-+442079460099')]);

  it.each([
    ['+31205551234', true],
    ['+3120555', true],
    ['+31205561234', false],
    ['+31101234000', true],
    ['+31101234999', true],
    ['+31101234567', true],
    ['+31101235000', false],
    ['+31101233999', false],
    // A range matches numbers of its own length only.
    ['+311012345678', false],
    ['+3110123456', false],
    ['+442079460050', true],
    ['+442079460100', false],
  ])('has(%s) = %s', (n, expected) => {
    expect(set.has(n)).toBe(expected);
  });

  it('names the entry that matched, most specific first', () => {
    const s = new NumberSet(['+31', '+3120555', '+31205551000-+31205551999']);
    expect(s.entryFor('+31205551234')).toBe('+31205551000-+31205551999');
    expect(s.entryFor('+31205559999')).toBe('+3120555');
    expect(s.entryFor('+31101234567')).toBe('+31');
    expect(s.entryFor('+49301234567')).toBeUndefined();
    expect(s.size).toBe(3);
    expect(s.entries).toEqual(['+31', '+3120555', '+31205551000-+31205551999']);
  });

  it('is empty for no entries and rejects invalid ones', () => {
    expect(new NumberSet([]).has('+31201234567')).toBe(false);
    expect(() => new NumberSet(['0201234567'])).toThrow('not an E.164 prefix or range ("0201234567")');
  });

  it('stays correct with thousands of entries', () => {
    const entries: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const block = String(100000 + i * 7);
      entries.push(`+3120${block}0-+3120${block}4`);
    }
    const big = new NumberSet(entries);
    expect(big.has('+31201000000')).toBe(true);
    expect(big.has('+31201000004')).toBe(true);
    expect(big.has('+31201000005')).toBe(false);
    expect(big.has(`+3120${String(100000 + 4999 * 7)}3`)).toBe(true);
    expect(big.has(`+3120${String(100000 + 4999 * 7 + 1)}3`)).toBe(false);
  });
});

describe('NumberMatcher', () => {
  it('returns the value of the longest matching entry', () => {
    const m = new NumberMatcher<string>([
      ['+31', 'nl'],
      ['+31205550000-+31205559999', 'acme'],
      ['+31205551234', 'lawyer'],
    ]);
    expect(m.lookup('+31205551234')).toBe('lawyer');
    expect(m.lookup('+31205551235')).toBe('acme');
    expect(m.lookup('+31612345678')).toBe('nl');
    expect(m.lookup('+32')).toBeUndefined();
  });
});
