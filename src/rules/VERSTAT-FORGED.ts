import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'VERSTAT-FORGED',
  title: 'Forged verification status',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['peers[].trust', 'stirShaken'],
  description:
    'A verstat parameter claiming TN-Validation-Passed arrives from an untrusted or unknown peer, or while local ' +
    'verification of the Identity header failed (a certificate missing from the offline cache is not a failure). Caveat: a misconfigured peer. Source: RFC 3325 §5 by analogy; RFC 8588.',
  evaluate(ctx) {
    const { call } = ctx;
    const claimed = [call.from, ...call.pai].find((p) => p?.params['verstat']?.toLowerCase().includes('passed'));
    if (!claimed) return undefined;
    const untrusted = call.peer?.trust !== 'trusted';
    // A certificate missing from the local cache (436) is an offline limit, not evidence against the upstream
    // verifier, which could fetch it (RULES.md §2 step 3: unverifiable, not forged).
    const failed = call.shaken.status === 'failed' && call.shaken.rule !== 'SHAKEN-UNVERIFIABLE';
    if (!untrusted && !failed) return undefined;
    const reasons = [`${claimed.header} claims verstat=${claimed.params['verstat']}.`];
    if (untrusted)
      reasons.push(`It came from ${call.peer ? `untrusted peer "${call.peer.name}"` : `unknown source ${call.src.ip}`}, which cannot vouch for verification.`);
    if (failed && call.shaken.status === 'failed')
      reasons.push(`Local verification of the Identity header failed (${call.shaken.code}: ${call.shaken.reason}).`);
    return { severity: ctx.severity, summary: `verstat claims Passed for ${claimed.uri}`, reasons, evidence: [evidenceOf(claimed, call.frame)], presented: claimed };
  },
};
