/**
 * The compiled-plan fast path for `+CC…` numbers (src/identity/e164-plans.ts) must say exactly what libphonenumber
 * says: every normalised field (e164, country, type, category, validity) equal to the libphonenumber-only path, on
 * numbers of every calling code its metadata knows — random national parts of every length, and each region's
 * example mobile number with its last digits varied (so that plenty of them are valid).
 */
import { describe, expect, it } from 'vitest';
import { getCountries, getCountryCallingCode, getExampleNumber } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile.json' with { type: 'json' };
import { fastE164 } from '../../src/identity/e164-plans.js';
import { normaliseNumberUncached } from '../../src/identity/numbers.js';

/** Small deterministic PRNG (mulberry32) so a failure names a reproducible input. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NON_GEOGRAPHIC = ['800', '808', '870', '878', '881', '882', '883', '888', '979'];

function inputs(): string[] {
  const rand = rng(5);
  const digits = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += String(Math.floor(rand() * 10));
    return s;
  };
  const codes = new Set<string>([...getCountries().map((c) => getCountryCallingCode(c)), ...NON_GEOGRAPHIC]);
  const out: string[] = [];
  for (const cc of codes) {
    for (let len = 1; len <= 15 - cc.length; len++) for (let k = 0; k < 12; k++) out.push(`+${cc}${digits(len)}`);
  }
  for (const region of getCountries()) {
    const ex = getExampleNumber(region, examples);
    if (!ex) continue;
    const nsn = ex.nationalNumber;
    for (let k = 0; k < 40; k++) {
      const keep = Math.max(1, nsn.length - 1 - Math.floor(rand() * 4));
      out.push(`+${ex.countryCallingCode}${nsn.slice(0, keep)}${digits(nsn.length - keep)}`);
    }
    // National prefix written after the code, as some trunks do (`+44 0…`, `+1 1…`): libphonenumber strips it.
    out.push(`+${ex.countryCallingCode}0${nsn}`, `+${ex.countryCallingCode}1${nsn}`);
  }
  return out;
}

describe('e164 fast path equals libphonenumber', () => {
  const all = inputs();

  it('gives the same normalised number for every input, over every calling code', () => {
    let fast = 0;
    let valid = 0;
    const mismatches: string[] = [];
    for (const n of all) {
      if (fastE164(n) !== undefined) fast++;
      const got = normaliseNumberUncached(n, 'NL', true);
      const want = normaliseNumberUncached(n, 'NL', false);
      if (got.kind === 'e164' && got.valid) valid++;
      if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${n}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
      else expect(got).toStrictEqual(want);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    // The comparison covers both sides of the fast path and many valid numbers, not only rejects.
    expect(all.length).toBeGreaterThan(30_000);
    expect(fast).toBeGreaterThan(all.length * 0.8);
    expect(fast).toBeLessThan(all.length);
    expect(valid).toBeGreaterThan(8_000);
  });

  it('takes plain "+digits" by a shortcut that answers as the general clean-up does', () => {
    // `tel:` sends the same number through the general path (prefix, separators, parameters); only `raw` differs.
    const mismatches: string[] = [];
    for (const n of [...all, '+', '+0', '+1', '+00', '+3', '+1234567890123456']) {
      const plain = normaliseNumberUncached(n, 'NL');
      const general = normaliseNumberUncached(`tel:${n}`, 'NL');
      const same = general.kind === 'invalid' || general.kind === 'withheld' ? { ...general, raw: n } : general;
      if (JSON.stringify(plain) !== JSON.stringify(same)) mismatches.push(`${n}: ${JSON.stringify(plain)} vs ${JSON.stringify(same)}`);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(normaliseNumberUncached('+', 'NL')).toEqual({ kind: 'invalid', raw: '+', reason: 'not a number ("+")' });
  });

  it('resolves shared calling codes to the region libphonenumber picks', () => {
    expect(fastE164('+12125550123')).toEqual({ countryCallingCode: '1', nationalNumber: '2125550123', country: 'US', type: 'FIXED_LINE_OR_MOBILE' });
    expect(fastE164('+14165550123')?.country).toBe('CA');
    expect(fastE164('+447624123456')?.country).toBe('IM');
    expect(fastE164('+447400123456')).toEqual({ countryCallingCode: '44', nationalNumber: '7400123456', country: 'GB', type: 'MOBILE' });
    expect(fastE164('+31612345678')).toEqual({ countryCallingCode: '31', nationalNumber: '612345678', country: 'NL', type: 'MOBILE' });
  });

  it('leaves to libphonenumber what it does not decide', () => {
    expect(fastE164('+8816123456')).toBeUndefined(); // non-geographic (satellite)
    expect(fastE164('+310201234567')).toBeUndefined(); // national prefix after the code
    expect(fastE164('+311')).toBeUndefined(); // national part under 2 digits
    expect(fastE164('+999123')).toBeUndefined(); // no such calling code
  });
});
