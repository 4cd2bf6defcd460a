/**
 * Country rule packs (issue #21 point 1): for each pack a table of numbers → normalised number, category,
 * validity and the exact alerts a call presenting it raises, from a national and from an international peer of a
 * config whose homeCountry is the pack's country. Every rule a pack cites has at least one row (`cites`).
 */
import { describe, expect, it } from 'vitest';
import { normaliseNumber } from '../../src/identity/numbers.js';
import { RULE_PACKS, packForCountry, type RulePack } from '../../src/identity/packs/index.js';
import { neighbourPrefix } from '../../src/rules/CLI-NEIGHBOUR.js';
import { invite, ruleSet, sipNum, SipSession } from './harness.js';

const NATIONAL = '127.0.0.11:5060';
const INTL = '127.0.0.12:5060';

function configFor(country: string): string {
  return [
    `homeCountry: ${country}`,
    'peers:',
    `  - { name: national, match: { cidrs: [127.0.0.11] }, trust: trusted, class: national, country: ${country}, any: true }`,
    '  - { name: intl, match: { cidrs: [127.0.0.12] }, trust: trusted, class: international, country: FR, any: true }',
    '',
  ].join('\n');
}

interface Row {
  /** The From user part as sent. */
  readonly from: string;
  readonly peer: 'national' | 'intl';
  /** Normalised: E.164, or `short:<digits>` for a short number. */
  readonly number: string;
  readonly category: string;
  readonly valid: boolean;
  /** Exact alerts (rule:severity). */
  readonly alerts: readonly string[];
  /** Index of the pack rule this row demonstrates, if any. */
  readonly cites?: number;
}

/** A callee of the pack's country that triggers nothing itself. */
const CALLEE: Record<string, string> = { NL: '+31687654321', GB: '+442079460123', DE: '+494012345678', US: '+13104561234', AU: '+61387654321' };

