import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'CLI-DNO',
  title: 'Do-not-originate number used as caller',
  defaultSeverity: 'critical',
  scope: 'initial-invite',
  reads: ['lists.doNotOriginate', 'peers[].trust'],
  description:
    'The CLI is on a do-not-originate list: inbound-only numbers (bank hotlines, tax line, fraud helpdesk) never call out. ' +
    'Caveat: needs a curated list with owners. Sources: FCC DNO guidance; Ofcom DNO list; NL sector bank list.',
  evaluate(ctx) {
    const { call, cli, policy } = ctx;
    if (!cli || cli.num.kind !== 'e164') return undefined;
    const entry = policy.dnoEntry(cli.num.e164);
    if (!entry) return undefined;
    return {
      severity: ctx.severity,
      summary: `Do-not-originate number ${cli.num.e164}${entry.owner ? ` (${entry.owner})` : ''} presented as caller`,
      reasons: [
        `${cli.num.e164} in ${cli.identity.header} is on the do-not-originate list${entry.owner ? ` (${entry.owner})` : ''}: it only receives calls, so a call from it is spoofed.`,
        ...(entry.source ? [`Listed in ${entry.source}.`] : []),
      ],
      evidence: [evidenceOf(cli.identity, call.frame)],
    };
  },
};
