import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'ID-FROM-PAI-MISMATCH',
  title: 'Shown number differs from the asserted number',
  defaultSeverity: 'info',
  scope: 'initial-invite',
  reads: ['peers[].trust', 'peers[].allowedNumbers', 'peers[].presentationNumbers', 'lists.protected', 'lists.doNotOriginate'],
  description:
    'On a trusted peer the From number differs from the P-Asserted-Identity number. This alone is the legitimate ' +
    "company-number case (an employee presenting the general number), so it is info; medium when the peer may not " +
    'present the From number; high when the From number is do-not-originate, or protected and the peer is not one of its ' +
    "owner's peers. Sources: 2014 letter to the " +
    'Dutch parliament; Ofcom guidance on presentation vs network number.',
  evaluate(ctx) {
    const { call, policy } = ctx;
    const peer = call.peer;
    if (!peer || peer.trust !== 'trusted' || !call.from || call.from.num.kind !== 'e164') return undefined;
    const pai = call.pai.find((p) => p.num.kind === 'e164');
    if (!pai || pai.num.kind !== 'e164' || pai.num.e164 === call.from.num.e164) return undefined;
    const from = call.from.num.e164;
    const reasons = [
      `From shows ${from} while the network asserts ${pai.num.e164} (P-Asserted-Identity) on trusted peer "${peer.name}".`,
    ];
    let severity = ctx.severity;
    // A protected number presented through one of its owner's peers is that owner's general number (the
    // company-number case), not an escalation; elsewhere a protected or do-not-originate From is.
    const protectedEntry = policy.protectedEntry(from);
    const prot = protectedEntry && !protectedEntry.ownerPeers.includes(peer.name) ? protectedEntry : undefined;
    const dno = policy.dnoEntry(from);
    if (prot || dno) {
      severity = 'high';
      reasons.push(prot ? `${from} is a protected number of ${prot.owner}.` : `${from} is on the do-not-originate list.`);
    } else if (peer.hasNumberPolicy && !peer.any && !policy.peerMayPresent(peer, from)) {
      severity = 'medium';
      reasons.push(`"${peer.name}" may not present ${from}.`);
    } else {
      reasons.push('Presenting another number the peer may present (e.g. a company number) is legitimate on its own.');
    }
    return {
      severity,
      summary: `From ${from} differs from asserted ${pai.num.e164}`,
      reasons,
      evidence: [evidenceOf(call.from, call.frame), evidenceOf(pai, call.frame)],
      presented: call.from,
    };
  },
};
