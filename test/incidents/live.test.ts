import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { INCIDENTS_DEFAULTS, type Incident, type IncidentEventKind } from '../../src/incidents/incident.js';
import { LiveIncidents } from '../../src/incidents/live.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function alert(seq: number, ms: number, rule = 'SRC-UNKNOWN-PEER'): Alert {
  return {
    v: 1,
    seq,
    id: `id${seq}`,
    ts: new Date(T0 + ms).toISOString(),
    captureTs: new Date(T0 + ms).toISOString(),
    rule,
    severity: 'medium',
    title: 't',
    summary: 's',
    call: { callId: `c${seq}`, method: 'INVITE', from: '<sip:+31201234567@x>', to: '<sip:+31209999999@y>', pai: [] },
    presented: { header: 'From', number: '+31201234567' },
    network: { src: '192.0.2.1:5060', dst: '127.0.0.1:5060', transport: 'udp', origin: 'test' },
    reasons: [],
    evidence: [],
  };
}

let live: LiveIncidents | undefined;
afterEach(() => live?.stop());

function setup(over: Partial<typeof INCIDENTS_DEFAULTS> = {}) {
  let wall = T0;
  const sent: [IncidentEventKind, number, number][] = [];
  const saved: Incident[] = [];
  live = new LiveIncidents({
    config: { ...INCIDENTS_DEFAULTS, quietSeconds: 10, updateSeconds: 1, ...over },
    firstId: 7,
    publish: (e, i) => sent.push([e, i.id, i.count]),
    save: (i) => saved.push(i),
    now: () => wall,
    tickMs: 1_000_000,
  });
  return { l: live, sent, saved, at: (ms: number) => (wall = T0 + ms) };
}

describe('LiveIncidents', () => {
  it('sends open at once, at most one update per period (the last growth when the period ends), close by the wall-driven clock', () => {
    const { l, sent, saved, at } = setup();
    for (let i = 0; i < 10; i++) {
      at(i * 100);
      l.onAlert(alert(i + 1, i * 100));
    }
    expect(sent).toEqual([['open', 7, 1]]);
    at(1000);
    l.tick(); // the period is over: the pending growth goes out with its latest count
    expect(sent).toEqual([['open', 7, 1], ['update', 7, 10]]);
    at(1500);
    l.onAlert(alert(11, 1500));
    l.tick();
    expect(sent).toHaveLength(2);
    // No more traffic: the capture clock follows the wall clock and the incident closes 10 s after its last alert.
    at(11_400); // 9.9 s quiet: still open; the pending growth (count 11) is due
    l.tick();
    expect(sent).toHaveLength(3);
    at(11_600); // 10.1 s quiet: closed
    l.tick();
    expect(sent).toEqual([
      ['open', 7, 1],
      ['update', 7, 10],
      ['update', 7, 11],
      ['close', 7, 11],
    ]);
    expect(saved.map((i) => [i.state, i.count])).toEqual([['open', 1], ['open', 10], ['open', 11], ['closed', 11]]);
  });

  it('a store that fails to save does not stop the stream; it is counted', () => {
    let errors = 0;
    live = new LiveIncidents({
      config: INCIDENTS_DEFAULTS,
      firstId: 1,
      publish: () => undefined,
      save: () => {
        throw new Error('SQLITE_FULL');
      },
      onError: () => errors++,
      tickMs: 1_000_000,
    });
    live.onAlert(alert(1, 0));
    expect([errors, live.stats()]).toEqual([1, { published: 1, saveErrors: 1 }]);
  });

  it('reconfigure: a shorter quiet period applies to incidents opened afterwards', () => {
    const { l, sent, at } = setup({ quietSeconds: 100 });
    l.onAlert(alert(1, 0));
    l.reconfigure({ ...INCIDENTS_DEFAULTS, quietSeconds: 1, updateSeconds: 1 });
    l.onAlert(alert(2, 0, 'CLI-INVALID'));
    at(2000);
    l.tick();
    expect(sent).toEqual([
      ['open', 7, 1],
      ['open', 8, 1],
      ['close', 8, 1],
    ]);
  });
});
