/**
 * Differential test against sip.js 0.21 (DESIGN.md §6): on every message sip.js accepts, our
 * From/To URI user, host and tag, Call-ID, CSeq and top Via must agree with it.
 *
 * Known, documented differences, normalised below rather than hidden:
 * - sip.js `message.via` is the LAST via-parm of the first Via header line (its grammar overwrites
 *   the value for each comma-separated element), not the top Via. We compare against sip.js's own
 *   grammar applied to the first element of the first Via line, and assert the `.via` discrepancy
 *   where it shows (invite-multi-via).
 * - sip.js `uri.user` is the whole userinfo, unescaped: telephone-subscriber params and the
 *   password included. Our `userOf()` is the tshark view (before ';' and ':', escapes kept), so we
 *   compare sip.js against `userUnescaped ?? user` plus `:password`.
 * - sip.js keeps IPv6 brackets in hosts; we strip them.
 * - sip.js turns a CSeq above 2**32-1 into an inexact float; we return it as invalid (RFC 3261 §8.1.1.5).
 */
import { describe, expect, it } from 'vitest';
import { Core } from 'sip.js';
import { parseSipMessage, splitList, type SipMessage } from '../../src/sip/index.js';
import type { Invalid, NameAddr, Uri } from '../../src/sip/model.js';
import { corpusNames, fixture, rfc4475Index } from './helpers.js';

interface SipJsUri {
  user?: string;
  host?: string;
}
interface SipJsNameAddr {
  uri?: SipJsUri;
}
interface SipJsVia {
  host?: string;
  branch?: string;
  transport?: string;
}
interface SipJsMessage {
  callId?: string;
  cseq?: number;
  from?: SipJsNameAddr;
  to?: SipJsNameAddr;
  fromTag?: string;
  toTag?: string;
  via?: SipJsVia;
  getHeader(name: string): string | undefined;
}

const quiet = { warn(): void {}, error(): void {}, log(): void {}, debug(): void {} };

function sipjsParse(bytes: Buffer): SipJsMessage | undefined {
  // Core.Parser.parseMessage takes a string; latin1 keeps one char per byte.
  const m: unknown = Core.Parser.parseMessage(bytes.toString('latin1'), quiet as never);
  return m === undefined ? undefined : (m as SipJsMessage);
}

function sipjsVia(raw: string | undefined): SipJsVia | undefined {
  if (raw === undefined) return undefined;
  const first = splitList(raw)[0];
  if (first === undefined) return undefined;
  const v: unknown = Core.Grammar.parse(first, 'Via');
  return v === -1 ? undefined : (v as SipJsVia);
}

function fullUser(uri: Uri | Invalid): string | undefined {
  if (uri.kind !== 'sip') return undefined;
  const u = uri.userUnescaped ?? uri.user;
  if (u === undefined) return undefined;
  return uri.password === undefined ? u : `${u}:${uri.password}`;
}

function hostOf(uri: Uri | Invalid): string | undefined {
  if (uri.kind !== 'sip') return undefined;
  return uri.ipv6 ? `[${uri.host}]` : uri.host;
}

function nameAddrView(na: NameAddr | Invalid | undefined): [string | undefined, string | undefined, string | undefined] {
  if (na === undefined || na.kind !== 'name-addr') return [undefined, undefined, undefined];
  return [fullUser(na.uri), hostOf(na.uri), na.tag];
}

/** What we say, in sip.js terms. */
function ours(m: SipMessage): unknown {
  const v = m.via;
  const cseq = m.cseq;
  return {
    callId: m.callId,
    cseq: cseq?.kind === 'cseq' ? cseq.seq : 'invalid',
    from: nameAddrView(m.from),
    to: nameAddrView(m.to),
    via: v?.kind === 'via' ? [hostOf2(v.host), v.branch, v.transport] : undefined,
  };
}

function hostOf2(h: string): string {
  return h.includes(':') ? `[${h}]` : h;
}

function theirs(t: SipJsMessage): unknown {
  const v = sipjsVia(t.getHeader('via'));
  return {
    callId: t.callId,
    cseq: t.cseq !== undefined && t.cseq > 0xffffffff ? 'invalid' : t.cseq,
    from: [t.from?.uri?.user, t.from?.uri?.host, t.fromTag],
    to: [t.to?.uri?.user, t.to?.uri?.host, t.toTag],
    via: v === undefined ? undefined : [v.host, v.branch, v.transport],
  };
}

const corpus: Array<[string, Buffer]> = [
  ...corpusNames().map((n): [string, Buffer] => [n, fixture('corpus', n)]),
  ...Object.keys(rfc4475Index()).map((n): [string, Buffer] => [n, fixture('rfc4475', n)]),
];

describe('differential: sip.js 0.21 vs parseSipMessage', () => {
  const rejectedByThem: string[] = [];
  const rejectedByBoth: string[] = [];
  const compared: string[] = [];

  for (const [name, bytes] of corpus) {
    const t = sipjsParse(bytes);
    const m = parseSipMessage(bytes);
    if (t === undefined) {
      if (m.kind === 'invalid') rejectedByBoth.push(name);
      else rejectedByThem.push(name);
      continue;
    }
    compared.push(name);
    it(`${name}: agrees on everything sip.js accepts`, () => {
      if (m.kind === 'invalid') throw new Error(`sip.js accepts ${name}, we say invalid: ${m.reason}`);
      expect(ours(m)).toEqual(theirs(t));
    });
  }

  it('lists the messages sip.js rejects that we parse', () => {
    // tel: From/To (sip.js drops the message), LF-only line ends, and RFC 4475 invalid messages we
    // parse with named anomalies instead of dropping (a detector must still see their identity).
    expect(rejectedByThem).toEqual([
      'invite-tel-from',
      'invite-tel-addrspec',
      'invite-lf-only',
      'badinv01',
      'ncl',
      'quotbal',
      'lwsstart',
      'trws',
      'regbadct',
      'badaspec',
      'baddn',
    ]);
    expect(rejectedByBoth).toEqual(['ltgtruri', 'lwsruri', 'bigcode']);
    expect(compared.length).toBe(corpus.length - 14);
    console.log(`sip.js rejects, we parse: ${rejectedByThem.join(', ')}`);
  });

  it('sip.js reports the last element of the first Via line as its top Via', () => {
    const bytes = fixture('corpus', 'invite-multi-via');
    const t = sipjsParse(bytes);
    const m = parseSipMessage(bytes);
    expect(t?.via?.host).toBe('pc33.atlanta.example.com');
    expect(m.kind !== 'invalid' && m.via?.kind === 'via' && m.via.host).toBe('bigbox3.site3.example.com');
  });
});
