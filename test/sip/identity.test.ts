import { describe, expect, it } from 'vitest';
import { parseCSeq, parseTopVia, userOf } from '../../src/sip/index.js';
import { fixture, kinds, nameAddr, parsed, sip } from './helpers.js';

describe('lazy typed accessors', () => {
  it('callId, cseq, from, to, pai (several headers, sip and tel mixed), privacy, userAgent', () => {
    const m = parsed(fixture('corpus', 'invite-pai-sdp'));
    expect(m.callId).toBe('3c26700f2a8e1b7c4d5e6f708192a3b4@192.0.2.20');
    expect(m.cseq).toEqual({ kind: 'cseq', seq: 102, method: 'INVITE' });
    const from = nameAddr(m.from);
    expect([from.display, userOf(from.uri), from.tag, from.uri.kind === 'sip' && from.uri.params]).toEqual([
      'Acme Support',
      '+31887654321',
      'as5f3e1a2b',
      { user: 'phone' },
    ]);
    const to = nameAddr(m.to);
    expect([to.display, userOf(to.uri), to.tag]).toEqual([undefined, '+31201234567', undefined]);
    expect(m.pai.map((p) => [p.kind, p.kind === 'name-addr' ? p.uri.raw : p.reason])).toEqual([
      ['name-addr', 'sip:+31887654321@trunk.example.net;user=phone'],
      ['name-addr', 'tel:+31887654321'],
    ]);
    expect(m.privacy).toEqual(['none']);
    expect(m.userAgent).toBe('Asterisk PBX 18.12.1');
    expect(m.ppi).toEqual([]);
    expect(m.rpid).toEqual([]);
    // Cached: the same object on every access.
    expect(m.from).toBe(m.from);
    expect(m.pai).toBe(m.pai);
  });

  it('splits a comma-separated PAI list respecting quoted commas, with verstat on tel', () => {
    const m = parsed(fixture('corpus', 'invite-pai-list'));
    const [a, b] = m.pai.map(nameAddr);
    expect([a?.display, userOf(a?.uri)]).toEqual(['Acme, Inc.', '+31887654321']);
    expect(b?.uri.kind === 'tel' && [b.uri.number, b.uri.params]).toEqual(['+31887654321', { verstat: 'TN-Validation-Passed' }]);
    expect(m.pai.length).toBe(2);
  });

  it('reads tel: From in name-addr and addr-spec form', () => {
    const a = nameAddr(parsed(fixture('corpus', 'invite-tel-from')).from);
    expect(a.uri.kind === 'tel' && [a.uri.number, a.uri.digits, a.tag]).toEqual(['+31-88-765-4321', '+31887654321', 'tf-1']);
    const b = nameAddr(parsed(fixture('corpus', 'invite-tel-addrspec')).from);
    expect([b.uri.raw, b.tag, b.angle]).toEqual(['tel:+31887654321', 'ta-7', false]);
  });

  it('reads folded identity headers', () => {
    const m = parsed(fixture('corpus', 'invite-folded'));
    const from = nameAddr(m.from);
    expect([from.display, from.uri.raw, from.tag]).toEqual(['Folded Caller', 'sip:+31301112222@chicago.example.com;user=phone', 'fold-1']);
    expect(m.cseq).toEqual({ kind: 'cseq', seq: 1, method: 'INVITE' });
    expect(m.via).toMatchObject({ transport: 'UDP', host: '192.0.2.4', port: 5060, branch: 'z9hG4bKfold01', received: '192.0.2.4' });
    expect(nameAddr(m.pai[0]).uri.raw).toBe('sip:+31301112222@chicago.example.com;user=phone');
  });

  it('anonymous From with PAI and Privacy: id;header', () => {
    const m = parsed(fixture('corpus', 'invite-anonymous'));
    expect(userOf(nameAddr(m.from).uri)).toBe('anonymous');
    expect(userOf(nameAddr(m.pai[0]).uri)).toBe('+31612345678');
    expect(m.privacy).toEqual(['id', 'header']);
  });

  it('Remote-Party-ID with party, screen and privacy', () => {
    const [r] = parsed(fixture('corpus', 'invite-rpid')).rpid;
    expect(r?.kind === 'name-addr' && [r.display, userOf(r.uri), r.party, r.screen, r.privacy]).toEqual([
      'FS',
      '+31101234567',
      'calling',
      'yes',
      'off',
    ]);
  });

  it('Diversion entries with counter, reason, privacy (RFC 5806)', () => {
    const d = parsed(fixture('corpus', 'invite-diversion')).diversion;
    expect(d.map((e) => (e.kind === 'name-addr' ? [userOf(e.uri), e.reason, e.counter, e.privacy, e.screen] : e.reason))).toEqual([
      ['+31201234567', 'unconditional', 1, 'off', undefined],
      ['+31209999999', 'no-answer', 2, undefined, 'no'],
    ]);
  });

  it('History-Info entries with index, rc, mp and escaped Reason headers (RFC 7044)', () => {
    const h = parsed(fixture('corpus', 'invite-history-info')).historyInfo;
    expect(h.map((e) => (e.kind === 'name-addr' ? [e.uri.raw, e.index, e.rc, e.mp] : e.reason))).toEqual([
      ['sip:office@example.com', '1', undefined, undefined],
      ['sip:bob@example.com?Reason=SIP%3Bcause%3D302', '1.1', '1', undefined],
      ['sip:bob@192.0.2.60', '1.1.1', undefined, '1.1'],
    ]);
    const second = h[1];
    expect(second?.kind === 'name-addr' && second.uri.kind === 'sip' && second.uri.headers).toEqual({ reason: 'SIP%3Bcause%3D302' });
  });

  it('Identity (RFC 8224) token, info, alg, ppt', () => {
    const [i] = parsed(fixture('corpus', 'invite-identity')).identity;
    expect(i?.kind === 'identity' && [i.token.split('.').length, i.token.slice(0, 20), i.info, i.alg, i.ppt]).toEqual([
      3,
      'eyJhbGciOiJFUzI1NiIs',
      'https://cert.example.org/passport.cer',
      'ES256',
      'shaken',
    ]);
    const [old] = parsed(fixture('rfc4475', 'mpart01')).identity;
    expect(old?.kind === 'identity' && [old.token.length, old.info]).toEqual([172, undefined]);
  });

  it('npdi/rn/cpc/oli/verstat user params stay in the user part; userOf strips them', () => {
    const m = parsed(fixture('corpus', 'invite-npdi'));
    const from = nameAddr(m.from);
    expect(from.uri.kind === 'sip' && from.uri.user).toBe('+12015550123;cpc=ordinary;oli=0');
    expect(userOf(from.uri)).toBe('+12015550123');
    expect(userOf(nameAddr(m.pai[0]).uri)).toBe('+12015550123');
    const ruri = m.requestUri;
    expect(ruri?.kind === 'sip' && [ruri.user, ruri.params]).toEqual(['+12125550100;npdi;rn=+12125559999', { user: 'phone' }]);
  });

  it('local tel numbers with phone-context in a PAI list', () => {
    const pai = parsed(fixture('corpus', 'invite-tel-local')).pai.map(nameAddr);
    expect(pai.map((p) => p.uri.kind === 'tel' && [p.uri.number, p.uri.global, p.uri.params['phone-context']])).toEqual([
      ['555-0123', false, '+1-201'],
      ['7042', false, 'example.com'],
    ]);
  });

  it('P-Preferred-Identity list and IPv6 hosts', () => {
    const ppi = parsed(fixture('corpus', 'invite-ppi')).ppi.map(nameAddr);
    expect(ppi.map((p) => [p.display, userOf(p.uri)])).toEqual([
      ['Reception', '+31101112233'],
      [undefined, '+31101112233'],
    ]);
    const v6 = parsed(fixture('corpus', 'invite-ipv6'));
    const from = nameAddr(v6.from);
    expect(from.uri.kind === 'sip' && [from.uri.host, from.uri.ipv6, from.uri.port]).toEqual(['2001:db8::10', true, 5062]);
    expect(v6.via).toMatchObject({ host: '2001:db8::10', port: 5062, rport: true });
  });

  it('top Via is the first value of the first Via header', () => {
    const m = parsed(fixture('corpus', 'invite-multi-via'));
    expect(m.via).toEqual({
      kind: 'via',
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: 'bigbox3.site3.example.com',
      branch: 'z9hG4bK77ef4c2312983.1',
      params: { branch: 'z9hG4bK77ef4c2312983.1' },
      raw: 'SIP/2.0/UDP bigbox3.site3.example.com;branch=z9hG4bK77ef4c2312983.1',
    });
    const r = parsed(fixture('corpus', 'resp-100')).via;
    expect(r?.kind === 'via' && [r.rport, r.received]).toEqual([5060, '192.0.2.20']);
  });

  it('Contact lists and the Request-URI', () => {
    const reg = parsed(fixture('corpus', 'register'));
    expect(reg.contact.map((c) => (c.kind === 'name-addr' ? [c.uri.raw, c.params] : c.reason))).toEqual([
      ['sip:bob@192.0.2.4', { expires: '7200' }],
      ['sip:bob@[2001:db8::4]', { q: '0.5' }],
    ]);
    expect(reg.requestUri).toMatchObject({ kind: 'sip', host: 'registrar.biloxi.example.com' });
    expect(parsed(fixture('corpus', 'resp-180')).requestUri).toBeUndefined();
  });

  it('absent headers give undefined or empty lists', () => {
    const m = parsed(fixture('corpus', 'cancel'));
    expect([m.identity, m.diversion, m.historyInfo, m.privacy, m.userAgent]).toEqual([[], [], [], [], undefined]);
  });
});

