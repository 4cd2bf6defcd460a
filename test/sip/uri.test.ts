import { describe, expect, it } from 'vitest';
import { parseNameAddr, parseUri, splitList, userOf } from '../../src/sip/index.js';
import { paramName } from '../../src/sip/chars.js';

describe('parseUri: sip and sips', () => {
  it('splits user, host, port, params and headers', () => {
    expect(parseUri('sip:+31201234567@198.51.100.10:5060;user=phone;transport=UDP?Subject=hi&Priority=urgent')).toEqual({
      kind: 'sip',
      scheme: 'sip',
      user: '+31201234567',
      userUnescaped: undefined,
      password: undefined,
      host: '198.51.100.10',
      ipv6: false,
      port: 5060,
      params: { user: 'phone', transport: 'UDP' },
      headers: { subject: 'hi', priority: 'urgent' },
      raw: 'sip:+31201234567@198.51.100.10:5060;user=phone;transport=UDP?Subject=hi&Priority=urgent',
    });
  });

  it('reads IPv6 references, sips, host-only URIs and passwords', () => {
    const v6 = parseUri('sips:alice@[2001:db8::10]:5061;maddr=239.255.255.1;ttl=15');
    expect(v6.kind === 'sip' && [v6.scheme, v6.user, v6.host, v6.ipv6, v6.port, v6.params]).toEqual([
      'sips',
      'alice',
      '2001:db8::10',
      true,
      5061,
      { maddr: '239.255.255.1', ttl: '15' },
    ]);
    const host = parseUri('SIP:Registrar.Example.COM;LR');
    expect(host.kind === 'sip' && [host.scheme, host.user, host.host, host.params]).toEqual(['sip', undefined, 'Registrar.Example.COM', { lr: '' }]);
    const pw = parseUri("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
    expect(pw.kind === 'sip' && [pw.user, pw.password, pw.host]).toEqual([
      "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
      "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)",
      'example.com',
    ]);
  });

  it('keeps telephone-subscriber params in the user part (RFC 3261 §19.1.6, RFC 4694)', () => {
    const u = parseUri('sip:+12125550100;npdi;rn=+12125559999;isub=12;verstat=TN-Validation-Passed;cpc=ordinary;oli=0@gw.example.com;user=phone');
    expect(u.kind === 'sip' && [u.user, u.host, u.params]).toEqual([
      '+12125550100;npdi;rn=+12125559999;isub=12;verstat=TN-Validation-Passed;cpc=ordinary;oli=0',
      'gw.example.com',
      { user: 'phone' },
    ]);
    expect(userOf(u)).toBe('+12125550100');
  });

  it('decodes %-escapes of the user part into userUnescaped, leaving invalid escapes literal', () => {
    const a = parseUri('sip:I%20have%20spaces@example.net');
    expect(a.kind === 'sip' && [a.user, a.userUnescaped]).toEqual(['I%20have%20spaces', 'I have spaces']);
    const b = parseUri('sip:null-%00-null@example.com');
    expect(b.kind === 'sip' && b.userUnescaped).toBe('null-\u0000-null');
    const c = parseUri('sip:%E2%82%AC%ZZ@example.com');
    expect(c.kind === 'sip' && c.userUnescaped).toBe('€%ZZ');
    const d = parseUri('sip:sips%3Auser%40example.com@example.net');
    expect(d.kind === 'sip' && [d.user, d.userUnescaped, d.host]).toEqual(['sips%3Auser%40example.com', 'sips:user@example.com', 'example.net']);
  });

  it('returns invalid values with a reason', () => {
    const cases: Array<[string, string]> = [
      ['', 'uri: no scheme'],
      ['user@example.com', 'uri: no scheme'],
      ['1sip:a@b', 'uri: scheme must start with a letter'],
      [' sip:a@b', 'uri: scheme must start with a letter'],
      ['sip:a b@c', 'uri: illegal character 0x20'],
      ['sip:@example.com', 'sip uri: empty user part'],
      ['sip:alice@', 'sip uri: empty host'],
      ['sip:alice@[2001:db8::1', 'sip uri: unterminated IPv6 reference'],
      ['sip:alice@[zz]', 'sip uri: bad IPv6 reference'],
      ['sip:alice@host:99999', 'sip uri: bad port'],
      ['sip:alice@host:', 'sip uri: bad port'],
      ['sip:alice@host;;lr', 'sip uri: bad parameter'],
      ['sip:alice@host/path', "sip uri: unexpected '/' after host"],
      ['sip:alice@host\u0000', 'uri: illegal character 0x00'],
    ];
    for (const [raw, reason] of cases) expect(parseUri(raw)).toEqual({ kind: 'invalid', reason, raw });
  });
});

describe('parseUri: tel (RFC 3966)', () => {
  it('reads global numbers with visual separators', () => {
    expect(parseUri('tel:+1-201-555-0123;ext=1234')).toEqual({
      kind: 'tel',
      scheme: 'tel',
      number: '+1-201-555-0123',
      global: true,
      digits: '+12015550123',
      params: { ext: '1234' },
      raw: 'tel:+1-201-555-0123;ext=1234',
    });
    const p = parseUri('tel:+31(0)20.123.4567');
    expect(p.kind === 'tel' && p.digits).toBe('+310201234567');
  });

  it('reads local numbers with phone-context and the number params', () => {
    const l = parseUri('tel:7042;phone-context=example.com;isub=12');
    expect(l.kind === 'tel' && [l.number, l.global, l.digits, l.params]).toEqual([
      '7042',
      false,
      '7042',
      { 'phone-context': 'example.com', isub: '12' },
    ]);
    const n = parseUri('tel:+12125550100;npdi;rn=+12125559999;verstat=TN-Validation-Failed');
    expect(n.kind === 'tel' && n.params).toEqual({ npdi: '', rn: '+12125559999', verstat: 'TN-Validation-Failed' });
    expect(userOf(n)).toBe('+12125550100');
  });

  it('rejects malformed numbers', () => {
    expect(parseUri('tel:')).toEqual({ kind: 'invalid', reason: 'tel uri: empty number', raw: 'tel:' });
    expect(parseUri('tel:+31 20')).toEqual({ kind: 'invalid', reason: 'uri: illegal character 0x20', raw: 'tel:+31 20' });
    expect(parseUri('tel:+31A0')).toEqual({ kind: 'invalid', reason: 'tel uri: non-digit in global number', raw: 'tel:+31A0' });
    expect(parseUri('tel:12+3')).toEqual({ kind: 'invalid', reason: "tel uri: '+' inside number", raw: 'tel:12+3' });
    expect(parseUri('tel:---')).toEqual({ kind: 'invalid', reason: 'tel uri: no digits', raw: 'tel:---' });
    expect(parseUri('tel:+31@x')).toEqual({ kind: 'invalid', reason: 'tel uri: bad character in number', raw: 'tel:+31@x' });
  });
});

describe('other schemes and userOf', () => {
  it('keeps other schemes opaque', () => {
    expect(parseUri('urn:service:sos')).toEqual({ kind: 'other', scheme: 'urn', raw: 'urn:service:sos' });
    expect(parseUri('soap.beep://192.0.2.103:3002')).toEqual({ kind: 'other', scheme: 'soap.beep', raw: 'soap.beep://192.0.2.103:3002' });
    expect(userOf(parseUri('urn:service:sos'))).toBeUndefined();
  });

  it('gives the user part as tshark sip.from.user shows it', () => {
    expect(userOf(parseUri('sip:alice:secret@atlanta.example.com'))).toBe('alice');
    expect(userOf(parseUri('sip:+31887654321;cpc=ordinary@x.example;user=phone'))).toBe('+31887654321');
    expect(userOf(parseUri('sip:I%20have%20spaces@example.net'))).toBe('I%20have%20spaces');
    expect(userOf(parseUri('sip:example.com'))).toBeUndefined();
    expect(userOf(parseUri('tel:+31-88-765-4321'))).toBe('+31-88-765-4321');
    expect(userOf(parseUri('bad'))).toBeUndefined();
    expect(userOf(undefined)).toBeUndefined();
  });
});

describe('parseNameAddr', () => {
  it('reads quoted display names with \\" and \\\\ escapes', () => {
    const n = parseNameAddr('"Bank \\"Support\\" \\\\ NL" <sip:+31207777777@bank.example.nl>;tag=esc-1');
    expect(n.kind === 'name-addr' && [n.display, n.tag, n.angle]).toEqual(['Bank "Support" \\ NL', 'esc-1', true]);
    const w = parseNameAddr('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com> ; tag = 98asjd8');
    expect(w.kind === 'name-addr' && [w.display, w.tag]).toEqual(['J Rosenberg \\"', '98asjd8']);
  });

  it('reads token display names, with or without a space before <', () => {
    const a = parseNameAddr("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;tag=_token~1'+`*%!-.");
    expect(a.kind === 'name-addr' && [a.display, a.tag]).toEqual(["token1~` token2'+_ token3*%!.-", "_token~1'+`*%!-."]);
    const b = parseNameAddr('caller<sip:caller@example.com>;tag=323');
    expect(b.kind === 'name-addr' && [b.display, b.uri.raw, b.tag]).toEqual(['caller', 'sip:caller@example.com', '323']);
  });

  it('gives the params after an addr-spec to the header, not the URI (RFC 3261 §20.10)', () => {
    const n = parseNameAddr('sip:+31887654321@trunk.example.net;user=phone;tag=abc');
    expect(n).toEqual({
      kind: 'name-addr',
      uri: {
        kind: 'sip',
        scheme: 'sip',
        user: '+31887654321',
        userUnescaped: undefined,
        password: undefined,
        host: 'trunk.example.net',
        ipv6: false,
        port: undefined,
        params: {},
        headers: {},
        raw: 'sip:+31887654321@trunk.example.net',
      },
      tag: 'abc',
      params: { user: 'phone', tag: 'abc' },
      angle: false,
      raw: 'sip:+31887654321@trunk.example.net;user=phone;tag=abc',
    });
    const t = parseNameAddr('tel:+31887654321;tag=ta-7');
    expect(t.kind === 'name-addr' && [t.uri.kind, t.uri.raw, t.tag]).toEqual(['tel', 'tel:+31887654321', 'ta-7']);
  });

  it('unquotes quoted parameter values and strips <> from bracketed ones', () => {
    const n = parseNameAddr('<sip:a@b>;x="a;b\\"c";info=<https://cert.example.org/a;b.cer>;flag');
    expect(n.kind === 'name-addr' && n.params).toEqual({ x: 'a;b"c', info: 'https://cert.example.org/a;b.cer', flag: '' });
  });

  it('keeps the display name and tag when only the URI is bad', () => {
    const n = parseNameAddr('"Watson, Thomas" < sip:t.watson@example.org >;tag=1');
    expect(n.kind === 'name-addr' && [n.display, n.tag, n.uri]).toEqual([
      'Watson, Thomas',
      '1',
      { kind: 'invalid', reason: 'uri: scheme must start with a letter', raw: ' sip:t.watson@example.org ' },
    ]);
  });

  it('returns invalid values for broken name-addrs', () => {
    const cases: Array<[string, string]> = [
      ['', 'empty value'],
      ['"Mr. J. User <sip:j.user@example.com>', 'unterminated quoted display name'],
      ['"Joe" sip:joe@example.org', "expected '<' after display name"],
      ['Bell, Alexander <sip:a.g.bell@example.com>;tag=43', 'display name has non-token characters and is not quoted'],
      ['<sip:joe@example.org', "unterminated '<'"],
      ['"Joe" <sip:joe@example.org>;;;;', 'header parameters: empty parameter'],
      ['<sip:joe@example.org> junk', "header parameters: unexpected 'j'"],
      ['sip:user@example.com?Route=%3Csip:sip.example.com%3E', "addr-spec with '?' or ',' must be enclosed in <>"],
      ['<sip:a@b>;x="open', 'header parameters: unterminated quoted parameter value'],
    ];
    for (const [raw, reason] of cases) expect(parseNameAddr(raw)).toEqual({ kind: 'invalid', reason, raw });
  });

  it('splits lists only on commas outside quotes and <>', () => {
    expect(splitList('"Acme, Inc." <sip:+31887654321@pbx.example.com;user=phone>, <tel:+31887654321>')).toEqual([
      '"Acme, Inc." <sip:+31887654321@pbx.example.com;user=phone>',
      '<tel:+31887654321>',
    ]);
    expect(splitList('<sip:a@b?x=1,2>, "q\\",x" <sip:c@d>,, ')).toEqual(['<sip:a@b?x=1,2>', '"q\\",x" <sip:c@d>']);
  });
});

describe('parameter names', () => {
  // The common names come back as literals (paramName's fast path); every other spelling as its lowercase text.
  it('reads common and other names in any case, the same through both readers', () => {
    const u = parseUri('sip:a@h;USER=phone;Transport=udp;lR;Phone-Context=+31;x-Foo=1;tags=2;use=3;phone_context=4');
    expect(u.kind === 'sip' && u.params).toEqual({
      user: 'phone',
      transport: 'udp',
      lr: '',
      'phone-context': '+31',
      'x-foo': '1',
      tags: '2',
      use: '3',
      phone_context: '4',
    });
    const na = parseNameAddr('<sip:a@h>;TAG=f0;Tag=second;tAg2=x;BRANCH=z9;phone-contexT=y');
    expect(na.kind === 'name-addr' && [na.tag, na.params]).toEqual([
      'f0',
      { tag: 'f0', tag2: 'x', branch: 'z9', 'phone-context': 'y' },
    ]);
  });

  it('folds the case of letters only: a name that differs in a non-letter is not the common one', () => {
    const u = parseUri('sip:a@h;phone.context=1;user=phone');
    expect(u.kind === 'sip' && u.params).toEqual({ 'phone.context': '1', user: 'phone' });
    // CR is 0x0d, and 0x0d | 0x20 is '-': folding every byte would take this for phone-context.
    expect(paramName('xPhone\rContext', 1, 14)).toBe('phone\rcontext');
    expect(paramName('xPhone-Context', 1, 14)).toBe('phone-context');
    expect(paramName(';Lr;', 1, 3)).toBe('lr');
  });
});
