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
    '(lowered to info by a valid signed diversion, RFC 8946 div PASSporT, naming a number the peer may present; or by ' +
    'DIV-EXPLAINS when a trusted peer owns the diverting number), roamers, incomplete config; peers ' +
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
    // Signed proof first (RFC 8946): a verified PASSporT for this caller with a valid div PASSporT whose diverting
    // number the peer may present explains the call whoever the peer is, unlike the forgeable Diversion header.
    const s = call.shaken;
    const proven = s.status === 'passed' ? s.divProven?.find((tn) => policy.peerMayPresent(peer, tn)) : undefined;
    if (proven !== undefined) {
      reasons.push(
        `SIGNED DIVERSION: a valid div PASSporT (RFC 8946), chained to the verified PASSporT of ${cli.num.e164}, proves the call was forwarded by ${proven}, a number "${peer.name}" may present; lowered to info.`,
      );
      for (const v of call.identityHeaders) evidence.push({ frame: call.frame, header: 'Identity', value: v });
      return { severity: 'info', summary: `${peer.name} forwarded a call from ${cli.num.e164} (signed diversion by ${proven})`, reasons, evidence };
    }
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
