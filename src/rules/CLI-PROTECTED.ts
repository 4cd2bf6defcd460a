import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'CLI-PROTECTED',
  title: 'Protected number presented by someone else',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['lists.protected', 'peers[].trust'],
  description:
    "The CLI is on the protected list (lawyers and other privileged professions, police, bank hotlines) and the call " +
    "did not come from one of its owner's peers. Caveat: staff presenting the office's general number — list the " +
    "owner's trunks as ownerPeers. Source: 2014 letter to the Dutch parliament (geheimhoudernummers, Kamerstuk 32 761).",
  evaluate(ctx) {
    const { call, cli, policy } = ctx;
    if (!cli || cli.num.kind !== 'e164') return undefined;
    const entry = policy.protectedEntry(cli.num.e164);
    if (!entry) return undefined;
    if (call.peer && entry.ownerPeers.includes(call.peer.name)) return undefined;
    return {
      severity: ctx.severity,
      summary: `Protected number ${cli.num.e164} (${entry.owner}) presented from ${call.peer ? `peer "${call.peer.name}"` : call.src.ip}`,
      reasons: [
        `${cli.num.e164} in ${cli.identity.header} is a protected number of ${entry.owner}.`,
        `Only ${entry.ownerPeers.length ? entry.ownerPeers.map((p) => `"${p}"`).join(', ') : 'no peer'} may present it; this call came from ${call.peer ? `"${call.peer.name}"` : `unknown source ${call.src.ip}`}.`,
      ],
      evidence: [evidenceOf(cli.identity, call.frame)],
    };
  },
};
