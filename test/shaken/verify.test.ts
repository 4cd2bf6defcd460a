import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { CertCache } from '../../src/identity/shaken/certcache.js';
import { verifyIdentity, type VerifyContext, type VerifyInput } from '../../src/identity/shaken/verify.js';
import { buildCertificate, ecKeyPair, identityHeader, makePki, signPassport, writeCacheFolder, type PassportClaimsSpec, removeCacheFolders } from './pki.js';

afterAll(removeCacheFolders);

const T0 = Date.parse('2025-03-01T12:00:00Z');
const IAT = T0 / 1000;
const CAPTURE = T0 + 5_000;
const DAY = 86_400_000;

const X5U = 'https://cert.example.net/sp1234.pem';
const X5U_FOREIGN = 'https://cert.example.net/foreign.pem';
const X5U_EXPIRED = 'https://cert.example.net/expired.pem';
const X5U_FUTURE = 'https://cert.example.net/future.pem';
const X5U_NO_TN = 'https://cert.example.net/no-tn.pem';
const X5U_P384 = 'https://cert.example.net/p384.pem';
const X5U_TN_ONLY = 'https://cert.example.net/tn-only.pem';
const X5U_UNCACHED = 'https://cert.example.net/unknown.pem';

const now = new Date(T0);
const pki = makePki({ now });
const foreign = makePki({ now, root: { cn: 'Some Other Root' } });
const expired = makePki({ now, leaf: { notBefore: new Date(T0 - 60 * DAY), notAfter: new Date(T0 - DAY) } });
const future = makePki({ now, intermediate: { notBefore: new Date(T0 + DAY), notAfter: new Date(T0 + 400 * DAY) } });
const noTn = makePki({ now, leaf: { tnAuthList: null } });
const p384 = makePki({ now, leaf: { curve: 'secp384r1' } });
const tnOnly = makePki({ now, leaf: { tnAuthList: [{ tn: '31209999999' }] } });

const cache = new CertCache(
  writeCacheFolder({
    index: {
      [X5U]: pki.chainPem,
      [X5U_FOREIGN]: foreign.chainPem,
      [X5U_EXPIRED]: expired.chainPem,
      [X5U_FUTURE]: future.chainPem,
      [X5U_NO_TN]: noTn.chainPem,
      [X5U_P384]: p384.chainPem,
    },
    hashed: { [X5U_TN_ONLY]: tnOnly.chainPem },
  }),
);
const anchors = [pki, expired, future, noTn, p384, tnOnly].map((p) => p.root.cert.x509);
const ctx: VerifyContext = { anchors, cache, freshnessSeconds: 60 };

const CLI = '+31201234567';
const CALLED = '+31612345678';
const ORIGID = '123e4567-e89b-12d3-a456-426655440000';
const claims = { attest: 'A' as const, orig: { tn: '31201234567' }, dest: { tn: ['31612345678'] }, iat: IAT, origid: ORIGID };

function header(c: PassportClaimsSpec = claims, key = pki.leaf.privateKey, x5u = X5U): { value: string; token: string } {
  const token = signPassport(c, key, x5u);
  return { value: identityHeader(token, x5u), token };
}
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const input = (identityHeaders: string[], over: Partial<VerifyInput> = {}): VerifyInput => ({
  identityHeaders,
  captureTimeMs: CAPTURE,
  cli: CLI,
  calledNumbers: [CALLED],
  ...over,
});
const facts = (token: string, x5u = X5U, c: { attest?: 'A' | 'B' | 'C'; orig: { tn: string }; dest: { tn: string[] }; iat: number; origid?: string } = claims) => ({
  attest: c.attest,
  origTn: c.orig.tn,
  destTn: c.dest.tn,
  origid: c.origid,
  iat: c.iat,
  x5u,
  tokenHash: sha(token),
});

