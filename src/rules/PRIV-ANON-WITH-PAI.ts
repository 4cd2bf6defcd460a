import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'PRIV-ANON-WITH-PAI',
  title: 'Anonymous caller with an asserted identity from an untrusted peer',
  defaultSeverity: 'medium',
  scope: 'initial-invite',
  reads: ['peers[].trust'],
  description:
    'From is anonymous while a P-Asserted-Identity is present and the peer is untrusted or unknown. Inside a trust ' +
    'domain (trusted peer, Privacy: id, PAI with the real number) this is normal and never alerts. Sources: RFC 3323 ' +
    '§4.1; RFC 3325 §7.',
  evaluate(ctx) {
    const { call } = ctx;
    if (call.peer?.trust === 'trusted' || !call.from || call.from.num.kind !== 'withheld') return undefined;
    const pai = call.pai[0];
    if (!pai) return undefined;
    return {
      severity: ctx.severity,
      summary: `Anonymous From with asserted ${pai.num.kind === 'e164' ? pai.num.e164 : pai.uri} from ${call.peer ? `untrusted peer "${call.peer.name}"` : call.src.ip}`,
      reasons: [
        `From is withheld (${call.from.uri}) but ${pai.header} asserts ${pai.uri}.`,
        `The peer is ${call.peer ? 'untrusted' : 'unknown'}, so the assertion is caller-controlled and the withheld call is unexplained.`,
      ],
      evidence: [evidenceOf(call.from, call.frame), evidenceOf(pai, call.frame)],
      presented: pai,
    };
  },
};
