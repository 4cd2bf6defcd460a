/**
 * Evasion suite (issue #16.3; DESIGN.md §3, tolerance rule): for every rule's positive case, the same call written the
 * way a hostile caller would write it — start-line case and junk, compact and odd-case header names, folded lines,
 * extra whitespace, duplicate headers, escaped quotes, the number percent-encoded, with visual separators, national,
 * as tel: with and without phone-context, sip: without user=phone — must raise the same rules, plus MSG-MALFORMED
 * where the variant is malformed. Each message goes through the UDP path of the pipeline (Ingest: the probe that
 * decides "is SIP", the parser) into an Analyzer, as `analyze` takes a capture.
 *
 * The last block keeps a copy of the old, exact-case probe and shows that the lowercase-version variant would have
 * been skipped as "not SIP" by it: this suite fails on the old behaviour.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Analyzer } from '../../src/pipeline/analyzer.js';
import { Ingest } from '../../src/pipeline/ingest.js';
import { identityHeader, makePki, removeCacheFolders, signPassport, writeCacheFolder, type PassportClaimsSpec } from '../shaken/pki.js';
import { configOf, DEFAULT_TEST_CONFIG, invite, sipNum, SRC, T0, testConfigYaml, type InviteSpec } from './harness.js';

// ------------------------------------------------------------------------------------------------ STIR/SHAKEN setup

const X5U = 'https://cert.example.net/sp1234.pem';
const X5U_UNCACHED = 'https://cert.example.net/not-cached.pem';
const pki = makePki({ now: new Date(T0 * 1000) });
const foreign = makePki({ now: new Date(T0 * 1000), root: { cn: 'Some Other Root' } });
const X5U_FOREIGN = 'https://cert.example.net/foreign.pem';
const cacheDir = writeCacheFolder({ index: { [X5U]: pki.chainPem, [X5U_FOREIGN]: foreign.chainPem } });
const anchorDir = mkdtempSync(join(tmpdir(), 'spoofwatch-evasion-anchors-'));
const anchorFile = join(anchorDir, 'anchors.pem');
writeFileSync(anchorFile, pki.root.cert.pem);
afterAll(() => {
  removeCacheFolders();
  rmSync(anchorDir, { recursive: true, force: true });
});
const SHAKEN_CONFIG = testConfigYaml({ stirShaken: { trustAnchors: [anchorFile], certCacheDir: cacheDir } });

const CLI = '+31104567890';
const CALLEE = '+31687654321';
const TO = sipNum(CALLEE);
const claims = (over: Partial<PassportClaimsSpec> = {}): PassportClaimsSpec => ({
  attest: 'A',
  orig: { tn: CLI.slice(1) },
  dest: { tn: [CALLEE.slice(1)] },
  iat: T0,
  origid: '123e4567-e89b-12d3-a456-426655440000',
  ...over,
});
const identity = (c: PassportClaimsSpec = claims(), x5u = X5U, key = pki.leaf.privateKey): string =>
  `Identity: ${identityHeader(signPassport(c, key, x5u, 'shaken'), x5u, 'shaken')}`;

// ------------------------------------------------------------------------------------------------ the pipeline

interface Msg {
  readonly src: string;
  readonly spec: InviteSpec;
  readonly ts?: number;
}

function endpoint(text: string): { ip: string; port: number } {
  const i = text.lastIndexOf(':');
  return { ip: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

/** The messages as UDP datagrams through Ingest (probe, parser) into a fresh Analyzer; `rule:severity` of each alert, sorted. */
/** Parsed configs by YAML text: ~600 runs share 3 configs, and parsing one is most of a run's time. */
const CONFIGS = new Map<string, ReturnType<typeof configOf>>();

function analyse(texts: readonly { readonly src: string; readonly text: string; readonly ts?: number }[], config: string): { alerts: string[]; notSip: number } {
  let cfg = CONFIGS.get(config);
  if (cfg === undefined) CONFIGS.set(config, (cfg = configOf(config)));
  const analyzer = new Analyzer(cfg, () => undefined, () => new Date('2025-03-01T12:00:00Z'));
  const alerts: string[] = [];
  const ingest = new Ingest({ origin: 'evasion', onMessage: (e) => alerts.push(...analyzer.handle(e).map((a) => `${a.rule}:${a.severity}`)) });
  texts.forEach((m, i) => {
    const ts = m.ts ?? T0 + 2;
    ingest.pushDatagram({ ts: { sec: Math.floor(ts), nsec: 0 }, src: endpoint(m.src), dst: endpoint('127.0.0.2:5060'), transport: 'udp', payload: Buffer.from(m.text, 'utf8'), frame: i + 1 });
  });
  return { alerts: alerts.sort(), notSip: ingest.stats.notSip };
}

