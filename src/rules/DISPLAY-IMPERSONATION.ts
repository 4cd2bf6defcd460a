import type { Rule } from './types.js';
import { evidenceOf, numText } from './types.js';
import { editDistance, foldName } from './fold.js';

export const rule: Rule = {
  id: 'DISPLAY-IMPERSONATION',
  title: 'Display name impersonates a brand',
  defaultSeverity: 'high',
  scope: 'initial-invite',
  reads: ['lists.brands', 'peers[].trust'],
  defaults: { maxDistance: 2 },
  description:
    "The caller's display name matches a configured brand (case, diacritics and confusables folded; edit distance ≤ 2, " +
    "exact for names under 5 letters) while the CLI is not one of the brand's numbers; a verified signed caller name " +
    "(rcd PASSporT) is judged instead of the display name. Caveat: agencies acting for a " +
    'brand. Source: heuristic (brand impersonation reports).',
  evaluate(ctx) {
    const { call, cli, policy, params } = ctx;
    const found = [call.from, ...call.pai].find((p) => p?.display);
    // A verified signed caller name (rcd PASSporT) is what the callee's device shows when it supports RCD: judge it
    // instead of the unsigned display name (DISPLAY-RCD-MISMATCH covers a display name that differs from it).
    const signed = call.shaken.status === 'passed' ? call.shaken.rcdName : undefined;
    const shown = signed !== undefined && found ? { ...found, display: signed } : signed !== undefined && call.from ? { ...call.from, display: signed } : found;
    if (!shown?.display) return undefined;
    const folded = foldName(shown.display);
    if (folded.length === 0) return undefined;
    const maxDistance = Number(params['maxDistance'] ?? 2);
    for (const brand of policy.brands) {
      for (const name of brand.displayNames) {
        const target = foldName(name);
        const allowed = target.length < 5 ? 0 : maxDistance;
        const d = folded === target ? 0 : folded.includes(target) && target.length >= 5 ? 0 : editDistance(folded, target, allowed);
        if (d > allowed) continue;
        if (cli && cli.num.kind === 'e164' && brand.hasNumber(cli.num.e164)) return undefined;
        return {
          severity: ctx.severity,
          summary: `Display name "${shown.display}" impersonates ${brand.name} from ${cli ? numText(cli.num) : 'no number'}`,
          reasons: [
            `${signed !== undefined ? 'The signed caller name (rcd PASSporT)' : shown.header} shows the name "${shown.display}", which matches brand "${brand.name}" ("${name}"${d ? `, edit distance ${d}` : ''}).`,
            `The caller number ${cli ? numText(cli.num) : '(none)'} is not one of ${brand.name}'s numbers.`,
          ],
          evidence: [evidenceOf(shown, call.frame)],
          presented: shown,
        };
      }
    }
    return undefined;
  },
};
