/**
 * Importable do-not-originate lists (RULES.md §4 CLI-DNO; issue #21 point 4): `lists.doNotOriginateFiles`.
 *
 * A file holds one entry per line, either
 * - plain: one E.164 number (`+31201234567`, a whole number, matched exactly) or one range
 *   (`+31205550000-+31205559999`, inclusive, both ends the same length), or
 * - CSV: `number,owner` (the number field as above; the owner is what CLI-DNO names). A first line whose
 *   fields include `number` is a header and may put the columns in any order (`owner,number,comment`).
 *   Fields may be quoted with `"` (`""` inside quotes is one quote).
 * `#` starts a comment (outside quotes), blank lines are skipped, CR-LF and LF line ends are both read.
 * A bad line is reported with its line number and skipped; the rest of the file still loads.
 *
 * The FCC (47 CFR §64.1200(k)(1)) and Ofcom (General Condition C6.6, DNO list) let carriers block calls
 * that present numbers whose holders never call out; this module lets those lists be imported as files.
 *
 * Entries are kept in flat typed arrays (about 28 bytes each), not one object per line: a million-line file
 * loads in well under a second and about 30 MB (`npm run bench` row "DNO file"). An E.164 number has no
 * leading zero, so its digits read as a number are a unique key (< 10^15, exact in a double), and a range
 * of equal-length ends is a numeric interval.
 */
import { readBoundedFile } from '../util/bounded-read.js';

/** Largest DNO file read (bytes): ~10 million lines; anything bigger is refused, not truncated. */
export const DNO_FILE_MAX_BYTES = 256 * 1024 * 1024;
/** Longest owner name kept (characters). */
export const DNO_OWNER_MAX_CHARS = 200;
/** Bad lines reported per file; the rest are counted only. */
export const DNO_MAX_REPORTED_ERRORS = 100;

export interface DnoLineError {
  readonly line: number;
  readonly reason: string;
}

/** A match: the owner column (when the file has one), the file and the line of the entry. */
export interface DnoMatch {
  readonly owner?: string;
  readonly file: string;
  readonly line: number;
}

export interface DnoListParts {
  readonly file: string;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly lines: Uint32Array;
  readonly ownerIdx: Uint32Array;
  readonly owners: readonly string[];
}

/** The compiled entries of one file. */
export class DnoList {
  /** Entries in ascending `lo` order. */
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  /** The largest `hi` among entries 0..i, so a lookup knows when no earlier entry can contain the number. */
  private readonly maxHi: Float64Array;
  private readonly lines: Uint32Array;
  /** 0: no owner; else index + 1 into `owners`. */
  private readonly ownerIdx: Uint32Array;

  constructor(
    readonly file: string,
    lo: Float64Array,
    hi: Float64Array,
    lines: Uint32Array,
    ownerIdx: Uint32Array,
    private readonly owners: readonly string[],
  ) {
    this.lo = lo;
    this.hi = hi;
    this.lines = lines;
    this.ownerIdx = ownerIdx;
    this.maxHi = new Float64Array(lo.length);
    let m = -1;
    for (let i = 0; i < hi.length; i++) {
      const h = hi[i]!;
      if (h > m) m = h;
      this.maxHi[i] = m;
    }
  }

  get size(): number {
    return this.lo.length;
  }

  /** The arrays behind the list, to move it between threads (their buffers can be transferred). */
  parts(): DnoListParts {
    return { file: this.file, lo: this.lo, hi: this.hi, lines: this.lines, ownerIdx: this.ownerIdx, owners: this.owners };
  }

  /** A list from {@link DnoList.parts} (e.g. received from a worker thread). */
  static fromParts(p: DnoListParts): DnoList {
    return new DnoList(p.file, p.lo, p.hi, p.lines, p.ownerIdx, p.owners);
  }

