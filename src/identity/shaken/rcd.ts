/**
 * Integrity of Rich Call Data (draft-ietf-stir-passport-rcd §6, "rcdi"): each entry maps a JSON pointer (RFC 6901)
 * into the signed `rcd` object to `sha256-<base64>` of that value's canonical JSON (RFC 8785 JCS). Content behind a
 * URL (an `icn` icon, a `jcl` card list) cannot be fetched offline: such entries are reported as unchecked, never as
 * failed. Pure functions; never throw.
 */
import { createHash } from 'node:crypto';

/** Deepest JSON nesting canonicalised; deeper rcd content is refused. */
const MAX_DEPTH = 32;

export type RcdIntegrity =
  | { readonly ok: true; readonly checked: readonly string[]; readonly unchecked: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** Checks every rcdi digest against the rcd object it points into. */
export function checkRcdIntegrity(rcd: Readonly<Record<string, unknown>>, rcdi: Readonly<Record<string, string>> | undefined): RcdIntegrity {
  const checked: string[] = [];
  const unchecked: string[] = [];
  for (const [pointer, digest] of Object.entries(rcdi ?? {})) {
    const value = resolvePointer(rcd, pointer);
    if (value === undefined) return { ok: false, reason: `rcdi names ${pointer}, which is not in the rcd claim` };
    const m = /^sha256-([A-Za-z0-9+/]{43}=?)$/.exec(digest);
    if (!m) return { ok: false, reason: `rcdi digest of ${pointer} is not sha256-<base64> ("${digest.slice(0, 40)}")` };
    if (typeof value === 'string' && /^https?:\/\//i.test(value)) {
      unchecked.push(pointer);
      continue;
    }
    const canonical = canonicalJson(value, 0);
    if (canonical === undefined) return { ok: false, reason: `rcd content at ${pointer} is nested deeper than ${MAX_DEPTH}` };
    const actual = createHash('sha256').update(canonical, 'utf8').digest('base64');
    if (actual.replace(/=+$/, '') !== m[1]!.replace(/=+$/, '')) {
      return { ok: false, reason: `the rcdi digest of ${pointer} does not match the signed content: the caller data were altered` };
    }
    checked.push(pointer);
  }
  return { ok: true, checked, unchecked };
}

/** RFC 6901 pointer into a JSON value; undefined when a step is missing. */
function resolvePointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      if (!/^(?:0|[1-9]\d*)$/.test(key)) return undefined;
      cur = cur[Number(key)];
    } else if (typeof cur === 'object' && cur !== null && Object.prototype.hasOwnProperty.call(cur, key)) {
      cur = (cur as Record<string, unknown>)[key];
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** RFC 8785 canonical JSON (keys sorted by UTF-16 code units, ECMAScript number and string forms). */
export function canonicalJson(v: unknown, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    const items: string[] = [];
    for (const x of v) {
      const c = canonicalJson(x, depth + 1);
      if (c === undefined) return undefined;
      items.push(c);
    }
    return `[${items.join(',')}]`;
  }
  if (typeof v === 'object') {
    const parts: string[] = [];
    for (const k of Object.keys(v as object).sort()) {
      const c = canonicalJson((v as Record<string, unknown>)[k], depth + 1);
      if (c === undefined) return undefined;
      parts.push(`${JSON.stringify(k)}:${c}`);
    }
    return `{${parts.join(',')}}`;
  }
  return 'null';
}
