import { describe, expect, it } from 'vitest';
import { messageAnomalies } from '../../src/sip/message.js';
import { splitIdentityList, parseNameAddr } from '../../src/sip/nameaddr.js';
import { parseTopVia } from '../../src/sip/headers.js';
import { isPlainContact, isPlainVia } from '../../src/sip/plain.js';
import { corpusNames, fixture, parsed, rfc4475Index, sip } from './helpers.js';

/** What the Contact check of a message notes nothing for: one element whose strict parse and URI parse succeed. */
function contactOk(v: string): boolean {
  const parts = splitIdentityList(v);
  if (parts.length !== 1) return false;
  const na = parseNameAddr(parts[0]!);
  return na.kind === 'name-addr' && na.uri.kind !== 'invalid';
}

const viaOk = (v: string): boolean => parseTopVia(v).kind === 'via';

const VIAS = [
  'SIP/2.0/UDP 127.0.0.10:5060;branch=z9hG4bK0;rport',
  'SIP/2.0/UDP 127.0.0.10:5060;branch=z9hG4bK0;rport=5060;received=127.0.0.10',
  'SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
  'SIP/2.0/TLS host_1:65535;branch=z9hG4bK-1',
  'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashd92;rport=',
];
const CONTACTS = [
  '<sip:+31205550100@127.0.0.10:5060>',
  '<sip:alice@pc33.atlanta.example.com>',
  '<sips:bob@192.0.2.4:5061;transport=tls>;expires=3600',
  '<sip:127.0.0.1:5060;transport=udp;lr>',
  "<sip:user-_.!~*'+%41@host>;q=0.5;+sip.x=1",
];

/** Each value with every byte in turn replaced by each byte of a set the grammars tell apart, and cut at every length. */
function mutations(values: readonly string[]): string[] {
  const bytes = ' \t"#%\'()+,-./0123456789:;<=>?@ABSZ[\\]_`aisz{|}~\x7f\xe9';
  const out = new Set<string>();
  for (const v of values) {
    for (let i = 0; i <= v.length; i++) {
      out.add(v.slice(0, i));
      for (const c of bytes) out.add(v.slice(0, i) + c + v.slice(i + 1));
      for (const c of bytes) out.add(v.slice(0, i) + c + v.slice(i));
    }
  }
  return [...out];
}

describe('plain header value checks (the fast path of messageAnomalies)', () => {
  it('accept the Via and Contact values stacks send, and every value they accept parses without a fault', () => {
    const check = (plain: (b: Buffer, s: number, e: number) => boolean, ok: (v: string) => boolean, values: readonly string[]) => {
      const wrong: string[] = [];
      let accepted = 0;
      for (const v of mutations(values)) {
        const b = Buffer.from(v, 'latin1');
        // The split hands values trimmed of SP/HT; test them as the check sees them.
        const t = Buffer.from(v.replace(/^[ \t]+|[ \t]+$/g, ''), 'latin1');
        for (const x of [b, t]) {
          if (!plain(x, 0, x.length)) continue;
          accepted++;
          if (!ok(x.toString('utf8'))) wrong.push(JSON.stringify(x.toString('latin1')));
        }
      }
      return { wrong, accepted };
    };
    for (const v of VIAS) expect(isPlainVia(Buffer.from(v), 0, v.length), v).toBe(true);
    for (const v of CONTACTS) expect(isPlainContact(Buffer.from(v), 0, v.length), v).toBe(true);
    const via = check(isPlainVia, viaOk, VIAS);
    const contact = check(isPlainContact, contactOk, CONTACTS);
    expect(via.wrong).toEqual([]);
    expect(contact.wrong).toEqual([]);
    expect(via.accepted).toBeGreaterThan(1000);
    expect(contact.accepted).toBeGreaterThan(1000);
  });

  it('leave to the parsers what only they can judge', () => {
    for (const v of [
      'SIP/2.0/UDP h;rport=70000',
      'SIP/2.0/UDP h;RPORT=x',
      'SIP/2.0/UDP h:65536',
      'SIP/2.0/UDP h:123456',
      'SIP/2.0/UDP [::1]:5060',
      'SIP/2.0/UDP h, SIP/2.0/UDP i',
      'SIP/2.0/UDP  h',
      'SIP/2.0/UDP h;branch="x"',
      'SIP/2.0/UDP h;;branch=x',
    ]) {
      expect(isPlainVia(Buffer.from(v), 0, v.length), v).toBe(false);
    }
    for (const v of [
      '*',
      'sip:a@b',
      '"A" <sip:a@b>',
      '<sip:a@b>, <sip:c@d>',
      '<sip:a@b;maddr=x@y>',
      '<sip:a:pw@b>',
      '<sip:@b>',
      '<sip:a@>',
      '<sip:a@b:99999>',
      '<sip:a@b?subject=x>',
      '<SIP:a@b>',
      '<tel:+3120>',
      '<sip:a@b>;+sip.instance="<urn:x>"',
      '<sip:a@b> ;expires=1',
    ]) {
      expect(isPlainContact(Buffer.from(v), 0, v.length), v).toBe(false);
    }
  });

  it('messageAnomalies gives the same list as with every accessor run first, on the corpus, RFC 4475 and bad Via/Contact', () => {
    const messages = [
      ...corpusNames().map((n) => fixture('corpus', n)),
      ...Object.keys(rfc4475Index()).map((n) => fixture('rfc4475', n)),
      ...['SIP/2.0/UDP h;rport=x', 'SIP/2.0/UDP h:99999', 'SIP/2.0/UDP', 'SIP/2.0/UDP h'].flatMap((via) =>
        ['<sip:a@b>', '<sip:a@b:99999>', 'sip:a@b?x=1', '<sip:a@b>, <sip:@c>', '<sip:a@b>;x="y"'].map((contact) =>
          sip(['INVITE sip:bob@b SIP/2.0', `Via: ${via}`, 'Max-Forwards: 70', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>', 'Call-ID: 1', 'CSeq: 1 INVITE', `Contact: ${contact}`, `Contact: <sip:x@y>`]),
        ),
      ),
    ];
    let compared = 0;
    let noted = 0;
    for (const m of messages) {
      const p = parsed0(m);
      if (p === undefined) continue;
      const fast = messageAnomalies(p).map((a) => `${a.kind}: ${a.detail}`);
      // Reference: the same message with Via and Contact parsed before the check (the accessors note their faults
      // in the order collectAnomalies runs them, so compare as sets per kind and detail, and the count).
      const q = parsed(m);
      void q.contact;
      void q.via;
      const ref = messageAnomalies(q).map((a) => `${a.kind}: ${a.detail}`);
      expect([...fast].sort(), m.toString('latin1', 0, 60)).toEqual([...ref].sort());
      compared++;
      if (fast.some((k) => k.startsWith('sip.via-invalid') || k.startsWith('sip.contact-invalid'))) noted++;
    }
    expect(compared).toBeGreaterThan(50);
    expect(noted).toBeGreaterThan(10);
  });
});

function parsed0(m: Buffer) {
  try {
    return parsed(m);
  } catch {
    return undefined;
  }
}
