import type { Rule } from './types.js';

export const rule: Rule = {
  id: 'SHAKEN-RCD-INVALID',
  title: 'Signed caller name (rcd PASSporT) is invalid',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  description:
    'A ppt=rcd PASSporT (Rich Call Data: the signed caller name) fails verification (signature, certificate chain, ' +
    "freshness at the capture time), belongs to another call (its orig.tn differs from the original PASSporT's), or an " +
    'rcdi integrity digest does not match the signed content. A forged caller name is brand impersonation with a ' +
    'signature-shaped alibi. Caveat: content behind icn/jcl URLs cannot be checked offline (not a failure). Sources: ' +
    'draft-ietf-stir-passport-rcd §5, §6; RFC 8224 §6.2.2.',
  evaluate(ctx) {
    const { call } = ctx;
    const s = call.shaken;
    if (s.status === 'none' || !s.rcdInvalid || s.rcdInvalid.length === 0) return undefined;
    return {
      severity: ctx.severity,
      summary: `The signed caller name (rcd PASSporT) is invalid: ${s.rcdInvalid[0]}`,
      reasons: [
        ...s.rcdInvalid.map((r) => `A Rich Call Data PASSporT (ppt=rcd) was rejected: ${r}.`),
        ...(s.origTn ? [`The original PASSporT claims orig.tn ${s.origTn}.`] : []),
      ],
      evidence: call.identityHeaders.map((v) => ({ frame: call.frame, header: 'Identity', value: v })),
    };
  },
};
