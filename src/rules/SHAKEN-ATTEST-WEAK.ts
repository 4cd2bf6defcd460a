import type { Rule } from './types.js';

export const rule: Rule = {
  id: 'SHAKEN-ATTEST-WEAK',
  title: 'Weak attestation for a domestic call',
  defaultSeverity: 'low',
  scope: 'initial-invite',
  reads: ['homeCountry', 'peers[].country', 'stirShaken'],
  description:
    'The PASSporT verified but with attestation B or C while the CLI is a home-country number arriving from a ' +
    'home-country peer: the originating carrier did not vouch for the number. Caveat: enterprise and cloud calls get B. ' +
    'Source: RFC 8588.',
  evaluate(ctx) {
    const { call, cli, policy } = ctx;
    const s = call.shaken;
    if (s.status !== 'passed' || (s.attest !== 'B' && s.attest !== 'C')) return undefined;
    if (!cli || cli.num.kind !== 'e164' || cli.num.country !== policy.homeCountry) return undefined;
    if (!call.peer || call.peer.country !== policy.homeCountry) return undefined;
    return {
      severity: ctx.severity,
      summary: `Attestation ${s.attest} for domestic number ${cli.num.e164}`,
      reasons: [
        `The PASSporT verified with attestation ${s.attest}: the signer does not vouch that the caller may use ${cli.num.e164}.`,
        `Both the number and peer "${call.peer.name}" are in ${policy.homeCountry}, where full attestation (A) is expected.`,
      ],
      evidence: call.identityHeaders.map((v) => ({ frame: call.frame, header: 'Identity', value: v })),
    };
  },
};