  /** The most specific (narrowest, then first in the file) entry containing `e164` (`+` and digits). */
  lookup(e164: string): DnoMatch | undefined {
    const v = e164Value(e164);
    if (v < 0) return undefined;
    // Last entry with lo <= v.
    let a = 0;
    let b = this.lo.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.lo[mid]! <= v) a = mid + 1;
      else b = mid;
    }
    let best = -1;
    for (let i = a - 1; i >= 0 && this.maxHi[i]! >= v; i--) {
      if (this.hi[i]! >= v && (best < 0 || this.hi[i]! - this.lo[i]! <= this.hi[best]! - this.lo[best]!)) best = i;
    }
    if (best < 0) return undefined;
    const o = this.ownerIdx[best]!;
    const owner = o > 0 ? this.owners[o - 1] : undefined;
    return { ...(owner !== undefined ? { owner } : {}), file: this.file, line: this.lines[best]! };
  }
}

/** The digits of a `+` E.164 number as a number, or -1 when it is not one. */
function e164Value(s: string): number {
  const n = s.length;
  if (n < 2 || n > 16 || s.charCodeAt(0) !== 0x2b || s.charCodeAt(1) === 0x30) return -1;
  let v = 0;
  for (let i = 1; i < n; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

export interface DnoParseResult {
  readonly list: DnoList;
  /** The first {@link DNO_MAX_REPORTED_ERRORS} bad lines. */
  readonly errors: readonly DnoLineError[];
  /** All bad lines, reported or not. */
  readonly badLines: number;
}

const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;
const COMMA = 0x2c;
const QUOTE = 0x22;
const PLUS = 0x2b;
const DASH = 0x2d;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Parses a DNO file's bytes (pure: no I/O). `file` only names the list in matches. Never throws on any input.
 */
export function parseDnoFile(file: string, bytes: Buffer): DnoParseResult {
  // One pass to size the arrays (a line per LF), so they are allocated once.
  let capacity = 1;
  for (let p = bytes.indexOf(LF); p >= 0; p = bytes.indexOf(LF, p + 1)) capacity++;
  let lo: Float64Array = new Float64Array(capacity);
  let hi: Float64Array = new Float64Array(capacity);
  let lines: Uint32Array = new Uint32Array(capacity);
  let ownerIdx: Uint32Array = new Uint32Array(capacity);
  const owners: string[] = [];
  const ownerIndex = new Map<string, number>();
  const errors: DnoLineError[] = [];
  let badLines = 0;
  let n = 0;
  let sorted = true;
  // Column positions; set by a header line, else number first, owner second.
  let numberCol = 0;
  let ownerCol = 1;
  let seenContent = false;
  /** A header line was read: every later line is CSV, with or without a comma. */
  let header = false;
  const fields: string[] = [];
  const bad = (line: number, reason: string): void => {
    badLines++;
    if (errors.length < DNO_MAX_REPORTED_ERRORS) errors.push({ line, reason });
  };

  let lineNo = 0;
  let start = 0;
  const len = bytes.length;
  while (start < len) {
    lineNo++;
    let end = bytes.indexOf(LF, start);
    if (end < 0) end = len;
    const next = end + 1;
    if (end > start && bytes[end - 1] === CR) end--;
    // Fast path: a plain line `+digits` (optionally with a range), no comma, quote or comment.
    let s = start;
    while (s < end && isSpace(bytes[s]!)) s++;
    let e = end;
    while (e > s && isSpace(bytes[e - 1]!)) e--;
    start = next;
    if (s === e || bytes[s] === HASH) continue;
    let comma = -1;
    let quoted = false;
    let hash = -1;
    for (let i = s; i < e; i++) {
      const c = bytes[i]!;
      if (c === COMMA) {
        if (comma < 0) comma = i;
      } else if (c === QUOTE) quoted = true;
      else if (c === HASH) {
        hash = i;
        break;
      }
    }
    if (!quoted && hash >= 0) {
      // A trailing comment: the line ends before it.
      e = hash;
      while (e > s && isSpace(bytes[e - 1]!)) e--;
      if (comma >= e) comma = -1;
    }
    let numLo = 0;
    let numHi = 0;
    let owner: string | undefined;
    if (comma < 0 && !quoted && !header) {
      // Plain line: one number or range.
      seenContent = true;
      const r = parseEntry(bytes, s, e);
      if (typeof r === 'string') {
        bad(lineNo, r);
        continue;
      }
      numLo = r.lo;
      numHi = r.hi;
    } else {
      // CSV. Unquoted lines (the common case) are cut at their commas without building a field array.
      let numS: number;
      let numE: number;
      let ownerText: string;
      if (!quoted && comma >= 0 && seenContent && numberCol === 0 && ownerCol === 1) {
        numS = s;
        numE = comma;
        let oe = bytes.indexOf(COMMA, comma + 1);
        if (oe < 0 || oe > e) oe = e;
        ownerText = bytes.toString('utf8', comma + 1, oe);
      } else {
        const split = splitCsv(bytes, s, e, fields);
        if (split !== undefined) {
          bad(lineNo, split);
          continue;
        }
        if (!seenContent && fields.some((f) => f.trim().toLowerCase() === 'number')) {
          seenContent = true;
          const lower = fields.map((f) => f.trim().toLowerCase());
          numberCol = lower.indexOf('number');
          ownerCol = lower.indexOf('owner');
          header = true;
          continue;
        }
        seenContent = true;
        const nb = Buffer.from(fields[numberCol] ?? '', 'utf8');
        const r = parseEntryTrimmed(nb, 0, nb.length, numberCol);
        if (typeof r === 'string') {
          bad(lineNo, r);
          continue;
        }
        numLo = r.lo;
        numHi = r.hi;
        ownerText = ownerCol >= 0 ? (fields[ownerCol] ?? '') : '';
        numS = -1;
        numE = -1;
      }
      if (numS >= 0) {
        const r = parseEntryTrimmed(bytes, numS, numE, numberCol);
        if (typeof r === 'string') {
          bad(lineNo, r);
          continue;
        }
        numLo = r.lo;
        numHi = r.hi;
      }
      const o = ownerText.trim();
      if (o.length > DNO_OWNER_MAX_CHARS) {
        bad(lineNo, `owner longer than ${DNO_OWNER_MAX_CHARS} characters`);
        continue;
      }
      if (CONTROL.test(o)) {
        bad(lineNo, 'control character in the owner');
        continue;
      }
      if (o !== '') owner = o;
    }
    if (n === lo.length) {
      // Only reached when a line without LF follows capacity lines: grow once.
      lo = grow(lo);
      hi = grow(hi);
      lines = growU32(lines);
      ownerIdx = growU32(ownerIdx);
    }
    if (n > 0 && numLo < lo[n - 1]!) sorted = false;
    lo[n] = numLo;
    hi[n] = numHi;
    lines[n] = lineNo;
    if (owner !== undefined) {
      let idx = ownerIndex.get(owner);
      if (idx === undefined) {
        owners.push(owner);
        idx = owners.length;
        ownerIndex.set(owner, idx);
      }
      ownerIdx[n] = idx;
    }
    n++;
  }
  lo = lo.subarray(0, n);
  hi = hi.subarray(0, n);
  lines = lines.subarray(0, n);
  ownerIdx = ownerIdx.subarray(0, n);
  if (!sorted) {
    const order = sortOrder(lo);
    // Apply the permutation in place, one cycle at a time (no second set of arrays).
    for (let i = 0; i < n; i++) {
      if (order[i] === i) continue;
      const sLo = lo[i]!;
      const sHi = hi[i]!;
      const sLine = lines[i]!;
      const sOwn = ownerIdx[i]!;
      let j = i;
      for (;;) {
        const k = order[j]!;
        order[j] = j;
        if (k === i) {
          lo[j] = sLo;
          hi[j] = sHi;
          lines[j] = sLine;
          ownerIdx[j] = sOwn;
          break;
        }
        lo[j] = lo[k]!;
        hi[j] = hi[k]!;
        lines[j] = lines[k]!;
        ownerIdx[j] = ownerIdx[k]!;
        j = k;
      }
    }
  }
  return { list: new DnoList(file, lo, hi, lines, ownerIdx, owners), errors, badLines };
}

/**
 * Indices of `keys` in ascending key order, ties in index order: an LSD radix sort (4 passes of 13 bits over
 * the 50-bit key), ~5× faster than a comparator sort of a million entries.
 */
function sortOrder(keys: Float64Array): Uint32Array {
  const n = keys.length;
  const low = new Uint32Array(n);
  const high = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const v = keys[i]!;
    const h = Math.floor(v / 0x4000000);
    high[i] = h;
    low[i] = v - h * 0x4000000;
  }
  let a = new Uint32Array(n);
  let b = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  const count = new Uint32Array(0x2000);
  for (const [k, shift] of [
    [low, 0],
    [low, 13],
    [high, 0],
    [high, 13],
  ] as const) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(k[a[i]!]! >>> shift) & 0x1fff]!++;
    let sum = 0;
    for (let d = 0; d < 0x2000; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const j = a[i]!;
      b[count[(k[j]! >>> shift) & 0x1fff]!++] = j;
    }
    const t = a;
    a = b;
    b = t;
  }
  return a;
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(Math.max(4, a.length * 2));
  b.set(a);
  return b;
}
function growU32(a: Uint32Array): Uint32Array {
  const b = new Uint32Array(Math.max(4, a.length * 2));
  b.set(a);
  return b;
}

