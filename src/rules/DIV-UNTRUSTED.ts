import type { Rule } from './types.js';
import { evidenceOf, numText } from './types.js';
import { mappedFromEntries } from './forwarding.js';

export const rule: Rule = {
  id: 'DIV-UNTRUSTED',
  title: 'Unverifiable forwarding information from an untrusted peer',
  defaultSeverity: 'medium',
  scope: 'initial-invite',
  reads: ['peers[].trust', 'peers[].allowedNumbers', 'peers[].presentationNumbers'],
  defaults: { maxCounter: 5 },
  description:
    'Diversion or History-Info from an untrusted or unknown peer names a number the peer does not own, or a Diversion ' +
    'counter exceeds the limit (default 5). Such headers must not explain away a CLI. Caveat: cloud PBX forwarding. ' +
    'Sources: RFC 5806; RFC 7044.',
  evaluate(ctx) {
    const { call, policy, params } = ctx;
    if (call.peer?.trust === 'trusted') return undefined;
    const maxCounter = Number(params['maxCounter'] ?? 5);
    const entries = [...call.diversion, ...mappedFromEntries(call)];
    for (const d of entries) {
      const counter = Number(d.params['counter'] ?? '1');
      const notOwned =
        d.num.kind === 'e164' && !(call.peer && call.peer.hasNumberPolicy && policy.peerMayPresent(call.peer, d.num.e164));
      if (counter > maxCounter || notOwned) {
        const reasons = [
          `${d.header} names ${numText(d.num)}, received from ${call.peer ? `untrusted peer "${call.peer.name}"` : `unknown source ${call.src.ip}`}.`,
        ];
        if (notOwned) reasons.push(`The peer does not own ${numText(d.num)}, so the forwarding claim is unverified.`);
        if (counter > maxCounter) reasons.push(`Diversion counter ${counter} exceeds the limit ${maxCounter}.`);
        return { severity: ctx.severity, summary: `Unverified ${d.header} ${numText(d.num)}`, reasons, evidence: [evidenceOf(d, call.frame)], presented: d };
      }
    }
    return undefined;
  },
};
