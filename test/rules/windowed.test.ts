/**
 * Windowed rules (CLI-NEIGHBOUR, CLI-MULTI-PEER, CLI-VELOCITY) driven by capture timestamps: state expires by the
 * capture clock, never the wall clock (RULES.md §4, last paragraph).
 */
import { describe, expect, it } from 'vitest';
import { invite, response, ruleSet, sipNum, SipSession, SRC, T0, testConfigYaml, withTag, type InviteSpec, type RaisedAlert } from './harness.js';

function call(s: SipSession, src: string, from: string, to: string, callId: string, ts: number, headers: string[] = []): RaisedAlert[] {
  return s.feed({ src, ts, text: invite({ from: sipNum(from), to: sipNum(to), callId, headers, host: src.split(':')[0]! }) });
}

function bye(s: SipSession, src: string, from: string, to: string, callId: string, ts: number): RaisedAlert[] {
  return s.feed({ src, ts, text: invite({ from: sipNum(from), to: sipNum(to), callId, method: 'BYE', cseq: 2, toTag: 'uas1', host: src.split(':')[0]! }) });
}

describe('CLI-NEIGHBOUR', () => {
  const CLI = '+31612340000'; // neighbour prefix: 06 + 4 digits = +3161234
  const callees = ['+31612341001', '+31612341002', '+31612341003', '+31612341004', '+31612341005'];

  it('raises medium on the fifth distinct neighbour callee within the hour', () => {
    const s = new SipSession();
    for (let i = 0; i < 4; i++) expect(call(s, SRC.carrierNl, CLI, callees[i]!, `nb-${i}@x`, T0 + i * 60)).toEqual([]);
    const alerts = call(s, SRC.carrierNl, CLI, callees[4]!, 'nb-4@x', T0 + 240);
    expect(ruleSet(alerts)).toEqual(['CLI-NEIGHBOUR:medium']);
    const a = alerts[0]!;
    expect(a.reasons).toEqual([
      'The caller +31612340000 shares the leading digits +3161234 with the callee +31612341005.',
      'Within 60 minutes it called 5 distinct numbers starting with +3161234 (threshold 5): the pattern of neighbour spoofing.',
    ]);
    expect(a.evidence).toEqual([
      { frame: 5, header: 'From', value: withTag(sipNum(CLI), 'nb-4@x') },
      { frame: 5, header: 'Request-URI', value: 'sip:+31612341005@sbc.example.net;user=phone' },
    ]);
  });

  it('uses geographic area code + 2 digits and params from config', () => {
    const s = new SipSession(testConfigYaml({ rules: '  CLI-NEIGHBOUR: { minCallees: 3, windowSeconds: 600 }' }));
    expect(call(s, SRC.carrierNl, '+31104567890', '+31104511111', 'nbg-1@x', T0)).toEqual([]);
    expect(call(s, SRC.carrierNl, '+31104567890', '+31104522222', 'nbg-2@x', T0 + 10)).toEqual([]);
    const alerts = call(s, SRC.carrierNl, '+31104567890', '+31104533333', 'nbg-3@x', T0 + 20);
    expect(ruleSet(alerts)).toEqual(['CLI-NEIGHBOUR:medium']);
    expect(alerts[0]!.reasons[0]).toBe('The caller +31104567890 shares the leading digits +311045 with the callee +31104533333.');
  });

  it('does not count callees outside the window (expiry by capture time)', () => {
    const s = new SipSession();
    for (let i = 0; i < 4; i++) expect(call(s, SRC.carrierNl, CLI, callees[i]!, `nbx-${i}@x`, T0 + i)).toEqual([]);
    expect(call(s, SRC.carrierNl, CLI, callees[4]!, 'nbx-4@x', T0 + 3700)).toEqual([]);
  });

  it('counts a callee called again inside the window as recent', () => {
    const s = new SipSession();
    for (let i = 0; i < 4; i++) expect(call(s, SRC.carrierNl, CLI, callees[i]!, `nbr-${i}@x`, T0 + i)).toEqual([]);
    for (let i = 0; i < 4; i++) expect(call(s, SRC.carrierNl, CLI, callees[i]!, `nbr-again-${i}@x`, T0 + 3000 + i)).toEqual([]);
    expect(ruleSet(call(s, SRC.carrierNl, CLI, callees[4]!, 'nbr-4@x', T0 + 3650))).toEqual(['CLI-NEIGHBOUR:medium']);
  });

  it('does not raise for repeated calls to the same few neighbours, nor for callees that are not neighbours', () => {
    const s = new SipSession();
    for (let i = 0; i < 6; i++) expect(call(s, SRC.carrierNl, CLI, callees[i % 2]!, `nbs-${i}@x`, T0 + i)).toEqual([]);
    const far = ['+31687654321', '+31201112233', '+31653210000', '+31104567891', '+31302345678'];
    for (let i = 0; i < far.length; i++) expect(call(s, SRC.carrierNl, '+31612349999', far[i]!, `nbf-${i}@x`, T0 + i)).toEqual([]);
  });
});