// ------------------------------------------------------------------------------------------------ positive cases

interface Case {
  /** The rule whose positive test this is (RULES.md §4), and what makes it fire. */
  readonly name: string;
  readonly messages: readonly Msg[];
  /** Every alert the base messages raise, `rule:severity`, sorted. */
  readonly expected: readonly string[];
  /** E.164 numbers in identity headers (From, PAI, RPID, Diversion, History-Info) the number variants rewrite. */
  readonly numbers?: readonly string[];
  /** The peer's country is NL, so the national forms of the numbers mean the same numbers. */
  readonly national?: boolean;
  readonly config?: string;
}

const one = (src: string, spec: Omit<InviteSpec, 'to'> & { to?: string }): Msg[] => [{ src, spec: { to: TO, host: src.split(':')[0]!, ...spec } }];
const untrusted = (spec: Omit<InviteSpec, 'to'> & { to?: string }): Msg[] => one(SRC.untrusted, spec);

const CASES: readonly Case[] = [
  {
    name: 'CLI-NOT-AUTHORIZED: a peer presents a number outside its policy',
    messages: one(SRC.pbxAcme, { from: sipNum('+31104567890', undefined, 'pbx.acme.example'), callId: 'ev-na@pbx.acme.example' }),
    expected: ['CLI-NOT-AUTHORIZED:high'],
    numbers: ['+31104567890'],
    national: true,
  },
  {
    name: 'HDR-PAI-UNTRUSTED: PAI from an untrusted peer',
    messages: untrusted({ from: sipNum('+31301112233'), callId: 'ev-pai@home', headers: [`P-Asserted-Identity: ${sipNum('+31301112233')}`] }),
    expected: ['HDR-PAI-UNTRUSTED:medium'],
    numbers: ['+31301112233'],
    national: true,
  },
  {
    name: 'HDR-PAI-UNTRUSTED: RPID screen=yes from an untrusted peer',
    messages: untrusted({ from: sipNum('+31301112233'), callId: 'ev-rpid@home', headers: [`Remote-Party-ID: ${sipNum('+31301112233')};party=calling;screen=yes`] }),
    expected: ['HDR-PAI-UNTRUSTED:medium'],
    numbers: ['+31301112233'],
    national: true,
  },
  {
    name: 'SRC-UNKNOWN-PEER: a source that matches no peer',
    messages: one(SRC.unknown, { from: sipNum('+31104567890'), callId: 'ev-unk@x' }),
    expected: ['SRC-UNKNOWN-PEER:medium'],
    numbers: ['+31104567890'],
    national: true,
  },
  {
    name: 'CLI-PROTECTED: a protected number from a peer that is not its owner’s',
    messages: one(SRC.carrierNl, { from: sipNum('+31703456789', 'Mr. de Vries'), callId: 'ev-prot@x' }),
    expected: ['CLI-PROTECTED:high'],
    numbers: ['+31703456789'],
    national: true,
  },
  {
    name: 'CLI-DNO: a do-not-originate number',
    messages: one(SRC.carrierNl, { from: sipNum('+31201234000'), callId: 'ev-dno@x' }),
    expected: ['CLI-DNO:critical'],
    numbers: ['+31201234000'],
    national: true,
  },
  {
    name: 'CLI-SPECIAL: an M2M (097) number as caller',
    messages: one(SRC.carrierNl, { from: sipNum('+3197012345678'), callId: 'ev-sp@x' }),
    expected: ['CLI-SPECIAL:high'],
    numbers: ['+3197012345678'],
    national: true,
  },
  {
    name: 'CLI-SPECIAL: the emergency number 112 as caller',
    messages: one(SRC.carrierNl, { from: '<sip:112@carrier.example>', callId: 'ev-112@x' }),
    expected: ['CLI-SPECIAL:critical'],
  },
  {
    name: 'CLI-INVALID: a number too short to exist',
    messages: one(SRC.carrierNl, { from: sipNum('+3120123'), callId: 'ev-inv@x' }),
    expected: ['CLI-INVALID:high'],
    numbers: ['+3120123'],
  },
  {
    name: 'ID-FROM-PAI-MISMATCH: From not presentable by the peer, PAI its own',
    messages: one(SRC.pbxAcme, { from: sipNum('+31104567890'), callId: 'ev-mm@x', headers: [`P-Asserted-Identity: ${sipNum('+31205550123')}`] }),
    expected: ['ID-FROM-PAI-MISMATCH:medium'],
    numbers: ['+31104567890', '+31205550123'],
    national: true,
  },
  {
    name: 'REG-INTL-NATIONAL-CLI: a Dutch fixed number on the international peer',
    messages: one(SRC.carrierIntl, { from: sipNum('+31104567890'), callId: 'ev-intl@x' }),
    expected: ['REG-INTL-NATIONAL-CLI:high'],
    numbers: ['+31104567890'],
  },
  {
    name: 'CLI-CALLED-AS-CALLER: the caller presents the called number',
    messages: one(SRC.carrierNl, { from: sipNum(CALLEE), callId: 'ev-self@x' }),
    expected: ['CLI-CALLED-AS-CALLER:high'],
    numbers: [CALLEE],
    national: true,
  },
  {
    name: 'DISPLAY-IMPERSONATION: a look-alike brand name on another number',
    messages: one(SRC.carrierNl, { from: sipNum('+31104567890', 'Examp1e Bank'), callId: 'ev-brand@x' }),
    expected: ['DISPLAY-IMPERSONATION:high'],
    numbers: ['+31104567890'],
    national: true,
  },
  {
    name: 'DIV-UNTRUSTED: Diversion from an untrusted peer naming a number it does not own',
    messages: untrusted({ from: sipNum('+31301112233'), callId: 'ev-div@home', headers: ['Diversion: <sip:+31104567890@home.example;user=phone>;reason=unconditional'] }),
    expected: ['DIV-UNTRUSTED:medium'],
    numbers: ['+31104567890'],
    national: true,
  },
  {
    name: 'DIV-UNTRUSTED: History-Info mapped from a number the untrusted peer does not own',
    messages: untrusted({
      from: sipNum('+31301112233'),
      callId: 'ev-hi@home',
      headers: ['History-Info: <sip:+31104567890@home.example;user=phone>;index=1', `History-Info: <sip:${CALLEE}@home.example>;index=1.1;mp=1`],
    }),
    expected: ['DIV-UNTRUSTED:medium'],
    numbers: ['+31104567890'],
    national: true,
  },
  {
    name: 'PRIV-ANON-WITH-PAI: anonymous From with PAI from an untrusted peer',
    messages: untrusted({ from: '"Anonymous" <sip:anonymous@anonymous.invalid>', callId: 'ev-anon@home', headers: [`P-Asserted-Identity: ${sipNum('+31301112233')}`, 'Privacy: id'] }),
    expected: ['HDR-PAI-UNTRUSTED:medium', 'PRIV-ANON-WITH-PAI:medium'],
    numbers: ['+31301112233'],
    national: true,
  },
  {
    name: 'UA-ATTACK-TOOL: a scanner’s marker in the From display name',
    messages: one(SRC.carrierNl, { from: '"SIPVicious" <sip:+31104567890@carrier.example>', callId: 'ev-ua@x', userAgent: 'Asterisk PBX 20.5.0' }),
    expected: ['UA-ATTACK-TOOL:high'],
    numbers: ['+31104567890'],
    national: true,
  },
  {
    name: 'MSG-MALFORMED: a Content-Length that does not match the body',
    messages: one(SRC.carrierNl, { from: sipNum('+31104567890'), callId: 'ev-cl@x', body: 'v=0\r\n', contentLength: 300 }),
    expected: ['MSG-MALFORMED:medium'],
    numbers: ['+31104567890'],
    national: true,
  },
  {
    name: 'CLI-NEIGHBOUR: the fifth distinct neighbour callee within the hour',
    messages: ['+31612341001', '+31612341002', '+31612341003', '+31612341004', '+31612341005'].map((to, i) => ({
      src: SRC.carrierNl,
      ts: T0 + i * 60,
      spec: { from: sipNum('+31612340000'), to: sipNum(to), callId: `ev-nb-${i}@x`, host: '127.0.0.11' },
    })),
    expected: ['CLI-NEIGHBOUR:medium'],
    numbers: ['+31612340000'],
    national: true,
  },
  {
    name: 'CLI-MULTI-PEER: the same number from an unauthorised peer minutes after another peer',
    messages: [
      { src: SRC.carrierNl, ts: T0, spec: { from: sipNum('+31104567890'), to: TO, callId: 'ev-mp-1@x', host: '127.0.0.11' } },
      { src: SRC.untrusted, ts: T0 + 60, spec: { from: sipNum('+31104567890'), to: TO, callId: 'ev-mp-2@x', host: '127.0.0.13' } },
    ],
    expected: ['CLI-MULTI-PEER:high', 'CLI-NOT-AUTHORIZED:high'],
    numbers: ['+31104567890'],
    national: true,
  },
  {
    name: 'CLI-VELOCITY: more concurrent calls with one number than allowed',
    messages: [0, 1, 2, 3].map((i) => ({
      src: SRC.carrierNl,
      ts: T0 + i,
      spec: { from: sipNum('+31104567890'), to: sipNum(`+3168765${4300 + i}`), callId: `ev-vel-${i}@x`, host: '127.0.0.11' },
    })),
    config: testConfigYaml({ rules: '  CLI-VELOCITY: { maxConcurrent: 3 }' }),
    expected: ['CLI-VELOCITY:medium'],
    numbers: ['+31104567890'],
    national: true,
  },
  {
    name: 'SHAKEN-SIG-FAIL: a PASSporT signed by another key than the certificate’s',
    messages: one(SRC.carrierNl, { from: sipNum(CLI), callId: 'ev-sig@x', headers: [identity(claims(), X5U, foreign.leaf.privateKey)] }),
    config: SHAKEN_CONFIG,
    expected: ['SHAKEN-SIG-FAIL:high'],
    numbers: [CLI],
    national: true,
  },
  {
    name: 'SHAKEN-ORIG-MISMATCH: orig.tn is not the calling number',
    messages: one(SRC.carrierNl, { from: sipNum(CLI), callId: 'ev-orig@x', headers: [identity(claims({ orig: { tn: '31201112222' } }))] }),
    config: SHAKEN_CONFIG,
    expected: ['SHAKEN-ORIG-MISMATCH:high'],
    numbers: [CLI],
    national: true,
  },
  {
    name: 'SHAKEN-STALE: iat more than 60 s from the capture time',
    messages: one(SRC.carrierNl, { from: sipNum(CLI), callId: 'ev-stale@x', headers: [identity(claims({ iat: T0 - 600 }))] }),
    config: SHAKEN_CONFIG,
    expected: ['SHAKEN-STALE:medium'],
    numbers: [CLI],
    national: true,
  },
  {
    name: 'SHAKEN-UNVERIFIABLE: the certificate is not in the local cache',
    messages: one(SRC.carrierNl, { from: sipNum(CLI), callId: 'ev-unv@x', headers: [identity(claims(), X5U_UNCACHED)] }),
    config: SHAKEN_CONFIG,
    expected: ['SHAKEN-UNVERIFIABLE:low'],
    numbers: [CLI],
    national: true,
  },
  {
    name: 'SHAKEN-CERT-UNTRUSTED: a chain to a root that is not a trust anchor',
    messages: one(SRC.carrierNl, { from: sipNum(CLI), callId: 'ev-cert@x', headers: [identity(claims(), X5U_FOREIGN, foreign.leaf.privateKey)] }),
    config: SHAKEN_CONFIG,
    expected: ['SHAKEN-CERT-UNTRUSTED:high'],
    numbers: [CLI],
    national: true,
  },
  {
    name: 'SHAKEN-DEST-MISMATCH: the called number is not in dest.tn',
    messages: one(SRC.carrierNl, { from: sipNum(CLI), callId: 'ev-dest@x', headers: [identity(claims({ dest: { tn: ['31699999999'] } }))] }),
    config: SHAKEN_CONFIG,
    expected: ['SHAKEN-DEST-MISMATCH:medium'],
    numbers: [CLI],
    national: true,
  },
  {
    name: 'SHAKEN-ATTEST-WEAK: attestation B on a domestic number from a domestic peer',
    messages: one(SRC.carrierNl, { from: sipNum(CLI), callId: 'ev-weak@x', headers: [identity(claims({ attest: 'B' }))] }),
    config: SHAKEN_CONFIG,
    expected: ['SHAKEN-ATTEST-WEAK:low'],
    numbers: [CLI],
    national: true,
  },
  {
    name: 'SHAKEN-REPLAY: the same PASSporT on another Call-ID within the window',
    messages: [
      { src: SRC.carrierNl, ts: T0 + 2, spec: { from: sipNum(CLI), to: TO, callId: 'ev-rep-1@x', host: '127.0.0.11', headers: [identity()] } },
      { src: SRC.carrierNl, ts: T0 + 20, spec: { from: sipNum(CLI), to: TO, callId: 'ev-rep-2@x', host: '127.0.0.11', headers: [identity()] } },
    ],
    config: SHAKEN_CONFIG,
    expected: ['SHAKEN-REPLAY:high'],
    numbers: [CLI],
    national: true,
  },
  {
    name: 'VERSTAT-FORGED: verstat=TN-Validation-Passed from an untrusted peer',
    messages: untrusted({ from: '<sip:+31301112233;verstat=TN-Validation-Passed@home.example;user=phone>', callId: 'ev-verstat@home' }),
    expected: ['HDR-PAI-UNTRUSTED:medium', 'VERSTAT-FORGED:high'],
    numbers: ['+31301112233'],
    national: true,
  },
];