/** {@link parseEntry} on a CSV field: blanks around it are dropped, an empty one is named. */
function parseEntryTrimmed(bytes: Buffer, s: number, e: number, col: number): { lo: number; hi: number } | string {
  while (s < e && isSpace(bytes[s]!)) s++;
  while (e > s && isSpace(bytes[e - 1]!)) e--;
  if (s === e) return `no number in column ${col + 1}`;
  return parseEntry(bytes, s, e);
}

/** `+digits` or `+digits-+digits` in bytes[s, e) → its interval, or the reason it is not one. */
function parseEntry(bytes: Buffer, s: number, e: number): { lo: number; hi: number } | string {
  const a = parseNumber(bytes, s, e);
  if (a.end === e) {
    if (a.value < 0) return notANumber(bytes, s, e);
    return { lo: a.value, hi: a.value };
  }
  let d = a.end;
  while (d < e && isSpace(bytes[d]!)) d++;
  if (a.value < 0 || bytes[d] !== DASH) return notANumber(bytes, s, e);
  d++;
  while (d < e && isSpace(bytes[d]!)) d++;
  const b = parseNumber(bytes, d, e);
  if (b.value < 0 || b.end !== e) return notANumber(bytes, s, e);
  if (a.digits !== b.digits) return `range ends differ in length (${quote(bytes, s, e)})`;
  if (a.value > b.value) return `range start is after its end (${quote(bytes, s, e)})`;
  return { lo: a.value, hi: b.value };
}

