/**
 * SHAKEN-* and VERSTAT-FORGED from real PASSporTs signed at test time by a throw-away PKI (RULES.md §2): root →
 * intermediate → leaf with a TNAuthList, a certificate cache folder keyed by x5u URL, a trust-anchor file, and the
 * capture time as the only clock.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identityHeader, makePki, removeCacheFolders, signPassport, writeCacheFolder, type PassportClaimsSpec } from '../shaken/pki.js';
import { invite, only, response, ruleSet, sipNum, SipSession, SRC, T0, testConfigYaml, withTag, type InviteSpec, type RaisedAlert } from './harness.js';

const X5U = 'https://cert.example.net/sp1234.pem';
const X5U_FOREIGN = 'https://cert.example.net/foreign.pem';
const X5U_UNCACHED = 'https://cert.example.net/not-cached.pem';

const pki = makePki({ now: new Date(T0 * 1000) });
const foreign = makePki({ now: new Date(T0 * 1000), root: { cn: 'Some Other Root' } });
const cacheDir = writeCacheFolder({ index: { [X5U]: pki.chainPem, [X5U_FOREIGN]: foreign.chainPem } });
const anchorDir = mkdtempSync(join(tmpdir(), 'spoofwatch-anchors-'));
const anchorFile = join(anchorDir, 'anchors.pem');
writeFileSync(anchorFile, pki.root.cert.pem);

afterAll(() => {
  removeCacheFolders();
  rmSync(anchorDir, { recursive: true, force: true });
});

const CONFIG = testConfigYaml({ stirShaken: { trustAnchors: [anchorFile], certCacheDir: cacheDir } });
/** Freshness 300 s, so a PASSporT stays fresh longer than SHAKEN-REPLAY's 120 s window. */
const CONFIG_300 = testConfigYaml({ stirShaken: { trustAnchors: [anchorFile], certCacheDir: cacheDir, freshnessSeconds: 300 } });

const CLI = '+31104567890';
const CALLEE = '+31687654321';
const ORIGID = '123e4567-e89b-12d3-a456-426655440000';
const claims = (over: Partial<PassportClaimsSpec> = {}): PassportClaimsSpec => ({
  attest: 'A',
  orig: { tn: CLI.slice(1) },
  dest: { tn: [CALLEE.slice(1)] },
  iat: T0,
  origid: ORIGID,
  ...over,
});

function identity(c: PassportClaimsSpec = claims(), x5u = X5U, key = pki.leaf.privateKey, ppt: 'shaken' | 'div' | 'rcd' = 'shaken'): string {
  return identityHeader(signPassport(c, key, x5u, ppt), x5u, ppt);
}

interface ShakenCall {
  readonly src?: string;
  readonly from?: string;
  readonly to?: string;
  readonly callId: string;
  readonly identities: readonly string[];
  readonly headers?: readonly string[];
  readonly ts?: number;
}

function specOf(c: ShakenCall): InviteSpec {
  return {
    from: c.from ?? sipNum(CLI),
    to: c.to ?? sipNum(CALLEE),
    callId: c.callId,
    host: (c.src ?? SRC.carrierNl).split(':')[0]!,
    headers: [...(c.headers ?? []), ...c.identities.map((i) => `Identity: ${i}`)],
  };
}

function feed(s: SipSession, c: ShakenCall): RaisedAlert[] {
  return s.feed({ src: c.src ?? SRC.carrierNl, ts: c.ts ?? T0 + 2, text: invite(specOf(c)) });
}

const run = (c: ShakenCall, config = CONFIG): RaisedAlert[] => feed(new SipSession(config), c);

describe('valid PASSporT', () => {
  it('raises no SHAKEN alert', () => {
    expect(run({ callId: 'ok-1@x', identities: [identity()] })).toEqual([]);
  });

  it('shows up as verified in the call of other alerts', () => {
    const alerts = run({
      src: SRC.pbxAcme,
      from: sipNum('+31881234567'),
      callId: 'ok-2@x',
      headers: [`P-Asserted-Identity: ${sipNum('+31205550123')}`],
      identities: [identity(claims({ orig: { tn: '31205550123' } }))],
    });
    expect(ruleSet(alerts)).toEqual(['ID-FROM-PAI-MISMATCH:info']);
    expect(alerts[0]!.call.identity).toEqual({ attest: 'A', origTn: '31205550123', destTn: ['31687654321'], verified: true });
  });
});

