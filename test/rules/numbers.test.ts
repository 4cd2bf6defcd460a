/** Number rules (RULES.md §3, §4): special, invalid, national-on-international, caller = callee. */
import { describe, expect, it } from 'vitest';
import { invite, only, ruleSet, runSip, sipNum, SRC, withTag } from './harness.js';

const TO = sipNum('+31687654321');
const fromCarrier = (from: string, callId: string, src: string = SRC.carrierNl, to = TO) => runSip([{ src, text: invite({ from, to, callId }) }]);

describe('CLI-SPECIAL', () => {
  it('is critical for the emergency number 112', () => {
    const from = '<sip:112@carrier.example>';
    const alerts = fromCarrier(from, 'sp-1@x');
    expect(ruleSet(alerts)).toEqual(['CLI-SPECIAL:critical']);
    const a = only(alerts, 'CLI-SPECIAL');
    // The article is as the rule writes it (pinned by test/golden too).
    expect(a.reasons).toEqual(['112 in From is an emergency number, which never places calls.']);
    expect(a.evidence).toEqual([{ frame: 1, header: 'From', value: withTag(from, 'sp-1@x') }]);
    expect(a.presented).toEqual({ number: '112', header: 'From' });
  });

  it('is high for a premium-rate 0900 number', () => {
    const alerts = fromCarrier(sipNum('09001234567'), 'sp-2@x');
    expect(ruleSet(alerts)).toEqual(['CLI-SPECIAL:high']);
    expect(only(alerts, 'CLI-SPECIAL').reasons).toEqual(['+319001234567 in From is a premium number, which never places calls.']);
  });

  it('is high for a 116xxx short number and for an 097 M2M number', () => {
    expect(ruleSet(fromCarrier('<sip:116000@carrier.example>', 'sp-3@x'))).toEqual(['CLI-SPECIAL:high']);
    const m2m = fromCarrier(sipNum('+3197012345678'), 'sp-4@x');
    expect(ruleSet(m2m)).toEqual(['CLI-SPECIAL:high']);
    expect(only(m2m, 'CLI-SPECIAL').reasons[0]).toContain('m2m number');
  });

  it('does not raise for ordinary geographic, mobile and 088 company numbers', () => {
    expect(fromCarrier(sipNum('+31104567890'), 'sp-5@x')).toEqual([]);
    expect(fromCarrier(sipNum('0612345678'), 'sp-6@x')).toEqual([]);
    expect(fromCarrier(sipNum('+31881234567'), 'sp-7@x')).toEqual([]);
  });
});

describe('CLI-INVALID', () => {
  it('is high for a number too short to exist', () => {
    const alerts = fromCarrier(sipNum('+3120123'), 'inv-1@x');
    expect(ruleSet(alerts)).toEqual(['CLI-INVALID:high']);
    const a = only(alerts, 'CLI-INVALID');
    expect(a.reasons).toEqual(['+3120123 in From (user part "+3120123") is not a possible number for its country.']);
    expect(a.evidence).toEqual([{ frame: 1, header: 'From', value: withTag(sipNum('+3120123'), 'inv-1@x') }]);
  });

  it('is high for an unused range (NL 067x)', () => {
    const alerts = fromCarrier(sipNum('0671234567'), 'inv-2@x');
    expect(ruleSet(alerts)).toEqual(['CLI-INVALID:high']);
    expect(only(alerts, 'CLI-INVALID').reasons).toEqual(['+31671234567 in From lies in a range that is not in use.']);
  });

  it('does not raise for withheld or alphanumeric callers, which are not invalid', () => {
    expect(fromCarrier('"Anonymous" <sip:anonymous@anonymous.invalid>', 'inv-3@x')).toEqual([]);
    expect(fromCarrier('<sip:restricted@carrier.example>', 'inv-4@x')).toEqual([]);
    expect(fromCarrier('<sip:Examplebank@carrier.example>', 'inv-5@x')).toEqual([]);
  });

  it('normalises before judging: national 0… and 0031… forms of a valid number are valid', () => {
    expect(fromCarrier(sipNum('0104567890'), 'inv-6@x')).toEqual([]);
    expect(fromCarrier(sipNum('0031104567890'), 'inv-7@x')).toEqual([]);
    expect(fromCarrier('<tel:010-456-7890>', 'inv-8@x')).toEqual([]);
  });
});

describe('REG-INTL-NATIONAL-CLI', () => {
  it('is high for a Dutch fixed number arriving on an international peer', () => {
    const alerts = fromCarrier(sipNum('+31104567890'), 'intl-1@x', SRC.carrierIntl);
    expect(ruleSet(alerts)).toEqual(['REG-INTL-NATIONAL-CLI:high']);
    const a = only(alerts, 'REG-INTL-NATIONAL-CLI');
    expect(a.reasons).toEqual([
      'Peer "carrier-intl" is an international interconnect; it delivered +31104567890, a NL geographic number.',
      'Calls from home-country fixed numbers do not enter from abroad; regulators require blocking them.',
    ]);
    expect(a.evidence).toEqual([{ frame: 1, header: 'From', value: withTag(sipNum('+31104567890'), 'intl-1@x') }]);
    expect(a.network.peer).toBe('carrier-intl');
  });

  it('is medium for a Dutch mobile number (roaming)', () => {
    const alerts = fromCarrier(sipNum('+31612345678'), 'intl-2@x', SRC.carrierIntl);
    expect(ruleSet(alerts)).toEqual(['REG-INTL-NATIONAL-CLI:medium']);
    expect(only(alerts, 'REG-INTL-NATIONAL-CLI').reasons[1]).toBe('Mobile numbers may be roaming abroad, hence medium.');
  });

  it('does not raise for a foreign number from the international peer, nor a Dutch number from a national peer', () => {
    expect(fromCarrier(sipNum('+4930123456'), 'intl-3@x', SRC.carrierIntl)).toEqual([]);
    expect(fromCarrier(sipNum('+31104567890'), 'intl-4@x', SRC.carrierNl)).toEqual([]);
  });
});

describe('CLI-CALLED-AS-CALLER', () => {
  it('is high when the caller presents the called number', () => {
    const alerts = fromCarrier(sipNum('+31687654321'), 'self-1@x');
    expect(ruleSet(alerts)).toEqual(['CLI-CALLED-AS-CALLER:high']);
    const a = only(alerts, 'CLI-CALLED-AS-CALLER');
    expect(a.reasons).toEqual(['From and Request-URI are both +31687654321: the callee would see its own number.']);
    expect(a.evidence).toEqual([
      { frame: 1, header: 'From', value: withTag(sipNum('+31687654321'), 'self-1@x') },
      { frame: 1, header: 'Request-URI', value: 'sip:+31687654321@sbc.example.net;user=phone' },
    ]);
  });

  it('compares after normalisation (national From, E.164 To)', () => {
    expect(ruleSet(fromCarrier(sipNum('0687654321'), 'self-2@x'))).toEqual(['CLI-CALLED-AS-CALLER:high']);
  });

  it('does not raise for a different caller', () => {
    expect(fromCarrier(sipNum('+31687654322'), 'self-3@x')).toEqual([]);
  });
});