const TABLES: Record<string, readonly Row[]> = {
  NL: [
    { from: '0201234567', peer: 'national', number: '+31201234567', category: 'geographic', valid: true, alerts: [] },
    { from: '112', peer: 'national', number: 'short:112', category: 'emergency', valid: true, alerts: ['CLI-SPECIAL:critical'], cites: 0 },
    { from: '09001234567', peer: 'national', number: '+319001234567', category: 'premium', valid: true, alerts: ['CLI-SPECIAL:high'], cites: 1 },
    { from: '0661234567', peer: 'national', number: '+31661234567', category: 'paging', valid: true, alerts: ['CLI-SPECIAL:high'], cites: 2 },
    { from: '097012345678', peer: 'national', number: '+3197012345678', category: 'm2m', valid: true, alerts: ['CLI-SPECIAL:high'], cites: 3 },
    { from: '0671234567', peer: 'national', number: '+31671234567', category: 'unused', valid: false, alerts: ['CLI-INVALID:high'], cites: 4 },
    { from: '+31201234567', peer: 'intl', number: '+31201234567', category: 'geographic', valid: true, alerts: ['REG-INTL-NATIONAL-CLI:high'], cites: 5 },
    { from: '+31612345678', peer: 'intl', number: '+31612345678', category: 'mobile', valid: true, alerts: ['REG-INTL-NATIONAL-CLI:medium'], cites: 5 },
  ],
  GB: [
    { from: '02079460000', peer: 'national', number: '+442079460000', category: 'geographic', valid: true, alerts: [] },
    { from: '0207946000', peer: 'national', number: '+44207946000', category: 'geographic', valid: false, alerts: ['CLI-INVALID:high'], cites: 0 },
    { from: '09098790000', peer: 'national', number: '+449098790000', category: 'premium', valid: true, alerts: ['CLI-SPECIAL:high'], cites: 1 },
    { from: '07640123456', peer: 'national', number: '+447640123456', category: 'paging', valid: true, alerts: ['CLI-SPECIAL:high'], cites: 2 },
    { from: '999', peer: 'national', number: 'short:999', category: 'emergency', valid: true, alerts: ['CLI-SPECIAL:critical'], cites: 3 },
    { from: '+442079460000', peer: 'intl', number: '+442079460000', category: 'geographic', valid: true, alerts: ['REG-INTL-NATIONAL-CLI:high'], cites: 4 },
    // libphonenumber files +447911 under Guernsey; Ofcom's plan (and this pack) cover it.
    { from: '+447911123456', peer: 'intl', number: '+447911123456', category: 'mobile', valid: true, alerts: ['REG-INTL-NATIONAL-CLI:medium'], cites: 5 },
    // Ofcom's drama range 07700 900xxx is no real number.
    { from: '07700900123', peer: 'national', number: '+447700900123', category: 'mobile', valid: false, alerts: ['CLI-INVALID:high'], cites: 0 },
  ],
  DE: [
    { from: '03012345678', peer: 'national', number: '+493012345678', category: 'geographic', valid: true, alerts: [] },
    { from: '110', peer: 'national', number: 'short:110', category: 'emergency', valid: true, alerts: ['CLI-SPECIAL:critical'], cites: 0 },
    { from: '09001234567', peer: 'national', number: '+499001234567', category: 'premium', valid: true, alerts: ['CLI-SPECIAL:high'], cites: 1 },
    { from: '01371234567', peer: 'national', number: '+491371234567', category: 'televoting', valid: true, alerts: ['CLI-SPECIAL:high'], cites: 2 },
    { from: '+493087654321', peer: 'intl', number: '+493087654321', category: 'geographic', valid: true, alerts: ['REG-INTL-NATIONAL-CLI:high'], cites: 3 },
    { from: '+4915112345678', peer: 'intl', number: '+4915112345678', category: 'mobile', valid: true, alerts: ['REG-INTL-NATIONAL-CLI:medium'], cites: 4 },
  ],
  US: [
    { from: '2124561234', peer: 'national', number: '+12124561234', category: 'geographic', valid: true, alerts: [] },
    { from: '4115551234', peer: 'national', number: '+14115551234', category: 'unused', valid: false, alerts: ['CLI-INVALID:high'], cites: 0 },
    { from: '2125550123', peer: 'national', number: '+12125550123', category: 'fictional', valid: true, alerts: ['CLI-INVALID:high'], cites: 1 },
    { from: '911', peer: 'national', number: 'short:911', category: 'emergency', valid: true, alerts: ['CLI-SPECIAL:critical'], cites: 2 },
    { from: '9005550123', peer: 'national', number: '+19005550123', category: 'premium', valid: true, alerts: ['CLI-SPECIAL:high'], cites: 3 },
    { from: '+12124567890', peer: 'intl', number: '+12124567890', category: 'geographic', valid: true, alerts: ['REG-INTL-NATIONAL-CLI:high'], cites: 5 },
  ],
  AU: [
    { from: '0298765432', peer: 'national', number: '+61298765432', category: 'geographic', valid: true, alerts: [] },
    { from: '029876543', peer: 'national', number: '+6129876543', category: 'geographic', valid: false, alerts: ['CLI-INVALID:high'], cites: 0 },
    { from: '000', peer: 'national', number: 'short:000', category: 'emergency', valid: true, alerts: ['CLI-SPECIAL:critical'], cites: 1 },
    { from: '1900123456', peer: 'national', number: '+611900123456', category: 'premium', valid: true, alerts: ['CLI-SPECIAL:high'], cites: 2 },
    { from: '+61298765432', peer: 'intl', number: '+61298765432', category: 'geographic', valid: true, alerts: ['REG-INTL-NATIONAL-CLI:high'], cites: 3 },
    { from: '+61412345678', peer: 'intl', number: '+61412345678', category: 'mobile', valid: true, alerts: ['REG-INTL-NATIONAL-CLI:medium'], cites: 4 },
  ],
};