describe('CLI-MULTI-PEER', () => {
  const NUM = '+31205550123'; // ACME's DDI; carrier-nl may present anything
  const CALLEE = '+31687654321';

  it('raises high on the unauthorised peer’s call when the number came from another peer minutes before', () => {
    const s = new SipSession();
    expect(call(s, SRC.carrierNl, NUM, CALLEE, 'mp-1@x', T0)).toEqual([]);
    const alerts = call(s, SRC.untrusted, NUM, CALLEE, 'mp-2@x', T0 + 60);
    expect(ruleSet(alerts)).toEqual(['CLI-MULTI-PEER:high', 'CLI-NOT-AUTHORIZED:high']);
    const a = alerts.find((x) => x.rule === 'CLI-MULTI-PEER')!;
    expect(a.reasons[0]).toBe('+31205550123 arrived from "access-untrusted" (not authorised for it) and, within 10 min, from "carrier-nl" in call mp-1@x.');
    expect(a.evidence).toEqual([
      { frame: 2, header: 'From', value: withTag(sipNum(NUM), 'mp-2@x') },
      { frame: 1, header: 'Call-ID', value: 'mp-1@x' },
    ]);
  });

  it('treats an unknown source as unauthorised', () => {
    const s = new SipSession();
    expect(call(s, SRC.pbxAcme, NUM, CALLEE, 'mpu-1@x', T0)).toEqual([]);
    expect(ruleSet(call(s, SRC.unknown, NUM, CALLEE, 'mpu-2@x', T0 + 120))).toEqual(['CLI-MULTI-PEER:high', 'SRC-UNKNOWN-PEER:medium']);
  });

  it('forgets calls outside the 10-minute window (expiry by capture time)', () => {
    const s = new SipSession();
    expect(call(s, SRC.carrierNl, NUM, CALLEE, 'mpx-1@x', T0)).toEqual([]);
    expect(ruleSet(call(s, SRC.untrusted, NUM, CALLEE, 'mpx-2@x', T0 + 601))).toEqual(['CLI-NOT-AUTHORIZED:high']);
  });

  it('remembers a peer’s latest call, not only its first', () => {
    const s = new SipSession();
    expect(call(s, SRC.carrierNl, NUM, CALLEE, 'mpr-1@x', T0)).toEqual([]);
    expect(call(s, SRC.carrierNl, NUM, CALLEE, 'mpr-2@x', T0 + 500)).toEqual([]);
    const alerts = call(s, SRC.untrusted, NUM, CALLEE, 'mpr-3@x', T0 + 700);
    expect(ruleSet(alerts)).toEqual(['CLI-MULTI-PEER:high', 'CLI-NOT-AUTHORIZED:high']);
    expect(alerts.find((x) => x.rule === 'CLI-MULTI-PEER')!.reasons[0]).toContain('from "carrier-nl" in call mpr-2@x');
  });

  it('does not raise for a multi-homed number from peers that are all authorised, nor on the owner’s call after a spoof', () => {
    const s = new SipSession();
    expect(call(s, SRC.pbxAcme, NUM, CALLEE, 'mpn-1@x', T0)).toEqual([]);
    expect(call(s, SRC.carrierNl, NUM, CALLEE, 'mpn-2@x', T0 + 30)).toEqual([]);
    const s2 = new SipSession();
    expect(ruleSet(call(s2, SRC.untrusted, NUM, CALLEE, 'mpn-3@x', T0))).toEqual(['CLI-NOT-AUTHORIZED:high']);
    expect(call(s2, SRC.pbxAcme, NUM, CALLEE, 'mpn-4@x', T0 + 30)).toEqual([]);
  });
});