describe('verifyIdentity: passing', () => {
  it('passes a valid PASSporT with its attestation and claims', () => {
    const h = header();
    expect(verifyIdentity(input([h.value]), ctx)).toEqual({
      status: 'passed',
      attest: 'A',
      origTn: '31201234567',
      destTn: ['31612345678'],
      origid: ORIGID,
      iat: IAT,
      x5u: X5U,
      tokenHash: sha(h.token),
      origBound: true,
    });
  });

  it('returns none without Identity headers', () => {
    expect(verifyIdentity(input([]), ctx)).toEqual({ status: 'none' });
  });

  it('passes with attest B, a withheld CLI (binding not checked) and a hash-named cache file', () => {
    const c = { ...claims, attest: 'B' as const, orig: { tn: '31209999999' } };
    const h = header(c, tnOnly.leaf.privateKey, X5U_TN_ONLY);
    const { cli: _cli, ...noCli } = input([h.value]);
    const r = verifyIdentity({ ...noCli, callerWithheld: true }, ctx);
    expect(r).toEqual({
      status: 'passed',
      ...facts(h.token, X5U_TN_ONLY, c),
      origBound: false,
      unbound: 'the caller is withheld (anonymous From, no P-Asserted-Identity number), so orig.tn 31209999999 was not compared with a calling number',
    });
  });

  it('uses the first passing shaken header when an earlier one is malformed', () => {
    const h = header();
    const r = verifyIdentity(input(['garbage!', h.value]), ctx);
    expect(r.status).toBe('passed');
  });

  it('memoises the verified chain per x5u', () => {
    const anchorsCopy = [...anchors];
    const own: VerifyContext = { anchors: anchorsCopy, cache, freshnessSeconds: 60 };
    verifyIdentity(input([header().value]), own);
    verifyIdentity(input([header().value]), own);
    expect([...cache.verdictsFor(anchorsCopy).keys()]).toEqual([X5U]);
  });
});