/** Reads `+` and 1–15 digits (first not 0) at s; value -1 when that is not there. */
function parseNumber(bytes: Buffer, s: number, e: number): { value: number; end: number; digits: number } {
  if (s >= e || bytes[s] !== PLUS) return { value: -1, end: s, digits: 0 };
  let i = s + 1;
  let v = 0;
  while (i < e) {
    const d = bytes[i]! - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    i++;
  }
  const digits = i - s - 1;
  if (digits < 1 || digits > 15 || bytes[s + 1] === 0x30) return { value: -1, end: i, digits };
  return { value: v, end: i, digits };
}

function notANumber(bytes: Buffer, s: number, e: number): string {
  return `not an E.164 number or range (${quote(bytes, s, e)}; write +CC… with 1–15 digits, or +lo-+hi)`;
}

function quote(bytes: Buffer, s: number, e: number): string {
  const text = bytes.toString('utf8', s, Math.min(e, s + 60)).replace(/[\u0000-\u001f\u007f]/g, '?');
  return JSON.stringify(e - s > 60 ? `${text}…` : text);
}

/** Splits a CSV line (RFC 4180 quoting) into `out`, dropping a `#` comment outside quotes; a reason when it is broken. */
function splitCsv(bytes: Buffer, s: number, e: number, out: string[]): string | undefined {
  out.length = 0;
  let i = s;
  for (;;) {
    while (i < e && isSpace(bytes[i]!)) i++;
    if (i < e && bytes[i] === QUOTE) {
      let text = '';
      let j = i + 1;
      let closed = false;
      while (j < e) {
        const q = bytes.indexOf(QUOTE, j);
        if (q < 0 || q >= e) break;
        text += bytes.toString('utf8', j, q);
        if (q + 1 < e && bytes[q + 1] === QUOTE) {
          text += '"';
          j = q + 2;
          continue;
        }
        j = q + 1;
        closed = true;
        break;
      }
      if (!closed) return 'unterminated quoted field';
      out.push(text);
      i = j;
      while (i < e && isSpace(bytes[i]!)) i++;
      if (i >= e || bytes[i] === HASH) return undefined;
      if (bytes[i] !== COMMA) return 'text after a quoted field';
      i++;
      continue;
    }
    let j = i;
    while (j < e && bytes[j] !== COMMA && bytes[j] !== HASH) j++;
    out.push(bytes.toString('utf8', i, j));
    if (j >= e || bytes[j] === HASH) return undefined;
    i = j + 1;
  }
}

