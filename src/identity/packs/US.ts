import type { NumberCategory, RulePack } from './types.js';

/**
 * NANP NSN (10 digits, NPA-NXX-XXXX) → category where the prefix table cannot decide: N11 area codes and
 * exchanges are service codes, not numbers; 555-0100…0199 is reserved for fiction.
 */
function classifyNanp(nsn: string): NumberCategory | undefined {
  if (/^[2-9]11/.test(nsn)) return 'unused';
  if (/^\d{3}55501\d{2}$/.test(nsn)) return 'fictional';
  if (/^[2-9]\d{2}[2-9]11\d{4}$/.test(nsn)) return 'unused';
  if (/^[2-9]\d{2}[2-9]\d{6}$/.test(nsn)) return 'geographic';
  return undefined;
}

/** United States (NANP, +1): FCC rules on caller ID and the NANPA plan. */
export const US: RulePack = {
  country: 'US',
  callingCode: '1',
  name: 'United States (NANP)',
  planSource: 'NANPA: NPA/NXX format, N11 service codes, 555-01XX fictional block; 8YY toll free, 900 premium',
  plan: [
    ['800', 'freephone'],
    ['833', 'freephone'],
    ['844', 'freephone'],
    ['855', 'freephone'],
    ['866', 'freephone'],
    ['877', 'freephone'],
    ['888', 'freephone'],
    ['900', 'premium'],
  ],
  classify: classifyNanp,
  shortNumbers: { emergency: /^911$/, short: /^(?:[2-8]11|988)$/ },
  // NPA-NXX: the first six digits.
  neighbourDigits: () => 6,
  fromAbroad: { fixed: 'high', mobile: 'medium', source: 'FCC 22-37 (gateway providers: foreign-originated calls presenting NANP numbers)' },
  rules: [
    { rule: 'CLI-INVALID', what: 'N11 area codes or exchanges, and NPA/NXX starting 0 or 1, are not valid NANP numbers', severity: 'high', source: 'FCC 47 CFR §64.1200(k)(2) (invalid numbers); NANPA NPA/NXX format' },
    { rule: 'CLI-INVALID', what: '555-0100…0199 is reserved for fictional use', severity: 'high', source: 'NANPA 555 line numbers: 555-01XX fictional' },
    { rule: 'CLI-SPECIAL', what: '911 presented as caller (critical)', severity: 'critical', source: 'FCC 47 CFR §64.1200(k); N11 service codes' },
    { rule: 'CLI-SPECIAL', what: '900 premium numbers presented as caller', severity: 'high', source: 'FCC 47 CFR §64.1200(k)(1) (numbers that do not originate calls)' },
    { rule: 'CLI-NEIGHBOUR', what: 'neighbour spoofing keyed by NPA-NXX', severity: 'medium', source: 'FCC consumer guide "Caller ID spoofing" (neighbour spoofing)' },
    { rule: 'REG-INTL-NATIONAL-CLI', what: 'a US CLI from an international gateway', severity: 'high', source: 'FCC 22-37 (gateway provider order)' },
  ],
};
