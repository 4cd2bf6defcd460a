/**
 * Calling-number normalisation and classification (RULES.md §3).
 *
 * Input is the user part of a `sip:`/`sips:` URI or the number of a `tel:` URI (RFC 3966), as it
 * appeared on the wire, plus the country of the peer it came from. Output is one of:
 * an E.164 number (`+31201234567`) with libphonenumber's validity and type and our own category,
 * a withheld marker (`anonymous` …), an alphanumeric sender name, a short/emergency number of the
 * peer's country, or `invalid` when the text cannot be made into a number at all.
 *
 * libphonenumber (`/max` metadata) tells validity and type — for `+CC…` numbers read straight from its metadata with
 * patterns compiled once (e164-plans.ts), otherwise through its parser; short/emergency numbers and the
 * categories the rules act on (premium, paging, M2M, unused blocks …) come from our own table,
 * because libphonenumber does not model short numbers and marks e.g. Dutch 097 as plain mobile.
 */
import {
  getCountries,
  getCountryCallingCode,
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
  type PhoneNumber,
  type PhoneNumberType,
} from 'libphonenumber-js/max';
import { fastE164 } from './e164-plans.js';
import { packCategory, packForCallingCode, packShortNumbers, type NumberCategory } from './packs/index.js';

/** Category from a rule pack's numbering plan (src/identity/packs); what rules such as CLI-SPECIAL branch on. */
export type { NumberCategory };

/** libphonenumber's number type in our spelling, plus `m2m` from our own table. */
export type NumberType =
  | 'mobile'
  | 'fixed'
  | 'fixed-or-mobile'
  | 'premium'
  | 'tollfree'
  | 'shared-cost'
  | 'voip'
  | 'personal'
  | 'pager'
  | 'uan'
  | 'voicemail'
  | 'm2m';

export interface E164Number {
  readonly kind: 'e164';
  /** `+` and 2–15 digits. */
  readonly e164: string;
  /** ISO 3166 alpha-2 region per libphonenumber (absent for non-geographic codes such as +881). */
  readonly country?: string;
  /** Absent when libphonenumber does not know the type (invalid numbers). */
  readonly type?: NumberType;
  readonly category: NumberCategory;
  /** libphonenumber validity: a plausible number for its country, not proof that it is allocated. */
  readonly valid: boolean;
}

export type NormalisedNumber =
  | E164Number
  | { readonly kind: 'withheld'; readonly raw: string }
  | { readonly kind: 'alphanumeric'; readonly raw: string }
  | {
      readonly kind: 'short';
      readonly raw: string;
      /** The dialable digits, e.g. `112`. */
      readonly digits: string;
      readonly country: string;
      readonly category: 'emergency' | 'short';
    }
  | { readonly kind: 'invalid'; readonly raw: string; readonly reason: string };

/** User parts that mean "no number": RFC 3323 `anonymous` and the words PBXs and carriers use. */
const WITHHELD = new Set(['', 'anonymous', 'restricted', 'unavailable', 'unknown', 'private', 'withheld']);

/** RFC 3966 visual separators, plus the space and '/' people type. */
const SEPARATORS = /[\s\-.()/]/g;

/** Calling codes that belong to no country (ITU-T E.164 "global services"). */
const NON_GEOGRAPHIC_CODES = ['800', '808', '870', '878', '881', '882', '883', '888', '979'];

/** Main region for calling codes shared by several regions (libphonenumber lists them alphabetically). */
const MAIN_REGION: Readonly<Record<string, string>> = {
  '1': 'US',
  '7': 'RU',
  '39': 'IT',
  '44': 'GB',
  '47': 'NO',
  '61': 'AU',
  '212': 'MA',
  '262': 'RE',
  '290': 'SH',
  '358': 'FI',
  '590': 'GP',
  '599': 'CW',
};

const REGION_FOR_CODE = new Map<string, string>();
for (const region of getCountries()) {
  const code = getCountryCallingCode(region);
  if (!REGION_FOR_CODE.has(code)) REGION_FOR_CODE.set(code, MAIN_REGION[code] ?? region);
}
const CALLING_CODES = new Set<string>([...REGION_FOR_CODE.keys(), ...NON_GEOGRAPHIC_CODES]);

/** Splits `+CC…` into calling code and national significant number (E.164 codes are prefix-free). */
export function splitCallingCode(e164: string): { readonly cc: string; readonly nsn: string } | undefined {
  for (let len = 1; len <= 3; len++) {
    const cc = e164.slice(1, 1 + len);
    if (CALLING_CODES.has(cc)) return { cc, nsn: e164.slice(1 + len) };
  }
  return undefined;
}

