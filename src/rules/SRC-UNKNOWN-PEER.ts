import type { Rule } from './types.js';

export const rule: Rule = {
  id: 'SRC-UNKNOWN-PEER',
  title: 'Call from an unknown source',
  defaultSeverity: 'medium',
  scope: 'initial-invite',
  reads: ['peers[].match'],
  description:
    'The source address matches no configured peer, or matches a peer with the wrong port or transport. Caveat: new ' +
    'carrier points of presence. Source: the network-identity principle: a caller is who the network it came from says it is, not what it presents.',
  evaluate(ctx) {
    const { call } = ctx;
    if (call.peer && !call.peerTransportMismatch) return undefined;
    const reasons = call.peerTransportMismatch
      ? [`${call.src.ip}:${call.src.port} over ${call.transport} matches a peer's address, but ${call.peerTransportMismatch}.`]
      : [`No configured peer matches the source ${call.src.ip}:${call.src.port} (${call.transport}).`];
    return {
      severity: ctx.severity,
      summary: `INVITE from unknown source ${call.src.ip}:${call.src.port}/${call.transport}`,
      reasons,
      evidence: [{ frame: call.frame, header: 'Source', value: `${call.src.ip}:${call.src.port} ${call.transport}` }],
    };
  },
};
