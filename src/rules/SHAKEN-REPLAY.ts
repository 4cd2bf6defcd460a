import type { Rule } from './types.js';

export const rule: Rule = {
  id: 'SHAKEN-REPLAY',
  title: 'PASSporT replayed on another call',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['stirShaken.freshnessSeconds'],
  defaults: { windowSeconds: 120 },
  windowKey: 'shaken-replay',
  description:
    'The same PASSporT (origid, iat, orig.tn, dest.tn) appears on a different Call-ID within 2× the freshness window ' +
    '(default 120 s): a captured token replayed to borrow its attestation. Caveat: SBC retries share the Call-ID and are ' +
    'not replays. Source: ATIS-1000074.',
  evaluate(ctx) {
    const { call, state, params } = ctx;
    const s = call.shaken;
    if (s.status === 'none' || !s.replayKey) return undefined;
    const now = call.ts.sec * 1000 + call.ts.nsec / 1e6;
    const windowMs = Number(params['windowSeconds'] ?? 120) * 1000;
    const earlier = state.recent<{ callId: string; frame: number }>(s.replayKey, now, windowMs).find(
      (e) => e.value.callId !== call.callId,
    );
    state.add(s.replayKey, now, { callId: call.callId, frame: call.frame });
    if (!earlier) return undefined;
    return {
      severity: ctx.severity,
      summary: `PASSporT for ${s.origTn ?? '?'} replayed from call ${earlier.value.callId}`,
      reasons: [
        `This Identity header carries the same PASSporT (orig ${s.origTn ?? '?'}, same iat and origid) as call ${earlier.value.callId} (frame ${earlier.value.frame}), ${((now - earlier.atMs) / 1000).toFixed(1)} s earlier.`,
        'A PASSporT is signed for one call; reuse on another Call-ID is a replay.',
      ],
      evidence: [
        ...call.identityHeaders.map((v) => ({ frame: call.frame, header: 'Identity', value: v })),
        { frame: earlier.value.frame, header: 'Call-ID', value: earlier.value.callId },
      ],
    };
  },
};