interface ShortTable {
  readonly emergency: RegExp;
  readonly short: RegExp;
}

/**
 * Short and emergency numbers per calling code come from the rule packs (NL 112, 14 0xx(x), 18xy, 116xxx; UK
 * 999/112 …; DE 110/112 …; NANP 911, N11, 988; AU 000/112/106). Elsewhere: 112/911 (GSM emergency numbers) and
 * the EU-harmonised 116xxx.
 */
const DEFAULT_SHORT_TABLE: ShortTable = { emergency: /^(?:112|911)$/, short: /^116\d{3}$/ };

function shortCategory(cc: string, digits: string): 'emergency' | 'short' | undefined {
  if (digits.length > 6) return undefined;
  const table = packShortNumbers(cc) ?? DEFAULT_SHORT_TABLE;
  if (table.emergency.test(digits)) return 'emergency';
  if (table.short.test(digits)) return 'short';
  return undefined;
}

function categoryFromType(type: NumberType | undefined): NumberCategory {
  switch (type) {
    case 'mobile':
      return 'mobile';
    case 'fixed':
    case 'fixed-or-mobile':
      return 'geographic';
    case 'premium':
      return 'premium';
    case 'tollfree':
      return 'freephone';
    case 'voip':
      return 'voip';
    case 'personal':
      return 'personal';
    case 'pager':
      return 'paging';
    case 'uan':
      return 'company';
    case 'm2m':
      return 'm2m';
    default:
      return 'other';
  }
}

function classifyParts(cc: string, nsn: string, type: NumberType | undefined): NumberCategory {
  const short = shortCategory(cc, nsn);
  if (short !== undefined) return short;
  const fromPack = packCategory(cc, nsn);
  if (fromPack !== undefined) return fromPack;
  switch (cc) {
    // Inmarsat and the GMSS/international-network codes that carry satellite phones; these are
    // the "+88x" look-alikes of Dutch 088 (+880 Bangladesh and +886 Taiwan are not satellite).
    case '870':
    case '881':
    case '882':
      return 'satellite';
    default:
      return categoryFromType(type);
  }
}

const TYPE_NAMES: Readonly<Record<PhoneNumberType, NumberType>> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'fixed',
  FIXED_LINE_OR_MOBILE: 'fixed-or-mobile',
  PREMIUM_RATE: 'premium',
  TOLL_FREE: 'tollfree',
  SHARED_COST: 'shared-cost',
  VOIP: 'voip',
  PERSONAL_NUMBER: 'personal',
  PAGER: 'pager',
  UAN: 'uan',
  VOICEMAIL: 'voicemail',
};

/**
 * Category of an E.164 number from the rule packs' plans (NL, GB, DE, NANP, AU) and the satellite codes,
 * falling back on libphonenumber's type elsewhere. Short numbers written as `+31112` classify as
 * emergency: a caller presenting them is what CLI-SPECIAL looks for.
 */
export function classifyNumber(e164: string): NumberCategory {
  const parts = splitCallingCode(e164);
  if (parts === undefined) return 'other';
  let type: NumberType | undefined;
  if (packForCallingCode(parts.cc) === undefined && !['870', '881', '882'].includes(parts.cc)) {
    const lpType = parsePhoneNumberFromString(e164)?.getType();
    type = lpType === undefined ? undefined : TYPE_NAMES[lpType];
  }
  return classifyParts(parts.cc, parts.nsn, type);
}

function invalid(raw: string, reason: string): NormalisedNumber {
  return { kind: 'invalid', raw, reason };
}

/** The E.164 result from libphonenumber's answers (its PhoneNumber, or the same fields from {@link fastE164}). */
function e164Result(
  raw: string,
  e164: string,
  cc: string,
  nsn: string,
  country: string | undefined,
  lpType: PhoneNumberType | undefined,
  valid: boolean,
): NormalisedNumber {
  if (e164.length > 16) return invalid(raw, `more than 15 digits ("${e164}")`);
  let type: NumberType | undefined = valid && lpType !== undefined ? TYPE_NAMES[lpType] : undefined;
  const category = classifyParts(cc, nsn, type);
  if (category === 'm2m') type = 'm2m';
  const out: { kind: 'e164'; e164: string; country?: string; type?: NumberType; category: NumberCategory; valid: boolean } = {
    kind: 'e164',
    e164,
    category,
    valid,
  };
  if (country !== undefined) out.country = country;
  if (type !== undefined) out.type = type;
  return out;
}

