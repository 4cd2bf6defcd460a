/** Message-level rules (UA-ATTACK-TOOL, MSG-MALFORMED), once-per-call dedupe, and per-rule config. */
import { describe, expect, it } from 'vitest';
import { crlf, invite, only, response, ruleSet, runSip, sipNum, SipSession, SRC, testConfigYaml, type InviteSpec } from './harness.js';

const TO = sipNum('+31687654321');

describe('UA-ATTACK-TOOL', () => {
  it('raises high for an OPTIONS scan by friendly-scanner', () => {
    const text = crlf([
      'OPTIONS sip:100@127.0.0.2 SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.66:5070;branch=z9hG4bK-1597430716;rport',
      'Max-Forwards: 70',
      'From: "sipvicious"<sip:100@1.1.1.1>;tag=6434396633623535313363340131363638303539373434',
      'To: "sipvicious"<sip:100@1.1.1.1>',
      'Call-ID: 784437360783096539378478',
      'CSeq: 1 OPTIONS',
      'Contact: <sip:100@192.0.2.66:5070>',
      'Accept: application/sdp',
      'User-Agent: friendly-scanner',
      'Content-Length: 0',
    ]);
    const alerts = runSip([{ src: '192.0.2.66:5070', text, frame: 7 }]);
    expect(ruleSet(alerts)).toEqual(['UA-ATTACK-TOOL:high']);
    const a = only(alerts, 'UA-ATTACK-TOOL');
    expect(a.reasons).toEqual(['User-Agent contains "friendly-scanner", a marker of a SIP scanning/attack tool.']);
    expect(a.evidence).toEqual([{ frame: 7, header: 'User-Agent', value: 'friendly-scanner' }]);
    expect(a.call.method).toBe('OPTIONS');
    expect(a.presented.header).toBe('From');
  });

  it('finds markers in the From display name of an INVITE', () => {
    const from = '"SIPVicious" <sip:+31104567890@carrier.example>';
    const alerts = runSip([{ src: SRC.carrierNl, text: invite({ from, to: TO, callId: 'ua-2@x', userAgent: 'Asterisk PBX 20.5.0' }) }]);
    expect(ruleSet(alerts)).toEqual(['UA-ATTACK-TOOL:high']);
    expect(only(alerts, 'UA-ATTACK-TOOL').evidence[0]).toMatchObject({ frame: 1, header: 'From' });
  });

  it('finds a marker in the Call-ID when User-Agent and From carry none', () => {
    const alerts = runSip([{ src: SRC.carrierNl, text: invite({ from: '<sip:+31104567890@carrier.example>;tag=a1', to: TO, callId: 'SIPCLI-77@x', userAgent: 'Asterisk PBX 20.5.0' }) }]);
    expect(ruleSet(alerts)).toEqual(['UA-ATTACK-TOOL:high']);
    const a = only(alerts, 'UA-ATTACK-TOOL');
    expect(a.evidence).toEqual([{ frame: 1, header: 'Call-ID', value: 'SIPCLI-77@x' }]);
    expect(a.reasons).toEqual(['Call-ID contains "sipcli", a marker of a SIP scanning/attack tool.']);
  });

  it('finds a marker in the From of an in-dialog request, with the parsed From as evidence and presented identity', () => {
    // A call first seen at its BYE: From is only searched as text there, and parsed because the text holds a marker.
    const from = '"SIPVicious" <sip:+31104567890@carrier.example>;tag=z9';
    const bye = invite({ from, to: TO, callId: 'ua-bye@x', method: 'BYE', cseq: 2, toTag: 'uas1', userAgent: 'Asterisk PBX 20.5.0' });
    const alerts = runSip([{ src: SRC.carrierNl, text: bye, frame: 5 }]);
    expect(ruleSet(alerts)).toEqual(['UA-ATTACK-TOOL:high']);
    const a = only(alerts, 'UA-ATTACK-TOOL');
    expect(a.evidence).toEqual([{ frame: 5, header: 'From', value: from }]);
    expect(a.presented).toEqual({ number: '+31104567890', header: 'From', displayName: 'SIPVicious' });
    expect(a.call.from).toBe(from);
  });

  it('takes From as its parse gives it: a marker only in a second From address of an in-dialog request is not found', () => {
    // RFC 3261 §20.20: From holds one address; the parse keeps the first of a list, and the rule searches that.
    const from = '<sip:+31104567890@carrier.example>;tag=z9, "sipvicious" <sip:+31104567891@carrier.example>';
    const bye = invite({ from, to: TO, callId: 'ua-bye-2@x', method: 'BYE', cseq: 2, toTag: 'uas1', userAgent: 'Asterisk PBX 20.5.0' });
    expect(runSip([{ src: SRC.carrierNl, text: bye }])).toEqual([]);
  });

  it('does not raise for ordinary user agents', () => {
    const text = crlf([
      'OPTIONS sip:127.0.0.2:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.11:5060;branch=z9hG4bK-keepalive-1',
      'Max-Forwards: 70',
      'From: <sip:ping@carrier.example>;tag=ka1',
      'To: <sip:127.0.0.2:5060>',
      'Call-ID: keepalive-1@carrier.example',
      'CSeq: 101 OPTIONS',
      'Contact: <sip:ping@127.0.0.11:5060>',
      'User-Agent: Kamailio (5.7.4 (x86_64/linux))',
      'Content-Length: 0',
    ]);
    expect(runSip([{ src: SRC.carrierNl, text }])).toEqual([]);
  });
});

