import type { Severity } from '../alerts/alert.js';
import type { Rule } from './types.js';

/** SHAKEN-* rules that report one failed verification step (RULES.md §2); the verifier names the step. */
export function shakenFailureRule(id: string, title: string, defaultSeverity: Severity, description: string): Rule {
  return {
    id,
    title,
    defaultSeverity,
    scope: 'initial-invite',
    reads: ['stirShaken.trustAnchors', 'stirShaken.certCacheDir', 'stirShaken.freshnessSeconds', 'peers[].trust'],
    description,
    evaluate(ctx) {
      const { call } = ctx;
      const s = call.shaken;
      if (s.status !== 'failed' || s.rule !== id) return undefined;
      return {
        severity: ctx.severity,
        summary: `STIR/SHAKEN ${s.code}: ${s.reason}`,
        reasons: [
          `Offline verification of the Identity header failed with ${s.code}: ${s.reason}.`,
          ...(s.origTn ? [`The PASSporT claims orig.tn ${s.origTn}${s.attest ? `, attestation ${s.attest}` : ''}.`] : []),
          ...(s.x5u ? [`Certificate URL (x5u): ${s.x5u}.`] : []),
        ],
        evidence: call.identityHeaders.map((v) => ({ frame: call.frame, header: 'Identity', value: v })),
      };
    },
  };
}