describe('CLI-VELOCITY', () => {
  const cfg = testConfigYaml({ rules: '  CLI-VELOCITY: { maxConcurrent: 3 }' });
  const callees = (i: number) => `+3168765${String(4300 + i)}`;

  it('does not raise for a call centre presenting its presentation number on many concurrent calls', () => {
    const s = new SipSession(cfg);
    for (let i = 0; i < 8; i++) expect(call(s, SRC.pbxAcme, '+31881234567', callees(i), `cc-${i}@acme`, T0 + i)).toEqual([]);
    // Agents' DDIs in PAI under the general number in From: each call has its own CLI.
    for (let i = 0; i < 8; i++) {
      expect(call(s, SRC.pbxAcme, '+31881234567', callees(i), `cc-pai-${i}@acme`, T0 + 10 + i, [`P-Asserted-Identity: ${sipNum(`+312055501${10 + i}`)}`])).toEqual([
        expect.objectContaining({ rule: 'ID-FROM-PAI-MISMATCH', severity: 'info' }),
      ]);
    }
  });

  it('raises medium when another number is on more than maxConcurrent active calls', () => {
    const s = new SipSession(cfg);
    for (let i = 0; i < 3; i++) expect(call(s, SRC.pbxAcme, '+31205550123', callees(i), `vel-${i}@acme`, T0 + i)).toEqual([]);
    const alerts = call(s, SRC.pbxAcme, '+31205550123', callees(3), 'vel-3@acme', T0 + 3);
    expect(ruleSet(alerts)).toEqual(['CLI-VELOCITY:medium']);
    expect(alerts[0]!.reasons).toEqual(['+31205550123 is on 4 simultaneous calls (limit 3).']);
    expect(alerts[0]!.evidence).toEqual([{ frame: 4, header: 'From', value: withTag(sipNum('+31205550123'), 'vel-3@acme') }]);
  });

  it('does not count calls that have ended (BYE) or were rejected', () => {
    const s = new SipSession(cfg);
    for (let i = 0; i < 3; i++) expect(call(s, SRC.pbxAcme, '+31205550123', callees(i), `end-${i}@acme`, T0 + i)).toEqual([]);
    expect(bye(s, SRC.pbxAcme, '+31205550123', callees(0), 'end-0@acme', T0 + 5)).toEqual([]);
    const spec: InviteSpec = { from: sipNum('+31205550123'), to: sipNum(callees(1)), callId: 'end-1@acme', host: '127.0.0.10' };
    expect(s.feed({ src: '127.0.0.2:5060', ts: T0 + 6, text: response(spec, 486, 'Busy Here') })).toEqual([]);
    expect(call(s, SRC.pbxAcme, '+31205550123', callees(3), 'end-3@acme', T0 + 7)).toEqual([]);
    expect(call(s, SRC.pbxAcme, '+31205550123', callees(4), 'end-4@acme', T0 + 8)).toEqual([]);
    expect(ruleSet(call(s, SRC.pbxAcme, '+31205550123', callees(5), 'end-5@acme', T0 + 9))).toEqual(['CLI-VELOCITY:medium']);
  });

  it('raises on more than maxPerMinute new calls in a minute, and forgets older ones', () => {
    const s = new SipSession(testConfigYaml({ rules: '  CLI-VELOCITY: { maxConcurrent: 100, maxPerMinute: 3 }' }));
    for (let i = 0; i < 3; i++) {
      expect(call(s, SRC.pbxAcme, '+31205550123', callees(i), `pm-${i}@acme`, T0 + i)).toEqual([]);
      expect(bye(s, SRC.pbxAcme, '+31205550123', callees(i), `pm-${i}@acme`, T0 + i + 0.5)).toEqual([]);
    }
    const alerts = call(s, SRC.pbxAcme, '+31205550123', callees(3), 'pm-3@acme', T0 + 30);
    expect(ruleSet(alerts)).toEqual(['CLI-VELOCITY:medium']);
    expect(alerts[0]!.reasons).toEqual(['+31205550123 started 4 calls within one minute (limit 3).']);
    const s2 = new SipSession(testConfigYaml({ rules: '  CLI-VELOCITY: { maxConcurrent: 100, maxPerMinute: 3 }' }));
    for (let i = 0; i < 3; i++) expect(call(s2, SRC.pbxAcme, '+31205550123', callees(i), `pmx-${i}@acme`, T0 + i)).toEqual([]);
    expect(call(s2, SRC.pbxAcme, '+31205550123', callees(3), 'pmx-3@acme', T0 + 70)).toEqual([]);
  });
});

