/**
 * Certificate path checks for STIR/SHAKEN (RULES.md §2 step 4; RFC 8224 §6.2.2, RFC 8226):
 * leaf → intermediates from the cached bundle → a configured trust anchor, leaf key EC P-256, leaf carries
 * TNAuthList. The time-independent part is computed once per (anchors, x5u) and memoised; validity is then
 * checked against the *capture* time of each call, never the wall clock.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { tnAuthListOf, type TnAuthEntry } from './tnauthlist.js';

/** Longest path we follow (leaf + intermediates); SHAKEN paths are 2–3 long. */
const MAX_PATH = 8;

export interface PathCert {
  readonly subject: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export type ChainVerdict =
  | {
      readonly ok: true;
      readonly leafKey: KeyObject;
      readonly tnAuthList: readonly TnAuthEntry[];
      /** leaf, intermediates, anchor — in that order. */
      readonly path: readonly PathCert[];
    }
  | { readonly ok: false; readonly reason: string };

/** Checks everything about a cached chain that does not depend on the call's time. */
export function verifyChain(chain: readonly X509Certificate[], anchors: readonly X509Certificate[]): ChainVerdict {
  const leaf = chain[0];
  if (!leaf) return { ok: false, reason: 'the cached certificate bundle is empty' };
  const key = leaf.publicKey;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const what = key.asymmetricKeyType === 'ec' ? `EC ${curve ?? 'unknown curve'}` : (key.asymmetricKeyType ?? 'unknown');
    return { ok: false, reason: `the signing certificate's key is ${what}, not EC P-256 as ES256 requires` };
  }
  const tn = tnAuthListOf(leaf.raw);
  if (tn.kind === 'absent') {
    return { ok: false, reason: 'the signing certificate has no TNAuthList extension, so it authorises no telephone numbers' };
  }
  if (tn.kind === 'invalid') return { ok: false, reason: `the signing certificate's TNAuthList is malformed: ${tn.reason}` };

  const path: X509Certificate[] = [leaf];
  const used = new Set<number>([0]);
  let current = leaf;
  for (;;) {
    const anchor = anchors.find((a) => issuedBy(current, a));
    if (anchor) {
      path.push(anchor);
      break;
    }
    if (path.length >= MAX_PATH) return { ok: false, reason: `the certificate chain is longer than ${MAX_PATH}` };
    const idx = chain.findIndex((c, i) => !used.has(i) && c.ca && issuedBy(current, c));
    const next = chain[idx];
    if (idx < 0 || !next) {
      return {
        ok: false,
        reason: `the certificate chain does not lead to a configured trust anchor (no trusted issuer for "${oneLine(current.subject)}", issued by "${oneLine(current.issuer)}")`,
      };
    }
    used.add(idx);
    path.push(next);
    current = next;
  }
  return {
    ok: true,
    leafKey: key,
    tnAuthList: tn.value,
    path: path.map((c) => ({ subject: oneLine(c.subject), notBeforeMs: Date.parse(c.validFrom), notAfterMs: Date.parse(c.validTo) })),
  };
}

/** Why the path is not valid at `timeMs`, or undefined when every certificate is valid then. */
export function validityProblemAt(path: readonly PathCert[], timeMs: number): string | undefined {
  for (const c of path) {
    if (!(timeMs >= c.notBeforeMs)) {
      return `certificate "${c.subject}" was not yet valid at the capture time ${iso(timeMs)} (valid from ${iso(c.notBeforeMs)})`;
    }
    if (!(timeMs <= c.notAfterMs)) {
      return `certificate "${c.subject}" had expired at the capture time ${iso(timeMs)} (valid until ${iso(c.notAfterMs)})`;
    }
  }
  return undefined;
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

function iso(ms: number): string {
  const d = new Date(ms); // NaN beyond ±8.64e15 ms (a capture time shifted by a huge if_tsoffset)
  return Number.isNaN(d.getTime()) ? 'an unreadable date' : d.toISOString();
}