describe('SHAKEN-SIG-FAIL', () => {
  it('raises high for a PASSporT whose claims were altered after signing', () => {
    const token = signPassport(claims({ attest: 'C' }), pki.leaf.privateKey, X5U);
    const [h, , sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify(claims({ attest: 'A' })), 'utf8').toString('base64url');
    const value = identityHeader(`${h}.${forged}.${sig}`, X5U);
    const alerts = run({ callId: 'sig-1@x', identities: [value] });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-SIG-FAIL:high']);
    const a = only(alerts, 'SHAKEN-SIG-FAIL');
    expect(a.reasons).toEqual([
      'Offline verification of the Identity header failed with 438: the PASSporT signature does not verify: its content was altered or it was not signed by this certificate.',
      'The PASSporT claims orig.tn 31104567890, attestation A.',
      `Certificate URL (x5u): ${X5U}.`,
    ]);
    expect(a.evidence).toEqual([{ frame: 1, header: 'Identity', value }]);
    expect(a.call.identity).toMatchObject({ verified: false, attest: 'A', reason: expect.stringMatching(/^438 the PASSporT signature does not verify/) });
  });

  it('raises high for a PASSporT signed by another key than the certificate’s', () => {
    expect(ruleSet(run({ callId: 'sig-2@x', identities: [identity(claims(), X5U, foreign.leaf.privateKey)] }))).toEqual(['SHAKEN-SIG-FAIL:high']);
  });
});

describe('SHAKEN-ORIG-MISMATCH', () => {
  it('raises high when orig.tn is not the calling number', () => {
    const alerts = run({ callId: 'orig-1@x', identities: [identity(claims({ orig: { tn: '31104567899' } }))] });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-ORIG-MISMATCH:high']);
    expect(only(alerts, 'SHAKEN-ORIG-MISMATCH').reasons[0]).toBe(
      'Offline verification of the Identity header failed with 438: the PASSporT was signed for calling number 31104567899, but the call presents +31104567890.',
    );
  });

  it('raises high when From holds no number (sip:alice@example.com, no PAI): the binding is not skipped', () => {
    const alerts = run({
      from: '<sip:alice@example.com>;tag=a1',
      callId: 'orig-3@x',
      identities: [identity(claims({ orig: { tn: '18005551212' } }))],
    });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-ORIG-MISMATCH:high']);
    expect(only(alerts, 'SHAKEN-ORIG-MISMATCH').reasons[0]).toBe(
      'Offline verification of the Identity header failed with 438: the PASSporT was signed for calling number 18005551212, but the call presents sip:alice@example.com, which is not a telephone number and is not withheld.',
    );
  });

  it('leaves the binding unchecked only for a withheld caller, and the verdict says so', () => {
    // A scanner User-Agent makes an alert that carries the verdict in call.identity.
    const alerts = run({
      src: SRC.pbxAcme,
      from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=a2',
      headers: ['User-Agent: friendly-scanner'],
      callId: 'orig-4@x',
      identities: [identity(claims({ orig: { tn: '18005551212' } }))],
    });
    expect(ruleSet(alerts)).toEqual(['UA-ATTACK-TOOL:high']);
    expect(alerts[0]!.call.identity).toEqual({
      attest: 'A',
      origTn: '18005551212',
      destTn: ['31687654321'],
      verified: true,
      reason: 'the caller is withheld (anonymous From, no P-Asserted-Identity number), so orig.tn 18005551212 was not compared with a calling number',
    });
  });

  it('binds a withheld From to the P-Asserted-Identity number', () => {
    const alerts = run({
      src: SRC.pbxAcme,
      from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=a3',
      headers: [`P-Asserted-Identity: ${sipNum('+31205550123')}`, 'Privacy: id'],
      callId: 'orig-5@x',
      identities: [identity(claims({ orig: { tn: '18005551212' } }))],
    });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-ORIG-MISMATCH:high']);
    expect(only(alerts, 'SHAKEN-ORIG-MISMATCH').reasons[0]).toBe(
      'Offline verification of the Identity header failed with 438: the PASSporT was signed for calling number 18005551212, but the call presents +31205550123.',
    );
  });

  it('compares after normalisation: a national From matches an E.164 orig.tn', () => {
    expect(run({ from: sipNum('0104567890'), callId: 'orig-2@x', identities: [identity()] })).toEqual([]);
  });
});