describe('MSG-MALFORMED', () => {
  it('raises medium for a duplicate From header', () => {
    const text = crlf([
      'INVITE sip:+31687654321@sbc.example.net;user=phone SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.11:5060;branch=z9hG4bK-dup1',
      'Max-Forwards: 70',
      'From: <sip:+31104567890@carrier.example;user=phone>;tag=a1',
      'From: <sip:+31201234000@carrier.example;user=phone>;tag=a2',
      'To: <sip:+31687654321@sbc.example.net;user=phone>',
      'Call-ID: dup-from-1@carrier.example',
      'CSeq: 1 INVITE',
      'Contact: <sip:gw@127.0.0.11:5060>',
      'Content-Length: 0',
    ]);
    const alerts = runSip([{ src: SRC.carrierNl, text, frame: 3 }]);
    expect(ruleSet(alerts)).toEqual(['MSG-MALFORMED:medium']);
    const a = only(alerts, 'MSG-MALFORMED');
    expect(a.summary).toBe('Malformed INVITE: sip.duplicate-from');
    expect(a.reasons).toEqual(['sip.duplicate-from: From']);
    expect(a.evidence).toEqual([{ frame: 3, header: 'sip.duplicate-from', value: 'From' }]);
  });

  it('raises medium for a bare CR inside a header no rule reads (Subject), and not for a folded value', () => {
    const base = (subject: string) =>
      crlf([
        'INVITE sip:+31687654321@sbc.example.net;user=phone SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.11:5060;branch=z9hG4bK-cr1',
        'Max-Forwards: 70',
        'From: <sip:+31104567890@carrier.example;user=phone>;tag=a1',
        'To: <sip:+31687654321@sbc.example.net;user=phone>',
        'Call-ID: bare-cr-1@carrier.example',
        'CSeq: 1 INVITE',
        subject,
        'Content-Length: 0',
      ]);
    const alerts = runSip([{ src: SRC.carrierNl, text: base('Subject: hello\rworld'), frame: 4 }]);
    expect(ruleSet(alerts)).toEqual(['MSG-MALFORMED:medium']);
    expect(only(alerts, 'MSG-MALFORMED').evidence).toEqual([{ frame: 4, header: 'sip.bare-cr', value: 'bare CR in subject' }]);
    expect(runSip([{ src: SRC.carrierNl, text: base('Subject: hello\r\n world'), frame: 4 }])).toEqual([]);
  });

  it('raises medium for a Content-Length that does not match the body', () => {
    const alerts = runSip([
      { src: SRC.carrierNl, text: invite({ from: sipNum('+31104567890'), to: TO, callId: 'cl-1@x', body: 'v=0\r\n', contentLength: 300 }) },
    ]);
    expect(ruleSet(alerts)).toEqual(['MSG-MALFORMED:medium']);
    const a = only(alerts, 'MSG-MALFORMED');
    expect(a.evidence).toEqual([{ frame: 1, header: 'sip.content-length-mismatch', value: 'Content-Length 300, 5 bytes after the header fields' }]);
  });

  it('outside the initial INVITE checks what the split finds, not the From/To URIs (checked on the INVITE)', () => {
    const spec: InviteSpec = { from: sipNum('+31104567890'), to: TO, callId: 'in-dialog-1@carrier.example', host: '127.0.0.11' };
    const s = new SipSession();
    expect(s.feed({ src: SRC.carrierNl, text: invite(spec) })).toEqual([]);
    // An ACK whose To and From URIs do not parse: neither is an identity the rules take outside the INVITE.
    const ack = invite({ ...spec, method: 'ACK', ruri: 'sip:+31687654321@sbc.example.net;user=phone', to: '<sip:+31687654321@sbc.example.net;user=phone', from: '<sip:@carrier.example>;tag=a1', toTag: 'uas1' });
    expect(s.feed({ src: SRC.carrierNl, text: ack, frame: 2 })).toEqual([]);
    // A BYE with two To headers: the split reports it.
    const bye = invite({ ...spec, method: 'BYE', cseq: 2, toTag: 'uas1', headers: [`To: ${TO};tag=uas2`] });
    const alerts = s.feed({ src: SRC.carrierNl, text: bye, frame: 3 });
    expect(ruleSet(alerts)).toEqual(['MSG-MALFORMED:medium']);
    expect(only(alerts, 'MSG-MALFORMED').evidence).toEqual([{ frame: 3, header: 'sip.duplicate-to', value: 'To' }]);
  });

  it('does not raise for a well-formed INVITE with a body', () => {
    expect(runSip([{ src: SRC.carrierNl, text: invite({ from: sipNum('+31104567890'), to: TO, callId: 'cl-2@x' }) }])).toEqual([]);
  });
});

