/**
 * PASSporT replay key (RULES.md §2 step 9; ATIS-1000074): the same (origid, iat, orig.tn, dest.tn) on a different
 * Call-ID within 2× the freshness window is a replay. The windowed state lives in the rule SHAKEN-REPLAY, over the
 * rules' WindowState seam (DESIGN.md §3), like every other cross-call rule; this module only names the PASSporT.
 */
import type { VerifyPassed } from './verify.js';

/** Replay key of a verified PASSporT: origid, iat, orig.tn and the sorted dest.tn. */
export function replayKeyOf(p: Pick<VerifyPassed, 'origid' | 'iat' | 'origTn' | 'destTn'>): string {
  return JSON.stringify([p.origid, p.iat, p.origTn, [...p.destTn].sort()]);
}
