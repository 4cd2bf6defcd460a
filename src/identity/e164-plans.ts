/**
 * Validity, type and region of a `+CC…` number from libphonenumber's own `/max` metadata, with each pattern compiled
 * once. `parsePhoneNumberFromString()` + `getType()` answer the same question but build every RegExp from its source
 * text on each call and go through argument normalisation and object spreads: ~60 µs per new number, most of the
 * identity work of a call (issue #5 profile). This module answers the common case — a number whose national part has
 * no national prefix to strip — the way libphonenumber's `getNumberType`/`getCountryByCallingCode` do, and returns
 * `undefined` for everything else so that the caller falls back to libphonenumber itself.
 * `test/identity/e164-plans.test.ts` checks it against libphonenumber on numbers of every calling code.
 */
import { Metadata, type CountryCode, type PhoneNumberType } from 'libphonenumber-js/max';

/** The runtime surface of libphonenumber's Metadata that its own parser uses (its .d.ts declares only part of it). */
interface TypeDefinition {
  pattern(): string;
  possibleLengths(): number[] | undefined;
}
interface PlanRuntime {
  nationalNumberPattern(): string;
  nationalPrefixForParsing(): string | undefined;
  leadingDigits(): string | undefined;
  type(type: PhoneNumberType): TypeDefinition | undefined;
}
interface MetadataRuntime {
  selectNumberingPlan(country: string): void;
  numberingPlan: PlanRuntime;
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
  hasCallingCode(callingCode: string): boolean;
}

/** getNumberType's order: FIXED_LINE first, then these. */
const NON_FIXED_TYPES: readonly PhoneNumberType[] = [
  'MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
];

interface CompiledType {
  readonly type: PhoneNumberType;
  /** Absent: the type has no pattern (never matches). */
  readonly re: RegExp | undefined;
  readonly lengths: readonly number[] | undefined;
}

interface CompiledPlan {
  readonly national: RegExp;
  readonly prefixForParsing: RegExp | undefined;
  readonly leadingDigits: RegExp | undefined;
  readonly fixed: CompiledType;
  /** MOBILE is declared but its pattern was folded into FIXED_LINE's (`''`). */
  readonly mobileSameAsFixed: boolean;
  readonly mobileDeclared: boolean;
  readonly others: readonly CompiledType[];
}

const entire = (source: string): RegExp => new RegExp(`^(?:${source})$`);

const metadata = new Metadata() as unknown as MetadataRuntime;
const plans = new Map<string, CompiledPlan>();

function planOf(country: string): CompiledPlan {
  let plan = plans.get(country);
  if (plan !== undefined) return plan;
  metadata.selectNumberingPlan(country);
  const p = metadata.numberingPlan;
  const compile = (type: PhoneNumberType): CompiledType => {
    const def = p.type(type);
    const pattern = def?.pattern();
    return { type, re: pattern ? entire(pattern) : undefined, lengths: pattern ? def?.possibleLengths() : undefined };
  };
  const mobile = p.type('MOBILE');
  const npfp = p.nationalPrefixForParsing();
  const ld = p.leadingDigits();
  plan = {
    national: entire(p.nationalNumberPattern()),
    prefixForParsing: npfp ? new RegExp(`^(?:${npfp})`) : undefined,
    leadingDigits: ld ? new RegExp(`^(?:${ld})`) : undefined,
    fixed: compile('FIXED_LINE'),
    mobileDeclared: mobile !== undefined,
    mobileSameAsFixed: mobile !== undefined && mobile.pattern() === '',
    others: NON_FIXED_TYPES.map(compile),
  };
  plans.set(country, plan);
  return plan;
}

function isType(nsn: string, t: CompiledType): boolean {
  if (t.re === undefined) return false;
  if (t.lengths !== undefined && t.lengths.indexOf(nsn.length) < 0) return false;
  return t.re.test(nsn);
}

/** libphonenumber's getNumberType for a national significant number in `plan`. */
function typeIn(nsn: string, plan: CompiledPlan): PhoneNumberType | undefined {
  if (!plan.national.test(nsn)) return undefined;
  if (isType(nsn, plan.fixed)) {
    if (plan.mobileSameAsFixed || !plan.mobileDeclared) return 'FIXED_LINE_OR_MOBILE';
    const mobile = plan.others[0]!;
    return isType(nsn, mobile) ? 'FIXED_LINE_OR_MOBILE' : 'FIXED_LINE';
  }
  for (const t of plan.others) if (isType(nsn, t)) return t.type;
  return undefined;
}

export interface FastE164 {
  readonly countryCallingCode: string;
  readonly nationalNumber: string;
  /** As libphonenumber's PhoneNumber.country: absent when no region of a shared code claims the number. */
  readonly country: CountryCode | undefined;
  /** libphonenumber's type; undefined exactly when it calls the number invalid. */
  readonly type: PhoneNumberType | undefined;
}

/**
 * `+` and 2–15 digits → what libphonenumber would say, or `undefined` when this fast path does not decide it
 * (non-geographic codes, a national prefix at the start of the national number, a national part under 2 digits).
 */
export function fastE164(plusDigits: string): FastE164 | undefined {
  // libphonenumber's extractCountryCallingCode: the first 1–3 digit prefix it has a plan for (E.164 codes are
  // prefix-free).
  let cc: string | undefined;
  for (let len = 1; len <= 3 && len < plusDigits.length; len++) {
    const c = plusDigits.slice(1, 1 + len);
    if (metadata.hasCallingCode(c)) {
      cc = c;
      break;
    }
  }
  if (cc === undefined) return undefined;
  const countries = metadata.getCountryCodesForCallingCode(cc);
  if (countries === undefined || countries.length === 0) return undefined;
  const nsn = plusDigits.slice(1 + cc.length);
  if (nsn.length < 2) return undefined;
  const main = planOf(countries[0]!);
  // libphonenumber strips a national prefix even from international input when what is left still fits the plan.
  if (main.prefixForParsing !== undefined && main.prefixForParsing.test(nsn)) return undefined;
  let country: string | undefined;
  let plan = main;
  if (countries.length === 1) country = countries[0];
  else {
    for (const c of countries) {
      const p = planOf(c);
      if (p.leadingDigits !== undefined ? p.leadingDigits.test(nsn) : typeIn(nsn, p) !== undefined) {
        country = c;
        plan = p;
        break;
      }
    }
  }
  return { countryCallingCode: cc, nationalNumber: nsn, country: country as CountryCode | undefined, type: typeIn(nsn, plan) };
}
