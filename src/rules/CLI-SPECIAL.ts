import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

const NOT_A_CALLER = new Set(['emergency', 'short', 'premium', 'televoting', 'paging', 'm2m']);

export const rule: Rule = {
  id: 'CLI-SPECIAL',
  title: 'Special-purpose number used as caller',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['homeCountry', 'peers[].country', 'peers[].trust'],
  description:
    'The CLI is an emergency or short number (112, 911, 110, 999, 000, 18xy, 116xxx), premium rate (NL 0900/0906/0909, ' +
    'UK 09, DE 0900, US 900, AU 1900), mass-calling (DE 0137), paging (NL 066, UK 076) or M2M (NL 097): none of them place ' +
    'voice calls (the country rule packs list them). Critical for emergency numbers. Caveat: PSAP call-backs use ordinary ' +
    'numbers. Sources: TKG §120; Ofcom; Dutch numbering plan; ACMA C661; FCC 47 CFR 64.1200(k).',
  evaluate(ctx) {
    const { call, cli } = ctx;
    if (!cli) return undefined;
    const n = cli.num;
    if (n.kind !== 'e164' && n.kind !== 'short') return undefined;
    if (!NOT_A_CALLER.has(n.category)) return undefined;
    const text = n.kind === 'e164' ? n.e164 : n.raw;
    return {
      severity: n.category === 'emergency' ? 'critical' : ctx.severity,
      summary: `${n.category} number ${text} presented as caller`,
      reasons: [`${text} in ${cli.identity.header} is ${/^[aeiou]/.test(n.category) ? 'an' : 'a'} ${n.category} number, which never places calls.`],
      evidence: [evidenceOf(cli.identity, call.frame)],
    };
  },
};