describe('verifyIdentity: failures', () => {
  it('tampered claims → 438 SHAKEN-SIG-FAIL', () => {
    const h = header();
    const [hdr, , sig] = h.token.split('.');
    const forged = { ...claims, orig: { tn: '31205550000' } };
    const token = `${hdr}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`;
    expect(verifyIdentity(input([identityHeader(token, X5U)], { cli: '+31205550000' }), ctx)).toEqual({
      status: 'failed',
      code: 438,
      rule: 'SHAKEN-SIG-FAIL',
      step: 'signature',
      reason: 'the PASSporT signature does not verify: its content was altered or it was not signed by this certificate',
      ...facts(token, X5U, forged),
    });
  });

  it('signed by another key than the certificate → 438 SHAKEN-SIG-FAIL', () => {
    const h = header(claims, foreign.leaf.privateKey, X5U);
    const r = verifyIdentity(input([h.value]), ctx);
    expect(r.status === 'failed' && [r.code, r.rule, r.step]).toEqual([438, 'SHAKEN-SIG-FAIL', 'signature']);
  });

  it('orig.tn differs from the CLI → SHAKEN-ORIG-MISMATCH', () => {
    const h = header();
    expect(verifyIdentity(input([h.value], { cli: '+31201111111' }), ctx)).toEqual({
      status: 'failed',
      code: 438,
      rule: 'SHAKEN-ORIG-MISMATCH',
      step: 'orig',
      reason: 'the PASSporT was signed for calling number 31201234567, but the call presents +31201111111',
      ...facts(h.token),
    });
  });

  it('a caller that is not a number (sip:alice@example.com) cannot match orig.tn → SHAKEN-ORIG-MISMATCH', () => {
    const c = { ...claims, orig: { tn: '18005551212' }, dest: { tn: ['31612345678'] } };
    const h = header(c);
    const { cli: _cli, ...noCli } = input([h.value]);
    expect(verifyIdentity({ ...noCli, callerText: 'alice@example.com' }, ctx)).toEqual({
      status: 'failed',
      code: 438,
      rule: 'SHAKEN-ORIG-MISMATCH',
      step: 'orig',
      reason: 'the PASSporT was signed for calling number 18005551212, but the call presents alice@example.com, which is not a telephone number and is not withheld',
      ...facts(h.token, X5U, c),
    });
    // No caller at all is not withheld either.
    const r = verifyIdentity(noCli, ctx);
    expect(r.status === 'failed' && [r.rule, r.reason]).toEqual([
      'SHAKEN-ORIG-MISMATCH',
      'the PASSporT was signed for calling number 18005551212, but the call presents no caller identity, which is not a telephone number and is not withheld',
    ]);
  });

  it('checks the orig binding only after the signature verifies', () => {
    const h = header(claims, foreign.leaf.privateKey, X5U);
    const r = verifyIdentity(input([h.value], { cli: '+31201111111' }), ctx);
    expect(r.status === 'failed' && r.rule).toBe('SHAKEN-SIG-FAIL');
  });

  it('iat two minutes before the capture time → 403 SHAKEN-STALE', () => {
    const old = { ...claims, iat: IAT - 120 };
    const h = header(old);
    expect(verifyIdentity(input([h.value]), ctx)).toEqual({
      status: 'failed',
      code: 403,
      rule: 'SHAKEN-STALE',
      step: 'freshness',
      reason:
        'the PASSporT was issued at 2025-03-01T11:58:00.000Z, 125 s before the capture time 2025-03-01T12:00:05.000Z, outside the 60 s freshness window',
      ...facts(h.token, X5U, old),
    });
  });

  it('the same old PASSporT is fresh when the capture is that old too (capture clock, never the wall clock)', () => {
    const h = header({ ...claims, iat: IAT - 120 });
    expect(verifyIdentity(input([h.value], { captureTimeMs: (IAT - 120) * 1000 + 30_000 }), ctx).status).toBe('passed');
  });

  it('verifies a 2019 call captured in 2019 with a 2019 PKI', () => {
    const t = Date.parse('2019-05-01T08:00:00Z');
    const old = makePki({ now: new Date(t) });
    const url = 'https://cert.example.net/2019.pem';
    const oldCtx: VerifyContext = { anchors: [old.root.cert.x509], cache: new CertCache(writeCacheFolder({ index: { [url]: old.chainPem } })), freshnessSeconds: 60 };
    const h = header({ ...claims, iat: t / 1000 }, old.leaf.privateKey, url);
    expect(verifyIdentity(input([h.value], { captureTimeMs: t + 1000 }), oldCtx).status).toBe('passed');
    expect(verifyIdentity(input([h.value], { captureTimeMs: t + 61_000 }), oldCtx).status).toBe('failed');
  });

  it('a Date header outside the window → 403 SHAKEN-STALE', () => {
    const h = header();
    const r = verifyIdentity(input([h.value], { dateHeaderMs: CAPTURE - 90_000 }), ctx);
    expect(r.status === 'failed' && [r.code, r.rule, r.reason]).toEqual([
      403,
      'SHAKEN-STALE',
      'the Date header 2025-03-01T11:58:35.000Z is outside the 60 s freshness window of the capture time 2025-03-01T12:00:05.000Z',
    ]);
    expect(verifyIdentity(input([h.value], { dateHeaderMs: CAPTURE - 30_000 }), ctx).status).toBe('passed');
  });

  it('certificate not in the cache → 436 SHAKEN-UNVERIFIABLE, not forged', () => {
    const h = header(claims, pki.leaf.privateKey, X5U_UNCACHED);
    expect(verifyIdentity(input([h.value]), ctx)).toEqual({
      status: 'failed',
      code: 436,
      rule: 'SHAKEN-UNVERIFIABLE',
      step: 'certificate',
      reason:
        'the certificate at https://cert.example.net/unknown.pem is not in the local cache, so the signature could not be checked (this is an offline limit, not evidence of forgery)',
      ...facts(h.token, X5U_UNCACHED),
    });
  });

  it('leaf expired at the capture time → 437 SHAKEN-CERT-UNTRUSTED', () => {
    const h = header(claims, expired.leaf.privateKey, X5U_EXPIRED);
    expect(verifyIdentity(input([h.value]), ctx)).toEqual({
      status: 'failed',
      code: 437,
      rule: 'SHAKEN-CERT-UNTRUSTED',
      step: 'chain',
      reason:
        'untrusted signing certificate: certificate "C=NL, O=spoofwatch tests, CN=SHAKEN 1234" had expired at the capture time 2025-03-01T12:00:05.000Z (valid until 2025-02-28T12:00:00.000Z)',
      ...facts(h.token, X5U_EXPIRED),
    });
  });

  it('intermediate not yet valid at the capture time → 437', () => {
    const h = header(claims, future.leaf.privateKey, X5U_FUTURE);
    const r = verifyIdentity(input([h.value]), ctx);
    expect(r.status === 'failed' && [r.code, r.rule, r.reason]).toEqual([
      437,
      'SHAKEN-CERT-UNTRUSTED',
      'untrusted signing certificate: certificate "C=NL, O=spoofwatch tests, CN=Spoofwatch Test Intermediate CA" was not yet valid at the capture time 2025-03-01T12:00:05.000Z (valid from 2025-03-02T12:00:00.000Z)',
    ]);
  });

  it('chain to a foreign root → 437 SHAKEN-CERT-UNTRUSTED', () => {
    const h = header(claims, foreign.leaf.privateKey, X5U_FOREIGN);
    const r = verifyIdentity(input([h.value]), ctx);
    expect(r.status === 'failed' && [r.code, r.rule, r.step, r.reason]).toEqual([
      437,
      'SHAKEN-CERT-UNTRUSTED',
      'chain',
      'untrusted signing certificate: the certificate chain does not lead to a configured trust anchor (no trusted issuer for "C=NL, O=spoofwatch tests, CN=Spoofwatch Test Intermediate CA", issued by "C=NL, O=spoofwatch tests, CN=Some Other Root")',
    ]);
  });

  it('leaf without TNAuthList → 437 SHAKEN-CERT-UNTRUSTED', () => {
    const h = header(claims, noTn.leaf.privateKey, X5U_NO_TN);
    const r = verifyIdentity(input([h.value]), ctx);
    expect(r.status === 'failed' && [r.code, r.rule, r.reason]).toEqual([
      437,
      'SHAKEN-CERT-UNTRUSTED',
      'untrusted signing certificate: the signing certificate has no TNAuthList extension, so it authorises no telephone numbers',
    ]);
  });

  it('leaf with a P-384 key → 437 SHAKEN-CERT-UNTRUSTED', () => {
    const h = header(claims, pki.leaf.privateKey, X5U_P384);
    const r = verifyIdentity(input([h.value]), ctx);
    expect(r.status === 'failed' && [r.code, r.rule, r.reason]).toEqual([
      437,
      'SHAKEN-CERT-UNTRUSTED',
      "untrusted signing certificate: the signing certificate's key is EC secp384r1, not EC P-256 as ES256 requires",
    ]);
  });

  it('leaf whose TNAuthList (no SPC) does not cover orig.tn → 437', () => {
    const h = header(claims, tnOnly.leaf.privateKey, X5U_TN_ONLY);
    const r = verifyIdentity(input([h.value]), ctx);
    expect(r.status === 'failed' && [r.code, r.rule, r.reason]).toEqual([
      437,
      'SHAKEN-CERT-UNTRUSTED',
      'untrusted signing certificate: its TNAuthList has no service provider code and does not include 31201234567',
    ]);
  });

  it.each([
    ['garbage!', 'malformed Identity header: Identity token has characters outside base64url and "."'],
    ['a.b;info=<https://x>;alg=ES256;ppt=shaken', 'malformed PASSporT: token is not a compact JWS (three dot-separated parts)'],
  ])('malformed header %j → 438 invalid', (value, reason) => {
    const r = verifyIdentity(input([value]), ctx);
    expect(r.status === 'failed' && [r.code, r.rule, r.step, r.reason]).toEqual([438, 'SHAKEN-SIG-FAIL', 'parse', reason]);
  });

  it('alg other than ES256, missing ppt, missing info → 438 invalid', () => {
    const { token } = header();
    const cases: [string, string][] = [
      [`${token};info=<${X5U}>;alg=RS256;ppt=shaken`, 'Identity alg=RS256 is not ES256'],
      [`${token};info=<${X5U}>;alg=ES256`, 'Identity header has no ppt parameter; only shaken, div and rcd PASSporTs are verified'],
      [`${token};info=<${X5U}>;ppt=rph`, 'Identity header has ppt=rph; only shaken, div and rcd PASSporTs are verified'],
      [`${token};alg=ES256;ppt=shaken`, 'Identity header has no info parameter'],
    ];
    for (const [value, reason] of cases) {
      expect(verifyIdentity(input([value]), ctx)).toEqual({ status: 'failed', code: 438, rule: 'SHAKEN-SIG-FAIL', step: 'parse', reason, tokenHash: sha(token) });
    }
  });

  it('JWS alg other than ES256 inside the token → 438 invalid', () => {
    const token = signPassport(claims, pki.leaf.privateKey, X5U, 'shaken', { alg: 'ES384' });
    const r = verifyIdentity(input([identityHeader(token, X5U)]), ctx);
    expect(r.status === 'failed' && [r.code, r.step, r.reason]).toEqual([438, 'parse', 'malformed PASSporT: JWS alg is "ES384", not ES256']);
  });

  it('x5u not https, or different from info → 438', () => {
    const httpToken = signPassport(claims, pki.leaf.privateKey, 'http://cert.example.net/sp1234.pem');
    const a = verifyIdentity(input([identityHeader(httpToken, 'http://cert.example.net/sp1234.pem')]), ctx);
    expect(a.status === 'failed' && [a.code, a.step, a.reason]).toEqual([438, 'header', 'the certificate URL (x5u) http://cert.example.net/sp1234.pem is not an https URL']);
    const { token } = header();
    const b = verifyIdentity(input([identityHeader(token, X5U_FOREIGN)]), ctx);
    expect(b.status === 'failed' && [b.code, b.step, b.reason]).toEqual([
      438,
      'header',
      'the certificate URL in the PASSporT (https://cert.example.net/sp1234.pem) differs from the header\'s info (https://cert.example.net/foreign.pem)',
    ]);
  });
});

