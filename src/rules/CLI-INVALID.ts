import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'CLI-INVALID',
  title: 'Impossible caller number',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['homeCountry', 'peers[].country', 'peers[].trust'],
  description:
    'After normalisation the CLI is not a valid number for its country (libphonenumber metadata) or lies in an unused ' +
    'range (NL 067x, 0697; NANP N11 codes) or a fictional block (NANP 555-01XX). Withheld and alphanumeric identities are ' +
    'not invalid. Caveat: wrong country context; PBX extensions on access trunks. Sources: Ofcom GC C6.6; FCC 47 CFR ' +
    '64.1200(k); ACMA C661 §4.2.',
  evaluate(ctx) {
    const { call, cli } = ctx;
    if (!cli) return undefined;
    if (cli.num.kind === 'invalid') {
      return {
        severity: ctx.severity,
        summary: `Invalid caller number "${cli.num.raw}"`,
        reasons: [`"${cli.num.raw}" in ${cli.identity.header} cannot be a telephone number: ${cli.num.reason}.`],
        evidence: [evidenceOf(cli.identity, call.frame)],
      };
    }
    if (cli.num.kind !== 'e164') return undefined;
    const cat = cli.num.category;
    if (cli.num.valid && cat !== 'unused' && cat !== 'fictional') return undefined;
    return {
      severity: ctx.severity,
      summary: `Invalid caller number ${cli.num.e164}`,
      reasons: [
        cat === 'fictional'
          ? `${cli.num.e164} in ${cli.identity.header} lies in a block reserved for fictional use (NANP 555-01XX): no real line has it.`
          : cat === 'unused'
          ? `${cli.num.e164} in ${cli.identity.header} lies in a range that is not in use.`
          : `${cli.num.e164} in ${cli.identity.header} (user part "${cli.identity.user ?? ''}") is not a possible number for its country.`,
      ],
      evidence: [evidenceOf(cli.identity, call.frame)],
    };
  },
};
