import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

interface Seen {
  peer: string;
  authorised: boolean;
  callId: string;
  frame: number;
}

export const rule: Rule = {
  id: 'CLI-MULTI-PEER',
  title: 'Same number from several peers',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['peers[].allowedNumbers', 'peers[].presentationNumbers', 'peers[].any', 'peers[].trust'],
  defaults: { windowSeconds: 600 },
  windowKey: 'cli',
  description:
    'Within the window (default 10 min) the same CLI arrives from two or more peers and the peer of this call is not ' +
    'authorised to present it: one of the callers is likely spoofing. Raised on the unauthorised call, not on the ' +
    "owner's. Caveat: multi-homed enterprises — register every trunk. Source: heuristic.",
  evaluate(ctx) {
    const { call, cli, policy, state, params } = ctx;
    if (!cli || cli.num.kind !== 'e164') return undefined;
    const e164 = cli.num.e164;
    const peerName = call.peer?.name ?? `unknown:${call.src.ip}`;
    const authorised = !!call.peer && (call.peer.any || !call.peer.hasNumberPolicy || policy.peerMayPresent(call.peer, e164));
    const now = call.ts.sec * 1000 + call.ts.nsec / 1e6;
    const windowMs = Number(params['windowSeconds'] ?? 600) * 1000;
    // Every call is recorded (not only a peer's first), so a peer stays "recent" as long as it keeps presenting
    // the number; each other peer is represented by its earliest call still inside the window. Most numbers come
    // from one peer: no collection is made until another one shows up (this runs on every initial INVITE).
    let others: { readonly atMs: number; readonly value: Seen }[] | undefined;
    for (const s of state.recent<Seen>(e164, now, windowMs)) {
      const peer = s.value.peer;
      if (peer !== peerName && (others === undefined || !others.some((o) => o.value.peer === peer))) (others ??= []).push(s);
    }
    state.add<Seen>(e164, now, { peer: peerName, authorised, callId: call.callId, frame: call.frame });
    if (others === undefined) return undefined;
    // Alert on the call that is not entitled to the number: an owner's call after a spoofed one is not suspicious
    // itself (the spoofed call already raised CLI-NOT-AUTHORIZED).
    if (authorised) return undefined;
    const peers = [peerName, ...others.map((o) => o.value.peer)];
    return {
      severity: ctx.severity,
      summary: `${e164} arrived from ${peers.length} peers: ${peers.join(', ')}`,
      reasons: [
        `${e164} arrived from "${peerName}"${authorised ? '' : ' (not authorised for it)'} and, within ${windowMs / 60000} min, from ${others
          .map((o) => `"${o.value.peer}"${o.value.authorised ? '' : ' (not authorised)'} in call ${o.value.callId}`)
          .join(', ')}.`,
        'A number presented by several networks at once, one of them not entitled to it, suggests one caller is spoofing it.',
      ],
      evidence: [evidenceOf(cli.identity, call.frame), ...others.map((o) => ({ frame: o.value.frame, header: 'Call-ID', value: o.value.callId }))],
    };
  },
};
