import { describe, expect, it } from 'vitest';
import { isSipStartLine, looksLikeSip, parseIfSip, parseSipMessage, SipParseScratch } from '../../src/sip/index.js';
import { matchStartLine, SL_SIZE } from '../../src/sip/startline.js';
import { corpusNames, fixture, rfc4475Index } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('looksLikeSip', () => {
  it('accepts every corpus message and every RFC 4475 message with a usable start line', () => {
    for (const n of corpusNames()) expect([n, looksLikeSip(fixture('corpus', n))]).toEqual([n, true]);
    const rejected: string[] = [];
    for (const n of Object.keys(rfc4475Index())) if (!looksLikeSip(fixture('rfc4475', n))) rejected.push(n);
    // Bracketed or space-broken Request-URIs and a 10-digit status code: the parser rejects them too (below).
    expect(rejected).toEqual(['ltgtruri', 'lwsruri', 'bigcode']);
  });

  it('accepts request and status lines with known and unknown methods and schemes', () => {
    expect(looksLikeSip(b('INVITE sip:bob@example.com SIP/2.0\r\n'))).toBe(true);
    expect(looksLikeSip(b('NEWMETHOD tel:+3120123 SIP/2.0\n'))).toBe(true);
    expect(looksLikeSip(b('OPTIONS sips:[2001:db8::1]:5061 SIP/2.0\r\n'))).toBe(true);
    expect(looksLikeSip(b('SIP/2.0 200 OK\r\n'))).toBe(true);
    expect(looksLikeSip(b('SIP/2.0 100\r\n'))).toBe(true);
    expect(looksLikeSip(b('\r\n\r\nBYE sip:a@b SIP/2.0\r\n'))).toBe(true);
  });

  it('accepts what RFC 3261 and common stacks allow: any-case version, junk before a request, tabs and extra spaces', () => {
    for (const t of [
      'sip/2.0 200 OK\r\n',
      'Sip/2.0 180 Ringing\r\n',
      'INVITE sip:bob@example.com sip/2.0\r\n',
      'INVITE sip:bob@example.com SIP/7.0\r\n',
      'INVITE  sip:bob@example.com  SIP/2.0\r\n',
      'INVITE\tsip:bob@example.com\tSIP/2.0\r\n',
      'INVITE sip:bob@example.com SIP/2.0 \t\r\n',
      'SIP/2.0\t200\tOK\r\n',
      'SIP/2.0  200  OK\n',
      '\x00\x00\x00INVITE sip:bob@example.com SIP/2.0\r\n',
      '  INVITE sip:bob@example.com SIP/2.0\r\n',
      '\r\n\r\n\r\n\r\n\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\n',
      'invite sip:bob@example.com SIP/2.0\r\n',
    ]) {
      expect([t, looksLikeSip(b(t))]).toEqual([t, true]);
    }
  });

  it('rejects RTP, STUN, keep-alives, HTTP and near misses', () => {
    const rtp = Buffer.from([0x80, 0x08, 0x12, 0x34, 0, 0, 0x1f, 0x40, 0xde, 0xad, 0xbe, 0xef, ...new Array<number>(160).fill(0xd5)]);
    const stun = Buffer.from('000100002112a442b7e7a701bc34d686fa87dfae', 'hex');
    for (const p of [
      rtp,
      stun,
      b('\r\n\r\n'),
      b(''),
      b('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      b('INVITE sip:bob@example.com SIP/2.0'),
      b('INVITE <sip:bob@example.com> SIP/2.0\r\n'),
      b('SIP/2.0 2000 OK\r\n'),
      b('SIP/2.0 20 OK\r\n'),
      b('SIP/2.0 900 OK\r\n'),
      b('SIP/2.0 200 OK'),
      b('SIP/2.0 200 OK\r'),
      b('INVITE sip:a@b SIP/2.0\rx\n'),
      b('xx INVITE sip:a@b SIP/2.0\r\n'),
      b('\x00\x00HELLO sip:a@b SIP/2.0\r\n'),
      b(`${'\x00'.repeat(40)}INVITE sip:a@b SIP/2.0\r\n`),
      b('\x00SIP/2.0 200 OK\r\n'),
      b('INVITE sip:a@b\r\n'),
      b('INVITE abc SIP/2.0\r\n'),
      b('INVITE sip:a@b SIP/2.0x\r\n'),
      b('HELLO world SIP/2.0\r\n'),
      b('INVITE sip:a@b sip/2\r\n'),
      b(`${'A'.repeat(65)} sip:a@b SIP/2.0\r\n`),
      b('INVITE sip:a@b SIP/2.0 x\r\n'),
    ]) {
      expect([p.toString('latin1').slice(0, 30), looksLikeSip(p)]).toEqual([p.toString('latin1').slice(0, 30), false]);
    }
  });

  it('rejects random payloads', () => {
    let seed = 12345;
    let accepted = 0;
    for (let k = 0; k < 2000; k++) {
      const p = Buffer.alloc(172);
      for (let i = 0; i < p.length; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        p[i] = seed >>> 24;
      }
      if (looksLikeSip(p)) accepted++;
    }
    expect(accepted).toBe(0);
  });
});

/**
 * Odd start lines, one per deviation a sender (or a hostile caller) may use, and near misses around each. The probe, the
 * framer's line check and the parser must agree on every one (DESIGN.md §3, tolerance rule).
 */
const ODD_VARIANTS: readonly string[] = [
  'INVITE sip:bob@example.com SIP/2.0',
  'INVITE sip:bob@example.com sip/2.0',
  'INVITE sip:bob@example.com Sip/2.0',
  'INVITE sip:bob@example.com SIP/2.1',
  'INVITE sip:bob@example.com SIP/20.01',
  'INVITE sip:bob@example.com SIP/2.',
  'INVITE sip:bob@example.com SIP/.0',
  'INVITE sip:bob@example.com SIP2.0',
  'INVITE sip:bob@example.com SIP/2.0 ',
  'INVITE sip:bob@example.com SIP/2.0\t',
  'INVITE sip:bob@example.com SIP/2.0 x',
  'INVITE  sip:bob@example.com SIP/2.0',
  'INVITE\tsip:bob@example.com SIP/2.0',
  'INVITE sip:bob@example.com\t\tSIP/2.0',
  'INVITE sip:bob@example.com',
  'INVITE <sip:bob@example.com> SIP/2.0',
  'INVITE :bob SIP/2.0',
  'INVITE bob SIP/2.0',
  'INVITE sip:bob@example.com; lr SIP/2.0',
  'invite sip:bob@example.com SIP/2.0',
  'Invite sip:bob@example.com SIP/2.0',
  'NEWMETHOD sip:bob@example.com SIP/2.0',
  ' INVITE sip:bob@example.com SIP/2.0',
  '\tINVITE sip:bob@example.com SIP/2.0',
  '\x00\x01\x02INVITE sip:bob@example.com SIP/2.0',
  '\xef\xbb\xbfINVITE sip:bob@example.com SIP/2.0',
  '#!INVITE sip:bob@example.com SIP/2.0',
  '\x00\x01NEWMETHOD sip:bob@example.com SIP/2.0',
  '\x00\x01invite sip:bob@example.com SIP/2.0',
  `${'\x00'.repeat(31)}INVITE sip:bob@example.com SIP/2.0`,
  `${'\x00'.repeat(32)}INVITE sip:bob@example.com SIP/2.0`,
  ' SIP/2.0 200 OK',
  'SIP/2.0 200 OK',
  'sip/2.0 200 OK',
  'sIp/2.0 200 OK',
  'SIP/2.0 200',
  'SIP/2.0 200 ',
  'SIP/2.0  200 OK',
  'SIP/2.0\t200 OK',
  'SIP/2.0 200\tOK',
  'SIP/2.0 200  OK',
  'SIP/2.0 2000 OK',
  'SIP/2.0 20 OK',
  'SIP/2.0 099 Low',
  'SIP/2.0 700 High',
  'SIP/2.0 699 Top',
  'SIP/2.0200 OK',
  'SIP/2.0 200OK',
  'SIP/3.0 200 OK',
  'SIP/x.0 200 OK',
  'HTTP/1.1 200 OK',
  'GET / HTTP/1.1',
];

describe('probe, framer and parser agree', () => {
  it('on every odd variant, with CRLF and LF line ends and keep-alives before it', () => {
    const disagree: string[] = [];
    let accepted = 0;
    for (const line of ODD_VARIANTS) {
      for (const [pre, eol] of [
        ['', '\r\n'],
        ['', '\n'],
        ['\r\n\r\n', '\r\n'],
      ] as const) {
        const msg = b(`${pre}${line}${eol}Via: SIP/2.0/UDP h;branch=z9hG4bK1${eol}${eol}`);
        const probe = looksLikeSip(msg);
        const parsedMsg = parseSipMessage(msg);
        const parser = parsedMsg.kind !== 'invalid';
        // Ingest's one-match probe-and-parse: undefined exactly when the probe says no, else the same message.
        const once = parseIfSip(msg, undefined, new SipParseScratch());
        if ((once !== undefined) !== probe) disagree.push(`${JSON.stringify(line)}: parseIfSip ${once !== undefined}, probe ${probe}`);
        if (once !== undefined) expect(JSON.stringify(once)).toBe(JSON.stringify(parsedMsg));
        const l = b(line);
        const framer = isSipStartLine(l, 0, l.length);
        if (probe !== parser || (pre === '' && framer !== parser)) disagree.push(`${JSON.stringify(line)}: probe ${probe}, framer ${framer}, parser ${parser}`);
        if (probe) accepted++;
      }
    }
    expect(disagree).toEqual([]);
    // 30 of the variants are SIP (each in 3 framings): a grammar change that accepts or rejects more shows here.
    expect(accepted).toBe(30 * 3);
  });

  it('on every corpus and RFC 4475 message', () => {
    const disagree: string[] = [];
    const all = [...corpusNames().map((n) => fixture('corpus', n)), ...Object.keys(rfc4475Index()).map((n) => fixture('rfc4475', n))];
    for (const m of all) if (looksLikeSip(m) !== (parseSipMessage(m).kind !== 'invalid')) disagree.push(m.toString('latin1', 0, 40));
    expect(disagree).toEqual([]);
  });

  it('turns each deviation into an anomaly on the message, never a reason to skip it', () => {
    const anomalies = (line: string): string[] => {
      const m = parseSipMessage(b(`${line}\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n\r\n`));
      if (m.kind === 'invalid') throw new Error(m.reason);
      return m.anomalies.map((a) => `${a.kind}: ${a.detail}`);
    };
    expect(anomalies('INVITE sip:bob@example.com sip/2.0')).toEqual(['sip.version-case: sip/2.0']);
    expect(anomalies('invite sip:bob@example.com SIP/2.0')).toEqual(['sip.method-case: invite']);
    expect(anomalies('\x00\x01INVITE sip:bob@example.com SIP/2.0')).toEqual(['sip.start-line-junk: 2 bytes before the start line: 0001']);
    expect(anomalies('INVITE\tsip:bob@example.com SIP/2.0')).toEqual(['sip.start-line-whitespace: tabs or extra SP in the request line (RFC 4475 §3.1.2.9-10)']);
    expect(anomalies('INVITE sip:bob@example.com SIP/2.1')).toEqual(['sip.unsupported-version: SIP/2.1']);
    const resp = parseSipMessage(b('sip/2.0\t180  Ringing\r\n\r\n'));
    expect(resp.kind === 'response' && [resp.status, resp.reason, resp.version, resp.anomalies.map((a) => a.kind)]).toEqual([
      180,
      'Ringing',
      'SIP/2.0',
      ['sip.start-line-whitespace', 'sip.version-case', 'sip.missing-header'],
    ]);
    const junk = parseSipMessage(b('\x00\x00invite sip:bob@example.com SIP/2.0\r\nCSeq: 7 invite\r\n\r\n'));
    expect(junk.kind === 'request' && [junk.method, junk.requestUriText, junk.cseq]).toEqual(['INVITE', 'sip:bob@example.com', { kind: 'cseq', seq: 7, method: 'INVITE' }]);
    expect(junk.kind === 'request' && junk.collectAnomalies().map((a) => `${a.kind}: ${a.detail}`)).toEqual([
      'sip.method-case: invite',
      'sip.start-line-junk: 2 bytes before the start line: 0000',
      'sip.missing-header: To, From, Call-ID, Via, Max-Forwards',
      'sip.method-case: CSeq invite',
    ]);
  });
});

describe('the plain-form shortcut of matchStartLine', () => {
  /** Return value and every slot, with and without the shortcut, for a buffer seen whole and as one open line. */
  function both(buf: Buffer, s: number, limit: number, open: boolean): [string, string] {
    const a = new Int32Array(SL_SIZE).fill(-7);
    const f = new Int32Array(SL_SIZE).fill(-7);
    const ra = matchStartLine(buf, s, limit, open, a, true);
    const rf = matchStartLine(buf, s, limit, open, f, false);
    // Slots are only meaningful on a match.
    return [JSON.stringify([ra, ra >= 0 ? [...a] : []]), JSON.stringify([rf, rf >= 0 ? [...f] : []])];
  }

  it('gives the full grammar\'s result and slots on every odd variant, corpus message and byte mutation of them', () => {
    const lines = [
      ...ODD_VARIANTS,
      'INVITE sip:+31301234500@127.0.0.1:5060;user=phone SIP/2.0',
      'ACK sip:bob@example.com SIP/2.0',
      'SUBSCRIBE sip:bob@example.com SIP/2.0',
      'SIPX sip:bob@example.com SIP/2.0',
      'SIP sip:bob@example.com SIP/2.0',
      'A b:c SIP/2.0',
      'INVITE sips:bob@example.com SIP/2.0',
      'INVITE tel:+31301234500 SIP/2.0',
      'INVITE x-y:bob SIP/2.0',
      'INVITE sip:b\x7fob@example.com SIP/2.0',
      'INVITE sip:b\xe9ob@example.com SIP/2.0',
      'INVITE sip:bob@ex\x01ample.com SIP/2.0',
      'INVITE sip: SIP/2.0',
      'INVITE sip:a:b:c SIP/2.0',
      `${'A'.repeat(63)} sip:bob SIP/2.0`,
      `${'A'.repeat(64)} sip:bob SIP/2.0`,
      `${'A'.repeat(65)} sip:bob SIP/2.0`,
      `INVITE ${'s'.repeat(15)}:bob SIP/2.0`,
      `INVITE ${'s'.repeat(16)}:bob SIP/2.0`,
      'SIP/2.0 180 Ringing',
      'SIP/2.0 100 Trying ',
      'SIP/2.0 183 Session  Progress',
      'SIP/2.0 200 \tOK',
      'SIP/2.0 200 OK\r',
      `SIP/2.0 200 ${'x'.repeat(200)}`,
      'SIP/2.0 600 Busy Everywhere',
      'SIP/2.0 199',
      'SIP/2.0 19',
      'SIP/2.0 ',
      'SIP/2.0',
    ];
    const all: Buffer[] = [];
    for (const line of lines) for (const eol of ['\r\n', '\n', '', '\r', '\r\r\n']) all.push(b(`${line}${eol}Via: x${eol}`));
    for (const m of [...corpusNames().map((n) => fixture('corpus', n)), ...Object.keys(rfc4475Index()).map((n) => fixture('rfc4475', n))]) all.push(m);
    // Every single-byte change in the first 48 bytes of a few plain lines, to a byte from each class the grammar tells apart.
    const classes = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x2e, 0x2f, 0x30, 0x31, 0x37, 0x3a, 0x3c, 0x41, 0x49, 0x50, 0x53, 0x61, 0x73, 0x7f, 0xc3];
    for (const base of ['INVITE sip:+31301234500@127.0.0.1 SIP/2.0\r\n', 'SIP/2.0 200 OK\r\n', 'SIP/2.0 100\r\n', 'BYE tel:+3120 SIP/2.0\n']) {
      for (let i = 0; i < Math.min(48, base.length); i++) {
        for (const c of classes) {
          const m = b(`${base}To: x\r\n`);
          m[i] = c;
          all.push(m);
        }
      }
    }
    const differ: string[] = [];
    let plainMatches = 0;
    for (const m of all) {
      const lf = m.indexOf(0x0a);
      const lineEnd = lf < 0 ? m.length : lf > 0 && m[lf - 1] === 0x0d ? lf - 1 : lf;
      for (const [s, limit, open] of [
        [0, m.length, false],
        [0, lineEnd, true],
        [0, Math.min(m.length, 12), false],
      ] as const) {
        const [a, f] = both(m, s, limit, open);
        if (a !== f) differ.push(`${JSON.stringify(m.toString('latin1', 0, 50))} [${s},${limit},${open}]: ${a} vs ${f}`);
        else if (!a.startsWith('[-1')) plainMatches++;
      }
    }
    expect(differ).toEqual([]);
    expect(plainMatches).toBeGreaterThan(1000);
  });
});

describe('isSipStartLine', () => {
  it('matches one line without its line end, tolerating trailing spaces', () => {
    const line = b('OPTIONS sip:remote-target@example.com SIP/2.0  ');
    expect(isSipStartLine(line, 0, line.length)).toBe(true);
    const status = b('SIP/2.0 180 Ringing');
    expect(isSipStartLine(status, 0, status.length)).toBe(true);
    const cut = b('OPTIONS sip:remote-target@example.com SIP/2.0x');
    expect(isSipStartLine(cut, 0, cut.length)).toBe(false);
    expect(isSipStartLine(status, 0, 10)).toBe(false);
  });
});
