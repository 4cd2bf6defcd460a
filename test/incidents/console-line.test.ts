/** The console's incident line (issue #19): terminal-safe and at most the console width, however long its key. */
import { describe, expect, it } from 'vitest';
import { formatIncidentLine } from '../../src/commands/tail.js';
import type { Incident } from '../../src/incidents/incident.js';

const inc = (peer: string): Incident => ({
  id: 7,
  rule: 'CLI-NOT-AUTHORIZED',
  severity: 'high',
  key: { peer },
  state: 'open',
  count: 12,
  firstSeen: '2026-03-01T10:00:00.000000000Z',
  lastSeen: '2026-03-01T10:00:09.990000000Z',
  distinctPresented: 3,
  distinctCalled: 4,
  firstAlertSeq: 10,
  lastAlertSeq: 99,
  sampleAlertSeqs: [10],
});

describe('formatIncidentLine', () => {
  it('escapes control characters of the key and cuts the line at maxWidth with …', () => {
    const line = formatIncidentLine('update', inc(`pbx\x1b]0;owned\x07${'x'.repeat(300)}`), false, 200);
    expect(line).toHaveLength(200);
    expect(line.endsWith('…')).toBe(true);
    expect(line).toMatch(/^incident #7 UPDATE HIGH {5}CLI-NOT-AUTHORIZED peer=pbx\\x1b\]0;owned\\x07xxx/);
    expect(/[\x00-\x1f\x7f-\x9f]/.test(line)).toBe(false);
  });

  it('leaves a short line whole', () => {
    expect(formatIncidentLine('close', inc('pbx-acme'), false, 200)).toBe(
      'incident #7 CLOSE  HIGH     CLI-NOT-AUTHORIZED peer=pbx-acme alerts=12 callers=3 called=4 2026-03-01T10:00:00.000000000Z .. 2026-03-01T10:00:09.990000000Z seq 10..99',
    );
  });
});