function fromParsed(raw: string, p: PhoneNumber): NormalisedNumber {
  // getType() is undefined for every invalid number, and isValid() is getType() !== undefined when the metadata
  // has types (always, with /max): ask for the type once and for validity only when there is no type.
  const typed = p.getType();
  const valid = typed !== undefined || p.isValid();
  return e164Result(raw, p.number, p.countryCallingCode, p.nationalNumber, p.country, typed, valid);
}

/** `+` and at least one digit, nothing else. */
function isPlusDigits(s: string): boolean {
  const n = s.length;
  if (n < 2 || s.charCodeAt(0) !== 0x2b) return false;
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** `+` followed by digits. */
function fromInternational(raw: string, plusDigits: string, fast: boolean): NormalisedNumber {
  const digits = plusDigits.slice(1);
  if (digits.length < 2 || digits.length > 15 || digits.startsWith('0')) {
    return invalid(raw, `not an E.164 number ("${plusDigits}")`);
  }
  const f = fast ? fastE164(plusDigits) : undefined;
  if (f !== undefined) return e164Result(raw, plusDigits, f.countryCallingCode, f.nationalNumber, f.country, f.type, f.type !== undefined);
  const p = parsePhoneNumberFromString(plusDigits);
  if (p !== undefined && p.number === plusDigits) return fromParsed(raw, p);
  // libphonenumber knows no plan for it (e.g. an unassigned country code): still E.164-shaped.
  const parts = splitCallingCode(plusDigits);
  const category = parts === undefined ? 'other' : classifyParts(parts.cc, parts.nsn, undefined);
  return { kind: 'e164', e164: plusDigits, category, valid: false };
}

/** National or bare digits in the numbering plan of `region` or of calling code `cc`. */
function fromNational(
  raw: string,
  digits: string,
  where: { readonly defaultCountry: CountryCode } | { readonly defaultCallingCode: string },
): NormalisedNumber {
  const p = parsePhoneNumberFromString(digits, where);
  if (p !== undefined && p.isValid()) return fromParsed(raw, p);
  // Digits that already carry a country code but lost their '+' (common on trunks).
  if (!digits.startsWith('0')) {
    const q = parsePhoneNumberFromString(`+${digits}`);
    if (q !== undefined && q.isValid()) return fromParsed(raw, q);
  }
  if (p !== undefined) return fromParsed(raw, p);
  return invalid(raw, `not a phone number ("${digits}")`);
}

/**
 * Normalises without caching; see {@link normaliseNumber}. `fast: false` asks libphonenumber for every `+CC…` number
 * instead of the compiled-plan fast path (the reference the fast path is tested against).
 */
export function normaliseNumberUncached(input: string, country: string, fast = true): NormalisedNumber {
  // The form most CLIs arrive in; none of the clean-up below changes it (the regex replaces and tests cost more
  // than the compiled-plan lookup itself: ~2 µs of a new number's 3).
  if (isPlusDigits(input)) return fromInternational(input, input, fast);
  const raw = input;
  let s = input.trim();
  if (/^tel:/i.test(s)) s = s.slice(4);
  if (s.includes('%')) {
    try {
      s = decodeURIComponent(s);
    } catch {
      return invalid(raw, 'bad percent-encoding');
    }
  }
  // RFC 3966 §5.1 parameters (and the same user-part parameters on sip: URIs, RFC 3261 §19.1.6):
  // only phone-context changes the number; npdi, rn, isub, verstat, cpc, oli, ext do not.
  const semi = s.indexOf(';');
  const main = (semi < 0 ? s : s.slice(0, semi)).trim();
  let context: string | undefined;
  if (semi >= 0) {
    for (const param of s.slice(semi + 1).split(';')) {
      const eq = param.indexOf('=');
      if (eq > 0 && param.slice(0, eq).trim().toLowerCase() === 'phone-context') context = param.slice(eq + 1).trim();
    }
  }
  if (WITHHELD.has(main.toLowerCase())) return { kind: 'withheld', raw };
  // "+31 (0)20 …": the bracketed trunk prefix is a print convention, not a digit.
  const compact = main.replace(/^(\+\d{1,3})\s*\(0\)/, '$1').replace(SEPARATORS, '');
  if (!/^\+?\d+$/.test(compact)) {
    if (/\p{L}/u.test(compact)) return { kind: 'alphanumeric', raw };
    return invalid(raw, `not a number ("${main}")`);
  }
  if (compact.startsWith('+')) return fromInternational(raw, compact, fast);
  if (compact.startsWith('00')) {
    // Australia's emergency number 000 starts like an international prefix.
    if (compact.length <= 4) {
      const region = country.toUpperCase();
      const short = isSupportedCountry(region) ? shortCategory(getCountryCallingCode(region), compact) : undefined;
      if (short !== undefined) return { kind: 'short', raw, digits: compact, country: region, category: short };
    }
    return fromInternational(raw, `+${compact.slice(2)}`, fast);
  }

  if (context !== undefined && context.startsWith('+')) {
    const ctx = context.slice(1).replace(SEPARATORS, '');
    if (/^\d+$/.test(ctx)) {
      if (CALLING_CODES.has(ctx)) {
        const short = shortCategory(ctx, compact);
        if (short !== undefined) {
          return { kind: 'short', raw, digits: compact, country: REGION_FOR_CODE.get(ctx) ?? '001', category: short };
        }
        return fromNational(raw, compact, { defaultCallingCode: ctx });
      }
      // A context longer than a country code (e.g. "+3120") is the leading digits of the number.
      return fromInternational(raw, `+${ctx}${compact}`, fast);
    }
  }
  // No context, or a domain-name context: the number is local to the peer's country.
  const region = country.toUpperCase();
  if (!isSupportedCountry(region)) return invalid(raw, `national number without a known country ("${country}")`);
  const short = shortCategory(getCountryCallingCode(region), compact);
  if (short !== undefined) return { kind: 'short', raw, digits: compact, country: region, category: short };
  return fromNational(raw, compact, { defaultCountry: region });
}

export interface NumberNormaliser {
  /**
   * Normalises the user part of a sip:/sips: URI or a tel: number as seen from a peer in
   * `country` (ISO 3166 alpha-2). Results are frozen and shared: do not mutate.
   */
  normalise(input: string, country: string): NormalisedNumber;
  /** Entries currently cached. */
  readonly size: number;
  /** The bound: at most this many entries are cached (`limits.numberCache`). */
  readonly maxSize: number;
  /** Entries dropped from the cache so far (the old generation when the young one filled up). */
  readonly evictions: number;
}

/**
 * A normaliser with its own bounded cache: the same numbers repeat call after call, and a new `+CC…` number costs
 * about a microsecond (tens when libphonenumber's parser is needed). The cache has two generations per country:
 * new results go into the young one; when that is full the old generation is dropped and the young one takes its
 * place, and a hit in the old one moves the entry back to the young one. So what is in use stays, at most
 * `cacheSize` entries are kept (half in each generation), and a miss costs two lookups and one insertion (an
 * oldest-first eviction per miss, with its own order ring, was ~2% of a 1M-message analysis where most callers are
 * new).
 */
export function createNumberNormaliser(options: { readonly cacheSize?: number } = {}): NumberNormaliser {
  const max = Math.max(1, options.cacheSize ?? 10_000);
  const half = Math.max(1, Math.floor(max / 2));
  const keepOld = 2 * half <= max;
  // Per country, keyed by the input itself: no key string to build (and hash) per lookup.
  const byCountry = new Map<string, { young: Map<string, NormalisedNumber>; old: Map<string, NormalisedNumber> }>();
  let youngSize = 0;
  let oldSize = 0;
  let evictions = 0;
  return {
    normalise(input: string, country: string): NormalisedNumber {
      let gen = byCountry.get(country);
      if (gen === undefined) byCountry.set(country, (gen = { young: new Map(), old: new Map() }));
      const hit = gen.young.get(input);
      if (hit !== undefined) return hit;
      let result = gen.old.get(input);
      if (result !== undefined) {
        gen.old.delete(input);
        oldSize--;
      } else result = Object.freeze(normaliseNumberUncached(input, country));
      if (youngSize >= half) {
        // The young generation is full: the old one goes (every country's), the young one becomes the old one.
        evictions += keepOld ? oldSize : oldSize + youngSize;
        for (const g of byCountry.values()) {
          g.old = keepOld ? g.young : new Map();
          g.young = new Map();
        }
        oldSize = keepOld ? youngSize : 0;
        youngSize = 0;
      }
      gen.young.set(input, result);
      youngSize++;
      return result;
    },
    get size() {
      return youngSize + oldSize;
    },
    maxSize: max,
    get evictions() {
      return evictions;
    },
  };
}

const sharedNormaliser = createNumberNormaliser();

/**
 * Normalises a calling/called number (RULES.md §3) with a process-wide bounded cache.
 * `+CC…` as is; `00CC…` → `+CC…`; national `0…` and bare national significant numbers → the
 * peer country's code; `phone-context=+CC` applied; `anonymous`/`unavailable`/… → withheld;
 * letters → alphanumeric; the country's short/emergency numbers → short.
 */
export function normaliseNumber(input: string, country: string): NormalisedNumber {
  return sharedNormaliser.normalise(input, country);
}
