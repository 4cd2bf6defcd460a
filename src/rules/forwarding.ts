/** Which number forwarded a call, from Diversion (RFC 5806) or History-Info (RFC 7044); shared by the DIV rules. */
import type { CallFacts, PresentedIdentity } from './types.js';

/**
 * The History-Info entries the call was mapped (forwarded) from. RFC 7044 §10.3: an entry tagged `mp=<index>`
 * holds the new target, and its value is the index of the entry it was mapped *from* — the diverting number.
 */
export function mappedFromEntries(call: CallFacts): PresentedIdentity[] {
  const byIndex = new Map<string, PresentedIdentity>();
  for (const h of call.historyInfo) {
    const index = h.params['index'];
    if (index !== undefined && !byIndex.has(index)) byIndex.set(index, h);
  }
  const out: PresentedIdentity[] = [];
  for (const h of call.historyInfo) {
    const mp = h.params['mp'];
    const from = mp === undefined ? undefined : byIndex.get(mp);
    if (from && !out.includes(from)) out.push(from);
  }
  return out;
}

/**
 * The number that last forwarded the call: the top Diversion (RFC 5806 §4: each diverter adds its entry on top),
 * else the entry the latest `mp`-tagged History-Info entry was mapped from.
 */
export function divertingIdentity(call: CallFacts): PresentedIdentity | undefined {
  const div = call.diversion[0];
  if (div) return div;
  const mapped = mappedFromEntries(call);
  return mapped[mapped.length - 1];
}
