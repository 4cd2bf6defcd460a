/**
 * Offline STIR/SHAKEN verification of a call's Identity headers (RULES.md §2; RFC 8224 §6.2, RFC 8588,
 * RFC 8946). Steps run in the RULES.md order and the first failing step decides the result, with one
 * exception: the signature is checked before the certificate faults decide, so a forged token is a 438 even
 * under an untrusted certificate, and all of a certificate's faults are named together. The orig/dest
 * binding is only looked at once the signature has verified.
 */
import { hash, verify as verifySignature, type X509Certificate } from 'node:crypto';
import type { CertCache } from './certcache.js';
import { validityProblemsAt, verifyChain } from './chain.js';
import { parseIdentityHeader } from './header.js';
import { decodePassport, type Attestation, type DecodedPassport } from './passport.js';
import { checkRcdIntegrity } from './rcd.js';
import { tnAuthorised } from './tnauthlist.js';

/** div and rcd PASSporTs verified per call (each costs a signature check); the rest are rejected unread. */
export const MAX_SIDE_PASSPORTS = 8;

export interface VerifyInput {
  /** Raw values of every Identity header of the request, in message order. */
  readonly identityHeaders: readonly string[];
  /** Capture time of the request (ms since the epoch): the clock for validity and freshness. */
  readonly captureTimeMs: number;
  /** Normalised E.164 of the effective CLI (PAI when trusted, else From); absent when it is not a number. */
  readonly cli?: string;
  /**
   * Set when `cli` is absent because the caller is withheld (anonymous From and no P-Asserted-Identity
   * number): the only case where orig.tn is left unbound (RFC 8224 §6.2 step 2 needs a number to compare).
   * Without it, an absent `cli` means the caller presents something that is not a telephone number, which
   * cannot equal orig.tn: SHAKEN-ORIG-MISMATCH.
   */
  readonly callerWithheld?: boolean;
  /** What the caller presents instead of a number (for the mismatch reason), e.g. `alice@example.com`. */
  readonly callerText?: string;
  /** Normalised E.164 numbers the call is addressed to (To, Request-URI). */
  readonly calledNumbers: readonly string[];
  /** The Date header, when present (ms since the epoch). */
  readonly dateHeaderMs?: number;
  /**
   * Normalised E.164 numbers the SIP signalling names as diverting (Diversion, History-Info mapped-from): a div
   * PASSporT's div.tn must be one of them when there are any (RFC 8946 §4).
   */
  readonly divertingNumbers?: readonly string[];
}

export interface VerifyContext {
  /** Configured trust anchors. Pass the same array on every call: verified chains are memoised per array. */
  readonly anchors: readonly X509Certificate[];
  readonly cache: CertCache;
  /** Freshness window in seconds (RFC 8224 §6.2.1 recommends 60). */
  readonly freshnessSeconds: number;
}

export type ShakenRule =
  | 'SHAKEN-SIG-FAIL'
  | 'SHAKEN-ORIG-MISMATCH'
  | 'SHAKEN-DEST-MISMATCH'
  | 'SHAKEN-STALE'
  | 'SHAKEN-CERT-UNTRUSTED'
  | 'SHAKEN-UNVERIFIABLE';

/** SIP response code a verifier would reject with (RFC 8224 §6.2.2): 436 Bad Identity Info, 437 Unsupported Credential, 438 Invalid Identity Header, 403 Stale Date. */
export type ShakenCode = 436 | 437 | 438 | 403;

/** The step that failed: `parse` is a malformed header or token (438 "invalid"). */
export type FailureStep = 'parse' | 'header' | 'certificate' | 'chain' | 'signature' | 'freshness' | 'orig' | 'dest';

/** What was read from the PASSporT, when it could be decoded. */
export interface PassportFacts {
  readonly attest?: Attestation;
  readonly origTn?: string;
  readonly destTn?: readonly string[];
  readonly origid?: string;
  readonly iat?: number;
  readonly x5u?: string;
  /** Lower-case hex SHA-256 of the compact token. */
  readonly tokenHash?: string;
}