describe('once per call and rule', () => {
  const spec: InviteSpec = { from: sipNum('+31201234000'), to: TO, callId: 'dedupe-1@carrier.example', host: '127.0.0.11' };

  it('a retransmitted INVITE, responses, a re-INVITE and the BYE repeat no alert', () => {
    const s = new SipSession();
    expect(ruleSet(s.feed({ src: SRC.carrierNl, text: invite(spec), ts: 1000 }))).toEqual(['CLI-DNO:critical']);
    expect(s.feed({ src: SRC.carrierNl, text: invite(spec), ts: 1000.5 })).toEqual([]); // Timer A retransmission
    expect(s.feed({ src: '127.0.0.2:5060', text: response(spec, 180, 'Ringing'), ts: 1001 })).toEqual([]);
    expect(s.feed({ src: '127.0.0.2:5060', text: response(spec, 200, 'OK'), ts: 1002 })).toEqual([]);
    expect(s.feed({ src: SRC.carrierNl, text: invite({ ...spec, cseq: 2, toTag: 'uas1' }), ts: 1030 })).toEqual([]); // session refresh
    expect(s.feed({ src: SRC.carrierNl, text: invite({ ...spec, method: 'BYE', cseq: 3, toTag: 'uas1' }), ts: 1060 })).toEqual([]);
    expect(s.analyzer.calls.stats.retransmissions).toBe(1);
    expect(s.analyzer.calls.stats.reInvites).toBe(1);
  });

  it('a re-INVITE of a call first seen mid-dialog is not taken for an initial INVITE', () => {
    expect(runSip([{ src: SRC.carrierNl, text: invite({ ...spec, callId: 'dedupe-2@x', cseq: 5, toTag: 'uas9' }) }])).toEqual([]);
  });

  it('a second call with the same CLI alerts again (dedupe is per Call-ID)', () => {
    const alerts = runSip([
      { src: SRC.carrierNl, text: invite(spec) },
      { src: SRC.carrierNl, text: invite({ ...spec, callId: 'dedupe-3@carrier.example' }) },
    ]);
    expect(alerts.map((a) => `${a.rule}@${a.atFrame}`)).toEqual(['CLI-DNO@1', 'CLI-DNO@2']);
  });
});

