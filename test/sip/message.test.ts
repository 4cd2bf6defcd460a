import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../src/sip/index.js';
import { parseCSeq } from '../../src/sip/headers.js';
import { fixture, kinds, parsed, sip } from './helpers.js';

const BASE = [
  'INVITE sip:+31201234567@198.51.100.10 SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK1',
  'Max-Forwards: 70',
  'From: <sip:+31887654321@trunk.example.net>;tag=f1',
  'To: <sip:+31201234567@198.51.100.10>',
  'Call-ID: base-1@192.0.2.20',
  'CSeq: 1 INVITE',
];

describe('parseSipMessage: start line', () => {
  it('splits a request line', () => {
    const m = parsed(fixture('corpus', 'invite-pai-sdp'));
    expect(m.kind).toBe('request');
    if (m.kind !== 'request') return;
    expect(m.method).toBe('INVITE');
    expect(m.requestUriText).toBe('sip:+31201234567@198.51.100.10:5060;user=phone');
    expect(m.version).toBe('SIP/2.0');
  });

  it('splits a status line, keeping an empty or UTF-8 reason phrase', () => {
    const ok = parsed(fixture('corpus', 'resp-486'));
    expect(ok.kind === 'response' && [ok.status, ok.reason]).toEqual([486, 'Busy Here']);
    const none = parsed(fixture('rfc4475', 'noreason'));
    expect(none.kind === 'response' && [none.status, none.reason]).toEqual([100, '']);
    const utf8 = parsed(fixture('rfc4475', 'unreason'));
    expect(utf8.kind === 'response' && utf8.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
    const uri = parsed(Buffer.from('OPTIONS sip:\u00e9t\u00e9@example.com SIP/2.0\r\n\r\n', 'utf8'));
    expect(uri.kind === 'request' && uri.requestUriText).toBe('sip:\u00e9t\u00e9@example.com');
  });

  it('returns invalid values for unusable start lines, never throws', () => {
    const cases: Array<[string, string]> = [
      ['', 'empty message'],
      ['\r\n\r\n', 'empty message'],
      ['INVITE sip:a@b SIP/2.0', 'start line not terminated'],
      ['INVITE <sip:a@b> SIP/2.0\r\n\r\n', 'request line: Request-URI enclosed in <>'],
      ['INVITE sip:a@b; lr SIP/2.0\r\n\r\n', 'request line: expected Method SP Request-URI SP SIP-Version'],
      ['INVITE sip:a@b\r\n\r\n', 'request line: expected Method SP Request-URI SP SIP-Version'],
      ['INVITE sip:a@b HTTP/1.1\r\n\r\n', 'request line: bad SIP version'],
      ['INVITE abc SIP/2.0\r\n\r\n', 'request line: Request-URI has no scheme'],
      ['INVITE :abc SIP/2.0\r\n\r\n', 'request line: Request-URI has no scheme'],
      ['INVITE ab SIP:2.0\r\n\r\n', 'request line: bad SIP version'],
      ['GET / HTTP/1.1\r\n\r\n', 'request line: bad SIP version'],
      ['\x80\x08\x12\x34 sip:a@b SIP/2.0\r\n\r\n', 'request line: bad method'],
      ['SIP/2.0 4294967301 better not break the receiver\r\n\r\n', 'status line: status code is not 3 digits'],
      ['SIP/2.0 099 Low\r\n\r\n', 'status line: status code 99 out of range'],
      ['SIP/2.0 700 High\r\n\r\n', 'status line: status code 700 out of range'],
      ['SIP/2.0200 OK\r\n\r\n', 'status line: status code is not 3 digits'],
      ['SIP/2.0 200OK\r\n\r\n', 'status line: status code is not 3 digits'],
      ['SIP/x.0 200 OK\r\n\r\n', 'status line: bad SIP version'],
    ];
    for (const [text, reason] of cases) {
      expect(parseSipMessage(Buffer.from(text, 'latin1'))).toEqual({ kind: 'invalid', reason });
    }
  });

  it('skips CRLF keep-alives before the start line (RFC 3261 §7.5)', () => {
    const m = parsed(Buffer.concat([Buffer.from('\r\n\r\n'), sip(BASE)]));
    expect(m.callId).toBe('base-1@192.0.2.20');
    expect(m.anomalies).toEqual([]);
  });

  it('accepts extra SP in the request line with an anomaly', () => {
    const m = parsed(fixture('rfc4475', 'lwsstart'));
    expect(m.kind === 'request' && m.requestUriText).toBe('sip:user@example.com');
    expect(m.anomalies.map((a) => a.kind)).toEqual(['sip.start-line-whitespace']);
  });
});

describe('parseSipMessage: header fields', () => {
  it('keys values by canonical name: any case, compact forms, folding unfolded', () => {
    const m = parsed(fixture('rfc4475', 'wsinv'));
    expect(m.header('to')).toBe('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
    expect(m.header('FROM')).toBe('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com> ; tag = 98asjd8');
    expect(m.header('Max-Forwards')).toBe('0068');
    expect(m.header('cseq')).toBe('0009 INVITE');
    expect(m.header('subject')).toBe('');
    expect(m.header('s')).toBe('');
    expect(m.header('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.header('unknownheaderwithunusualvalue')).toBe(';;,,;;,;');
    expect(m.header('route')).toBe('<sip:services.example.com;lr;unknownwith=value;unknown-no-value>');
    expect(m.headerAll('via')).toEqual([
      'SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw',
      'SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8  , SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239',
    ]);
    expect(m.header('contact')).toBe('"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ; q = 0.33');
    expect(m.headerNames()).toEqual([
      'to',
      'from',
      'max-forwards',
      'call-id',
      'content-length',
      'cseq',
      'via',
      'subject',
      'newfangledheader',
      'unknownheaderwithunusualvalue',
      'content-type',
      'route',
      'via',
      'contact',
    ]);
    expect(m.headerCount).toBe(14);
    expect(m.headerAt(5)).toEqual(['cseq', '0009 INVITE']);
    expect(m.headerAt(14)).toBeUndefined();
    expect(m.headerAt(1.5)).toBeUndefined();
    expect(m.headerAt(-1)).toBeUndefined();
    expect(m.contentLength).toBe(150);
    expect(m.body.toString('latin1')).toBe(
      'v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\n' +
        'm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n',
    );
    expect(m.collectAnomalies()).toEqual([]);
  });

  it('keeps repeated headers in order and maps every compact form', () => {
    const m = parsed(fixture('corpus', 'invite-compact'));
    expect(m.header('via')).toBe('SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKcmp01');
    expect(m.header('from')).toBe('Alice <sip:alice@atlanta.example.com>;tag=1928301774');
    expect(m.header('t')).toBe('Bob <sip:bob@biloxi.example.com>');
    expect(m.header('call-id')).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(m.header('contact')).toBe('<sip:alice@pc33.atlanta.example.com>');
    expect(m.header('supported')).toBe('timer, 100rel');
    expect(m.header('subject')).toBe('compact forms');
    expect(m.header('content-type')).toBe('application/sdp');
    expect(m.contentLength).toBe(149);
    expect(m.body.length).toBe(149);
    expect(m.headerNames().slice(0, 10)).toEqual([
      'via',
      'max-forwards',
      'from',
      'to',
      'call-id',
      'cseq',
      'contact',
      'supported',
      'subject',
      'content-type',
    ]);
    const e = parsed(fixture('rfc4475', 'esc02'));
    expect(e.headerAll('contact')).toEqual(['<sip:alias1@host1.example.com>', '<sip:alias3@host3.example.com>']);
    expect(e.header('c%6Fntact')).toBe('<sip:alias2@host2.example.com>');
    const l = parsed(fixture('rfc4475', 'longreq'));
    expect(l.headerAll('v').length).toBe(34);
    expect(l.headerAll('Via')[33]).toMatch(/^SIP\/2\.0\/TCP host\.example\.com;received=192\.0\.2\.5;branch=very(long){50}branchvalue$/);
  });

  it('reads LF-only messages with no anomaly', () => {
    const m = parsed(fixture('corpus', 'invite-lf-only'));
    expect(m.callId).toBe('lfonly-1@192.0.2.7');
    expect(m.header('p-asserted-identity')).toBe('<sip:+31612345678@mobile.example.net>');
    expect(m.contentLength).toBe(0);
    expect(m.collectAnomalies()).toEqual([]);
  });

  it('decodes header values as UTF-8', () => {
    const m = parsed(fixture('rfc4475', 'intmeth'));
    expect(m.header("extensionHeader-!.%*+_`'~")).toBe('\ufeff大停電');
    expect(m.header('call-id')).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
  });
});

describe('parseSipMessage: body and Content-Length', () => {
  it('takes the body by Content-Length and flags trailing octets (RFC 4475 §3.1.1.8)', () => {
    const m = parsed(fixture('rfc4475', 'dblreq'));
    expect(m.kind === 'request' && m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
    expect(m.anomalies).toEqual([{ kind: 'sip.content-length-mismatch', detail: 'Content-Length 0, 446 bytes after the header fields' }]);
  });

  it('flags a Content-Length larger than the datagram and keeps what arrived', () => {
    const m = parsed(fixture('rfc4475', 'clerr'));
    expect(m.contentLength).toBe(9999);
    expect(m.body.length).toBe(154);
    expect(m.anomalies).toEqual([{ kind: 'sip.content-length-mismatch', detail: 'Content-Length 9999, 154 bytes after the header fields' }]);
  });

  it('flags a negative Content-Length and takes the rest of the datagram', () => {
    const m = parsed(fixture('rfc4475', 'ncl'));
    expect(m.contentLength).toBeUndefined();
    expect(m.body.length).toBe(152);
    expect(m.anomalies).toEqual([{ kind: 'sip.content-length-invalid', detail: '-999' }]);
  });

  it('takes the rest of a UDP datagram when Content-Length is absent', () => {
    const m = parsed(sip(BASE, 'hello'));
    expect(m.contentLength).toBeUndefined();
    expect(m.body.toString()).toBe('hello');
    expect(m.anomalies).toEqual([]);
  });

  it('keeps a binary body with NULs intact', () => {
    const m = parsed(fixture('rfc4475', 'mpart01'));
    expect(m.contentLength).toBe(553);
    expect(m.body.length).toBe(553);
    expect(m.body.subarray(0, 20).toString()).toBe('--7a9cbec02ceef655\r\n');
    expect(m.body.includes(0)).toBe(true);
    expect(m.collectAnomalies()).toEqual([]);
  });
});

describe('parseSipMessage: anomalies', () => {
  it('names duplicate From, To, Call-ID, CSeq and Content-Length', () => {
    const m = parsed(
      sip([...BASE, 'From: <sip:other@example.net>;tag=x', 'To: <sip:b@c>', 'i: dup', 'CSeq: 2 INVITE', 'l: 0', 'Content-Length: 0']),
    );
    expect(m.anomalies).toEqual([
      { kind: 'sip.duplicate-from', detail: 'From' },
      { kind: 'sip.duplicate-to', detail: 'To' },
      { kind: 'sip.duplicate-call-id', detail: 'Call-ID' },
      { kind: 'sip.duplicate-cseq', detail: 'CSeq' },
      { kind: 'sip.duplicate-content-length', detail: 'Content-Length' },
    ]);
    // The first value is the one returned.
    expect(m.callId).toBe('base-1@192.0.2.20');
  });

  it('names missing mandatory headers (RFC 3261 §8.1.1), Max-Forwards for requests only', () => {
    const req = parsed(sip(['INVITE sip:a@b SIP/2.0', 'CSeq: 1 INVITE', 'Via: SIP/2.0/UDP h']));
    expect(req.anomalies).toEqual([{ kind: 'sip.missing-header', detail: 'To, From, Call-ID, Max-Forwards' }]);
    const resp = parsed(sip(['SIP/2.0 200 OK', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>', 'Call-ID: x', 'CSeq: 1 INVITE', 'Via: SIP/2.0/UDP h']));
    expect(resp.anomalies).toEqual([]);
  });

  it('flags a header line over 1 KB and a message over 64 KB', () => {
    const long = parsed(sip([...BASE, `X-Long: ${'a'.repeat(1020)}`]));
    expect(long.anomalies).toEqual([{ kind: 'sip.header-too-long', detail: 'x-long: 1028 bytes' }]);
    const fits = parsed(sip([...BASE, `X-Long: ${'a'.repeat(1016)}`]));
    expect(fits.anomalies).toEqual([]);
    const big = parsed(sip([...BASE, 'Content-Length: 70000'], 'x'.repeat(70000)));
    expect(big.anomalies).toEqual([{ kind: 'sip.message-too-large', detail: `${big.raw.length} bytes` }]);
  });

  it('flags NUL, bare CR and bare LF inside values', () => {
    const nul = parsed(sip([...BASE, 'Subject: a\0b']));
    expect(nul.anomalies).toEqual([{ kind: 'sip.nul-in-header', detail: 'subject' }]);
    const cr = parsed(sip([...BASE, 'Subject: a\rb']));
    expect(cr.collectAnomalies()).toEqual([{ kind: 'sip.bare-cr', detail: 'bare CR in subject' }]);
    expect(cr.header('subject')).toBe('a\rb');
    const lf = parsed(Buffer.from([...BASE, 'Subject: a'].join('\r\n') + '\nX-Injected: 1\r\n\r\n'));
    expect(lf.anomalies).toEqual([{ kind: 'sip.bare-lf', detail: 'bare LF in subject' }]);
    expect(lf.header('x-injected')).toBe('1');
  });

  it('skips a header line without a colon and notes it', () => {
    const m = parsed(sip([...BASE, 'Garbage line here', 'Subject: ok']));
    expect(m.anomalies).toEqual([{ kind: 'sip.header-without-colon', detail: 'Garbage line here' }]);
    expect(m.header('subject')).toBe('ok');
  });

  it('notes an unterminated header section', () => {
    const m = parsed(Buffer.from([...BASE, 'Subject: cut'].join('\r\n')));
    expect(m.anomalies).toEqual([{ kind: 'sip.headers-unterminated', detail: 'no empty line after the header fields' }]);
    expect(m.header('subject')).toBe('cut');
  });

  it('copies the frame number into anomalies when given', () => {
    const m = parseSipMessage(fixture('rfc4475', 'clerr'), 42);
    expect(m.kind !== 'invalid' && m.anomalies).toEqual([
      { kind: 'sip.content-length-mismatch', detail: 'Content-Length 9999, 154 bytes after the header fields', frame: 42 },
    ]);
  });

  it('never throws on truncations and garbage', () => {
    const whole = fixture('corpus', 'invite-pai-sdp');
    for (let n = 0; n <= whole.length; n++) {
      const m = parseSipMessage(whole.subarray(0, n));
      if (m.kind !== 'invalid') m.collectAnomalies();
    }
    let seed = 7;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let k = 0; k < 300; k++) {
      const b = Buffer.from(whole);
      for (let j = 0; j < 8; j++) b[(rnd() * 5 + rnd()) % b.length] = rnd();
      const m = parseSipMessage(b);
      if (m.kind !== 'invalid') {
        m.collectAnomalies();
        void [m.pai, m.from, m.to, m.via, m.cseq, m.identity, m.rpid, m.diversion, m.historyInfo];
      }
    }
  });
});

describe('parseSipMessage: CSeq read from the bytes', () => {
  // The usual form is read without decoding the value; everything else goes through parseCSeq. Both must agree.
  const values = [
    '1 INVITE',
    '4294967295 BYE',
    '4294967296 BYE',
    '00012 ACK',
    '1\tINVITE',
    '1   CANCEL',
    '1 INVITEX',
    '1 invite',
    '1INVITE',
    'INVITE',
    '1 INVITE junk',
    '12345678901 INVITE',
    '99999999999 INVITE',
    '1 FOO',
    '1\r\n INVITE',
    '1\rINVITE',
    '7 NOTIFY',
    '1 ',
  ];
  it.each(values)('CSeq: %j gives what parseCSeq gives on the decoded value', (v) => {
    const m = parsed(sip([...BASE.slice(0, 6), `CSeq: ${v}`, 'Content-Length: 0']));
    const decoded = m.header('cseq');
    expect(decoded).toBeDefined();
    const p = parseCSeq(decoded!);
    // A standard method in another case is taken as that method, with a method-case anomaly (issue #16.1).
    const canonical = p.kind === 'cseq' && p.method === 'invite' ? { ...p, method: 'INVITE' } : p;
    expect(m.cseq).toEqual(canonical);
    expect(m.anomalies.filter((a) => a.kind === 'sip.method-case').length).toBe(canonical === p ? 0 : 1);
    const invalid = m.cseq?.kind === 'invalid' ? [m.cseq.reason] : [];
    expect(m.anomalies.filter((a) => a.kind === 'sip.cseq-invalid').map((a) => a.detail)).toEqual(invalid);
  });

  it('reads the usual forms to the exact number and the interned method', () => {
    const m = parsed(sip([...BASE.slice(0, 6), 'CSeq: 4294967295 REGISTER', 'Content-Length: 0']));
    expect(m.cseq).toEqual({ kind: 'cseq', seq: 4294967295, method: 'REGISTER' });
  });
});
