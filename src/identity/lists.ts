/**
 * The configured number lists compiled for lookups (RULES.md §4: CLI-PROTECTED, CLI-DNO,
 * DISPLAY-IMPERSONATION). Each lookup returns the most specific matching entry, so an alert can
 * name the owner as evidence.
 */
import type { BrandConfig, DoNotOriginateConfig, ListsConfig, ProtectedNumberConfig } from '../config/types.js';
import { NumberMatcher, NumberSet } from './number-set.js';

export interface NumberLists {
  /** The protected-list entry containing `e164`. */
  protectedEntry(e164: string): ProtectedNumberConfig | undefined;
  /** The do-not-originate entry containing `e164`. */
  doNotOriginateEntry(e164: string): DoNotOriginateConfig | undefined;
  /** Brands with their number sets, for display-name impersonation checks. */
  readonly brands: ReadonlyArray<{ readonly brand: BrandConfig; readonly numbers: NumberSet }>;
}

export function compileLists(lists: ListsConfig): NumberLists {
  const prot = new NumberMatcher(lists.protected.map((e) => [e.number, e] as const));
  const dno = new NumberMatcher(lists.doNotOriginate.map((e) => [e.number, e] as const));
  const brands = Object.freeze(lists.brands.map((brand) => Object.freeze({ brand, numbers: new NumberSet(brand.numbers) })));
  return {
    protectedEntry: (e164) => prot.lookup(e164),
    doNotOriginateEntry: (e164) => dno.lookup(e164),
    brands,
  };
}
