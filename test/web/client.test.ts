/** The page's pure parts (issue #6): which raw lines the evidence marks, and the ladder's columns and arrows. */
import { describe, expect, it } from 'vitest';
import type { EvidenceMessageJson } from '../../src/web/api-types.js';
import { evidenceHeaderName, highlightLines } from '../../src/web/client/highlight.js';
import { ladderModel, secondsBetween } from '../../src/web/client/ladder.js';
import { distinctText, durationText, isNewer, keyText, rateLabel, sparkPoints, spanText } from '../../src/web/client/incidents.js';
import type { Incident } from '../../src/incidents/incident.js';
import { messageJson } from '../../src/web/routes.js';

const INVITE = [
  'INVITE sip:+31301234500@192.0.2.2 SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1',
  'f: "Bank" <sip:+31205550100@voip.example>;tag=1',
  'P-Asserted-Identity: <sip:+31205550100@voip.example>,',
  '  <tel:+31205550100>',
  'To: <sip:+31301234500@192.0.2.2>',
  'y: eyJhbGciOiJFUzI1NiJ9.e30.sig;info=<https://cert.example/x.pem>',
  'Content-Length: 25',
  '',
  'From: not a header, body',
  '',
].join('\r\n');

describe('highlightLines', () => {
  it('marks the evidence headers by full and compact name, with folded lines, never the body', () => {
    const lines = highlightLines(INVITE, ['From', 'P-Asserted-Identity', 'Identity']);
    expect(lines.filter((l) => l.highlight).map((l) => l.text)).toEqual([
      'f: "Bank" <sip:+31205550100@voip.example>;tag=1',
      'P-Asserted-Identity: <sip:+31205550100@voip.example>,',
      '  <tel:+31205550100>',
      'y: eyJhbGciOiJFUzI1NiJ9.e30.sig;info=<https://cert.example/x.pem>',
    ]);
    expect(lines.at(-1)).toEqual({ text: 'From: not a header, body' });
    expect(lines).toHaveLength(10);
  });

  it('Request-URI marks the start line; duplicate-from marks From; Source marks no line', () => {
    expect(highlightLines(INVITE, ['Request-URI'])[0]).toEqual({ text: 'INVITE sip:+31301234500@192.0.2.2 SIP/2.0', highlight: 'Request-URI' });
    expect(evidenceHeaderName('sip.duplicate-from')).toBe('from');
    expect(highlightLines(INVITE, ['sip.duplicate-from']).filter((l) => l.highlight)).toHaveLength(1);
    expect(evidenceHeaderName('duplicate-from')).toBe('from'); // alerts stored before the sip. prefix
    expect(highlightLines(INVITE, ['Source']).some((l) => l.highlight)).toBe(false);
    expect(highlightLines('SIP/2.0 200 OK\nFrom: x\n', ['from']).map((l) => l.highlight)).toEqual([undefined, 'from']);
  });
});

describe('ladderModel', () => {
  const at = (sec: number, nsec: number) => ({ sec, nsec });
  const mk = (i: number, src: string, dst: string, first: string, ts: { sec: number; nsec: number }): EvidenceMessageJson => {
    const [sip, sp] = src.split(':');
    const [dip, dp] = dst.split(':');
    return messageJson(
      { frame: 10 + i, ts, src: { ip: sip!, port: Number(sp) }, dst: { ip: dip!, port: Number(dp) }, transport: 'udp', raw: Buffer.from(`${first}\r\nCSeq: 1 INVITE\r\n\r\n`) },
      i,
      new Set([10]),
    );
  };
  const msgs = [
    mk(0, '10.0.0.1:5060', '10.0.0.2:5060', 'INVITE sip:a@b SIP/2.0', at(1_800_000_000, 999_000_000)),
    mk(1, '10.0.0.2:5060', '10.0.0.3:5060', 'INVITE sip:a@c SIP/2.0', at(1_800_000_001, 1_000_000)),
    mk(2, '10.0.0.3:5060', '10.0.0.2:5060', 'SIP/2.0 180 Ringing', at(1_800_000_001, 500_000_000)),
    mk(3, '10.0.0.2:5060', '10.0.0.1:5060', 'SIP/2.0 180 Ringing', at(1_800_000_002, 0)),
  ];

  it('one column per address in order of appearance, the alert source named by its peer; one arrow per message', () => {
    const m = ladderModel({ network: { src: '10.0.0.1:5060', dst: '10.0.0.2:5060', transport: 'udp', peer: 'pbx', origin: 'x' } }, msgs);
    expect(m.columns.map((c) => [c.address, c.peer, c.source])).toEqual([
      ['10.0.0.1:5060', 'pbx', true],
      ['10.0.0.2:5060', undefined, false],
      ['10.0.0.3:5060', undefined, false],
    ]);
    expect(m.arrows.map((a) => [a.from, a.to, a.label, a.time, a.offending])).toEqual([
      [0, 1, 'INVITE', '+0.000 s', true],
      [1, 2, 'INVITE', '+0.002 s', false],
      [2, 1, '180 Ringing', '+0.501 s', false],
      [1, 0, '180 Ringing', '+1.001 s', false],
    ]);
    expect(new Set(m.arrows.map((a) => a.y)).size).toBe(4);
    expect(m.height).toBeGreaterThan(m.arrows.at(-1)!.y);
  });

  it('messageJson parses start lines, CSeq and keeps odd input readable', () => {
    expect(msgs[2]).toMatchObject({ kind: 'response', status: 180, reason: 'Ringing', label: '180 Ringing', cseq: '1 INVITE', ts: '1800000001.500000000' });
    const odd = messageJson({ frame: 1, ts: at(0, 0), src: { ip: '::1', port: 5 }, dst: { ip: '::2', port: 6 }, transport: 'tcp', raw: Buffer.from('garbage') }, 0, new Set());
    expect(odd).toMatchObject({ kind: 'unknown', label: 'garbage', src: '[::1]:5', dst: '[::2]:6' });
    expect(secondsBetween('10.900000000', '12.100000000')).toBeCloseTo(1.2, 9);
  });
});

