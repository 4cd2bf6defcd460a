/**
 * Country rule packs (issue #21 point 1): a country's numbering plan (national significant number prefix →
 * category), its short and emergency numbers, and the CLI rules its regulator sets, each with its severity and
 * a cited source. The data live in one file per country (NL.ts, GB.ts …); numbers.ts classifies with them and
 * the rules read the pack of the number's country. `homeCountry` and `rulePacks` choose the packs whose
 * regulatory rules (REG-INTL-NATIONAL-CLI) apply; plan data apply to every number of a pack's calling code.
 */
import type { Severity } from '../../alerts/alert.js';

/** Category from a pack's numbering plan; what rules such as CLI-SPECIAL branch on. */
export type NumberCategory =
  | 'emergency'
  | 'short'
  | 'premium'
  | 'televoting'
  | 'paging'
  | 'm2m'
  | 'freephone'
  | 'mobile'
  | 'geographic'
  | 'voip'
  | 'company'
  | 'personal'
  | 'satellite'
  | 'unused'
  | 'fictional'
  | 'other';

/** One CLI rule as the pack's regulator defines it, with the rule id that checks it. */
export interface PackRule {
  /** The spoofwatch rule that raises it (CLI-SPECIAL, CLI-INVALID, REG-INTL-NATIONAL-CLI, CLI-NEIGHBOUR). */
  readonly rule: string;
  /** What the regulator's rule says, in one line. */
  readonly what: string;
  readonly severity: Severity;
  /** The cited source: regulation, licence condition or code, with section. */
  readonly source: string;
}

export interface RulePack {
  /** ISO 3166 alpha-2 country of the pack (`GB`, not `UK`). */
  readonly country: string;
  /**
   * Regions libphonenumber may report for the pack's national numbers besides `country` (UK numbers of +447911 are
   * Guernsey's to libphonenumber, yet Ofcom's plan and rules cover them).
   */
  readonly regions?: readonly string[];
  /** E.164 calling code without `+`. */
  readonly callingCode: string;
  readonly name: string;
  /** Where the plan data come from. */
  readonly planSource: string;
  /** National significant number prefix → category; the longest matching prefix wins. */
  readonly plan: readonly (readonly [prefix: string, category: NumberCategory])[];
  /**
   * Category of a national significant number the prefix table does not decide (NANP needs the number's
   * shape, not only its prefix); `undefined` falls back on `other`.
   */
  readonly classify?: (nsn: string) => NumberCategory | undefined;
  /** Short numbers dialled without a national prefix: the emergency ones, and the other short codes. */
  readonly shortNumbers: { readonly emergency: RegExp; readonly short: RegExp };
  /** How many leading NSN digits make two numbers neighbours (CLI-NEIGHBOUR); absent: 4. */
  readonly neighbourDigits?: (nsn: string) => number;
  /** A national CLI arriving from an international peer (REG-INTL-NATIONAL-CLI); absent: not regulated. */
  readonly fromAbroad?: { readonly fixed: Severity; readonly mobile: Severity; readonly source: string };
  /** Every rule the pack cites, one row each (docs/rules.md, and the pack's table test). */
  readonly rules: readonly PackRule[];
}
