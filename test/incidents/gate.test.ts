/**
 * Suppression and thresholds (issue #19): the config syntax and its errors, `config check`'s lines, and the marks
 * the gate gives alerts for each match field and each threshold `track` mode, across a reload.
 */
import { describe, expect, it } from 'vitest';
import { isStreamed, type Alert } from '../../src/alerts/alert.js';
import { describeConfig, parseConfig, type Config } from '../../src/config/index.js';
import { AlertGate, numberMatcher } from '../../src/incidents/gate.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function alert(o: { rule?: string; sec?: number; src?: string; peer?: string; from?: string | null }): Alert {
  return {
    v: 1,
    seq: 0,
    id: 'x',
    ts: new Date(T0).toISOString(),
    captureTs: new Date(T0 + (o.sec ?? 0) * 1000).toISOString(),
    rule: o.rule ?? 'SRC-UNKNOWN-PEER',
    severity: 'medium',
    title: 't',
    summary: 's',
    call: { callId: 'c', method: 'INVITE', from: '<sip:a@x>', to: '<sip:b@y>', pai: [] },
    presented: { header: 'From', ...(o.from === null ? {} : { number: o.from ?? '+31201234567' }) },
    network: { src: o.src ?? '192.0.2.1:5060', dst: '127.0.0.1:5060', transport: 'udp', ...(o.peer ? { peer: o.peer } : {}), origin: 'test' },
    reasons: [],
    evidence: [],
  };
}

const PEERS = `peers:
  - name: pbx-a
    match: { cidrs: [10.0.0.1] }
    trust: trusted
    class: enterprise
`;

