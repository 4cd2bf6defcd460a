import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'HDR-PAI-UNTRUSTED',
  title: 'Asserted identity from an untrusted peer',
  defaultSeverity: 'medium',
  scope: 'initial-invite',
  reads: ['peers[].trust', 'lists.protected'],
  description:
    'A P-Asserted-Identity, a Remote-Party-ID with screen=yes, or a verstat parameter arrived from an untrusted or unknown ' +
    'peer; the receiving network must remove such headers (RFC 3325 §5, §8). High when the asserted number is protected. ' +
    'Caveat: PBXs that add PAI by default. Source: RFC 3325 §5 and §8.',
  evaluate(ctx) {
    const { call, policy } = ctx;
    if (call.peer?.trust === 'trusted') return undefined;
    const who = call.peer ? `untrusted peer "${call.peer.name}"` : `an unknown source (${call.src.ip})`;
    const items = [
      ...call.pai.map((p) => ({ id: p, why: `${p.header} ${p.raw}` })),
      ...(call.rpid && call.rpid.params['screen']?.toLowerCase() === 'yes'
        ? [{ id: call.rpid, why: `Remote-Party-ID with screen=yes` }]
        : []),
      ...[call.from, ...call.pai]
        .filter((p) => p !== undefined && p.params['verstat'] !== undefined)
        .map((p) => ({ id: p!, why: `verstat=${p!.params['verstat']} on ${p!.header}` })),
    ];
    const first = items[0];
    if (!first) return undefined;
    const protectedHit = items.find((i) => i.id.num.kind === 'e164' && policy.protectedEntry(i.id.num.e164));
    const severity = protectedHit ? 'high' : ctx.severity;
    const reasons = [
      `The call came from ${who}; it must not assert an identity (RFC 3325 §5).`,
      ...items.map((i) => `It sent ${i.why}.`),
    ];
    if (protectedHit && protectedHit.id.num.kind === 'e164') {
      reasons.push(`${protectedHit.id.num.e164} is a protected number of ${policy.protectedEntry(protectedHit.id.num.e164)!.owner}.`);
    }
    return {
      severity,
      summary: `Asserted identity ${first.id.num.kind === 'e164' ? first.id.num.e164 : first.id.uri} from ${who}`,
      reasons,
      evidence: items.map((i) => evidenceOf(i.id, call.frame)),
      presented: first.id,
    };
  },
};