describe('SHAKEN-STALE', () => {
  it('raises medium when iat is further than 60 s from the capture time', () => {
    const alerts = run({ callId: 'stale-1@x', identities: [identity(claims({ iat: T0 - 300 }))], ts: T0 });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-STALE:medium']);
    expect(only(alerts, 'SHAKEN-STALE').reasons[0]).toBe(
      'Offline verification of the Identity header failed with 403: the PASSporT was issued at 2025-03-01T11:55:00.000Z, 300 s before the capture time 2025-03-01T12:00:00.000Z, outside the 60 s freshness window.',
    );
  });

  it('raises medium when the Date header is outside the window', () => {
    const alerts = run({ callId: 'stale-2@x', identities: [identity()], headers: ['Date: Sat, 01 Mar 2025 11:50:00 GMT'], ts: T0 });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-STALE:medium']);
  });

  it('judges by the capture time, never the wall clock: an old capture with a matching iat is fresh', () => {
    expect(run({ callId: 'stale-3@x', identities: [identity(claims({ iat: T0 + 30 }))], ts: T0 + 40 })).toEqual([]);
  });
});

describe('SHAKEN-UNVERIFIABLE', () => {
  it('raises low when the certificate is not in the local cache', () => {
    const alerts = run({ callId: 'unv-1@x', identities: [identity(claims(), X5U_UNCACHED)] });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-UNVERIFIABLE:low']);
    expect(only(alerts, 'SHAKEN-UNVERIFIABLE').reasons[0]).toMatch(/^Offline verification of the Identity header failed with 436: the certificate at https:\/\/cert\.example\.net\/not-cached\.pem is not in the local cache/);
  });
});

describe('SHAKEN-CERT-UNTRUSTED', () => {
  it('raises high for a chain to a root that is not a trust anchor', () => {
    const alerts = run({ callId: 'cert-1@x', identities: [identity(claims(), X5U_FOREIGN, foreign.leaf.privateKey)] });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-CERT-UNTRUSTED:high']);
    expect(only(alerts, 'SHAKEN-CERT-UNTRUSTED').reasons[0]).toMatch(/^Offline verification of the Identity header failed with 437: untrusted signing certificate: /);
  });

  it('raises high for a capture outside the certificate’s validity', () => {
    // Leaf valid T0 ± 30 days; a capture 40 days later with a fresh iat.
    const later = T0 + 40 * 86_400;
    const alerts = run({ callId: 'cert-2@x', identities: [identity(claims({ iat: later }))], ts: later });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-CERT-UNTRUSTED:high']);
  });
});

describe('SHAKEN-DEST-MISMATCH', () => {
  it('raises medium when the called number is not in dest.tn', () => {
    const alerts = run({ callId: 'dest-1@x', identities: [identity(claims({ dest: { tn: ['31687650000'] } }))] });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-DEST-MISMATCH:medium']);
    expect(only(alerts, 'SHAKEN-DEST-MISMATCH').reasons[0]).toBe(
      "Offline verification of the Identity header failed with 438: the call is addressed to +31687654321, which is not among the PASSporT's destination numbers (31687650000) and no div PASSporT explains a diversion.",
    );
  });

  it('does not raise when a valid div PASSporT explains the forwarding (RFC 8946)', () => {
    const shaken = identity(claims({ dest: { tn: ['31687650000'] } }));
    const div = identity({ orig: { tn: CLI.slice(1) }, dest: { tn: [CALLEE.slice(1)] }, div: { tn: '31687650000' }, iat: T0 }, X5U, pki.leaf.privateKey, 'div');
    expect(run({ callId: 'dest-2@x', identities: [shaken, div] })).toEqual([]);
  });
});

