import type { Rule } from './types.js';
import { evidenceOf } from './types.js';
import { foldName } from './fold.js';

export const rule: Rule = {
  id: 'DISPLAY-RCD-MISMATCH',
  title: 'Display name differs from the signed caller name',
  defaultSeverity: 'medium',
  scope: 'initial-invite',
  description:
    'The call carries a verified Rich Call Data caller name (rcd.nam of a valid rcd PASSporT bound to the verified ' +
    'original PASSporT) and the From display name differs from it (case, diacritics and confusables folded): the name ' +
    'the callee would see is not the one the originating service signed. Caveat: intermediaries that rewrite display ' +
    'names (CNAM lookups). Sources: draft-ietf-stir-passport-rcd §5 (nam); RFC 8224 §6.2.',
  evaluate(ctx) {
    const { call } = ctx;
    const s = call.shaken;
    if (s.status !== 'passed' || s.rcdName === undefined) return undefined;
    const from = call.from;
    if (!from?.display) return undefined;
    if (foldName(from.display) === foldName(s.rcdName)) return undefined;
    return {
      severity: ctx.severity,
      summary: `From shows "${from.display}" but the signed caller name is "${s.rcdName}"`,
      reasons: [
        `The From display name is "${from.display}".`,
        `A verified rcd PASSporT for orig.tn ${s.origTn} signs the caller name "${s.rcdName}" (draft-ietf-stir-passport-rcd).`,
      ],
      evidence: [evidenceOf(from, call.frame), ...call.identityHeaders.map((v) => ({ frame: call.frame, header: 'Identity', value: v }))],
      presented: from,
    };
  },
};
