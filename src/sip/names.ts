import { LOWER } from './chars.js';

/**
 * Header-name canonicalisation: lowercase full names, compact forms mapped to their full names
 * (RFC 3261 §7.3.3 and the IANA "Header Fields" registry). Known names are recognised by comparing
 * bytes, so the hot path never decodes or lowercases a name string.
 */

/** Compact form → canonical (lowercase full) name. */
export const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

const KNOWN = [
  'accept',
  'accept-contact',
  'accept-encoding',
  'accept-language',
  'alert-info',
  'allow',
  'allow-events',
  'authorization',
  'call-id',
  'call-info',
  'contact',
  'content-disposition',
  'content-encoding',
  'content-length',
  'content-type',
  'cseq',
  'date',
  'diversion',
  'event',
  'expires',
  'from',
  'history-info',
  'identity',
  'identity-info',
  'max-forwards',
  'min-se',
  'organization',
  'p-access-network-info',
  'p-asserted-identity',
  'p-charging-vector',
  'p-early-media',
  'p-preferred-identity',
  'privacy',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-require',
  'rack',
  'reason',
  'record-route',
  'refer-to',
  'referred-by',
  'reject-contact',
  'remote-party-id',
  'request-disposition',
  'require',
  'route',
  'rseq',
  'server',
  'session-expires',
  'subject',
  'subscription-state',
  'supported',
  'timestamp',
  'to',
  'unsupported',
  'user-agent',
  'via',
  'warning',
  'www-authenticate',
];

/**
 * Header names recognised while splitting: the ones the split itself needs (duplicates, framing,
 * mandatory headers) and every name that has a compact form, so that a lookup by id finds all
 * spellings. Id 0 means "other": such names are compared (by length first, then bytes) or decoded
 * only when a caller asks for them, which keeps the split from touching most name bytes twice.
 */
export const EAGER_NAMES = [
  '',
  'from',
  'to',
  'call-id',
  'cseq',
  'via',
  'content-length',
  'max-forwards',
  ...Object.values(COMPACT_FORMS).filter((n) => !['from', 'to', 'call-id', 'via', 'content-length'].includes(n)),
] as const;

export const ID_FROM = 1;
export const ID_TO = 2;
export const ID_CALL_ID = 3;
export const ID_CSEQ = 4;
export const ID_VIA = 5;
export const ID_CONTENT_LENGTH = 6;
export const ID_MAX_FORWARDS = 7;

const ID_BY_NAME = new Map<string, number>();
EAGER_NAMES.forEach((name, id) => {
  if (id !== 0) ID_BY_NAME.set(name, id);
});
/** Lowercase bytes of every known name, for byte comparison at lookup time. */
const BYTES_BY_NAME = new Map<string, Uint8Array>();
for (const n of KNOWN) BYTES_BY_NAME.set(n, Buffer.from(n, 'latin1'));

/**
 * Id of a recognised header name at `buf[s..e)` (any case, compact forms included), else 0: the split's name machine
 * (below) walked over the name, for names the split did not end at their ':' (whitespace before it) and the framer.
 */
export function identifyName(buf: Buffer, s: number, e: number): number {
  const states = NAME_STATES; // a local: see chars.ts
  let st = 0;
  for (let i = s; i < e; i++) {
    st = states[(st << 8) | buf[i]!]!;
    if (st === NAME_END) return 0; // ':' or LF inside: not a name
  }
  return NAME_ACCEPT[st]!;
}

/**
 * The recognised spellings (EAGER_NAMES and the compact forms) as a state machine over raw bytes, for the split: one
 * table load per name byte finds both the end of the name and its id, where scanning for ':' and then comparing the
 * name against its candidates went over each name twice (the comparison alone was ~13% of the split's instructions). `NAME_STATES`
 * has 256 entries per state (`state << 8 | byte`); state 0 is the start, state 1 matches no known name; ':' and LF
 * lead to NAME_END from every state. `NAME_ACCEPT[state]` is the id of the name spelled so far (0: none).
 */
export const NAME_END = 0xffff;
function nameMachine(): { readonly states: Uint16Array; readonly accept: Uint8Array } {
  const DEAD = 1;
  const next: number[][] = [[], []];
  const accept: number[] = [0, 0];
  const add = (spelling: string, id: number): void => {
    let st = 0;
    for (let i = 0; i < spelling.length; i++) {
      const c = spelling.charCodeAt(i);
      let n = next[st]![c];
      if (n === undefined) {
        n = next.length;
        next.push([]);
        accept.push(0);
        next[st]![c] = n;
      }
      st = n;
    }
    accept[st] = id;
  };
  EAGER_NAMES.forEach((name, id) => {
    if (id !== 0) add(name, id);
  });
  for (const [k, v] of Object.entries(COMPACT_FORMS)) add(k, ID_BY_NAME.get(v) ?? 0);
  const states = new Uint16Array(next.length * 256).fill(DEAD);
  for (let st = 0; st < next.length; st++) {
    for (let c = 0; c < 256; c++) {
      const n = next[st]![LOWER[c]!];
      if (n !== undefined) states[(st << 8) | c] = n;
    }
    states[(st << 8) | 0x3a] = NAME_END;
    states[(st << 8) | 0x0a] = NAME_END;
  }
  if (next.length >= NAME_END || accept.some((id) => id > 255)) throw new Error('header-name table too large');
  return { states, accept: Uint8Array.from(accept) };
}
const MACHINE = nameMachine();
export const NAME_STATES = MACHINE.states;
export const NAME_ACCEPT = MACHINE.accept;

/** Id of a canonical name (0 when it is not recognised while splitting). */
export function idOfName(canonical: string): number {
  return ID_BY_NAME.get(canonical) ?? 0;
}

/** Lowercase bytes of a canonical name, for comparing against raw header names. */
export function bytesOfName(canonical: string): Uint8Array {
  return BYTES_BY_NAME.get(canonical) ?? Buffer.from(canonical, 'latin1');
}

/** True when `buf[s..e)` spells `lower` (lowercase bytes) in any case. */
export function nameEquals(buf: Buffer, s: number, e: number, lower: Uint8Array): boolean {
  const len = e - s;
  if (len !== lower.length) return false;
  for (let j = 0; j < len; j++) if (LOWER[buf[s + j]!] !== lower[j]) return false;
  return true;
}

/** Canonical (lowercase, compact forms expanded) name of the raw header name at `buf[s..e)`. */
export function canonicalNameOf(buf: Buffer, s: number, e: number): string {
  const id = identifyName(buf, s, e);
  if (id !== 0) return EAGER_NAMES[id]!;
  const lower = buf.toString('latin1', s, e).toLowerCase();
  return Object.hasOwn(COMPACT_FORMS, lower) ? (COMPACT_FORMS[lower] ?? lower) : lower;
}

/** Canonical form of a header name given as a string (for lookups by callers). */
export function canonicalize(name: string): string {
  const lower = name.toLowerCase();
  return Object.hasOwn(COMPACT_FORMS, lower) ? (COMPACT_FORMS[lower] ?? lower) : lower;
}