export interface VerifyPassed {
  readonly status: 'passed';
  readonly attest: Attestation;
  readonly origTn: string;
  readonly destTn: readonly string[];
  readonly origid: string;
  readonly iat: number;
  readonly x5u: string;
  readonly tokenHash: string;
  /** False when the caller was withheld, so the binding was not checked; `unbound` then says so. */
  readonly origBound: boolean;
  /** Why orig.tn was not compared with a calling number (only a withheld caller). */
  readonly unbound?: string;
  /** Diverting numbers (div.tn) of the valid div PASSporTs that explain the called number (RFC 8946). */
  readonly divertedVia?: readonly string[];
  /** Diverting numbers proven by valid div PASSporTs chained to this PASSporT, whether or not the destination needed them. */
  readonly divProven?: readonly string[];
  /** Why each rejected div PASSporT was rejected (SHAKEN-DIV-INVALID). */
  readonly divInvalid?: readonly string[];
  /** The caller name of the first valid rcd PASSporT (draft-ietf-stir-passport-rcd `rcd.nam`). */
  readonly rcdName?: string;
  /** Why each rejected rcd PASSporT was rejected (SHAKEN-RCD-INVALID). */
  readonly rcdInvalid?: readonly string[];
}

export interface VerifyFailed extends PassportFacts {
  readonly status: 'failed';
  /** As in {@link VerifyPassed}, when the original PASSporT itself verified (a failed binding). */
  readonly divProven?: readonly string[];
  readonly divInvalid?: readonly string[];
  readonly rcdName?: string;
  readonly rcdInvalid?: readonly string[];
  readonly code: ShakenCode;
  readonly rule: ShakenRule;
  readonly step: FailureStep;
  /** Plain-language explanation for the alert. */
  readonly reason: string;
}

export type VerifyResult = VerifyPassed | VerifyFailed | { readonly status: 'none' };

type HeaderEval =
  | { readonly kind: 'failed'; readonly result: VerifyFailed }
  | { readonly kind: 'ok'; readonly passport: DecodedPassport; readonly facts: Required<Omit<PassportFacts, 'attest' | 'origid'>> & PassportFacts };

/**
 * Verifies the Identity headers of one call. With several `ppt=shaken` headers the first that passes wins,
 * else the first one's failure is returned; `ppt=div` headers are only used to explain a diverted
 * called number.
 */
export function verifyIdentity(input: VerifyInput, ctx: VerifyContext): VerifyResult {
  if (input.identityHeaders.length === 0) return { status: 'none' };
  const primaries: string[] = [];
  const divs: string[] = [];
  const rcds: string[] = [];
  for (const raw of input.identityHeaders) {
    const p = parseIdentityHeader(raw);
    const ppt = p.kind === 'ok' ? p.value.ppt?.toLowerCase() : undefined;
    if (ppt === 'div') divs.push(raw);
    else if (ppt === 'rcd') rcds.push(raw);
    else primaries.push(raw);
  }
  if (primaries.length === 0) {
    return fail(438, 'SHAKEN-SIG-FAIL', 'parse', 'the call carries only ppt=div or ppt=rcd PASSporTs; the original ppt=shaken PASSporT is missing (RFC 8946 §5)', {});
  }
  let divEvals: HeaderEval[] | undefined;
  let rcdEvals: HeaderEval[] | undefined;
  // Each costs a signature check: past the bound, the rest are rejected unread (a call never needs that many).
  const over = (ppt: string, n: number): HeaderEval[] =>
    n > MAX_SIDE_PASSPORTS
      ? [failed(438, 'SHAKEN-SIG-FAIL', 'parse', `${n - MAX_SIDE_PASSPORTS} more ppt=${ppt} PASSporTs not checked (at most ${MAX_SIDE_PASSPORTS} per call)`, {})]
      : [];
  const evalDivs = (): HeaderEval[] =>
    (divEvals ??= [...divs.slice(0, MAX_SIDE_PASSPORTS).map((d) => evaluateHeader(d, input, ctx)), ...over('div', divs.length)]);
  const evalRcds = (): HeaderEval[] =>
    (rcdEvals ??= [...rcds.slice(0, MAX_SIDE_PASSPORTS).map((d) => evaluateHeader(d, input, ctx)), ...over('rcd', rcds.length)]);
  let firstFailure: VerifyFailed | undefined;
  for (const raw of primaries) {
    const r = verifyPrimary(raw, input, ctx, evalDivs, evalRcds);
    if (r.status === 'passed') return r;
    firstFailure ??= r;
  }
  // primaries is non-empty, so a failure was recorded.
  return firstFailure ?? fail(438, 'SHAKEN-SIG-FAIL', 'parse', 'no verifiable Identity header', {});
}