describe('signed diversion (RFC 8946 div PASSporTs)', () => {
  // A (+31104567890) calls the access subscriber +31301112233, whose line forwards to CALLEE; the untrusted access
  // peer sends the call on with From A, a Diversion naming its subscriber, and the original and div PASSporTs.
  const SUB = '+31301112233';
  const shakenToSub = () => identity(claims({ dest: { tn: [SUB.slice(1)] } }));
  const divClaims = (over: Partial<PassportClaimsSpec> = {}): PassportClaimsSpec => ({
    orig: { tn: CLI.slice(1) },
    dest: { tn: [CALLEE.slice(1)] },
    div: { tn: SUB.slice(1) },
    iat: T0,
    ...over,
  });
  const forwarded = (callId: string, identities: string[]): RaisedAlert[] =>
    run({ src: SRC.untrusted, callId, identities, headers: [`Diversion: <sip:${SUB}@voip.example>;reason=unconditional;counter=1`] });

  it('without a div PASSporT: the peer is not authorised and the destination is unexplained', () => {
    expect(ruleSet(forwarded('div-0@x', [shakenToSub()]))).toEqual(['CLI-NOT-AUTHORIZED:high', 'SHAKEN-DEST-MISMATCH:medium']);
  });

  it('a valid div PASSporT proves the forwarding: CLI-NOT-AUTHORIZED is info even from an untrusted peer, no SHAKEN alert', () => {
    const alerts = forwarded('div-1@x', [shakenToSub(), identity(divClaims(), X5U, pki.leaf.privateKey, 'div')]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:info']);
    expect(only(alerts, 'CLI-NOT-AUTHORIZED').reasons.at(-1)).toBe(
      'SIGNED DIVERSION: a valid div PASSporT (RFC 8946), chained to the verified PASSporT of +31104567890, proves the call was forwarded by +31301112233, a number "access-untrusted" may present; lowered to info.',
    );
  });

  it('a div PASSporT with a tampered signature → SHAKEN-DIV-INVALID, and nothing is explained', () => {
    const token = signPassport(divClaims(), pki.leaf.privateKey, X5U, 'div');
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(divClaims({ iat: T0 + 1 }))).toString('base64url')}.${sig}`;
    const alerts = forwarded('div-2@x', [shakenToSub(), identityHeader(forged, X5U, 'div')]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:high', 'SHAKEN-DEST-MISMATCH:medium', 'SHAKEN-DIV-INVALID:high']);
    expect(only(alerts, 'SHAKEN-DIV-INVALID').reasons[0]).toBe(
      'A signed diversion (ppt=div) was rejected: 438 the PASSporT signature does not verify: its content was altered or it was not signed by this certificate.',
    );
  });

  it('a div PASSporT of another call (wrong orig linkage) → SHAKEN-DIV-INVALID', () => {
    const alerts = forwarded('div-3@x', [shakenToSub(), identity(divClaims({ orig: { tn: '31209999999' } }), X5U, pki.leaf.privateKey, 'div')]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:high', 'SHAKEN-DEST-MISMATCH:medium', 'SHAKEN-DIV-INVALID:high']);
    expect(only(alerts, 'SHAKEN-DIV-INVALID').reasons[0]).toBe(
      "A signed diversion (ppt=div) was rejected: its orig.tn 31209999999 differs from the original PASSporT's, so it belongs to another call.",
    );
  });

  it('an expired div PASSporT (issued 10 min before the capture) → SHAKEN-DIV-INVALID', () => {
    const alerts = forwarded('div-4@x', [shakenToSub(), identity(divClaims({ iat: T0 - 600 }), X5U, pki.leaf.privateKey, 'div')]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:high', 'SHAKEN-DEST-MISMATCH:medium', 'SHAKEN-DIV-INVALID:high']);
    expect(only(alerts, 'SHAKEN-DIV-INVALID').reasons[0]).toMatch(/^A signed diversion \(ppt=div\) was rejected: 403 the PASSporT was issued at 2025-03-01T11:50:00.000Z/);
  });

  it('a div PASSporT naming another diverting number than the Diversion header → SHAKEN-DIV-INVALID', () => {
    const alerts = forwarded('div-5@x', [shakenToSub(), identity(divClaims({ div: { tn: '31301112299' } }), X5U, pki.leaf.privateKey, 'div')]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:high', 'SHAKEN-DEST-MISMATCH:medium', 'SHAKEN-DIV-INVALID:high']);
    expect(only(alerts, 'SHAKEN-DIV-INVALID').reasons[0]).toBe(
      'A signed diversion (ppt=div) was rejected: its div.tn 31301112299 is not the diverting number the signalling names (31301112233).',
    );
  });
});

describe('Rich Call Data (rcd PASSporTs, draft-ietf-stir-passport-rcd)', () => {
  const sri = (v: unknown): string => `sha256-${createHash('sha256').update(JSON.stringify(v), 'utf8').digest('base64')}`;
  const rcdClaims = (nam: string, over: Partial<PassportClaimsSpec> = {}): PassportClaimsSpec => ({
    orig: { tn: CLI.slice(1) },
    dest: { tn: [CALLEE.slice(1)] },
    iat: T0,
    rcd: { nam },
    rcdi: { '/nam': sri(nam) },
    ...over,
  });
  const rcd = (c: PassportClaimsSpec): string => identity(c, X5U, pki.leaf.privateKey, 'rcd');
  const named = (display: string | undefined, callId: string, rcdHeader: string): RaisedAlert[] =>
    run({ from: sipNum(CLI, display), callId, identities: [identity(), rcdHeader] });

  it('a valid rcd PASSporT whose name the From display repeats raises nothing', () => {
    expect(named('Jansen Installatie', 'rcd-1@x', rcd(rcdClaims('Jansen Installatie')))).toEqual([]);
  });

  it('a From display name other than the verified signed name → DISPLAY-RCD-MISMATCH', () => {
    const alerts = named('Examp1e Bank', 'rcd-2@x', rcd(rcdClaims('Jansen Installatie')));
    expect(ruleSet(alerts)).toEqual(['DISPLAY-RCD-MISMATCH:medium']);
    expect(only(alerts, 'DISPLAY-RCD-MISMATCH').reasons).toEqual([
      'The From display name is "Examp1e Bank".',
      'A verified rcd PASSporT for orig.tn 31104567890 signs the caller name "Jansen Installatie" (draft-ietf-stir-passport-rcd).',
    ]);
  });

  it('DISPLAY-IMPERSONATION judges the signed name: a signed "Example Bank" on a number that is not the bank’s', () => {
    const alerts = named(undefined, 'rcd-3@x', rcd(rcdClaims('Example Bank')));
    expect(ruleSet(alerts)).toEqual(['DISPLAY-IMPERSONATION:high']);
    expect(only(alerts, 'DISPLAY-IMPERSONATION').reasons[0]).toBe(
      'The signed caller name (rcd PASSporT) shows the name "Example Bank", which matches brand "Examplebank" ("Example Bank").',
    );
  });

  it('an rcd PASSporT with a tampered signature → SHAKEN-RCD-INVALID, and its name is not used', () => {
    const [h, , sig] = signPassport(rcdClaims('Jansen Installatie'), pki.leaf.privateKey, X5U, 'rcd').split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(rcdClaims('Example Bank'))).toString('base64url')}.${sig}`;
    const alerts = named(undefined, 'rcd-4@x', identityHeader(forged, X5U, 'rcd'));
    expect(ruleSet(alerts)).toEqual(['SHAKEN-RCD-INVALID:high']);
    expect(only(alerts, 'SHAKEN-RCD-INVALID').reasons[0]).toBe(
      'A Rich Call Data PASSporT (ppt=rcd) was rejected: 438 the PASSporT signature does not verify: its content was altered or it was not signed by this certificate.',
    );
  });

  it('an rcd PASSporT of another call (wrong orig linkage) → SHAKEN-RCD-INVALID', () => {
    const alerts = named('Jansen Installatie', 'rcd-5@x', rcd(rcdClaims('Jansen Installatie', { orig: { tn: '31209999999' } })));
    expect(ruleSet(alerts)).toEqual(['SHAKEN-RCD-INVALID:high']);
    expect(only(alerts, 'SHAKEN-RCD-INVALID').reasons[0]).toBe(
      "A Rich Call Data PASSporT (ppt=rcd) was rejected: its orig.tn 31209999999 differs from the original PASSporT's, so it belongs to another call.",
    );
  });

  it('an altered rcdi digest → SHAKEN-RCD-INVALID', () => {
    const alerts = named('Jansen Installatie', 'rcd-6@x', rcd(rcdClaims('Jansen Installatie', { rcdi: { '/nam': sri('Jansen Installatie B.V.') } })));
    expect(ruleSet(alerts)).toEqual(['SHAKEN-RCD-INVALID:high']);
    expect(only(alerts, 'SHAKEN-RCD-INVALID').reasons[0]).toBe(
      'A Rich Call Data PASSporT (ppt=rcd) was rejected: the rcdi digest of /nam does not match the signed content: the caller data were altered.',
    );
  });

  it('an expired rcd PASSporT (issued 10 min before the capture) → SHAKEN-RCD-INVALID', () => {
    const alerts = named('Jansen Installatie', 'rcd-7@x', rcd(rcdClaims('Jansen Installatie', { iat: T0 - 600 })));
    expect(ruleSet(alerts)).toEqual(['SHAKEN-RCD-INVALID:high']);
    expect(only(alerts, 'SHAKEN-RCD-INVALID').reasons[0]).toMatch(/^A Rich Call Data PASSporT \(ppt=rcd\) was rejected: 403 the PASSporT was issued at 2025-03-01T11:50:00.000Z/);
  });
});

