import { describe, expect, it } from 'vitest';
import { isSipStartLine, looksLikeSip } from '../../src/sip/index.js';
import { corpusNames, fixture, rfc4475Index } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('looksLikeSip', () => {
  it('accepts every corpus message and every RFC 4475 message with a usable start line', () => {
    for (const n of corpusNames()) expect([n, looksLikeSip(fixture('corpus', n))]).toEqual([n, true]);
    const rejected: string[] = [];
    for (const n of Object.keys(rfc4475Index())) if (!looksLikeSip(fixture('rfc4475', n))) rejected.push(n);
    // Bracketed or space-broken Request-URIs, doubled SP, SIP/7.0, a 10-digit status code.
    expect(rejected).toEqual(['ltgtruri', 'lwsruri', 'lwsstart', 'badvers', 'bigcode']);
  });

  it('accepts request and status lines with known and unknown methods and schemes', () => {
    expect(looksLikeSip(b('INVITE sip:bob@example.com SIP/2.0\r\n'))).toBe(true);
    expect(looksLikeSip(b('NEWMETHOD tel:+3120123 SIP/2.0\n'))).toBe(true);
    expect(looksLikeSip(b('OPTIONS sips:[2001:db8::1]:5061 SIP/2.0\r\n'))).toBe(true);
    expect(looksLikeSip(b('SIP/2.0 200 OK\r\n'))).toBe(true);
    expect(looksLikeSip(b('SIP/2.0 100\r\n'))).toBe(true);
    expect(looksLikeSip(b('\r\n\r\nBYE sip:a@b SIP/2.0\r\n'))).toBe(true);
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
      b('INVITE sip:bob@example.com SIP/2.1\r\n'),
      b('INVITE <sip:bob@example.com> SIP/2.0\r\n'),
      b('INVITE  sip:bob@example.com SIP/2.0\r\n'),
      b('SIP/2.0 2000 OK\r\n'),
      b('SIP/2.0 20 OK\r\n'),
      b('SIP/2.0 900 OK\r\n'),
      b('sip/2.0 200 OK\r\n'),
      b('HELLO world SIP/2.0\r\n'),
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