function verifyPrimary(
  raw: string,
  input: VerifyInput,
  ctx: VerifyContext,
  evalDivs: () => HeaderEval[],
  evalRcds: () => HeaderEval[],
): VerifyPassed | VerifyFailed {
  const e = evaluateHeader(raw, input, ctx);
  if (e.kind === 'failed') return e.result;
  const { passport, facts } = e;
  if (passport.ppt !== 'shaken') return fail(438, 'SHAKEN-SIG-FAIL', 'header', 'PASSporT is not ppt=shaken', facts);
  const claims = passport.claims;
  const origDigits = digits(claims.orig.tn);
  let origBound = false;
  let unbound: string | undefined;
  let origFailure: VerifyFailed | undefined;
  if (input.cli !== undefined) {
    if (digits(input.cli) !== origDigits) {
      origFailure = fail(
        438,
        'SHAKEN-ORIG-MISMATCH',
        'orig',
        `the PASSporT was signed for calling number ${claims.orig.tn}, but the call presents ${input.cli}`,
        facts,
      );
    } else origBound = true;
  } else if (input.callerWithheld === true) {
    unbound = `the caller is withheld (anonymous From, no P-Asserted-Identity number), so orig.tn ${claims.orig.tn} was not compared with a calling number`;
  } else {
    const shown = input.callerText !== undefined && input.callerText !== '' ? input.callerText : 'no caller identity';
    origFailure = fail(
      438,
      'SHAKEN-ORIG-MISMATCH',
      'orig',
      `the PASSporT was signed for calling number ${claims.orig.tn}, but the call presents ${shown}, which is not a telephone number and is not withheld`,
      facts,
    );
  }
  const destDigits = new Set(claims.dest.tn.map(digits));
  const divs = divs_(evalDivs, origDigits, destDigits, input);
  const rcd = assessRcds(origDigits, evalRcds());
  const divFacts = {
    ...(divs.proven.length > 0 ? { divProven: divs.proven } : {}),
    ...(divs.invalid.length > 0 ? { divInvalid: divs.invalid } : {}),
    ...(rcd.name !== undefined ? { rcdName: rcd.name } : {}),
    ...(rcd.invalid.length > 0 ? { rcdInvalid: rcd.invalid } : {}),
  };
  if (origFailure) return { ...origFailure, ...divFacts };
  const called = input.calledNumbers.map(digits).filter((d) => d !== '');
  let divertedVia: string[] | undefined;
  if (called.length > 0 && !called.some((c) => destDigits.has(c))) {
    if (!called.some((c) => divs.reached.has(c))) {
      const list = claims.dest.tn.join(', ');
      const calledList = input.calledNumbers.join(', ');
      const why =
        divs.count === 0
          ? ' and no div PASSporT explains a diversion'
          : divs.invalid.length > 0
            ? `; the div PASSporT was rejected: ${divs.invalid.join('; ')}`
            : '; no div PASSporT leads from the original destination to this number';
      return {
        ...fail(438, 'SHAKEN-DEST-MISMATCH', 'dest', `the call is addressed to ${calledList}, which is not among the PASSporT's destination numbers (${list})${why}`, facts),
        ...divFacts,
      };
    }
    divertedVia = divs.proven;
  }
  return {
    status: 'passed',
    attest: claims.attest,
    origTn: claims.orig.tn,
    destTn: claims.dest.tn,
    origid: claims.origid,
    iat: claims.iat,
    x5u: passport.header.x5u,
    tokenHash: facts.tokenHash,
    origBound,
    ...(unbound !== undefined ? { unbound } : {}),
    ...(divertedVia ? { divertedVia } : {}),
    ...divFacts,
  };
}