describe('SHAKEN-ATTEST-WEAK', () => {
  it('raises low for attestation B on a domestic number from a domestic peer', () => {
    const value = identity(claims({ attest: 'B' }));
    const alerts = run({ callId: 'weak-1@x', identities: [value] });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-ATTEST-WEAK:low']);
    const a = only(alerts, 'SHAKEN-ATTEST-WEAK');
    expect(a.reasons).toEqual([
      'The PASSporT verified with attestation B: the signer does not vouch that the caller may use +31104567890.',
      'Both the number and peer "carrier-nl" are in NL, where full attestation (A) is expected.',
    ]);
    expect(a.evidence).toEqual([{ frame: 1, header: 'Identity', value }]);
    expect(a.call.identity).toEqual({ attest: 'B', origTn: '31104567890', destTn: ['31687654321'], verified: true });
  });

  it('does not raise for attestation B from a foreign peer, nor for attestation A', () => {
    expect(run({ src: SRC.carrierBe, callId: 'weak-2@x', identities: [identity(claims({ attest: 'B' }))] })).toEqual([]);
    expect(run({ callId: 'weak-3@x', identities: [identity(claims({ attest: 'A' }))] })).toEqual([]);
  });
});

describe('VERSTAT-FORGED', () => {
  const verstatFrom = '<sip:+31301112233;verstat=TN-Validation-Passed@home.example;user=phone>';

  it('raises high for verstat=TN-Validation-Passed from an untrusted peer', () => {
    const alerts = run({ src: SRC.untrusted, from: verstatFrom, callId: 'vs-1@x', identities: [] });
    expect(ruleSet(alerts)).toEqual(['HDR-PAI-UNTRUSTED:medium', 'VERSTAT-FORGED:high']);
    const a = only(alerts, 'VERSTAT-FORGED');
    expect(a.reasons).toEqual([
      'From claims verstat=TN-Validation-Passed.',
      'It came from untrusted peer "access-untrusted", which cannot vouch for verification.',
    ]);
    expect(a.evidence).toEqual([{ frame: 1, header: 'From', value: withTag(verstatFrom, 'vs-1@x') }]);
  });

  it('raises high for verstat Passed from a trusted peer when the local verification fails', () => {
    const pai = `<sip:${CLI};verstat=TN-Validation-Passed@carrier.example;user=phone>`;
    const alerts = run({
      callId: 'vs-2@x',
      headers: [`P-Asserted-Identity: ${pai}`],
      identities: [identity(claims({ orig: { tn: '31104567899' } }))],
    });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-ORIG-MISMATCH:high', 'VERSTAT-FORGED:high']);
    const a = only(alerts, 'VERSTAT-FORGED');
    expect(a.reasons[1]).toBe(
      'Local verification of the Identity header failed (438: the PASSporT was signed for calling number 31104567899, but the call presents +31104567890).',
    );
    expect(a.evidence).toEqual([{ frame: 1, header: 'P-Asserted-Identity', value: pai }]);
  });

  it('does not raise when local verification only lacks the certificate (436: an offline limit, not forgery)', () => {
    const pai = `<sip:${CLI};verstat=TN-Validation-Passed@carrier.example;user=phone>`;
    const alerts = run({ callId: 'vs-5@x', headers: [`P-Asserted-Identity: ${pai}`], identities: [identity(claims(), X5U_UNCACHED)] });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-UNVERIFIABLE:low']);
  });

  it('does not raise for a trusted upstream verifier’s verstat, with or without a PASSporT that verifies', () => {
    const pai = `<sip:${CLI};verstat=TN-Validation-Passed@carrier.example;user=phone>`;
    expect(run({ callId: 'vs-3@x', headers: [`P-Asserted-Identity: ${pai}`], identities: [identity()] })).toEqual([]);
    expect(run({ callId: 'vs-4@x', headers: [`P-Asserted-Identity: ${pai}`], identities: [] })).toEqual([]);
  });
});