describe('rule settings from config', () => {
  const unknownCall = [{ src: SRC.unknown, text: invite({ from: sipNum('+31104567890'), to: TO, callId: 'cfg-1@x', host: '192.0.2.66' }) }];

  it('uses the default severity without settings', () => {
    expect(ruleSet(runSip(unknownCall))).toEqual(['SRC-UNKNOWN-PEER:medium']);
  });

  it('applies a severity override', () => {
    expect(ruleSet(runSip(unknownCall, testConfigYaml({ rules: '  SRC-UNKNOWN-PEER: { severity: low }' })))).toEqual(['SRC-UNKNOWN-PEER:low']);
  });

  it('disables a rule with enabled: false, or with false', () => {
    expect(runSip(unknownCall, testConfigYaml({ rules: '  SRC-UNKNOWN-PEER: { enabled: false }' }))).toEqual([]);
    expect(runSip(unknownCall, testConfigYaml({ rules: '  SRC-UNKNOWN-PEER: false' }))).toEqual([]);
  });

  it('leaves other rules alone when one is disabled', () => {
    const calls = [{ src: SRC.unknown, text: invite({ from: sipNum('+31201234000'), to: TO, callId: 'cfg-2@x', host: '192.0.2.66' }) }];
    expect(ruleSet(runSip(calls, testConfigYaml({ rules: '  SRC-UNKNOWN-PEER: { enabled: false }' })))).toEqual(['CLI-DNO:critical']);
  });
});

describe('presented identity of malformed identity headers (issue #16.2)', () => {
  const TO16 = sipNum('+31687654321');
  const raise = (src: string, from: string, callId: string) => runSip([{ src, text: invite({ from, to: TO16, callId }) }]);

  it('extracts the user of a From with escaped quotes, as a phone shows it, and every rule evaluates it', () => {
    const alerts = raise(SRC.pbxAcme, '\\"arik\\" <sip:+31104567890@voip.example>;tag=1', 'p16-1@x');
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:high', 'MSG-MALFORMED:medium']);
    expect(only(alerts, 'CLI-NOT-AUTHORIZED').presented).toEqual({ number: '+31104567890', header: 'From', displayName: 'arik' });
    expect(only(alerts, 'MSG-MALFORMED').reasons).toEqual(['sip.display-name-quote: from: display name has non-token characters and is not quoted']);
  });

  it('names the user 816666 of the public-capture From, never the raw header line', () => {
    const alerts = raise(SRC.carrierNl, '\\"arik\\" <sip:816666@voip.example>;tag=1', 'p16-2@x');
    expect(ruleSet(alerts)).toEqual(['CLI-INVALID:high', 'MSG-MALFORMED:medium']);
    const a = only(alerts, 'CLI-INVALID');
    expect(a.presented).toEqual({ number: '+31816666', header: 'From', displayName: 'arik' });
    expect(a.reasons).toEqual(['+31816666 in From (user part "816666") is not a possible number for its country.']);
  });

  it('normalises the user of a URI that stays invalid (spaces in the user part) and flags it', () => {
    const alerts = raise(SRC.pbxAcme, '<sip:(010) 456 7890@pbx.acme.example>;tag=1', 'p16-3@x');
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:high', 'MSG-MALFORMED:medium']);
    expect(only(alerts, 'CLI-NOT-AUTHORIZED').presented).toEqual({ number: '+31104567890', header: 'From' });
    expect(only(alerts, 'MSG-MALFORMED').reasons).toEqual(['sip.identity-uri-invalid: from: uri: illegal character 0x20']);
  });

  it('presents no number when nothing in the header is a URI', () => {
    const alerts = raise(SRC.carrierNl, 'garbage here;tag=1', 'p16-4@x');
    expect(ruleSet(alerts)).toEqual(['MSG-MALFORMED:medium']);
    expect(only(alerts, 'MSG-MALFORMED').presented).toEqual({ header: 'From' });
  });
});
