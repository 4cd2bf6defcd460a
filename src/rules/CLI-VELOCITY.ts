import type { Rule } from './types.js';
import { evidenceOf } from './types.js';

export const rule: Rule = {
  id: 'CLI-VELOCITY',
  title: 'Number used on too many calls at once',
  defaultSeverity: 'medium',
  scope: 'initial-invite',
  reads: ['peers[].presentationNumbers', 'peers[].trust'],
  defaults: { maxConcurrent: 10, maxPerMinute: 30 },
  windowKey: 'cli',
  description:
    'The same CLI is on more than maxConcurrent (default 10) simultaneous calls or more than maxPerMinute (default 30) ' +
    "new calls in a minute. The peer's presentationNumbers (call centres presenting one general number) are exempt. " +
    'Source: heuristic.',
  evaluate(ctx) {
    const { call, cli, policy, state, params } = ctx;
    if (!cli || cli.num.kind !== 'e164') return undefined;
    if (call.peer && policy.isPresentationNumber(call.peer, cli.num.e164)) return undefined;
    const maxConcurrent = Number(params['maxConcurrent'] ?? 10);
    const maxPerMinute = Number(params['maxPerMinute'] ?? 30);
    const now = call.ts.sec * 1000 + call.ts.nsec / 1e6;
    const lastMinute = state.count(cli.num.e164, now, 60_000) + 1;
    state.add(cli.num.e164, now, call.callId);
    const reasons: string[] = [];
    if (call.concurrentSameCli > maxConcurrent)
      reasons.push(`${cli.num.e164} is on ${call.concurrentSameCli} simultaneous calls (limit ${maxConcurrent}).`);
    if (lastMinute > maxPerMinute) reasons.push(`${cli.num.e164} started ${lastMinute} calls within one minute (limit ${maxPerMinute}).`);
    if (reasons.length === 0) return undefined;
    return {
      severity: ctx.severity,
      summary: `${cli.num.e164}: ${call.concurrentSameCli} concurrent calls, ${lastMinute} in the last minute`,
      reasons,
      evidence: [evidenceOf(cli.identity, call.frame)],
    };
  },
};