describe('verifyIdentity: destination and diversion (RFC 8946)', () => {
  const FORWARDED = '+31207654321';
  const divClaims = { orig: claims.orig, dest: { tn: ['31207654321'] }, iat: IAT + 2, div: { tn: '31612345678' } };
  const divHeader = (c: PassportClaimsSpec = divClaims, key = pki.leaf.privateKey): string => identityHeader(signPassport(c, key, X5U, 'div'), X5U, 'div');

  it('called number not in dest.tn and no div → SHAKEN-DEST-MISMATCH', () => {
    const h = header();
    expect(verifyIdentity(input([h.value], { calledNumbers: [FORWARDED] }), ctx)).toEqual({
      status: 'failed',
      code: 438,
      rule: 'SHAKEN-DEST-MISMATCH',
      step: 'dest',
      reason: "the call is addressed to +31207654321, which is not among the PASSporT's destination numbers (31612345678) and no div PASSporT explains a diversion",
      ...facts(h.token),
    });
  });

  it('a valid div PASSporT explains the diversion → passed', () => {
    const h = header();
    expect(verifyIdentity(input([h.value, divHeader()], { calledNumbers: [FORWARDED] }), ctx)).toEqual({
      status: 'passed',
      ...facts(h.token),
      origBound: true,
      divertedVia: ['31612345678'],
      divProven: ['31612345678'],
    });
  });

  it('follows a chain of two diversions', () => {
    const second = { orig: claims.orig, dest: { tn: ['31301112222'] }, iat: IAT + 3, div: { tn: '31207654321' } };
    const r = verifyIdentity(input([header().value, divHeader(second), divHeader()], { calledNumbers: ['+31301112222'] }), ctx);
    expect(r.status === 'passed' && r.divertedVia).toEqual(['31612345678', '31207654321']);
  });

  it('a div PASSporT with a bad signature does not explain it', () => {
    const r = verifyIdentity(input([header().value, divHeader(divClaims, foreign.leaf.privateKey)], { calledNumbers: [FORWARDED] }), ctx);
    expect(r.status === 'failed' && [r.rule, r.reason]).toEqual([
      'SHAKEN-DEST-MISMATCH',
      "the call is addressed to +31207654321, which is not among the PASSporT's destination numbers (31612345678); the div PASSporT was rejected: 438 the PASSporT signature does not verify: its content was altered or it was not signed by this certificate",
    ]);
    expect(r.status === 'failed' && r.divInvalid).toEqual([
      '438 the PASSporT signature does not verify: its content was altered or it was not signed by this certificate',
    ]);
  });

  it('a div PASSporT from another diverting number does not explain it', () => {
    const r = verifyIdentity(input([header().value, divHeader({ ...divClaims, div: { tn: '31600000000' } })], { calledNumbers: [FORWARDED] }), ctx);
    expect(r.status === 'failed' && [r.rule, r.reason]).toEqual([
      'SHAKEN-DEST-MISMATCH',
      "the call is addressed to +31207654321, which is not among the PASSporT's destination numbers (31612345678); the div PASSporT was rejected: its div.tn 31600000000 is not a number the call was addressed to, so it does not continue the call's diversion chain",
    ]);
  });

  it('a div PASSporT of another call (other orig.tn) is rejected even when the destination needs no diversion', () => {
    const other = { ...divClaims, orig: { tn: '31209999999' } };
    const r = verifyIdentity(input([header().value, divHeader(other)]), ctx);
    expect(r.status === 'passed' && [r.divProven, r.divInvalid]).toEqual([
      undefined,
      ["its orig.tn 31209999999 differs from the original PASSporT's, so it belongs to another call"],
    ]);
  });

  it('div.tn must be the diverting number the Diversion header names', () => {
    const r = verifyIdentity(input([header().value, divHeader()], { calledNumbers: [FORWARDED], divertingNumbers: ['+31612340000'] }), ctx);
    expect(r.status === 'failed' && [r.rule, r.divInvalid]).toEqual([
      'SHAKEN-DEST-MISMATCH',
      ['its div.tn 31612345678 is not the diverting number the signalling names (31612340000)'],
    ]);
    const ok = verifyIdentity(input([header().value, divHeader()], { calledNumbers: [FORWARDED], divertingNumbers: ['+31612345678'] }), ctx);
    expect(ok.status === 'passed' && ok.divProven).toEqual(['31612345678']);
  });

  it('checks at most 8 div PASSporTs per call and rejects the rest unread', () => {
    const many = Array.from({ length: 11 }, () => divHeader());
    const r = verifyIdentity(input([header().value, ...many], { calledNumbers: [FORWARDED] }), ctx);
    expect(r.status === 'passed' && [r.divProven, r.divInvalid]).toEqual([['31612345678'], ['438 3 more ppt=div PASSporTs not checked (at most 8 per call)']]);
  });

  it('a stale div PASSporT is rejected with 403', () => {
    const r = verifyIdentity(input([header().value, divHeader({ ...divClaims, iat: IAT - 600 })], { calledNumbers: [FORWARDED] }), ctx);
    expect(r.status === 'failed' && r.divInvalid?.[0]).toMatch(/^403 the PASSporT was issued at .* outside the 60 s freshness window$/);
  });

  it('only div PASSporTs, no shaken one → 438 invalid', () => {
    const r = verifyIdentity(input([divHeader()], { calledNumbers: [FORWARDED] }), ctx);
    expect(r.status === 'failed' && [r.code, r.step]).toEqual([438, 'parse']);
  });

  it('the R-URI matching dest.tn is enough when To differs', () => {
    expect(verifyIdentity(input([header().value], { calledNumbers: [FORWARDED, CALLED] }), ctx).status).toBe('passed');
  });
});