describe('CLI-MULTI-PEER and CLI-VELOCITY on the same number (their windows share one store)', () => {
  const NUM = '+31205550123';
  const CALLEE = '+31687654321';

  it('each rule sees its own window: ten minutes of peers, one minute of calls', () => {
    const s = new SipSession(testConfigYaml({ rules: '  CLI-VELOCITY: { maxConcurrent: 100, maxPerMinute: 2 }' }));
    expect(call(s, SRC.carrierNl, NUM, CALLEE, 'both-1@x', T0)).toEqual([]);
    expect(call(s, SRC.carrierNl, NUM, CALLEE, 'both-2@x', T0 + 1)).toEqual([]);
    const third = call(s, SRC.untrusted, NUM, CALLEE, 'both-3@x', T0 + 2);
    expect(ruleSet(third)).toEqual(['CLI-MULTI-PEER:high', 'CLI-NOT-AUTHORIZED:high', 'CLI-VELOCITY:medium']);
    expect(third.find((a) => a.rule === 'CLI-VELOCITY')!.reasons).toEqual(['+31205550123 started 3 calls within one minute (limit 2).']);
    // Five minutes on: the first calls left CLI-VELOCITY's minute but not CLI-MULTI-PEER's ten minutes.
    const later = call(s, SRC.untrusted, NUM, CALLEE, 'both-4@x', T0 + 300);
    expect(ruleSet(later)).toEqual(['CLI-MULTI-PEER:high', 'CLI-NOT-AUTHORIZED:high']);
    expect(later.find((a) => a.rule === 'CLI-MULTI-PEER')!.reasons[0]).toBe(
      '+31205550123 arrived from "access-untrusted" (not authorised for it) and, within 10 min, from "carrier-nl" in call both-1@x.',
    );
    // And within a minute of that call, CLI-VELOCITY counts it and the next two only.
    expect(ruleSet(call(s, SRC.untrusted, NUM, CALLEE, 'both-5@x', T0 + 310))).toEqual(['CLI-MULTI-PEER:high', 'CLI-NOT-AUTHORIZED:high']);
    expect(ruleSet(call(s, SRC.untrusted, NUM, CALLEE, 'both-6@x', T0 + 320))).toEqual(['CLI-MULTI-PEER:high', 'CLI-NOT-AUTHORIZED:high', 'CLI-VELOCITY:medium']);
  });
});
