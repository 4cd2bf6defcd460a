/** The rule-pack registry (issue #21 point 1): one pack per country, looked up by country or calling code. */
import { AU } from './AU.js';
import { DE } from './DE.js';
import { GB } from './GB.js';
import { NL } from './NL.js';
import type { NumberCategory, RulePack } from './types.js';
import { US } from './US.js';

export type { NumberCategory, PackRule, RulePack } from './types.js';

/** Every pack, in the order `config check` and docs/rules.md list them. */
export const RULE_PACKS: readonly RulePack[] = [NL, GB, DE, US, AU];

/** Country codes that have a pack (`rulePacks` accepts these). */
export const PACK_COUNTRIES: readonly string[] = RULE_PACKS.map((p) => p.country);

const byCountry = new Map(RULE_PACKS.map((p) => [p.country, p] as const));

export function packForCountry(country: string): RulePack | undefined {
  return byCountry.get(country.toUpperCase());
}

const byRegion = new Map(RULE_PACKS.flatMap((p) => [p.country, ...(p.regions ?? [])].map((r) => [r, p] as const)));

/** The pack whose national numbers include region `region` (libphonenumber's country of a number): GG → GB. */
export function packForRegion(region: string): RulePack | undefined {
  return byRegion.get(region);
}

interface CompiledPack {
  readonly pack: RulePack;
  readonly plan: ReadonlyMap<string, NumberCategory>;
  readonly maxPrefix: number;
}

const byCallingCode = new Map<string, CompiledPack>(
  RULE_PACKS.map((pack) => [
    pack.callingCode,
    { pack, plan: new Map(pack.plan), maxPrefix: pack.plan.reduce((m, [p]) => Math.max(m, p.length), 0) },
  ]),
);

/** The pack of an E.164 calling code (`31` → NL; `1` → US for the whole NANP plan). */
export function packForCallingCode(cc: string): RulePack | undefined {
  return byCallingCode.get(cc)?.pack;
}

/**
 * Category of a national significant number in the plan of calling code `cc`: its longest matching plan prefix,
 * else the pack's own classifier (NANP needs the number's shape), else `other`; `undefined` when no pack has the code.
 */
export function packCategory(cc: string, nsn: string): NumberCategory | undefined {
  const c = byCallingCode.get(cc);
  if (c === undefined) return undefined;
  for (let len = Math.min(c.maxPrefix, nsn.length); len >= 1; len--) {
    const cat = c.plan.get(nsn.slice(0, len));
    if (cat !== undefined) return cat;
  }
  return c.pack.classify?.(nsn) ?? 'other';
}

/** The pack's short-number table for calling code `cc`. */
export function packShortNumbers(cc: string): RulePack['shortNumbers'] | undefined {
  return byCallingCode.get(cc)?.pack.shortNumbers;
}
