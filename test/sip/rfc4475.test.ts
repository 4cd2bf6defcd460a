/**
 * RFC 4475 torture tests §3.1.1 (valid) and §3.1.2 (invalid), byte-exact fixtures built by
 * test/fixtures/sip/rfc4475/build.mjs from the RFC notation in messages.txt.
 */
import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../src/sip/index.js';
import { fixture, rfc4475Index } from './helpers.js';

interface Valid {
  readonly start: string;
  readonly callId: string;
  readonly from: string;
  readonly tag: string | undefined;
  readonly anomalies: readonly string[];
}

/** §3.1.1: every message parses; key fields and the complete anomaly list. */
const VALID: Record<string, Valid> = {
  wsinv: { start: 'INVITE', callId: 'wsinv.ndaksdj@192.0.2.1', from: 'sip:jdrosen@example.com', tag: '98asjd8', anomalies: [] },
  intmeth: {
    start: "!interesting-Method0123456789_*+`.%indeed'~",
    callId: 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{',
    from: 'sip:mundane@example.com',
    tag: "_token~1'+`*%!-.",
    // The To display name carries a quoted NUL (legal quoted-pair); NUL in a header is still noted.
    anomalies: ['sip.nul-in-header'],
  },
  esc01: { start: 'INVITE', callId: 'esc01.239409asdfakjkn23onasd0-3234', from: 'sip:I%20have%20spaces@example.net', tag: '938', anomalies: [] },
  escnull: { start: 'REGISTER', callId: 'escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd', from: 'sip:null-%00-null@example.com', tag: '839923423', anomalies: [] },
  esc02: { start: 'RE%47IST%45R', callId: 'esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf', from: 'sip:resource@example.com', tag: 'f232jadfj23', anomalies: [] },
  lwsdisp: { start: 'OPTIONS', callId: 'lwsdisp.1234abcd@funky.example.com', from: 'sip:caller@example.com', tag: '323', anomalies: [] },
  longreq: {
    start: 'INVITE',
    callId: `longreq.one${'really'.repeat(20)}longcallid`,
    from: `sip:${'amazinglylongcallername'.repeat(5)}@example.net`,
    tag: `12${'982'.repeat(50)}424`,
    anomalies: [],
  },
  // The trailing INVITE is noise after the REGISTER's empty body (RFC 3261 §18.3).
  dblreq: { start: 'REGISTER', callId: 'dblreq.0ha0isndaksdj99sdfafnl3lk233412', from: 'sip:j.user@example.com', tag: '43251j3j324', anomalies: ['sip.content-length-mismatch'] },
  semiuri: { start: 'OPTIONS', callId: 'semiuri.0ha0isndaksdj', from: 'sip:caller@example.org', tag: '33242', anomalies: [] },
  transports: { start: 'OPTIONS', callId: 'transports.kijh4akdnaqjkwendsasfdj', from: 'sip:caller@example.com', tag: '323', anomalies: [] },
  mpart01: { start: 'MESSAGE', callId: '3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..', from: 'sip:fluffy@example.com', tag: '2fb0dcc9', anomalies: [] },
  unreason: { start: '200', callId: 'unreason.1234ksdfak3j2erwedfsASdf', from: 'sip:user@example.com', tag: '11141343', anomalies: [] },
  noreason: { start: '100', callId: 'noreason.asndj203insdf99223ndf', from: 'sip:user@example.com', tag: '39ansfi3', anomalies: [] },
};

/** §3.1.2: either an invalid value (start line unusable) or the anomalies that name the defect. */
const INVALID: Record<string, { readonly invalid: string } | { readonly anomalies: readonly string[] }> = {
  badinv01: { anomalies: ['sip.contact-invalid', 'sip.via-invalid'] },
  clerr: { anomalies: ['sip.content-length-mismatch'] },
  ncl: { anomalies: ['sip.content-length-invalid'] },
  scalar02: { anomalies: ['sip.cseq-invalid'] },
  scalarlg: { anomalies: ['sip.cseq-invalid'] },
  // The URI is extracted as a phone would (issue #16.2); the anomaly names the defect.
  quotbal: { anomalies: ['sip.display-name-quote'] },
  ltgtruri: { invalid: 'request line: Request-URI enclosed in <>' },
  lwsruri: { invalid: 'request line: expected Method SP Request-URI SP SIP-Version' },
  lwsstart: { anomalies: ['sip.start-line-whitespace'] },
  trws: { anomalies: ['sip.start-line-whitespace'] },
  escruri: { anomalies: ['sip.request-uri-headers'] },
  baddate: { anomalies: ['sip.date-invalid'] },
  regbadct: { anomalies: ['sip.contact-invalid'] },
  badaspec: { anomalies: ['sip.name-addr-brackets'] },
  baddn: { anomalies: ['sip.display-name-unquoted', 'sip.display-name-unquoted'] },
  badvers: { anomalies: ['sip.unsupported-version'] },
  mismatch01: { anomalies: ['sip.cseq-method-mismatch'] },
  mismatch02: { anomalies: ['sip.cseq-method-mismatch'] },
  bigcode: { invalid: 'status line: status code is not 3 digits' },
};

describe('RFC 4475 torture messages', () => {
  const index = rfc4475Index();

  it('covers every message of §3.1.1 and §3.1.2', () => {
    expect(Object.keys(index).filter((n) => index[n]!.startsWith('3.1.1.'))).toEqual(Object.keys(VALID));
    expect(Object.keys(index).filter((n) => index[n]!.startsWith('3.1.2.'))).toEqual(Object.keys(INVALID));
    expect(Object.keys(index).length).toBe(32);
  });

  for (const [name, want] of Object.entries(VALID)) {
    it(`§${index[name]} ${name} parses`, () => {
      const m = parseSipMessage(fixture('rfc4475', name));
      if (m.kind === 'invalid') throw new Error(m.reason);
      expect(m.kind === 'request' ? m.method : String(m.status)).toBe(want.start);
      expect(m.callId).toBe(want.callId);
      const from = m.from;
      expect(from?.kind === 'name-addr' && [from.uri.raw, from.tag]).toEqual([want.from, want.tag]);
      expect(m.collectAnomalies().map((a) => a.kind)).toEqual(want.anomalies);
    });
  }

  for (const [name, want] of Object.entries(INVALID)) {
    it(`§${index[name]} ${name} is rejected or flagged`, () => {
      const m = parseSipMessage(fixture('rfc4475', name));
      if ('invalid' in want) {
        expect(m).toEqual({ kind: 'invalid', reason: want.invalid });
      } else {
        if (m.kind === 'invalid') throw new Error(m.reason);
        expect(m.collectAnomalies().map((a) => a.kind)).toEqual(want.anomalies);
      }
    });
  }

  it('exposes the torture details the RFC calls out', () => {
    const ws = parseSipMessage(fixture('rfc4475', 'wsinv'));
    if (ws.kind === 'invalid') throw new Error(ws.reason);
    expect(ws.from?.kind === 'name-addr' && ws.from.display).toBe('J Rosenberg \\"');
    expect(ws.to?.kind === 'name-addr' && [ws.to.uri.raw, ws.to.tag]).toEqual(['sip:vivekg@chair-dnrc.example.com', '1918181833n']);
    expect(ws.cseq).toEqual({ kind: 'cseq', seq: 9, method: 'INVITE' });
    expect(ws.via).toMatchObject({ transport: 'UDP', host: '192.0.2.2', branch: '390skdjuw' });
    const im = parseSipMessage(fixture('rfc4475', 'intmeth'));
    if (im.kind === 'invalid') throw new Error(im.reason);
    expect(im.to?.kind === 'name-addr' && im.to.display).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    expect(im.from?.kind === 'name-addr' && im.from.params["fromparam''~+*_!.-%"]).toBe('работающий');
    const e2 = parseSipMessage(fixture('rfc4475', 'esc02'));
    expect(e2.kind !== 'invalid' && [e2.contact.length, e2.from?.kind === 'name-addr' && e2.from.display]).toEqual([2, '%Z%45']);
    const tr = parseSipMessage(fixture('rfc4475', 'transports'));
    expect(tr.kind !== 'invalid' && tr.headerAll('via').length).toBe(5);
    const semi = parseSipMessage(fixture('rfc4475', 'semiuri'));
    const ruri = semi.kind !== 'invalid' ? semi.requestUri : undefined;
    expect(ruri?.kind === 'sip' && [ruri.user, ruri.userUnescaped, ruri.host]).toEqual(['user;par=u%40example.net', 'user;par=u@example.net', 'example.com']);
  });
});
