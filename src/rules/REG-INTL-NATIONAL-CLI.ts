import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'REG-INTL-NATIONAL-CLI',
  title: 'National number arriving on an international peer',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['peers[].class', 'homeCountry', 'peers[].trust'],
  description:
    'A peer of class international delivers a call whose CLI is a national number of the home country. Medium for ' +
    'mobile numbers (roaming). Caveat: roaming mobiles; registered offshore call centres. Sources: BE royal decree of ' +
    '12 May 2024; DE TKG §120 (since 1 Dec 2022); UK Ofcom (29 Jan 2025); NL draft bill 2022.',
  evaluate(ctx) {
    const { call, cli, policy } = ctx;
    if (call.peer?.class !== 'international' || !cli || cli.num.kind !== 'e164') return undefined;
    if (cli.num.country !== policy.homeCountry) return undefined;
    const mobile = cli.num.category === 'mobile';
    return {
      severity: mobile ? 'medium' : ctx.severity,
      summary: `${policy.homeCountry} number ${cli.num.e164} arrived from international peer "${call.peer.name}"`,
      reasons: [
        `Peer "${call.peer.name}" is an international interconnect; it delivered ${cli.num.e164}, a ${policy.homeCountry} ${cli.num.category} number.`,
        mobile
          ? 'Mobile numbers may be roaming abroad, hence medium.'
          : 'Calls from home-country fixed numbers do not enter from abroad; regulators require blocking them.',
      ],
      evidence: [evidenceOf(cli.identity, call.frame)],
    };
  },
};