/**
 * Rich Call Data (draft-ietf-stir-passport-rcd): an rcd PASSporT verifies like a shaken one (steps 1–6), must carry
 * the original call's orig.tn, and every rcdi digest must match its rcd content; the first valid one names the caller.
 */
function assessRcds(origDigits: string, evals: readonly HeaderEval[]): { name?: string; invalid: string[] } {
  let name: string | undefined;
  const invalid: string[] = [];
  for (const e of evals) {
    if (e.kind === 'failed') invalid.push(`${e.result.code} ${e.result.reason}`);
    else if (e.passport.ppt !== 'rcd') invalid.push('it is not ppt=rcd');
    else if (digits(e.passport.claims.orig.tn) !== origDigits) {
      invalid.push(`its orig.tn ${e.passport.claims.orig.tn} differs from the original PASSporT's, so it belongs to another call`);
    } else {
      const integrity = checkRcdIntegrity(e.passport.claims.rcd, e.passport.claims.rcdi);
      if (!integrity.ok) invalid.push(integrity.reason);
      else name ??= e.passport.claims.rcd.nam;
    }
  }
  return { ...(name !== undefined ? { name } : {}), invalid };
}

interface DivAssessment {
  /** Headers with ppt=div. */
  readonly count: number;
  /** Numbers the call reached: the original dest.tn plus the dest.tn of every valid, chained div PASSporT. */
  readonly reached: ReadonlySet<string>;
  /** div.tn of the valid div PASSporTs, in the order the chain was followed. */
  readonly proven: string[];
  /** One reason per rejected div PASSporT. */
  readonly invalid: string[];
}

function divs_(evalDivs: () => HeaderEval[], origDigits: string, dest: ReadonlySet<string>, input: VerifyInput): DivAssessment {
  const evals = evalDivs();
  if (evals.length === 0) return { count: 0, reached: dest, proven: [], invalid: [] };
  return assessDivs(origDigits, dest, evals, (input.divertingNumbers ?? []).map(digits).filter((d) => d !== ''));
}

/**
 * RFC 8946: a div PASSporT is valid when it verifies like a shaken one (steps 1–6), has the original call's orig
 * (§4: the same orig.tn), names as div.tn a number the call had reached (initially the shaken dest.tn; chains of
 * diversions are followed to a fixpoint) and, when the signalling names diverting numbers (Diversion,
 * History-Info), one of them. Every other div PASSporT is rejected with its reason.
 */
