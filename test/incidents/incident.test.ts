import { describe, expect, it } from 'vitest';
import type { Alert, Severity } from '../../src/alerts/alert.js';
import { DistinctCounter, EXACT_LIMIT } from '../../src/incidents/distinct.js';
import { addressOf, IncidentGrouper, INCIDENTS_DEFAULTS, type Incident, type IncidentEventKind, type IncidentsConfig } from '../../src/incidents/incident.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function alert(o: { seq: number; rule?: string; sec?: number; src?: string; peer?: string; from?: string; to?: string; severity?: Severity }): Alert {
  return {
    v: 1,
    seq: o.seq,
    id: `id${o.seq}`,
    ts: new Date().toISOString(),
    captureTs: new Date(T0 + (o.sec ?? 0) * 1000).toISOString(),
    rule: o.rule ?? 'SRC-UNKNOWN-PEER',
    severity: o.severity ?? 'medium',
    title: 't',
    summary: 's',
    call: { callId: `c${o.seq}`, method: 'INVITE', from: `<sip:${o.from ?? '+31201234567'}@x>`, to: `<sip:${o.to ?? '+31209999999'}@y>;tag=1`, pai: [] },
    presented: { header: 'From', ...(o.from !== undefined ? { number: o.from } : { number: '+31201234567' }) },
    network: { src: o.src ?? '192.0.2.1:5060', dst: '127.0.0.1:5060', transport: 'udp', ...(o.peer ? { peer: o.peer } : {}), origin: 'test' },
    reasons: [],
    evidence: [],
  };
}

const cfg = (over: Partial<IncidentsConfig> = {}): IncidentsConfig => ({ ...INCIDENTS_DEFAULTS, ...over });

