/**
 * E.164 prefix and range sets: `allowedNumbers`, `presentationNumbers`, the protected and
 * do-not-originate lists and brand numbers (RULES.md §4: CLI-NOT-AUTHORIZED, CLI-PROTECTED, CLI-DNO,
 * DISPLAY-IMPERSONATION).
 *
 * Syntax of one entry:
 * - prefix `+3120555`: every E.164 number that starts with these digits;
 * - range `+31205550000-+31205559999`: inclusive, both ends the same length; it matches only
 *   numbers of exactly that length.
 *
 * A range is compiled into the few prefixes that cover it exactly (a range of equal-length digit
 * strings is a union of at most 18 prefixes per digit position), so a lookup is at most two Map
 * probes per digit of the number, whatever the number of entries.
 */

export type NumberPattern =
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'range'; readonly lo: string; readonly hi: string };

export type NumberPatternParse =
  | { readonly kind: 'ok'; readonly pattern: NumberPattern }
  | { readonly kind: 'invalid'; readonly reason: string };

const E164_PREFIX = /^\+[1-9]\d{0,14}$/;
const E164_RANGE_END = /^\+[1-9]\d{1,14}$/;

/**
 * Parses one entry; the reason names the entry text, e.g.
 * `not an E.164 prefix or range ("031205550000")`.
 */
export function parseNumberPattern(text: string): NumberPatternParse {
  const dash = text.indexOf('-', 1);
  if (dash < 0) {
    if (E164_PREFIX.test(text)) return { kind: 'ok', pattern: { kind: 'prefix', prefix: text } };
    return { kind: 'invalid', reason: `not an E.164 prefix or range ("${text}")` };
  }
  const lo = text.slice(0, dash).trim();
  const hi = text.slice(dash + 1).trim();
  if (!E164_RANGE_END.test(lo) || !E164_RANGE_END.test(hi)) {
    return { kind: 'invalid', reason: `not an E.164 prefix or range ("${text}")` };
  }
  if (lo.length !== hi.length) {
    return { kind: 'invalid', reason: `range ends differ in length ("${text}")` };
  }
  if (lo > hi) return { kind: 'invalid', reason: `range start is after its end ("${text}")` };
  return { kind: 'ok', pattern: { kind: 'range', lo, hi } };
}

/**
 * Prefixes (without '+') whose numbers of length `lo.length` are exactly [lo, hi].
 * `lo` and `hi` are equal-length digit strings with lo <= hi.
 */
export function rangeToPrefixes(lo: string, hi: string, out: string[] = []): string[] {
  if (lo === hi) {
    out.push(lo);
    return out;
  }
  let i = 0;
  while (lo[i] === hi[i]) i++;
  const common = lo.slice(0, i);
  const restLen = lo.length - i - 1;
  const zeros = '0'.repeat(restLen);
  const nines = '9'.repeat(restLen);
  const restLo = lo.slice(i + 1);
  const restHi = hi.slice(i + 1);
  const dl = Number(lo[i]);
  const dh = Number(hi[i]);
  if (restLo === zeros && restHi === nines && dl === 0 && dh === 9) {
    out.push(common);
    return out;
  }
  let from = dl;
  let to = dh;
  if (restLo !== zeros) {
    rangeToPrefixes(lo, common + String(dl) + nines, out);
    from = dl + 1;
  }
  if (restHi !== nines) to = dh - 1;
  for (let d = from; d <= to; d++) out.push(common + String(d));
  if (restHi !== nines) rangeToPrefixes(common + String(dh) + zeros, hi, out);
  return out;
}

/**
 * Maps E.164 prefixes and ranges to values; `lookup` returns the value of the most specific
 * (longest) matching entry. When two entries compile to the same prefix, the first one wins.
 */
export class NumberMatcher<T> {
  /** prefix (with '+') → value, for prefix entries (any length beyond the prefix). */
  private readonly open = new Map<string, T>();
  /** number length → prefix → value, for range entries (exact length only). */
  private readonly exact = new Map<number, Map<string, T>>();
  private readonly lengths = new Set<number>();
  private readonly prefixLengths: number[];
  readonly size: number;

  /** Throws TypeError on an invalid entry; config validation (`parseNumberPattern`) rejects those first. */
  constructor(entries: Iterable<readonly [string, T]>) {
    let n = 0;
    for (const [text, value] of entries) {
      const parsed = parseNumberPattern(text);
      if (parsed.kind === 'invalid') throw new TypeError(parsed.reason);
      n++;
      const p = parsed.pattern;
      if (p.kind === 'prefix') {
        if (!this.open.has(p.prefix)) this.open.set(p.prefix, value);
        this.lengths.add(p.prefix.length);
        continue;
      }
      let byPrefix = this.exact.get(p.lo.length);
      if (byPrefix === undefined) {
        byPrefix = new Map();
        this.exact.set(p.lo.length, byPrefix);
      }
      for (const digits of rangeToPrefixes(p.lo.slice(1), p.hi.slice(1))) {
        const key = `+${digits}`;
        if (!byPrefix.has(key)) byPrefix.set(key, value);
        this.lengths.add(key.length);
      }
    }
    this.size = n;
    this.prefixLengths = [...this.lengths].sort((a, b) => b - a);
  }

  /** Value of the longest entry matching `e164` (`+` and digits), or undefined. */
  lookup(e164: string): T | undefined {
    const byLength = this.exact.get(e164.length);
    for (const len of this.prefixLengths) {
      if (len > e164.length) continue;
      const key = e164.length === len ? e164 : e164.slice(0, len);
      if (byLength !== undefined) {
        const v = byLength.get(key);
        if (v !== undefined) return v;
      }
      const v = this.open.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

/** A set of E.164 numbers given as prefixes and ranges. */
export class NumberSet {
  private readonly matcher: NumberMatcher<string>;
  /** The entries as configured. */
  readonly entries: readonly string[];

  constructor(entries: readonly string[]) {
    this.entries = Object.freeze([...entries]);
    this.matcher = new NumberMatcher(entries.map((e) => [e, e] as const));
  }

  get size(): number {
    return this.matcher.size;
  }

  has(e164: string): boolean {
    return this.matcher.lookup(e164) !== undefined;
  }

  /** The configured entry that contains `e164` (most specific first), for alert evidence. */
  entryFor(e164: string): string | undefined {
    return this.matcher.lookup(e164);
  }
}