/** Neighbour rows: the prefix the pack keys on, and the 5th distinct neighbour callee raises CLI-NEIGHBOUR. */
const NEIGHBOURS: Record<string, { cli: string; prefix: string; callees: readonly string[]; cites: number } | undefined> = {
  NL: { cli: '+31201234567', prefix: '+312012', callees: ['+31201200001', '+31201200002', '+31201200003', '+31201200004', '+31201200005'], cites: 6 },
  US: { cli: '+12124561234', prefix: '+1212456', callees: ['+12124560001', '+12124560002', '+12124560003', '+12124560004', '+12124560005'], cites: 4 },
};

function shown(n: ReturnType<typeof normaliseNumber>): { number: string; category: string; valid: boolean } {
  if (n.kind === 'e164') return { number: n.e164, category: n.category, valid: n.valid };
  if (n.kind === 'short') return { number: `short:${n.digits}`, category: n.category, valid: true };
  return { number: n.kind, category: '-', valid: false };
}

describe.each(RULE_PACKS.map((p) => [p.country, p] as const))('rule pack %s', (country: string, pack: RulePack) => {
  const rows = TABLES[country]!;
  it.each(rows.map((r, i) => [`${r.from} from the ${r.peer} peer`, r, i] as const))('%s', (_name, row, i) => {
    const peerCountry = row.peer === 'national' ? country : 'FR';
    expect(shown(normaliseNumber(row.from, peerCountry))).toEqual({ number: row.number, category: row.category, valid: row.valid });
    const s = new SipSession(configFor(country));
    const alerts = s.feed({
      src: row.peer === 'national' ? NATIONAL : INTL,
      text: invite({ from: sipNum(row.from), to: sipNum(CALLEE[country]!), callId: `pack-${country}-${i}@x` }),
    });
    expect(ruleSet(alerts)).toEqual(row.alerts);
  });

  it('has a row for every rule it cites, and each cited rule has a source', () => {
    const cited = new Set([...rows.flatMap((r) => (r.cites !== undefined ? [r.cites] : [])), ...(NEIGHBOURS[country] ? [NEIGHBOURS[country].cites] : [])]);
    expect([...cited].sort((a, b) => a - b)).toEqual(pack.rules.map((_, i) => i));
    for (const r of pack.rules) expect(r.source.length).toBeGreaterThan(10);
    for (const r of rows.filter((x) => x.cites !== undefined)) expect(r.alerts.some((a) => a.startsWith(`${pack.rules[r.cites!]!.rule}:`))).toBe(true);
  });

  const nb = NEIGHBOURS[country];
  if (nb) {
    it(`CLI-NEIGHBOUR keys on ${nb.prefix}…: the 5th distinct neighbour raises it`, () => {
      expect(neighbourPrefix(nb.cli)).toBe(nb.prefix);
      const s = new SipSession(configFor(country));
      const raised = nb.callees.map((callee, i) =>
        ruleSet(s.feed({ src: NATIONAL, text: invite({ from: sipNum(nb.cli), to: sipNum(callee), callId: `nb-${country}-${i}@x` }), ts: 1_740_830_400 + i })),
      );
      expect(raised).toEqual([[], [], [], [], ['CLI-NEIGHBOUR:medium']]);
    });
  }
});

describe('rule packs apply where they are active', () => {
  it('a GB number from an international peer is REG-INTL-NATIONAL-CLI only when GB is home or in rulePacks', () => {
    const call = (yaml: string) =>
      ruleSet(new SipSession(yaml).feed({ src: INTL, text: invite({ from: sipNum('+442079460000'), to: sipNum('+31687654321'), callId: 'act@x' }) }));
    expect(call(configFor('NL'))).toEqual([]);
    expect(call(configFor('NL') + 'rulePacks: [GB]\n')).toEqual(['REG-INTL-NATIONAL-CLI:high']);
    expect(packForCountry('gb')?.name).toBe('United Kingdom');
  });
});