function config(yaml: string): Config {
  const r = parseConfig(PEERS + yaml, 'test.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function errors(yaml: string): string[] {
  const r = parseConfig(PEERS + yaml, 'test.yaml');
  return r.ok ? [] : r.errors;
}

/** 'S' suppressed, 'T' below threshold, '.' streamed. */
const marks = (g: AlertGate, alerts: Alert[]): string =>
  alerts
    .map((a) => g.mark(a))
    .map((a) => (a.suppressed ? 'S' : a.belowThreshold ? 'T' : '.'))
    .join('');

describe('suppress and threshold in the config', () => {
  it('parses both lists, canonical CIDR and expiry, and config check prints them', () => {
    const c = config(`suppress:
  - { rule: SRC-UNKNOWN-PEER, src: 198.51.100.0/24, expires: 2026-12-31 }
  - { rule: CLI-INVALID, peer: pbx-a, number: "+31*0000", expires: "2026-12-31T19:30+01:00" }
  - { rule: UA-ATTACK-TOOL }
threshold:
  - { rule: SRC-UNKNOWN-PEER, track: by_src, count: 50, seconds: 60 }
  - { rule: CLI-VELOCITY, track: by_number, count: 3, seconds: 1.5 }
`);
    expect(c.suppress).toEqual([
      { rule: 'SRC-UNKNOWN-PEER', src: '198.51.100.0/24', expires: '2026-12-31T00:00:00.000Z' },
      { rule: 'CLI-INVALID', peer: 'pbx-a', number: '+31*0000', expires: '2026-12-31T18:30:00.000Z' },
      { rule: 'UA-ATTACK-TOOL' },
    ]);
    expect(c.threshold).toEqual([
      { rule: 'SRC-UNKNOWN-PEER', track: 'by_src', count: 50, seconds: 60 },
      { rule: 'CLI-VELOCITY', track: 'by_number', count: 3, seconds: 1.5 },
    ]);
    const text = describeConfig(c).split('\n');
    const at = text.findIndex((l) => l.startsWith('suppress:'));
    expect(text.slice(at, at + 7)).toEqual([
      'suppress: 3 entries (stored, marked suppressed, not streamed)',
      '  SRC-UNKNOWN-PEER src 198.51.100.0/24 until 2026-12-31T00:00:00.000Z',
      '  CLI-INVALID peer pbx-a, number +31*0000 until 2026-12-31T18:30:00.000Z',
      '  UA-ATTACK-TOOL (every alert)',
      'threshold: 2 entries (streamed from the count-th alert in the window)',
      '  SRC-UNKNOWN-PEER by_src: 50 in 60 s',
      '  CLI-VELOCITY by_number: 3 in 1.5 s',
    ]);
    // Without entries, config check says nothing about them.
    expect(describeConfig(config('')).split('\n').filter((l) => /^(suppress|threshold):/.test(l))).toEqual([]);
  });

  it('rejects typos and bad values, one line each, with did-you-mean for rule ids', () => {
    expect(
      errors(`suppress:
  - { rule: SRC-UNKNWN-PEER }
  - { rule: CLI-INVALID, src: 10.0.0.1/8 }
  - { rule: CLI-INVALID, number: "0201234" }
  - { rule: CLI-INVALID, number: "+31*abc" }
  - { rule: CLI-INVALID, expires: tomorrow }
  - { rule: CLI-INVALID, peer: pbx-b }
  - { rule: CLI-INVALID, peers: pbx-a }
  - { rule: CLI-INVALID, expires: "2026-02-30" }
  - { rule: CLI-INVALID, expires: "2026-12-31T18:00" }
threshold:
  - { rule: cli-dno, track: by_src, count: 5, seconds: 10 }
  - { rule: CLI-DNO, track: by_source, count: 0, seconds: 0 }
  - { rule: CLI-INVALID, track: by_peer, count: 2, seconds: 10 }
  - { rule: CLI-INVALID, track: by_src, count: 2, seconds: 10 }
`),
    ).toEqual([
      'suppress[0].rule: unknown rule; did you mean SRC-UNKNOWN-PEER?',
      'suppress[1].src: host bits set after the prefix ("10.0.0.1/8"; did you mean "10.0.0.0/8"?)',
      'suppress[2].number: not an E.164 prefix or range ("0201234"); or a glob with * and ?',
      'suppress[3].number: not a number glob: "+", digits, "*" and "?" only ("+31*abc")',
      'suppress[4].expires: not an ISO 8601 date like 2026-12-31 or 2026-12-31T18:00:00Z ("tomorrow")',
      'suppress[6].peers: unknown key',
      'suppress[7].expires: not an ISO 8601 date like 2026-12-31 or 2026-12-31T18:00:00Z ("2026-02-30")',
      'suppress[8].expires: not an ISO 8601 date like 2026-12-31 or 2026-12-31T18:00:00Z ("2026-12-31T18:00")',
      'threshold[0].rule: not a rule id (upper-case words joined by "-", e.g. "CLI-DNO"); did you mean CLI-DNO?',
      'threshold[1].track: expected by_peer|by_src|by_number, got "by_source"',
      'threshold[1].count: must be at least 1, got 0',
      'threshold[1].seconds: must be greater than 0, got 0',
    ]);
    // Cross-field checks run once the fields are valid.
    expect(
      errors(`suppress:
  - { rule: CLI-INVALID, peer: pbx-b }
threshold:
  - { rule: CLI-INVALID, track: by_peer, count: 2, seconds: 10 }
  - { rule: CLI-INVALID, track: by_src, count: 2, seconds: 10 }
`),
    ).toEqual(['suppress[0].peer: no peer named "pbx-b"', 'threshold[1].rule: CLI-INVALID already has a threshold (threshold[0]); one per rule']);
  });
});

describe('AlertGate', () => {
  it('suppress: every given field must match (peer, source CIDR, number prefix/range/glob); other rules pass', () => {
    const g = new AlertGate(
      config(`suppress:
  - { rule: SRC-UNKNOWN-PEER, src: 198.51.100.0/24 }
  - { rule: CLI-INVALID, peer: pbx-a, number: "+3120555" }
  - { rule: CLI-DNO, number: "+31205550000-+31205550099" }
  - { rule: CLI-PROTECTED, number: "+31*00?" }
  - { rule: HDR-PAI-UNTRUSTED, src: "2001:db8::/32" }
`),
    );
    expect(
      marks(g, [
        alert({ src: '198.51.100.7:5060' }),
        alert({ src: '198.51.101.7:5060' }),
        alert({ rule: 'UA-ATTACK-TOOL', src: '198.51.100.7:5060' }),
        alert({ rule: 'CLI-INVALID', peer: 'pbx-a', from: '+31205551234' }),
        alert({ rule: 'CLI-INVALID', peer: 'pbx-a', from: '+31201234567' }),
        alert({ rule: 'CLI-INVALID', from: '+31205551234' }),
        alert({ rule: 'CLI-INVALID', peer: 'pbx-a', from: null }),
        alert({ rule: 'CLI-DNO', from: '+31205550042' }),
        alert({ rule: 'CLI-DNO', from: '+31205550142' }),
        alert({ rule: 'CLI-DNO', from: '+312055500420' }),
        alert({ rule: 'CLI-PROTECTED', from: '+3120700001' }),
        alert({ rule: 'CLI-PROTECTED', from: '+312000' }),
        alert({ rule: 'CLI-PROTECTED', from: '+3120700010' }),
        alert({ rule: 'HDR-PAI-UNTRUSTED', src: '[2001:db8::5]:5060' }),
        alert({ rule: 'HDR-PAI-UNTRUSTED', src: '[2001:db9::5]:5060' }),
      ]),
    ).toBe('S..S...S..SS.S.');
    expect(g.stats()).toEqual({ suppressed: 6, belowThreshold: 0, keysEvicted: 0 });
  });

  it('suppress: expires by capture time', () => {
    const g = new AlertGate(config('suppress:\n  - { rule: SRC-UNKNOWN-PEER, expires: "2026-03-01T10:00:10Z" }\n'));
    expect(marks(g, [alert({ sec: 0 }), alert({ sec: 9.999 }), alert({ sec: 10 }), alert({ sec: 11 })])).toBe('SS..');
  });

  it('threshold by_src: per source address (port ignored), from the count-th alert in the window; a new window after it', () => {
    const g = new AlertGate(config('threshold:\n  - { rule: SRC-UNKNOWN-PEER, track: by_src, count: 3, seconds: 10 }\n'));
    const a = (sec: number, src: string): Alert => alert({ sec, src });
    expect(
      marks(g, [
        a(0, '192.0.2.1:5060'),
        a(1, '192.0.2.1:5070'),
        a(2, '192.0.2.2:5060'),
        a(3, '192.0.2.1:5060'),
        a(4, '192.0.2.1:5060'),
        a(5, '192.0.2.2:5060'),
        a(6, '192.0.2.2:5060'),
        // 192.0.2.1's window opened at 0 s: at 10 s a new one opens.
        a(10, '192.0.2.1:5060'),
        a(11, '192.0.2.1:5060'),
        a(12, '192.0.2.1:5060'),
      ]),
    ).toBe('TTT..T.TT.');
    // Other rules are not thresholded.
    expect(marks(g, [alert({ rule: 'CLI-INVALID' })])).toBe('.');
    expect(g.stats().belowThreshold).toBe(6);
  });

  it('threshold by_peer: per configured peer, every unknown source together', () => {
    const g = new AlertGate(config('threshold:\n  - { rule: CLI-INVALID, track: by_peer, count: 2, seconds: 60 }\n'));
    const a = (peer: string | undefined, src: string): Alert => alert({ rule: 'CLI-INVALID', ...(peer ? { peer } : {}), src });
    expect(marks(g, [a('pbx-a', '10.0.0.1:5060'), a(undefined, '192.0.2.1:5060'), a(undefined, '192.0.2.2:5060'), a('pbx-a', '10.0.0.1:5060'), a('pbx-b', '10.0.0.2:5060')])).toBe('TT..T');
  });

  it('threshold by_number: per presented number, whatever the source', () => {
    const g = new AlertGate(config('threshold:\n  - { rule: CLI-VELOCITY, track: by_number, count: 2, seconds: 60 }\n'));
    const a = (from: string, src: string): Alert => alert({ rule: 'CLI-VELOCITY', from, src });
    expect(marks(g, [a('+31201111111', '192.0.2.1:1'), a('+31202222222', '192.0.2.1:1'), a('+31201111111', '192.0.2.9:1'), a('+31202222222', '192.0.2.9:1')])).toBe('TT..');
  });

  it('suppression wins over a threshold (a suppressed alert does not count toward it)', () => {
    const g = new AlertGate(
      config('suppress:\n  - { rule: SRC-UNKNOWN-PEER, src: 192.0.2.9/32 }\nthreshold:\n  - { rule: SRC-UNKNOWN-PEER, track: by_peer, count: 2, seconds: 60 }\n'),
    );
    expect(marks(g, [alert({ src: '192.0.2.9:1' }), alert({ src: '192.0.2.1:1' }), alert({ src: '192.0.2.9:1' }), alert({ src: '192.0.2.2:1' })])).toBe('STS.');
  });

  it('reconfigure: a new suppression applies from the next alert, a removed one stops; an unchanged threshold keeps its window', () => {
    const th = 'threshold:\n  - { rule: SRC-UNKNOWN-PEER, track: by_src, count: 3, seconds: 60 }\n';
    const g = new AlertGate(config(th));
    expect(marks(g, [alert({}), alert({})])).toBe('TT');
    g.reconfigure(config(`${th}suppress:\n  - { rule: CLI-INVALID }\n`));
    expect(marks(g, [alert({}), alert({ rule: 'CLI-INVALID' })])).toBe('.S');
    g.reconfigure(config(th.replace('count: 3', 'count: 2')));
    // A changed threshold starts its windows again; the suppression is gone.
    expect(marks(g, [alert({}), alert({}), alert({ rule: 'CLI-INVALID' })])).toBe('T..');
    g.reconfigure(config(''));
    expect(marks(g, [alert({})])).toBe('.');
  });

  it('bounds the threshold keys: the least recently seen is dropped and counted', () => {
    const g = new AlertGate(config('threshold:\n  - { rule: SRC-UNKNOWN-PEER, track: by_src, count: 2, seconds: 60 }\n'), 2);
    expect(marks(g, [alert({ src: '192.0.2.1:1' }), alert({ src: '192.0.2.2:1' }), alert({ src: '192.0.2.3:1' }), alert({ src: '192.0.2.1:1' }), alert({ src: '192.0.2.3:1' })])).toBe('TTTT.');
    expect(g.stats().keysEvicted).toBe(2);
  });

  it('leaves alerts untouched without entries; marked alerts are not streamed', () => {
    const g = new AlertGate(config(''));
    const a = alert({});
    expect(g.mark(a)).toBe(a);
    expect([isStreamed(a), isStreamed({ ...a, suppressed: true }), isStreamed({ ...a, belowThreshold: true })]).toEqual([true, false, false]);
  });

  it('number globs: * any digits, ? one digit, anchored', () => {
    const m = numberMatcher('+31*00?');
    expect(['+3100', '+31001', '+312055500', '+3120555001', '+31205550012'].map(m)).toEqual([false, true, false, true, false]);
  });
});
