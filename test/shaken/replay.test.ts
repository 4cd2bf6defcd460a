import { afterAll, describe, expect, it } from 'vitest';
import { CertCache } from '../../src/identity/shaken/certcache.js';
import { replayKeyOf } from '../../src/identity/shaken/replay.js';
import { verifyIdentity, type VerifyContext, type VerifyPassed } from '../../src/identity/shaken/verify.js';
import { verstatOf } from '../../src/identity/shaken/verstat.js';
import { identityHeader, makePki, signPassport, writeCacheFolder, removeCacheFolders } from './pki.js';

afterAll(removeCacheFolders);

const T0 = Date.parse('2025-03-01T12:00:00Z');
const X5U = 'https://cert.example.net/sp1234.pem';
const pki = makePki({ now: new Date(T0) });
const ctx: VerifyContext = {
  anchors: [pki.root.cert.x509],
  cache: new CertCache(writeCacheFolder({ index: { [X5U]: pki.chainPem } })),
  freshnessSeconds: 60,
};
const claims = { attest: 'A' as const, orig: { tn: '31201234567' }, dest: { tn: ['31612345678'] }, iat: T0 / 1000, origid: 'origid-1' };
const value = identityHeader(signPassport(claims, pki.leaf.privateKey, X5U), X5U);

function verified(timeMs: number): VerifyPassed {
  const r = verifyIdentity({ identityHeaders: [value], captureTimeMs: timeMs, cli: '+31201234567', calledNumbers: ['+31612345678'] }, ctx);
  if (r.status !== 'passed') throw new Error(`expected passed, got ${JSON.stringify(r)}`);
  return r;
}

describe('replayKeyOf (the windowed replay itself is tested with the rule in test/rules/shaken.test.ts)', () => {
  it('keys on origid, iat, orig.tn and dest.tn (dest order does not matter)', () => {
    const base = { origid: 'x', iat: 1, origTn: '31', destTn: ['2', '1'] };
    expect(replayKeyOf(base)).toBe('["x",1,"31",["1","2"]]');
    expect(replayKeyOf({ ...base, destTn: ['1', '2'] })).toBe(replayKeyOf(base));
    expect(replayKeyOf({ ...base, iat: 2 })).not.toBe(replayKeyOf(base));
  });
});

describe('verstatOf', () => {
  it('maps passed, failed, unverifiable and none', () => {
    expect(verstatOf(verified(T0))).toBe('TN-Validation-Passed');
    expect(verstatOf({ status: 'failed', code: 438, rule: 'SHAKEN-ORIG-MISMATCH', step: 'orig', reason: 'x' })).toBe('TN-Validation-Failed');
    expect(verstatOf({ status: 'failed', code: 437, rule: 'SHAKEN-CERT-UNTRUSTED', step: 'chain', reason: 'x' })).toBe('TN-Validation-Failed');
    expect(verstatOf({ status: 'failed', code: 403, rule: 'SHAKEN-STALE', step: 'freshness', reason: 'x' })).toBe('TN-Validation-Failed');
    expect(verstatOf({ status: 'failed', code: 436, rule: 'SHAKEN-UNVERIFIABLE', step: 'certificate', reason: 'x' })).toBe('No-TN-Validation');
    expect(verstatOf({ status: 'none' })).toBe('No-TN-Validation');
  });
});