/** One file read and parsed, or why not. */
export type DnoReadOutcome = { readonly kind: 'ok'; readonly result: DnoParseResult } | { readonly kind: 'error'; readonly reason: string };

/** What one (re)load did, per file, for logs and `config check`. */
export interface DnoFileReport {
  readonly file: string;
  /** Entries now in use for this file. */
  readonly entries: number;
  readonly badLines: number;
  /** Bad lines as `FILE:LINE: reason` (the first {@link DNO_MAX_REPORTED_ERRORS}). */
  readonly errors: readonly string[];
  /** Set when the file could not be read: the previous entries (if any) stay in use. */
  readonly readError?: string;
}

/**
 * The configured DNO files, loaded together. `load()` re-reads every file (start, SIGHUP, a change seen by
 * the daemon's watch) and swaps each file's entries at once; a file that cannot be read keeps the entries it
 * had, so a half-written or briefly missing file never empties the list.
 */
export class DnoFiles {
  private lists: (DnoList | undefined)[];
  private lastReport: readonly DnoFileReport[] = [];

  constructor(
    readonly files: readonly string[],
    private readonly maxBytes: number = DNO_FILE_MAX_BYTES,
  ) {
    this.lists = files.map(() => undefined);
  }

  /** Re-reads every file on this thread (start, SIGHUP, `config check`, `analyze`). */
  load(): readonly DnoFileReport[] {
    return this.apply(
      this.files.map((file) => {
        const r = readBoundedFile(file, this.maxBytes);
        return r.kind === 'invalid' ? { kind: 'error' as const, reason: r.reason } : { kind: 'ok' as const, result: parseDnoFile(file, r.bytes) };
      }),
    );
  }

  /**
   * Re-reads every file with `read` (the daemon passes one that parses in a worker thread, so a million-line file
   * does not stall ingestion), then swaps the new entries in at once.
   */
  async loadWith(read: (file: string, maxBytes: number) => Promise<DnoReadOutcome>): Promise<readonly DnoFileReport[]> {
    const outcomes: DnoReadOutcome[] = [];
    for (const file of this.files) {
      try {
        outcomes.push(await read(file, this.maxBytes));
      } catch (e) {
        outcomes.push({ kind: 'error', reason: e instanceof Error ? e.message : String(e) });
      }
    }
    return this.apply(outcomes);
  }

  private apply(outcomes: readonly DnoReadOutcome[]): readonly DnoFileReport[] {
    const report: DnoFileReport[] = [];
    this.files.forEach((file, i) => {
      const o = outcomes[i];
      if (!o || o.kind === 'error') {
        report.push({ file, entries: this.lists[i]?.size ?? 0, badLines: 0, errors: [], readError: `${file}: ${o?.reason ?? 'not read'}` });
        return;
      }
      this.lists[i] = o.result.list;
      report.push({
        file,
        entries: o.result.list.size,
        badLines: o.result.badLines,
        errors: o.result.errors.map((er) => `${file}:${er.line}: ${er.reason}`),
      });
    });
    this.lastReport = report;
    return report;
  }

  /** The report of the last `load()`. */
  get report(): readonly DnoFileReport[] {
    return this.lastReport;
  }

  get size(): number {
    let n = 0;
    for (const l of this.lists) n += l?.size ?? 0;
    return n;
  }

  /** The first file (in config order) with an entry containing `e164`. */
  lookup(e164: string): DnoMatch | undefined {
    for (const l of this.lists) {
      const m = l?.lookup(e164);
      if (m) return m;
    }
    return undefined;
  }
}
