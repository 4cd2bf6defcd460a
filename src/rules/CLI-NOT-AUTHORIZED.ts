import type { Rule } from './types.js';
import { evidenceOf, numText } from './types.js';
import { divertingIdentity } from './forwarding.js';

export const rule: Rule = {
  id: 'CLI-NOT-AUTHORIZED',
  title: 'Peer presented a number it may not present',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['peers[].allowedNumbers', 'peers[].presentationNumbers', 'peers[].any', 'peers[].trust'],
  description:
    "The effective CLI is outside the matched peer's allowedNumbers and presentationNumbers. Caveat: forwarded calls " +
    '(lowered to info by DIV-EXPLAINS when a trusted peer owns the diverting number), roamers, incomplete config; peers ' +
    'without any number policy are not checked. Sources: Ofcom General Condition C6.6; TKG §120(2); RFC 8588 attestation A.',
  evaluate(ctx) {
    const { call, cli, policy } = ctx;
    const peer = call.peer;
    if (!peer || peer.any || !peer.hasNumberPolicy || !cli || cli.num.kind !== 'e164') return undefined;
    if (policy.peerMayPresent(peer, cli.num.e164)) return undefined;
    const reasons = [
      `The call came from ${call.src.ip}:${call.src.port} over ${call.transport}, which is peer "${peer.name}" (${peer.trust}).`,
      `It presents ${cli.num.e164} in ${cli.identity.header}, which is not among the numbers "${peer.name}" may present.`,
    ];
    const evidence = [evidenceOf(cli.identity, call.frame)];
    let severity = ctx.severity;
    const div = divertingIdentity(call);
    if (div && div.num.kind === 'e164') {
      const owners = policy.ownersOf(div.num.e164).filter((p) => p.trust === 'trusted');
      evidence.push(evidenceOf(div, call.frame));
      if (owners.length > 0 && peer.trust === 'trusted') {
        severity = 'info';
        reasons.push(
          `DIV-EXPLAINS: the call was forwarded by ${div.num.e164} (${div.header}), a number of trusted peer "${owners[0]!.name}", so this is likely a forwarded call; lowered to info.`,
        );
      } else {
        reasons.push(
          `${div.header} names ${numText(div.num)}, but ${peer.trust === 'trusted' ? 'no trusted peer owns it' : 'the peer is untrusted'}, so it does not explain the number (spoofers forge Diversion).`,
        );
      }
    }
    return { severity, summary: `${peer.name} presented ${cli.num.e164}, which it is not authorised to present`, reasons, evidence };
  },
};
