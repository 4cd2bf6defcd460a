import type { Rule } from './types.js';
import { calledNumber, evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'CLI-CALLED-AS-CALLER',
  title: 'Caller presents the called number',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['peers[].trust'],
  description:
    "The CLI equals the called number (To or Request-URI): the callee sees its own number. Caveat: voicemail retrieval " +
    "via the own operator. Source: fraud-helpdesk reports.",
  evaluate(ctx) {
    const { call, cli } = ctx;
    const called = calledNumber(call);
    if (!cli || cli.num.kind !== 'e164' || !called || called.num.kind !== 'e164') return undefined;
    if (cli.num.e164 !== called.num.e164) return undefined;
    return {
      severity: ctx.severity,
      summary: `Caller presents the called number ${cli.num.e164}`,
      reasons: [`${cli.identity.header} and ${called.header} are both ${cli.num.e164}: the callee would see its own number.`],
      evidence: [evidenceOf(cli.identity, call.frame), evidenceOf(called, call.frame)],
    };
  },
};