describe('anomalies from the accessors', () => {
  it('an unparseable identity URI is noted on first use, once', () => {
    const m = parsed(sip(['INVITE sip:a@b SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'To: "Watson" <sip:t watson@example.org>']));
    expect(m.anomalies.map((a) => a.kind)).toEqual(['sip.missing-header']);
    void m.to;
    void m.to;
    expect(m.anomalies.slice(1)).toEqual([{ kind: 'sip.identity-uri-invalid', detail: 'to: uri: illegal character 0x20' }]);
  });

  it('a repairable identity is repaired on first use, once, with the anomaly naming the defect (RFC 4475 §3.1.2.14)', () => {
    const m = parsed(fixture('rfc4475', 'badaspec'));
    expect(m.anomalies).toEqual([]);
    void m.to;
    void m.to;
    expect(m.anomalies).toEqual([{ kind: 'sip.name-addr-brackets', detail: 'to: uri: scheme must start with a letter' }]);
    expect([nameAddr(m.to).display, nameAddr(m.to).uri.raw]).toEqual(['Watson, Thomas', 'sip:t.watson@example.org']);
    expect(kinds(m)).toEqual(['sip.name-addr-brackets']);
  });

  it('collectAnomalies runs every check', () => {
    expect(kinds(parsed(fixture('rfc4475', 'baddn')))).toEqual(['sip.display-name-unquoted', 'sip.display-name-unquoted']);
    expect(kinds(parsed(fixture('rfc4475', 'mismatch01')))).toEqual(['sip.cseq-method-mismatch']);
    expect(kinds(parsed(fixture('rfc4475', 'escruri')))).toEqual(['sip.request-uri-headers']);
    expect(kinds(parsed(fixture('rfc4475', 'regbadct')))).toEqual(['sip.contact-invalid']);
    expect(kinds(parsed(fixture('rfc4475', 'baddate')))).toEqual(['sip.date-invalid']);
  });

  it('parseCSeq and parseTopVia edge cases', () => {
    expect(parseCSeq('4294967295 INVITE')).toEqual({ kind: 'cseq', seq: 4294967295, method: 'INVITE' });
    expect(parseCSeq('4294967296 INVITE')).toEqual({ kind: 'invalid', reason: 'cseq: sequence number exceeds 2**32-1', raw: '4294967296 INVITE' });
    expect(parseCSeq('1INVITE')).toEqual({ kind: 'invalid', reason: 'cseq: expected whitespace before method', raw: '1INVITE' });
    expect(parseCSeq('1 INVITE x')).toEqual({ kind: 'invalid', reason: 'cseq: junk after method', raw: '1 INVITE x' });
    expect(parseTopVia('SIP/2.0/UDP 192.0.2.15;;,;,,')).toEqual({ kind: 'invalid', reason: 'via: empty parameter', raw: 'SIP/2.0/UDP 192.0.2.15;;' });
    expect(parseTopVia('SIP/2.0/UDP')).toEqual({ kind: 'invalid', reason: 'via: expected whitespace before sent-by', raw: 'SIP/2.0/UDP' });
    expect(parseTopVia('SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks')).toMatchObject({ transport: 'WSS', host: 'df7jal23ls0d.invalid' });
  });
});

describe('From holding a list of addresses', () => {
  it('keeps the first address usable and flags duplicate-from (as Wireshark reads it)', async () => {
    const { parseSipMessage } = await import('../../src/sip/index.js');
    const m = parseSipMessage(
      Buffer.from(
        'SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n' +
          'From: <sip:+31301234568@carrier.example>;tag=a, <sip:+31301234569@carrier.example>;tag=dup\r\n' +
          'To: <sip:b@example.test>;tag=1\r\nCall-ID: x1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
      ),
    );
    if (m.kind === 'invalid') throw new Error(m.reason);
    expect(m.from).toMatchObject({ kind: 'name-addr', tag: 'a', uri: { kind: 'sip', user: '+31301234568' } });
    expect(m.collectAnomalies().map((a) => a.kind)).toEqual(['sip.duplicate-from']);
  });
});

describe('lenient identity extraction, strict flagging (issue #16.2)', () => {
  const HEAD = ['INVITE sip:+31201234567@sbc.example SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1', 'Max-Forwards: 70', 'Call-ID: len-1', 'CSeq: 1 INVITE', 'To: <sip:+31201234567@sbc.example>'];
  const withFrom = (...lines: string[]) => parsed(sip([...HEAD, ...lines]));
  const cases: ReadonlyArray<readonly [string, string, string | undefined, string, string]> = [
    // [header line, user, display, anomaly kind, detail]
    ['From: \\"arik\\" <sip:816666@voip.example>;tag=1', '816666', 'arik', 'sip.display-name-quote', 'from: display name has non-token characters and is not quoted'],
    ['From: "arik <sip:816666@voip.example>;tag=1', '816666', 'arik', 'sip.display-name-quote', 'from: unterminated quoted display name'],
    ['From: "ar"ik" <sip:816666@voip.example>;tag=1', '816666', 'arik', 'sip.display-name-quote', "from: expected '<' after display name"],
    ['From: Bank & Co. (NL) <sip:816666@voip.example>;tag=1', '816666', 'Bank & Co. (NL)', 'sip.display-name-unquoted', 'from: display name has non-token characters and is not quoted'],
    ['From: arik sip:816666@voip.example;tag=1', '816666', 'arik', 'sip.name-addr-brackets', "from: header parameters: unexpected 's'"],
    ['From: <sip:816666@voip.example;tag=1', '816666', undefined, 'sip.name-addr-brackets', "from: unterminated '<'"],
    ['From: "arik" sip:816666@voip.example;tag=1', '816666', 'arik', 'sip.name-addr-brackets', "from: expected '<' after display name"],
    ['From: < sip:816666@voip.example >;tag=1', '816666', undefined, 'sip.name-addr-brackets', 'from: uri: scheme must start with a letter'],
    ['From: <sip:816666@voip.example>;;tag=1', '816666', undefined, 'sip.name-addr-params', 'from: header parameters: empty parameter'],
    ['f: \\"arik\\" <tel:+31-20-555-0100>;tag=1', '+31-20-555-0100', 'arik', 'sip.display-name-quote', 'from: display name has non-token characters and is not quoted'],
  ];
  for (const [line, user, display, kind, detail] of cases) {
    it(`extracts ${user} from ${line}`, () => {
      const m = withFrom(line);
      const from = nameAddr(m.from);
      // An unterminated '<' leaves the tag inside the URI, where it was written.
      expect([userOf(from.uri), from.display, from.tag]).toEqual([user, display, line.includes('<sip:816666@voip.example;tag') ? undefined : '1']);
      expect(m.anomalies).toEqual([{ kind, detail }]);
    });
  }

  it('repairs each element of PAI, PPI, RPID, Diversion, History-Info and Contact, and joins a comma of an unquoted display name', () => {
    const m = withFrom(
      'From: <sip:+31205550123@pbx.example>;tag=1',
      'P-Asserted-Identity: Acme, Inc. <sip:+31205550123@pbx.example>, \\"x\\" <tel:+31205550124>',
      'P-Preferred-Identity: "pp <sip:+31205550125@pbx.example>',
      'Remote-Party-ID: Acme, Inc <sip:+31205550126@pbx.example>;party=calling;screen=yes',
      'Diversion: "d <sip:+31205550127@pbx.example>;reason=unconditional;counter=1',
      'History-Info: sip:+31205550128@pbx.example;index=1',
      'Contact: \\"c\\" <sip:+31205550129@192.0.2.1>',
    );
    const users = (l: ReadonlyArray<{ kind: string; uri?: unknown }>) => l.map((x) => (x.kind === 'name-addr' ? userOf((x as { uri: Parameters<typeof userOf>[0] }).uri) : x.kind));
    expect(users(m.pai)).toEqual(['+31205550123', '+31205550124']);
    expect(m.pai.map((p) => p.kind === 'name-addr' && p.display)).toEqual(['Acme, Inc.', 'x']);
    expect(users(m.ppi)).toEqual(['+31205550125']);
    const rpid = m.rpid[0];
    expect(rpid?.kind === 'name-addr' && [userOf(rpid.uri), rpid.party, rpid.screen]).toEqual(['+31205550126', 'calling', 'yes']);
    const div = m.diversion[0];
    expect(div?.kind === 'name-addr' && [userOf(div.uri), div.reason, div.counter]).toEqual(['+31205550127', 'unconditional', 1]);
    const hi = m.historyInfo[0];
    expect(hi?.kind === 'name-addr' && [userOf(hi.uri), hi.index]).toEqual(['+31205550128', '1']);
    expect(users(m.contact)).toEqual(['+31205550129']);
    expect(m.collectAnomalies().map((a) => `${a.kind}: ${a.detail}`)).toEqual([
      'sip.display-name-unquoted: p-asserted-identity: display name has non-token characters and is not quoted',
      'sip.display-name-quote: p-asserted-identity: display name has non-token characters and is not quoted',
      'sip.display-name-quote: p-preferred-identity: unterminated quoted display name',
      'sip.display-name-unquoted: remote-party-id: display name has non-token characters and is not quoted',
      'sip.display-name-quote: diversion: unterminated quoted display name',
      'sip.name-addr-brackets: history-info: hi-targeted-to-uri must be in <>',
      'sip.contact-invalid: display name has non-token characters and is not quoted',
    ]);
  });

  it('keeps the first of duplicate From headers and flags the duplicate; mixed-case names are the same header', () => {
    const m = withFrom('FROM: <sip:+31205550123@pbx.example>;tag=1', 'fRoM: <sip:+31612345678@evil.example>;tag=2');
    expect([userOf(nameAddr(m.from).uri), m.anomalies.map((a) => a.kind)]).toEqual(['+31205550123', ['sip.duplicate-from']]);
  });
});