describe('incident view helpers (issue #19)', () => {
  const inc: Incident = {
    id: 7,
    rule: 'SRC-UNKNOWN-PEER',
    severity: 'medium',
    key: { src: '127.0.0.99' },
    state: 'open',
    count: 10,
    firstSeen: '2026-11-28T15:12:19.430209777Z',
    lastSeen: '2026-11-28T15:15:48.900000000Z',
    distinctPresented: 10,
    distinctCalled: 1,
    firstAlertSeq: 3,
    lastAlertSeq: 40,
    sampleAlertSeqs: [3, 5, 8, 9, 12],
  };

  it('reads keys, spans, durations and distinct numbers', () => {
    expect(keyText({ peer: 'carrier-nl' })).toBe('peer carrier-nl');
    expect(keyText({ src: '2001:db8::1' })).toBe('src 2001:db8::1');
    expect(keyText({ numberPrefix: '+312055' })).toBe('prefix +312055');
    expect(keyText({})).toBe('(no key)');
    expect(spanText(inc.firstSeen, inc.lastSeen)).toBe('15:12:19 → 15:15:48 (3 m 29 s)');
    expect(spanText(inc.firstSeen, inc.firstSeen)).toBe('15:12:19');
    expect(spanText('2026-11-28T23:59:00Z', '2026-11-29T00:01:00Z')).toBe('2026-11-28 23:59:00 → 2026-11-29 00:01:00 (2 m 00 s)');
    expect(spanText('garbage', 'x')).toBe('garbage → x');
    expect([0, 137, 999, 1000, 59_400, 60_000, 3_599_000, 7_500_000, 90_000_000, -1, NaN].map(durationText)).toEqual([
      '0 ms',
      '137 ms',
      '999 ms',
      '1 s',
      '59 s',
      '1 m 00 s',
      '59 m 59 s',
      '2 h 05 m',
      '1 d 1 h',
      '?',
      '?',
    ]);
    expect(distinctText(inc)).toBe('10 presented · 1 called');
  });

  it('keeps the newer copy of an incident whatever order the list and the WebSocket deliver them in', () => {
    const grown = { ...inc, count: 12, lastAlertSeq: 44 };
    const closed = { ...grown, state: 'closed' as const };
    expect(isNewer(undefined, inc)).toBe(true);
    expect(isNewer(inc, grown)).toBe(true);
    expect(isNewer(grown, inc)).toBe(false);
    expect(isNewer(grown, closed)).toBe(true);
    expect(isNewer(closed, grown)).toBe(false);
    expect(isNewer(grown, grown)).toBe(false);
  });

  it('draws the sparkline: largest bucket at the top, empty ones at the bottom, one bucket flat across', () => {
    expect(sparkPoints([0, 2, 4], 100, 22)).toEqual([
      [1, 21],
      [50, 11],
      [99, 1],
    ]);
    expect(sparkPoints([3], 120, 22)).toEqual([
      [1, 1],
      [119, 1],
    ]);
    expect(sparkPoints([0, 0], 10, 10)).toEqual([
      [1, 9],
      [9, 9],
    ]);
    expect(sparkPoints([], 10, 10)).toEqual([]);
    expect(rateLabel([0, 3, 1], 2000)).toBe('rate: at most 3 alerts per 2 s, 3 buckets');
  });
});