// ------------------------------------------------------------------------------------------------ variants

/** Header names whose values carry an identity the number variants rewrite. */
const IDENTITY_LINE = /^(From|P-Asserted-Identity|Remote-Party-ID|Diversion|History-Info):/i;

/** Rewrites the header lines (not the start line, not the body) with `f`. */
function headerLines(text: string, f: (line: string) => string): string {
  const end = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, end).split('\r\n');
  return [lines[0], ...lines.slice(1).map(f)].join('\r\n') + text.slice(end);
}

function identityLines(text: string, f: (line: string) => string): string {
  return headerLines(text, (l) => (IDENTITY_LINE.test(l) ? f(l) : l));
}

function startLine(text: string, f: (line: string) => string): string {
  const e = text.indexOf('\r\n');
  return f(text.slice(0, e)) + text.slice(e);
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every `sip:NUMBER@` of the case's numbers in identity lines through `f(number)` (the user part only). */
function numberUser(text: string, c: Case, f: (n: string) => string): string {
  return identityLines(text, (l) => (c.numbers ?? []).reduce((acc, n) => acc.replace(new RegExp(`sip:${esc(n)}([;@])`, 'g'), (_m, end: string) => `sip:${f(n)}${end}`), l));
}

/** Every `<sip:NUMBER@host…>` of the case's numbers in identity lines as `<tel:f(number)>`. */
function asTel(text: string, c: Case, f: (n: string) => string): string {
  return identityLines(text, (l) => (c.numbers ?? []).reduce((acc, n) => acc.replace(new RegExp(`<sip:${esc(n)}@[^>]*>`, 'g'), `<tel:${f(n)}>`), l));
}

const national = (n: string): string => `0${n.slice(3)}`;

/** `+CC-XX-XXX-…`: the country code, then groups of 2 and 3 digits joined by '-' (RFC 3966 visual separators). */
const dashed = (n: string): string => `${n.slice(0, 3)}-${n.slice(3, 5)}-${n.slice(5).replace(/(\d{3})(?=\d)/g, '$1-')}`;

interface Variant {
  readonly name: string;
  /** The variant breaks RFC 3261's grammar: MSG-MALFORMED must join the base alerts. */
  readonly malformed: boolean;
  /** Applies only to cases with numbers (and, for national forms, NL peers). */
  readonly needs?: 'numbers' | 'national';
  readonly apply: (text: string, c: Case) => string;
}

const COMPACT: Record<string, string> = { From: 'f', To: 't', 'Call-ID': 'i', Via: 'v', Contact: 'm', 'Content-Length': 'l', 'Content-Type': 'c' };
const ODD_CASE: Record<string, string> = {
  From: 'fROM',
  To: 'tO',
  'Call-ID': 'CALL-id',
  CSeq: 'cseq',
  'P-Asserted-Identity': 'p-ASSERTED-iDENTITY',
  'Remote-Party-ID': 'REMOTE-party-ID',
  Diversion: 'dIVERSION',
  'History-Info': 'HISTORY-info',
  Identity: 'iDENTITY',
  'User-Agent': 'user-AGENT',
  Privacy: 'PRIVACY',
};

const VARIANTS: readonly Variant[] = [
  { name: 'lowercase SIP-Version (sip/2.0)', malformed: false, apply: (t) => startLine(t, (l) => l.replace(/ SIP\/2\.0$/, ' sip/2.0')) },
  {
    name: 'lowercase method name (invite, also in CSeq)',
    malformed: true,
    apply: (t) => headerLines(startLine(t, (l) => l.replace(/^[A-Z]+/, (m) => m.toLowerCase())), (l) => l.replace(/^CSeq: (\d+) ([A-Z]+)$/, (_m, n: string, m: string) => `CSeq: ${n} ${m.toLowerCase()}`)),
  },
  { name: 'junk bytes before the request line', malformed: true, apply: (t) => `\u0000\u0000\u0000${t}` },
  { name: 'CRLF keep-alives before the request', malformed: false, apply: (t) => `\r\n\r\n${t}` },
  { name: 'tabs and extra spaces in the request line', malformed: false, apply: (t) => startLine(t, (l) => l.replace(' ', '\t ').replace(/ SIP\/2\.0$/, '  SIP/2.0 ')) },
  { name: 'compact header names (f: t: i: v: m: l: c:)', malformed: false, apply: (t) => headerLines(t, (l) => l.replace(/^([A-Za-z-]+):/, (m, n: string) => (COMPACT[n] ? `${COMPACT[n]}:` : m))) },
  { name: 'header names in odd case', malformed: false, apply: (t) => headerLines(t, (l) => l.replace(/^([A-Za-z-]+):/, (m, n: string) => (ODD_CASE[n] ? `${ODD_CASE[n]}:` : m))) },
  { name: 'folded identity header lines', malformed: false, apply: (t) => identityLines(t, (l) => l.replace(/^([^:]+):\s*/, '$1:\r\n\t').replace(/>;/, '>\r\n ;')) },
  { name: 'extra whitespace around colons and parameters', malformed: false, apply: (t) => headerLines(t, (l) => l.replace(/^([^:]+):\s*/, '$1 \t:   ').replace(/>;/g, '>  ;  ')) },
  {
    name: 'duplicate From header',
    malformed: true,
    apply: (t) => headerLines(t, (l) => (/^From:/i.test(l) ? `${l}\r\n${l}` : l)),
  },
  {
    name: 'duplicate identity headers (PAI, RPID, Diversion twice)',
    malformed: false,
    apply: (t) => headerLines(t, (l) => (/^(P-Asserted-Identity|Remote-Party-ID|Diversion):/i.test(l) ? `${l}\r\n${l}` : l)),
  },
  {
    name: 'escaped quotes around the display name (\\"x\\" <sip:…>)',
    malformed: true,
    apply: (t) => identityLines(t, (l) => (/^From:/i.test(l) ? (l.includes('"') ? l.replace(/"([^"]*)"/, '\\"$1\\"') : l.replace(/^From:\s*/, 'From: \\"x\\" ')) : l)),
  },
  { name: 'percent-encoded user (%2B31…)', malformed: false, needs: 'numbers', apply: (t, c) => numberUser(t, c, (n) => n.replace('+', '%2B')) },
  {
    name: 'visual separators in the user (+31-10-456-7890)',
    malformed: false,
    needs: 'numbers',
    apply: (t, c) => numberUser(t, c, dashed),
  },
  {
    name: 'national number with brackets and spaces ((010) 456 7890, percent-encoded)',
    malformed: false,
    needs: 'national',
    apply: (t, c) => numberUser(t, c, (n) => national(n).replace(/^(\d{3})(\d{3})(\d+)$/, '($1)%20$2%20$3')),
  },
  { name: 'tel: URI', malformed: false, needs: 'numbers', apply: (t, c) => asTel(t, c, (n) => n) },
  {
    name: 'tel: URI with visual separators',
    malformed: false,
    needs: 'numbers',
    apply: (t, c) => asTel(t, c, dashed),
  },
  { name: 'tel: local number with ;phone-context=+31', malformed: false, needs: 'national', apply: (t, c) => asTel(t, c, (n) => `${n.slice(3)};phone-context=+31`) },
  { name: 'URI schemes in upper case (SIP:, TEL:)', malformed: false, needs: 'numbers', apply: (t, c) => identityLines(asTel(t, c, (n) => n), (l) => l.replace(/<sip:/g, '<SIP:').replace(/<tel:/g, '<TEL:')) },
  { name: 'international 00 prefix instead of + (0031…)', malformed: false, needs: 'numbers', apply: (t, c) => numberUser(t, c, (n) => `00${n.slice(1)}`) },
  { name: 'sip: without user=phone', malformed: false, needs: 'numbers', apply: (t) => identityLines(t, (l) => l.replace(/;user=phone/gi, '')) },
  { name: 'sip: with USER=PHONE in upper case', malformed: false, needs: 'numbers', apply: (t) => identityLines(t, (l) => l.replace(/;user=phone/gi, ';USER=PHONE')) },
];

function texts(c: Case, v?: Variant): { src: string; text: string; ts?: number }[] {
  return c.messages.map((m) => {
    const base = invite(m.spec);
    return { src: m.src, text: v ? v.apply(base, c) : base, ...(m.ts !== undefined ? { ts: m.ts } : {}) };
  });
}

function applies(c: Case, v: Variant): boolean {
  if (v.needs === 'numbers') return (c.numbers ?? []).length > 0;
  if (v.needs === 'national') return (c.numbers ?? []).length > 0 && c.national === true;
  return true;
}

function expectedOf(c: Case, v: Variant): string[] {
  if (!v.malformed || c.expected.includes('MSG-MALFORMED:medium')) return [...c.expected];
  // MSG-MALFORMED once per call: every message of a case is its own call.
  return [...c.expected, ...c.messages.map(() => 'MSG-MALFORMED:medium')].sort();
}

describe('evasion suite: every rule’s positive case, written as a hostile caller would', () => {
  it('covers every rule id but the windowed ones it reaches through their cases', () => {
    const covered = new Set(CASES.flatMap((c) => c.expected.map((e) => e.split(':')[0]!)));
    expect([...covered].sort()).toEqual([
      'CLI-CALLED-AS-CALLER',
      'CLI-DNO',
      'CLI-INVALID',
      'CLI-MULTI-PEER',
      'CLI-NEIGHBOUR',
      'CLI-NOT-AUTHORIZED',
      'CLI-PROTECTED',
      'CLI-SPECIAL',
      'CLI-VELOCITY',
      'DISPLAY-IMPERSONATION',
      'DIV-UNTRUSTED',
      'HDR-PAI-UNTRUSTED',
      'ID-FROM-PAI-MISMATCH',
      'MSG-MALFORMED',
      'PRIV-ANON-WITH-PAI',
      'REG-INTL-NATIONAL-CLI',
      'SHAKEN-ATTEST-WEAK',
      'SHAKEN-CERT-UNTRUSTED',
      'SHAKEN-DEST-MISMATCH',
      'SHAKEN-ORIG-MISMATCH',
      'SHAKEN-REPLAY',
      'SHAKEN-SIG-FAIL',
      'SHAKEN-STALE',
      'SHAKEN-UNVERIFIABLE',
      'SRC-UNKNOWN-PEER',
      'UA-ATTACK-TOOL',
      'VERSTAT-FORGED',
    ]);
  });

  for (const c of CASES) {
    describe(c.name, () => {
      it('base case', () => {
        expect(analyse(texts(c), c.config ?? DEFAULT_TEST_CONFIG).alerts).toEqual([...c.expected].sort());
      });
      for (const v of VARIANTS) {
        // A variant that changes nothing in this case (no PAI to duplicate, no user=phone to drop) tests nothing here.
        if (!applies(c, v) || texts(c, v).every((m, i) => m.text === texts(c)[i]!.text)) continue;
        it(v.name, () => {
          const variant = texts(c, v);
          const r = analyse(variant, c.config ?? DEFAULT_TEST_CONFIG);
          expect({ notSip: r.notSip, alerts: r.alerts }).toEqual({ notSip: 0, alerts: expectedOf(c, v) });
        });
      }
    });
  }
});

// ------------------------------------------------------------------------------------------------ the old probe

/**
 * The probe as it was before issue #16 (src/sip/startline.ts at 55e47d8), kept verbatim in behaviour as the reference:
 * `SIP/2.0` byte for byte, one SP between the elements, at most 8 CR/LF keep-alives, no junk.
 */
function oldLooksLikeSip(payload: Buffer): boolean {
  const isSip20 = (b: Buffer, p: number): boolean =>
    b[p] === 0x53 && b[p + 1] === 0x49 && b[p + 2] === 0x50 && b[p + 3] === 0x2f && b[p + 4] === 0x32 && b[p + 5] === 0x2e && b[p + 6] === 0x30;
  const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
  const isAlpha = (c: number | undefined): boolean => c !== undefined && (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
  const isToken = (c: number | undefined): boolean => c !== undefined && (isAlpha(c) || isDigit(c) || "-.!%*_+`'~".includes(String.fromCharCode(c)));
  const len = payload.length;
  let s = 0;
  while (s < len && s < 8 && (payload[s] === 0x0d || payload[s] === 0x0a)) s++;
  if (!isToken(payload[s]) || len - s < 12) return false;
  if (isSip20(payload, s)) {
    if (payload[s + 7] !== 0x20 || !isDigit(payload[s + 8]) || !isDigit(payload[s + 9]) || !isDigit(payload[s + 10])) return false;
    if (payload[s + 8]! < 0x31 || payload[s + 8]! > 0x36) return false;
    const n = payload[s + 11];
    return n === 0x20 || n === 0x0d || n === 0x0a;
  }
  let p = s;
  while (p < Math.min(len, s + 64) && isToken(payload[p])) p++;
  if (p === s || payload[p] !== 0x20) return false;
  p++;
  if (!isAlpha(payload[p])) return false;
  const us = p;
  while (p < Math.min(len, s + 4096) && payload[p] !== 0x3a) {
    const c = payload[p]!;
    if (!isAlpha(c) && !isDigit(c) && c !== 0x2b && c !== 0x2d && c !== 0x2e) return false;
    p++;
  }
  if (payload[p] !== 0x3a || p === us) return false;
  p++;
  const rs = p;
  while (p < Math.min(len, s + 4096) && payload[p]! > 0x20 && payload[p] !== 0x7f) p++;
  if (p === rs || payload[p] !== 0x20) return false;
  p++;
  if (p + 7 > len || !isSip20(payload, p)) return false;
  let q = p + 7;
  while (payload[q] === 0x20 || payload[q] === 0x09) q++;
  return payload[q] === 0x0d || payload[q] === 0x0a;
}

describe('the old exact-case probe fails this suite', () => {
  it('accepted every base message but skips every lowercase-version variant, which therefore raised no alert at all', () => {
    const lower = VARIANTS.find((v) => v.name.startsWith('lowercase SIP-Version'))!;
    let variants = 0;
    for (const c of CASES) {
      for (const m of texts(c)) expect(oldLooksLikeSip(Buffer.from(m.text, 'utf8'))).toBe(true);
      const payloads = texts(c, lower).map((m) => Buffer.from(m.text, 'utf8'));
      // With the old probe in front of the parser these datagrams were counted "not SIP" and never analysed.
      expect(payloads.map(oldLooksLikeSip)).toEqual(payloads.map(() => false));
      const wouldRaise = payloads.every(oldLooksLikeSip) ? analyse(texts(c, lower), c.config ?? DEFAULT_TEST_CONFIG).alerts : [];
      expect(wouldRaise).not.toEqual(expectedOf(c, lower));
      variants += payloads.length;
    }
    expect(variants).toBe(39);
  });

  it('also skipped the junk, tab and odd-spacing variants', () => {
    const names = ['junk bytes before the request line', 'tabs and extra spaces in the request line'];
    for (const name of names) {
      const v = VARIANTS.find((x) => x.name === name)!;
      for (const c of CASES) for (const m of texts(c, v)) expect([c.name, name, oldLooksLikeSip(Buffer.from(m.text, 'utf8'))]).toEqual([c.name, name, false]);
    }
  });
});