describe('SHAKEN-REPLAY', () => {
  it('raises high when the same PASSporT arrives on another Call-ID within the window', () => {
    const s = new SipSession(CONFIG);
    const value = identity();
    expect(feed(s, { callId: 'rp-1@x', identities: [value], ts: T0 + 1 })).toEqual([]);
    const alerts = feed(s, { callId: 'rp-2@x', identities: [value], ts: T0 + 20 });
    expect(ruleSet(alerts)).toEqual(['SHAKEN-REPLAY:high']);
    const a = only(alerts, 'SHAKEN-REPLAY');
    expect(a.reasons[0]).toBe(
      'This Identity header carries the same PASSporT (orig 31104567890, same iat and origid) as call rp-1@x (frame 1), 19.0 s earlier.',
    );
    expect(a.evidence).toEqual([
      { frame: 2, header: 'Identity', value },
      { frame: 1, header: 'Call-ID', value: 'rp-1@x' },
    ]);
  });

  it('does not take a retransmission of the same call for a replay', () => {
    const s = new SipSession(CONFIG);
    const c: ShakenCall = { callId: 'rp-3@x', identities: [identity()] };
    expect(feed(s, { ...c, ts: T0 + 1 })).toEqual([]);
    expect(feed(s, { ...c, ts: T0 + 1.5 })).toEqual([]);
  });

  it('does not take an SBC retry on the same Call-ID (after the first attempt was rejected and forgotten) for a replay', () => {
    const s = new SipSession(CONFIG_300);
    const c: ShakenCall = { callId: 'rp-4@x', identities: [identity()] };
    expect(feed(s, { ...c, ts: T0 + 1 })).toEqual([]);
    expect(s.feed({ src: '127.0.0.2:5060', ts: T0 + 2, text: response(specOf(c), 503, 'Service Unavailable') })).toEqual([]);
    // 70 s later the ended call is swept from the call table (any message runs the sweep), so the retry is an
    // initial INVITE again and reaches SHAKEN-REPLAY with the PASSporT it already saw on this Call-ID.
    const keepalive = invite({ method: 'OPTIONS', from: '<sip:ping@carrier.example>', to: '<sip:127.0.0.2>', callId: 'ka-1@x', host: '127.0.0.11' });
    expect(s.feed({ src: SRC.carrierNl, ts: T0 + 74, text: keepalive })).toEqual([]);
    expect(feed(s, { ...c, ts: T0 + 75 })).toEqual([]);
    expect(s.analyzer.stats.initialInvites).toBe(2);
  });

  it('uses 2× the freshness window by default (freshness 300 s: a reuse 199 s later is a replay)', () => {
    const s = new SipSession(CONFIG_300);
    const value = identity();
    expect(feed(s, { callId: 'rp-5@x', identities: [value], ts: T0 + 1 })).toEqual([]);
    expect(feed(s, { callId: 'rp-6@x', identities: [value], ts: T0 + 200 }).map((a) => a.rule)).toEqual(['SHAKEN-REPLAY']);
  });

  it('does not count a PASSporT seen outside a configured 120 s window', () => {
    const s = new SipSession(
      testConfigYaml({
        stirShaken: { trustAnchors: [anchorFile], certCacheDir: cacheDir, freshnessSeconds: 300 },
        rules: '  SHAKEN-REPLAY: { windowSeconds: 120 }',
      }),
    );
    const value = identity();
    expect(feed(s, { callId: 'rp-5@x', identities: [value], ts: T0 + 1 })).toEqual([]);
    expect(feed(s, { callId: 'rp-6@x', identities: [value], ts: T0 + 200 })).toEqual([]);
  });

  it('does not raise for two different PASSporTs from the same caller', () => {
    const s = new SipSession(CONFIG);
    expect(feed(s, { callId: 'rp-7@x', identities: [identity()], ts: T0 + 1 })).toEqual([]);
    expect(feed(s, { callId: 'rp-8@x', identities: [identity(claims({ origid: 'aaaaaaaa-e89b-12d3-a456-426655440000' }))], ts: T0 + 2 })).toEqual([]);
  });
});
