import { afterAll, describe, expect, it } from 'vitest';
import { CertCache } from '../../src/identity/shaken/certcache.js';
import { checkReplay, ReplayDetector, replayKeyOf } from '../../src/identity/shaken/replay.js';
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

describe('SHAKEN-REPLAY', () => {
  it('the same PASSporT on two Call-IDs is a replay of the first', () => {
    const detector = new ReplayDetector({ windowMs: 120_000, maxEntries: 100 });
    expect(checkReplay(detector, verified(T0 + 1000), 'call-1@a', T0 + 1000)).toBeUndefined();
    expect(checkReplay(detector, verified(T0 + 9000), 'call-2@b', T0 + 9000)).toEqual({
      rule: 'SHAKEN-REPLAY',
      replayOf: 'call-1@a',
      reason: 'the same PASSporT (origid origid-1, iat 1740830400) was already used on call call-1@a; a signed identity is valid for one call only',
    });
  });

  it('the same Call-ID twice (retransmission, re-INVITE) is not a replay', () => {
    const detector = new ReplayDetector({ windowMs: 120_000, maxEntries: 100 });
    expect(checkReplay(detector, verified(T0 + 1000), 'call-1@a', T0 + 1000)).toBeUndefined();
    expect(checkReplay(detector, verified(T0 + 1500), 'call-1@a', T0 + 1500)).toBeUndefined();
    expect(detector.size).toBe(1);
  });

  it('keys on origid, iat, orig.tn and dest.tn (dest order does not matter)', () => {
    const base = { origid: 'x', iat: 1, origTn: '31', destTn: ['2', '1'] };
    expect(replayKeyOf(base)).toBe('["x",1,"31",["1","2"]]');
    expect(replayKeyOf({ ...base, destTn: ['1', '2'] })).toBe(replayKeyOf(base));
    expect(replayKeyOf({ ...base, iat: 2 })).not.toBe(replayKeyOf(base));
  });

  it('expires keys by the capture clock after the window', () => {
    const detector = new ReplayDetector({ windowMs: 120_000, maxEntries: 100 });
    expect(detector.seen('k', 'a', 0)).toEqual({});
    expect(detector.seen('k', 'b', 120_000)).toEqual({ replayOf: 'a' });
    expect(detector.seen('k', 'c', 120_001)).toEqual({});
    expect(detector.expired).toBe(1);
    expect(detector.seen('k', 'd', 130_000)).toEqual({ replayOf: 'c' });
  });

  it('is bounded: the oldest key is evicted and counted', () => {
    const detector = new ReplayDetector({ windowMs: 120_000, maxEntries: 2 });
    detector.seen('k1', 'a', 0);
    detector.seen('k2', 'b', 1);
    detector.seen('k3', 'c', 2);
    expect(detector.size).toBe(2);
    expect(detector.evicted).toBe(1);
    expect(detector.seen('k1', 'z', 3)).toEqual({});
    expect(detector.seen('k3', 'z', 4)).toEqual({ replayOf: 'c' });
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