describe('IncidentGrouper', () => {
  it('groups by rule and source address (port ignored) for unknown sources, by peer for known ones', () => {
    const g = new IncidentGrouper(cfg());
    g.observe(alert({ seq: 1, src: '192.0.2.1:5060' }));
    g.observe(alert({ seq: 2, src: '192.0.2.1:40000', sec: 1 }));
    g.observe(alert({ seq: 3, src: '192.0.2.2:5060', sec: 2 }));
    g.observe(alert({ seq: 4, rule: 'CLI-INVALID', src: '192.0.2.1:5060', sec: 3 }));
    g.observe(alert({ seq: 5, peer: 'carrier-a', src: '10.0.0.1:5060', sec: 4 }));
    g.observe(alert({ seq: 6, peer: 'carrier-a', src: '10.0.0.2:5060', sec: 5 }));
    const all = g.all();
    expect(all.map((i) => [i.id, i.rule, i.key, i.count])).toEqual([
      [1, 'SRC-UNKNOWN-PEER', { src: '192.0.2.1' }, 2],
      [2, 'SRC-UNKNOWN-PEER', { src: '192.0.2.2' }, 1],
      [3, 'CLI-INVALID', { src: '192.0.2.1' }, 1],
      [4, 'SRC-UNKNOWN-PEER', { peer: 'carrier-a' }, 2],
    ]);
  });

  it('holds every field of the contract: severity is the highest, seqs, samples (5), capture-time span, distinct numbers', () => {
    const g = new IncidentGrouper(cfg());
    const sev: Severity[] = ['low', 'high', 'medium', 'low', 'low', 'low', 'low'];
    sev.forEach((s, i) => g.observe(alert({ seq: 10 + i, sec: i * 10, severity: s, from: `+3120123456${i % 3}`, to: `+3130000000${i % 2}` })));
    const [inc] = g.all();
    expect(inc).toEqual<Incident>({
      id: 1,
      rule: 'SRC-UNKNOWN-PEER',
      severity: 'high',
      key: { src: '192.0.2.1' },
      state: 'open',
      count: 7,
      firstSeen: '2026-03-01T10:00:00.000Z',
      lastSeen: '2026-03-01T10:01:00.000Z',
      distinctPresented: 3,
      distinctCalled: 2,
      firstAlertSeq: 10,
      lastAlertSeq: 16,
      sampleAlertSeqs: [10, 11, 12, 13, 14],
    });
    expect(Object.keys(inc!).sort()).toEqual(
      ['count', 'distinctCalled', 'distinctPresented', 'firstAlertSeq', 'firstSeen', 'id', 'key', 'lastAlertSeq', 'lastSeen', 'rule', 'sampleAlertSeqs', 'severity', 'state'].sort(),
    );
  });

  it('closes after the quiet period of capture time and reopens as a new incident; per-rule override', () => {
    const events: [IncidentEventKind, number, number][] = [];
    const g = new IncidentGrouper(cfg({ quietSeconds: 60, rules: { 'CLI-INVALID': { quietSeconds: 10 } } }), {
      onEvent: (k, id, get) => events.push([k, id, get().count]),
    });
    g.observe(alert({ seq: 1, sec: 0 }));
    g.observe(alert({ seq: 2, sec: 0, rule: 'CLI-INVALID' }));
    g.observe(alert({ seq: 3, sec: 30 })); // 30 s quiet: both stay open for SRC-UNKNOWN-PEER; CLI-INVALID (10 s) closes
    expect(g.openIncidents().map((i) => i.rule)).toEqual(['SRC-UNKNOWN-PEER']);
    g.observe(alert({ seq: 4, sec: 35, rule: 'CLI-INVALID' })); // a new incident for the same key
    g.observe(alert({ seq: 5, sec: 91 })); // 61 s after seq 3: the first closes, a new one opens
    expect(events).toEqual([
      ['open', 1, 1],
      ['open', 2, 1],
      ['close', 2, 1],
      ['update', 1, 2],
      ['open', 3, 1],
      ['close', 1, 2],
      ['close', 3, 1],
      ['open', 4, 1],
    ]);
    expect(g.all().map((i) => [i.id, i.state, i.count, i.firstAlertSeq, i.lastAlertSeq])).toEqual([
      [1, 'closed', 2, 1, 3],
      [2, 'closed', 1, 2, 2],
      [3, 'closed', 1, 4, 4],
      [4, 'open', 1, 5, 5],
    ]);
    g.advance(T0 + 200_000, true);
    expect(g.openIncidents()).toEqual([]);
    expect(g.stats()).toEqual({ open: 0, opened: 4, closed: 4, evicted: 0, closedDropped: 0 });
  });

  it('keys CLI-NEIGHBOUR on the first 6 digits of the presented number by default, others when configured', () => {
    const g = new IncidentGrouper(cfg({ rules: { 'CLI-VELOCITY': { key: 'numberPrefix', prefixDigits: 4 } } }));
    g.observe(alert({ seq: 1, rule: 'CLI-NEIGHBOUR', from: '+31201234567', src: '192.0.2.1:5060' }));
    g.observe(alert({ seq: 2, rule: 'CLI-NEIGHBOUR', from: '+31201299999', src: '192.0.2.9:5060' }));
    g.observe(alert({ seq: 3, rule: 'CLI-NEIGHBOUR', from: '+31301234567' }));
    g.observe(alert({ seq: 4, rule: 'CLI-VELOCITY', from: '+31301234567' }));
    expect(g.all().map((i) => [i.rule, i.key, i.count])).toEqual([
      ['CLI-NEIGHBOUR', { numberPrefix: '+312012' }, 2],
      ['CLI-NEIGHBOUR', { numberPrefix: '+313012' }, 1],
      ['CLI-VELOCITY', { numberPrefix: '+3130' }, 1],
    ]);
  });

  it('reconfigure: a new per-rule key applies to the next alert (settings are not kept from the old config)', () => {
    const g = new IncidentGrouper(cfg());
    g.observe(alert({ seq: 1, rule: 'CLI-VELOCITY', from: '+31301234567' }));
    g.reconfigure(cfg({ rules: { 'CLI-VELOCITY': { key: 'numberPrefix', prefixDigits: 4 } } }));
    g.observe(alert({ seq: 2, rule: 'CLI-VELOCITY', from: '+31301234567' }));
    g.reconfigure(cfg({ rules: { 'CLI-NEIGHBOUR': { prefixDigits: 3 } } }));
    g.observe(alert({ seq: 3, rule: 'CLI-NEIGHBOUR', from: '+31301234567' }));
    g.observe(alert({ seq: 4, rule: 'CLI-VELOCITY', from: '+31301234567', src: '192.0.2.7:5080' }));
    expect(g.all().map((i) => [i.rule, i.key, i.count])).toEqual([
      ['CLI-VELOCITY', { src: '192.0.2.1' }, 1],
      ['CLI-VELOCITY', { numberPrefix: '+3130' }, 1],
      ['CLI-NEIGHBOUR', { numberPrefix: '+313' }, 1],
      ['CLI-VELOCITY', { src: '192.0.2.7' }, 1],
    ]);
  });

  it('falls back to the source when a prefix-keyed alert has no E.164 number', () => {
    const g = new IncidentGrouper(cfg());
    g.observe(alert({ seq: 1, rule: 'CLI-NEIGHBOUR', from: 'anonymous' }));
    expect(g.all()[0]!.key).toEqual({ src: '192.0.2.1' });
  });

  it('bounds open incidents: the least recently grown closes early and is counted', () => {
    const g = new IncidentGrouper(cfg({ maxOpen: 2 }));
    g.observe(alert({ seq: 1, src: '192.0.2.1:1' }));
    g.observe(alert({ seq: 2, src: '192.0.2.2:1' }));
    g.observe(alert({ seq: 3, src: '192.0.2.1:1' })); // .1 grew last: .2 is the eviction candidate
    g.observe(alert({ seq: 4, src: '192.0.2.3:1' }));
    expect(g.openIncidents().map((i) => i.key.src)).toEqual(['192.0.2.1', '192.0.2.3']);
    expect(g.stats().evicted).toBe(1);
    expect(g.all().find((i) => i.key.src === '192.0.2.2')!.state).toBe('closed');
  });

  it('an alert with a capture time no Date holds joins at the current clock, not NaN', () => {
    const g = new IncidentGrouper(cfg());
    g.observe(alert({ seq: 1, sec: 5 }));
    const a = { ...alert({ seq: 2 }), captureTs: 'Invalid Date' };
    g.observe(a);
    const inc = g.all()[0]!;
    expect([inc.count, inc.firstSeen, inc.lastSeen]).toEqual([2, '2026-03-01T10:00:05.000Z', '2026-03-01T10:00:05.000Z']);
  });
});

describe('DistinctCounter', () => {
  it('is exact up to the limit and estimates within 5% far beyond it, in 1 KiB', () => {
    const d = new DistinctCounter();
    for (let i = 0; i < EXACT_LIMIT; i++) d.add(`+3120${i}`), d.add(`+3120${i}`);
    expect([d.count(), d.isExact]).toEqual([EXACT_LIMIT, true]);
    for (const n of [1000, 20_000, 200_000]) {
      const c = new DistinctCounter();
      for (let i = 0; i < n; i++) c.add(`+31${String(200000000 + i * 7)}`);
      expect(c.isExact).toBe(false);
      expect(Math.abs(c.count() - n) / n).toBeLessThan(0.05);
    }
  });
});

describe('addressOf', () => {
  it('strips the port of IPv4, IPv6 and bracketed IPv6', () => {
    expect([addressOf('192.0.2.1:5060'), addressOf('2001:db8::1:5060'), addressOf('[2001:db8::1]:5060'), addressOf('garbage')]).toEqual([
      '192.0.2.1',
      '2001:db8::1',
      '2001:db8::1',
      'garbage',
    ]);
  });
});