function assessDivs(origDigits: string, dest: ReadonlySet<string>, divEvals: readonly HeaderEval[], diverting: readonly string[]): DivAssessment {
  const reached = new Set(dest);
  const proven: string[] = [];
  const invalid: string[] = [];
  const candidates: DecodedPassport[] = [];
  for (const e of divEvals) {
    if (e.kind === 'failed') invalid.push(`${e.result.code} ${e.result.reason}`);
    else if (e.passport.ppt !== 'div') invalid.push('it is not ppt=div');
    else if (digits(e.passport.claims.orig.tn) !== origDigits) {
      invalid.push(`its orig.tn ${e.passport.claims.orig.tn} differs from the original PASSporT's, so it belongs to another call`);
    } else if (diverting.length > 0 && !diverting.includes(digits(e.passport.claims.div.tn))) {
      invalid.push(`its div.tn ${e.passport.claims.div.tn} is not the diverting number the signalling names (${diverting.join(', ')})`);
    } else candidates.push(e.passport);
  }
  const used = new Set<DecodedPassport>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of candidates) {
      if (used.has(p) || p.ppt !== 'div' || !reached.has(digits(p.claims.div.tn))) continue;
      used.add(p);
      if (!proven.includes(p.claims.div.tn)) proven.push(p.claims.div.tn);
      for (const tn of p.claims.dest.tn) reached.add(digits(tn));
      grew = true;
    }
  }
  for (const p of candidates) {
    if (!used.has(p) && p.ppt === 'div') invalid.push(`its div.tn ${p.claims.div.tn} is not a number the call was addressed to, so it does not continue the call's diversion chain`);
  }
  return { count: divEvals.length, reached, proven, invalid };
}

