import type { Rule } from './types.js';
import { splitCallingCode } from '../identity/numbers.js';
import { packForCallingCode } from '../identity/packs/index.js';
import { calledNumber, evidenceOf } from './types.js';

/**
 * Leading digits that make two numbers "neighbours": the country pack's rule (NL geographic area code + 2, mobile
 * 06 + 4; US NPA-NXX), elsewhere the country code and the next four digits.
 */
export function neighbourPrefix(e164: string): string {
  const parts = splitCallingCode(e164);
  const digits = parts ? packForCallingCode(parts.cc)?.neighbourDigits?.(parts.nsn) : undefined;
  if (parts === undefined || digits === undefined) return e164.slice(0, 7);
  return e164.slice(0, 1 + parts.cc.length + digits);
}

export const rule: Rule = {
  id: 'CLI-NEIGHBOUR',
  title: 'Neighbour spoofing',
  defaultSeverity: 'medium',
  scope: 'initial-invite',
  reads: ['homeCountry', 'peers[].country', 'peers[].trust'],
  defaults: { windowSeconds: 3600, minCallees: 5 },
  windowKey: 'cli',
  windowSparse: true,
  description:
    "The CLI shares the callee's leading digits (NL geographic: area code + 2 digits; mobile 06 + 4; US NPA-NXX) and the same CLI " +
    'did so towards many distinct callees (default 5) within the window (default 1 h). Caveat: local businesses — needs ' +
    'volume. Source: FCC consumer guidance on neighbour spoofing.',
  evaluate(ctx) {
    const { call, cli, state, params } = ctx;
    const called = calledNumber(call);
    if (!cli || cli.num.kind !== 'e164' || !called || called.num.kind !== 'e164') return undefined;
    const callee = called.num.e164;
    if (cli.num.e164 === callee) return undefined;
    const prefix = neighbourPrefix(cli.num.e164);
    if (neighbourPrefix(callee) !== prefix) return undefined;
    const now = call.ts.sec * 1000 + call.ts.nsec / 1e6;
    const windowMs = Number(params['windowSeconds'] ?? 3600) * 1000;
    const minCallees = Number(params['minCallees'] ?? 5);
    // Every call is recorded (not only the first to a callee), so a callee called again stays inside the window.
    const callees = new Set([...state.recent<string>(cli.num.e164, now, windowMs).map((e) => e.value), callee]);
    state.add(cli.num.e164, now, callee);
    if (callees.size < minCallees) return undefined;
    return {
      severity: ctx.severity,
      summary: `${cli.num.e164} called ${callees.size} neighbours (${prefix}…) within ${windowMs / 60000} min`,
      reasons: [
        `The caller ${cli.num.e164} shares the leading digits ${prefix} with the callee ${callee}.`,
        `Within ${windowMs / 60000} minutes it called ${callees.size} distinct numbers starting with ${prefix} (threshold ${minCallees}): the pattern of neighbour spoofing.`,
      ],
      evidence: [evidenceOf(cli.identity, call.frame), evidenceOf(called, call.frame)],
    };
  },
};
