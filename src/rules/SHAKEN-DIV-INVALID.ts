import type { Rule } from './types.js';

export const rule: Rule = {
  id: 'SHAKEN-DIV-INVALID',
  title: 'Signed diversion (div PASSporT) is invalid',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  description:
    'A ppt=div PASSporT on the call fails verification (signature, certificate chain, freshness at the capture time), ' +
    "belongs to another call (its orig.tn differs from the original PASSporT's), does not continue the call's diversion " +
    'chain, or names a diverting number other than the one in Diversion/History-Info. A forged diversion is how a spoofer ' +
    'would explain presenting a number it does not own. Caveat: SBCs that rewrite Diversion. Sources: RFC 8946 §4, §5; ' +
    'RFC 8224 §6.2.2.',
  evaluate(ctx) {
    const { call } = ctx;
    const s = call.shaken;
    if (s.status === 'none' || !s.divInvalid || s.divInvalid.length === 0) return undefined;
    const n = s.divInvalid.length;
    return {
      severity: ctx.severity,
      summary: `${n === 1 ? 'A div PASSporT' : `${n} div PASSporTs`} on the call ${n === 1 ? 'is' : 'are'} invalid: ${s.divInvalid[0]}`,
      reasons: [
        ...s.divInvalid.map((r) => `A signed diversion (ppt=div) was rejected: ${r}.`),
        ...(s.origTn ? [`The original PASSporT claims orig.tn ${s.origTn}.`] : []),
      ],
      evidence: call.identityHeaders.map((v) => ({ frame: call.frame, header: 'Identity', value: v })),
    };
  },
};