/** Steps 1–6 of RULES.md §2 for one header (parse, JWS header, certificate, chain, signature, freshness). */
function evaluateHeader(raw: string, input: VerifyInput, ctx: VerifyContext): HeaderEval {
  const parsed = parseIdentityHeader(raw);
  if (parsed.kind === 'invalid') return failed(438, 'SHAKEN-SIG-FAIL', 'parse', `malformed Identity header: ${parsed.reason}`, {});
  const h = parsed.value;
  const tokenHash = hash('sha256', h.token, 'hex');
  if (h.alg !== undefined && h.alg !== 'ES256') {
    return failed(438, 'SHAKEN-SIG-FAIL', 'parse', `Identity alg=${h.alg} is not ES256`, { tokenHash });
  }
  const ppt = h.ppt?.toLowerCase();
  if (ppt !== 'shaken' && ppt !== 'div' && ppt !== 'rcd') {
    const what = h.ppt === undefined ? 'has no ppt parameter' : `has ppt=${h.ppt}`;
    return failed(438, 'SHAKEN-SIG-FAIL', 'parse', `Identity header ${what}; only shaken, div and rcd PASSporTs are verified`, { tokenHash });
  }
  if (h.info === undefined) return failed(438, 'SHAKEN-SIG-FAIL', 'parse', 'Identity header has no info parameter', { tokenHash });

  const passport = decodePassport(h.token);
  if (passport.kind === 'invalid') return failed(438, 'SHAKEN-SIG-FAIL', 'parse', `malformed PASSporT: ${passport.reason}`, { tokenHash });
  const c = passport.claims;
  const x5u = passport.header.x5u;
  const facts = {
    ...(c.attest !== undefined ? { attest: c.attest } : {}),
    origTn: c.orig.tn,
    destTn: c.dest.tn,
    ...(c.origid !== undefined ? { origid: c.origid } : {}),
    iat: c.iat,
    x5u,
    tokenHash,
  };

  // Step 2: JWS header against the SIP parameters.
  if (passport.header.ppt !== ppt) {
    return failed(438, 'SHAKEN-SIG-FAIL', 'header', `the PASSporT says ppt=${passport.header.ppt} but the header says ppt=${ppt}`, facts);
  }
  if (!isHttpsUrl(x5u)) return failed(438, 'SHAKEN-SIG-FAIL', 'header', `the certificate URL (x5u) ${x5u} is not an https URL`, facts);
  if (x5u !== h.info) {
    return failed(438, 'SHAKEN-SIG-FAIL', 'header', `the certificate URL in the PASSporT (${x5u}) differs from the header's info (${h.info})`, facts);
  }

  // Step 3: certificate from the local cache.
  const chain = ctx.cache.get(x5u);
  if (!chain) {
    return failed(
      436,
      'SHAKEN-UNVERIFIABLE',
      'certificate',
      `the certificate at ${x5u} is not in the local cache, so the signature could not be checked (this is an offline limit, not evidence of forgery)`,
      facts,
    );
  }

  // Step 4: chain to an anchor, valid at the capture time; leaf P-256 with TNAuthList. Every fault is
  // collected (an alert names them all), and none of them decides before the signature has been checked.
  const memo = ctx.cache.verdictsFor(ctx.anchors);
  let verdict = memo.get(x5u);
  if (!verdict) {
    verdict = verifyChain(chain, ctx.anchors);
    memo.set(x5u, verdict);
  }
  const certProblems = [...verdict.problems, ...validityProblemsAt(verdict.path, input.captureTimeMs)];
  if (verdict.tnAuthList && !tnAuthorised(verdict.tnAuthList, digits(c.orig.tn))) {
    certProblems.push(`its TNAuthList has no service provider code and does not include ${c.orig.tn}`);
  }

  // Step 5: ES256 signature over the JWS signing input (r||s, RFC 7518 §3.4), with the leaf's key whatever
  // the chain verdict: altered content is a 438 (RFC 8224 §6.2.2) even when the certificate is also
  // untrusted, and an untrusted certificate over intact content is a 437.
  if (verdict.leafKey) {
    let good = false;
    try {
      good = verifySignature(
        'sha256',
        Buffer.from(passport.signingInput, 'ascii'),
        { key: verdict.leafKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(passport.signature, 'base64url'),
      );
    } catch {
      good = false;
    }
    if (!good) {
      const also = certProblems.length > 0 ? `; the signing certificate is also untrusted: ${certProblems.join('; ')}` : '';
      return failed(
        438,
        'SHAKEN-SIG-FAIL',
        'signature',
        `the PASSporT signature does not verify: its content was altered or it was not signed by this certificate${also}`,
        facts,
      );
    }
  }
  if (certProblems.length > 0) {
    return failed(437, 'SHAKEN-CERT-UNTRUSTED', 'chain', `untrusted signing certificate: ${certProblems.join('; ')}`, facts);
  }

  // Step 6: freshness against the capture time (never the wall clock).
  const windowMs = ctx.freshnessSeconds * 1000;
  const skewMs = input.captureTimeMs - c.iat * 1000;
  if (Math.abs(skewMs) > windowMs) {
    return failed(
      403,
      'SHAKEN-STALE',
      'freshness',
      `the PASSporT was issued at ${isoOf(c.iat * 1000)}, ${Math.round(Math.abs(skewMs) / 1000)} s ${skewMs > 0 ? 'before' : 'after'} the capture time ${isoOf(input.captureTimeMs)}, outside the ${ctx.freshnessSeconds} s freshness window`,
      facts,
    );
  }
  if (input.dateHeaderMs !== undefined && Math.abs(input.captureTimeMs - input.dateHeaderMs) > windowMs) {
    return failed(
      403,
      'SHAKEN-STALE',
      'freshness',
      `the Date header ${isoOf(input.dateHeaderMs)} is outside the ${ctx.freshnessSeconds} s freshness window of the capture time ${isoOf(input.captureTimeMs)}`,
      facts,
    );
  }
  return { kind: 'ok', passport, facts };
}

/** Telephone-number comparison form: digits (and * #) only, so "+31 20…" and "3120…" compare equal. */
export function tnDigits(tn: string): string {
  return tn.replace(/[^0-9*#]/g, '');
}
const digits = tnDigits;

function isHttpsUrl(s: string): boolean {
  try {
    return new URL(s).protocol === 'https:';
  } catch {
    return false;
  }
}

function isoOf(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `an impossible time (${ms} ms)` : d.toISOString();
}

function fail(code: ShakenCode, rule: ShakenRule, step: FailureStep, reason: string, facts: PassportFacts): VerifyFailed {
  return { status: 'failed', code, rule, step, reason, ...facts };
}

function failed(code: ShakenCode, rule: ShakenRule, step: FailureStep, reason: string, facts: PassportFacts): HeaderEval {
  return { kind: 'failed', result: fail(code, rule, step, reason, facts) };
}