describe('verifyIdentity: self-signed end-entity anchor and several certificate faults', () => {
  const X5U_SELF = 'https://cert.example.net/self.pem';
  const X5U_BAD = 'https://cert.example.net/bad.pem';
  const selfKeys = ecKeyPair();
  const selfName = { cn: 'SHAKEN self-signed 1234', o: 'spoofwatch tests', c: 'NL' };
  // An end-entity certificate (CA:false, keyUsage digitalSignature only: no keyCertSign) that signs itself.
  const self = buildCertificate({
    subject: selfName,
    publicKey: selfKeys.publicKey,
    signingKey: selfKeys.privateKey,
    notBefore: new Date(T0 - 10 * DAY),
    notAfter: new Date(T0 + 10 * DAY),
    ca: false,
    tnAuthList: [{ spc: '1234' }],
  });
  // Expired at the capture time, without TNAuthList, and chaining to a root that is no anchor: three faults.
  const bad = makePki({ now, root: { cn: 'Unknown Root' }, leaf: { tnAuthList: null, notBefore: new Date(T0 - 60 * DAY), notAfter: new Date(T0 - DAY) } });
  const selfCache = new CertCache(writeCacheFolder({ index: { [X5U_SELF]: self.pem, [X5U_BAD]: bad.chainPem } }));
  const selfCtx: VerifyContext = { anchors: [self.x509], cache: selfCache, freshnessSeconds: 60 };

  it('the fixture is what the issue describes: checkIssued refuses it, its signature verifies against itself', () => {
    expect(self.x509.ca).toBe(false);
    expect(self.x509.checkIssued(self.x509)).toBe(false);
    expect(self.x509.verify(selfKeys.publicKey)).toBe(true);
  });

  it('accepts a PASSporT signed by a self-signed end-entity certificate configured as trust anchor', () => {
    const token = signPassport(claims, selfKeys.privateKey, X5U_SELF);
    expect(verifyIdentity(input([identityHeader(token, X5U_SELF)]), selfCtx)).toEqual({
      status: 'passed',
      ...facts(token, X5U_SELF),
      origBound: true,
    });
  });

  it('a tampered token under that anchor is 438 SHAKEN-SIG-FAIL, not 437', () => {
    const [hdr, , sig] = signPassport(claims, selfKeys.privateKey, X5U_SELF).split('.');
    const forged = { ...claims, attest: 'C' as const };
    const token = `${hdr}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`;
    const r = verifyIdentity(input([identityHeader(token, X5U_SELF)]), selfCtx);
    expect(r.status === 'failed' && [r.code, r.rule, r.step]).toEqual([438, 'SHAKEN-SIG-FAIL', 'signature']);
  });

  it('the same self-signed certificate is untrusted when it is not an anchor', () => {
    const token = signPassport(claims, selfKeys.privateKey, X5U_SELF);
    const r = verifyIdentity(input([identityHeader(token, X5U_SELF)]), { ...selfCtx, anchors: [pki.root.cert.x509] });
    expect(r.status === 'failed' && [r.code, r.rule]).toEqual([437, 'SHAKEN-CERT-UNTRUSTED']);
  });

  it('names every fault of a certificate: untrusted root, no TNAuthList, expired leaf (437)', () => {
    const token = signPassport(claims, bad.leaf.privateKey, X5U_BAD);
    const r = verifyIdentity(input([identityHeader(token, X5U_BAD)]), selfCtx);
    expect(r.status === 'failed' && [r.code, r.rule, r.step, r.reason]).toEqual([
      437,
      'SHAKEN-CERT-UNTRUSTED',
      'chain',
      'untrusted signing certificate: the signing certificate has no TNAuthList extension, so it authorises no telephone numbers; ' +
        'the certificate chain does not lead to a configured trust anchor (no trusted issuer for "C=NL, O=spoofwatch tests, CN=Spoofwatch Test Intermediate CA", issued by "C=NL, O=spoofwatch tests, CN=Unknown Root"); ' +
        `certificate "C=NL, O=spoofwatch tests, CN=SHAKEN 1234" had expired at the capture time ${new Date(CAPTURE).toISOString()} (valid until ${new Date(T0 - DAY).toISOString()})`,
    ]);
  });

  it('a tampered token under an untrusted certificate is 438 and still names the certificate faults', () => {
    const [hdr, , sig] = signPassport(claims, bad.leaf.privateKey, X5U_BAD).split('.');
    const token = `${hdr}.${Buffer.from(JSON.stringify({ ...claims, attest: 'C' })).toString('base64url')}.${sig}`;
    const r = verifyIdentity(input([identityHeader(token, X5U_BAD)]), selfCtx);
    expect(r.status === 'failed' && [r.code, r.rule, r.step]).toEqual([438, 'SHAKEN-SIG-FAIL', 'signature']);
    expect(r.status === 'failed' && r.reason).toMatch(
      /^the PASSporT signature does not verify: its content was altered or it was not signed by this certificate; the signing certificate is also untrusted: the signing certificate has no TNAuthList extension.*; the certificate chain does not lead.*; certificate ".*CN=SHAKEN 1234" had expired/,
    );
  });
});
