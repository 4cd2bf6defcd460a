/**
 * parseSipMessage keeps no module state (DESIGN.md §8.1): its working memory is the caller's SipParseScratch. A
 * scratch reused over messages of different sizes gives exactly what a fresh one gives.
 */
import { describe, expect, it } from 'vitest';
import { parseSipMessage, SipParseScratch } from '../../src/sip/index.js';

const big = Buffer.from(
  'INVITE sip:+31201234567@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKb\r\n' +
    'From: "A" <sip:+31301234567@192.0.2.1>;tag=1\r\nTo: <sip:+31201234567@192.0.2.10>\r\nCall-ID: big@test\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n' +
    'P-Asserted-Identity: <sip:+31301234567@192.0.2.1>\r\nContact: <sip:a@192.0.2.1>\r\nSubject: many headers\r\nContent-Length: 0\r\n\r\n',
);
const small = Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa\r\nCall-ID: small@test\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n');
const bad = Buffer.from('not a start line\r\n\r\n');

function view(b: Buffer, scratch?: SipParseScratch) {
  const p = parseSipMessage(b, 7, scratch);
  if (p.kind === 'invalid') return p;
  return { kind: p.kind, names: p.headerNames(), values: p.headerNames().map((_, i) => p.headerAt(i)), callId: p.callId, anomalies: p.anomalies };
}

describe('SipParseScratch', () => {
  it('one scratch over a large, a small, an invalid and the large message again: each as parsed with a fresh one', () => {
    const scratch = new SipParseScratch();
    for (const b of [big, small, bad, big, small]) expect(view(b, scratch)).toEqual(view(b, new SipParseScratch()));
    expect(view(small, scratch)).toEqual(view(small));
    const s = view(small, scratch);
    expect(s.kind === 'response' && s.names).toEqual(['via', 'call-id', 'cseq', 'content-length']);
  });
});
