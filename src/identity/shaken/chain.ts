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

/**
 * What the cached chain says independently of the call's time. Every fault found is listed in `problems`
 * (RFC 8224 §6.2.2: each is a 437), so an alert names them all rather than the first; the leaf key is kept
 * whenever it is EC P-256, so the signature can still be checked (and a forgery reported as 438) even
 * when the certificate is also untrusted.
 */
export interface ChainVerdict {
  /** The leaf's public key when it is EC P-256 (what ES256 needs); absent otherwise. */
  readonly leafKey?: KeyObject;
  /** The leaf's TNAuthList when it has a well-formed one. */
  readonly tnAuthList?: readonly TnAuthEntry[];
  /** leaf, intermediates, anchor — in that order; as far as it could be built when it reaches no anchor. */
  readonly path: readonly PathCert[];
  /** True when the path ends at a configured trust anchor. */
  readonly anchored: boolean;
  /** Time-independent faults, in plain language; empty when the chain is trusted. */
  readonly problems: readonly string[];
}

/** Checks everything about a cached chain that does not depend on the call's time. */
export function verifyChain(chain: readonly X509Certificate[], anchors: readonly X509Certificate[]): ChainVerdict {
  const leaf = chain[0];
  if (!leaf) return { path: [], anchored: false, problems: ['the cached certificate bundle is empty'] };
  const problems: string[] = [];
  const key = leaf.publicKey;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const p256 = key.asymmetricKeyType === 'ec' && curve === 'prime256v1';
  if (!p256) {
    const what = key.asymmetricKeyType === 'ec' ? `EC ${curve ?? 'unknown curve'}` : (key.asymmetricKeyType ?? 'unknown');
    problems.push(`the signing certificate's key is ${what}, not EC P-256 as ES256 requires`);
  }
  const tn = tnAuthListOf(leaf.raw);
  if (tn.kind === 'absent') problems.push('the signing certificate has no TNAuthList extension, so it authorises no telephone numbers');
  else if (tn.kind === 'invalid') problems.push(`the signing certificate's TNAuthList is malformed: ${tn.reason}`);

  const path: X509Certificate[] = [leaf];
  const used = new Set<number>([0]);
  let current = leaf;
  let anchored = false;
  for (;;) {
    // A certificate that is itself a configured anchor ends the path (RFC 5280 §6.1: the anchor is trusted
    // by configuration): this is how a self-signed end-entity certificate without keyCertSign is trusted,
    // as openssl and secsipidx trust it. Otherwise the anchor must have issued it.
    if (anchors.some((a) => sameCertificate(current, a))) {
      anchored = true;
      break;
    }
    const anchor = anchors.find((a) => issuedBy(current, a));
    if (anchor) {
      path.push(anchor);
      anchored = true;
      break;
    }
    if (path.length >= MAX_PATH) {
      problems.push(`the certificate chain is longer than ${MAX_PATH}`);
      break;
    }
    const idx = chain.findIndex((c, i) => !used.has(i) && c.ca && issuedBy(current, c));
    const next = chain[idx];
    if (idx < 0 || !next) {
      problems.push(
        `the certificate chain does not lead to a configured trust anchor (no trusted issuer for "${oneLine(current.subject)}", issued by "${oneLine(current.issuer)}")`,
      );
      break;
    }
    used.add(idx);
    path.push(next);
    current = next;
  }
  return {
    ...(p256 ? { leafKey: key } : {}),
    ...(tn.kind === 'ok' ? { tnAuthList: tn.value } : {}),
    path: path.map((c) => ({ subject: oneLine(c.subject), notBeforeMs: Date.parse(c.validFrom), notAfterMs: Date.parse(c.validTo) })),
    anchored,
    problems,
  };
}

/** Why the path is not valid at `timeMs` (one entry per certificate that is not), empty when all are valid then. */
export function validityProblemsAt(path: readonly PathCert[], timeMs: number): string[] {
  const out: string[] = [];
  for (const c of path) {
    if (!(timeMs >= c.notBeforeMs)) {
      out.push(`certificate "${c.subject}" was not yet valid at the capture time ${iso(timeMs)} (valid from ${iso(c.notBeforeMs)})`);
    } else if (!(timeMs <= c.notAfterMs)) {
      out.push(`certificate "${c.subject}" had expired at the capture time ${iso(timeMs)} (valid until ${iso(c.notAfterMs)})`);
    }
  }
  return out;
}

/** The first of {@link validityProblemsAt}, or undefined when every certificate is valid at `timeMs`. */
export function validityProblemAt(path: readonly PathCert[], timeMs: number): string | undefined {
  return validityProblemsAt(path, timeMs)[0];
}

function sameCertificate(a: X509Certificate, b: X509Certificate): boolean {
  return a === b || a.raw.equals(b.raw);
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
