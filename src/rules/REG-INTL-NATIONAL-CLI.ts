import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'REG-INTL-NATIONAL-CLI',
  title: 'National number arriving on an international peer',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['peers[].class', 'homeCountry', 'peers[].trust'],
  description:
    'A peer of class international delivers a call whose CLI is a national number of the home country or of another ' +
    'active rule pack (rulePacks). Medium for mobile numbers (roaming; each pack sets it). Caveat: roaming mobiles; ' +
    'registered offshore call centres. Sources: BE royal decree of 12 May 2024; DE TKG §120 (since 1 Dec 2022); UK ' +
    'Ofcom (2022; 29 Jan 2025 for mobiles); AU ACMA C661; US FCC 22-37; NL draft bill 2022.',
  evaluate(ctx) {
    const { call, cli, policy } = ctx;
    if (call.peer?.class !== 'international' || !cli || cli.num.kind !== 'e164') return undefined;
    if (cli.num.country === undefined) return undefined;
    const rule = policy.fromAbroad(cli.num.country);
    if (!rule) return undefined;
    const country = rule.country;
    const mobile = cli.num.category === 'mobile';
    return {
      severity: mobile ? rule.mobile : ctx.severity,
      summary: `${country} number ${cli.num.e164} arrived from international peer "${call.peer.name}"`,
      reasons: [
        `Peer "${call.peer.name}" is an international interconnect; it delivered ${cli.num.e164}, a ${country} ${cli.num.category} number.`,
        mobile
          ? `Mobile numbers may be roaming abroad, hence ${rule.mobile}.`
          : country === policy.homeCountry
            ? 'Calls from home-country fixed numbers do not enter from abroad; regulators require blocking them.'
            : `Calls from ${country} fixed numbers do not enter from abroad; ${country}'s regulator requires blocking them (${rule.source}).`,
      ],
      evidence: [evidenceOf(cli.identity, call.frame)],
    };
  },
};
