/**
 * Identity-header rules (RULES.md §1, §4): who may present which number, and the legitimate look-alikes —
 * company general number, withheld call inside the trust domain, forwarded call from a trusted peer.
 */
import { describe, expect, it } from 'vitest';
import { crlf, invite, withTag, only, ruleSet, runSip, sipNum, SRC } from './harness.js';

const CALLEE = '+31687654321';
const TO = sipNum(CALLEE);

describe('CLI-NOT-AUTHORIZED (with the DIV-EXPLAINS modifier)', () => {
  it('raises high when a peer with a number policy presents a number outside it', () => {
    const from = sipNum('+31104567890', undefined, 'pbx.acme.example');
    const alerts = runSip([{ src: SRC.pbxAcme, text: invite({ from, to: TO, callId: 'na-1@pbx.acme.example' }) }]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:high']);
    const a = only(alerts, 'CLI-NOT-AUTHORIZED');
    expect(a.reasons).toEqual([
      'The call came from 127.0.0.10:5060 over udp, which is peer "pbx-acme" (trusted).',
      'It presents +31104567890 in From, which is not among the numbers "pbx-acme" may present.',
    ]);
    expect(a.evidence).toEqual([{ frame: 1, header: 'From', value: withTag(from, 'na-1@pbx.acme.example') }]);
    expect(a.presented).toEqual({ number: '+31104567890', header: 'From' });
    expect(a.network).toEqual({ src: '127.0.0.10:5060', dst: '127.0.0.2:5060', transport: 'udp', peer: 'pbx-acme', trust: 'trusted', origin: 'test' });
  });

  it('checks the asserted number (PAI) on a trusted peer, not From', () => {
    const alerts = runSip([
      {
        src: SRC.pbxAcme,
        text: invite({
          from: sipNum('+31205550123'),
          to: TO,
          callId: 'na-2@pbx.acme.example',
          headers: [`P-Asserted-Identity: ${sipNum('+31104567890')}`],
        }),
      },
    ]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:high', 'ID-FROM-PAI-MISMATCH:info']);
    expect(only(alerts, 'CLI-NOT-AUTHORIZED').evidence).toEqual([{ frame: 1, header: 'P-Asserted-Identity', value: sipNum('+31104567890') }]);
  });

  it('does not raise for the peer’s own numbers, its presentation number, or a transit carrier', () => {
    expect(runSip([{ src: SRC.pbxAcme, text: invite({ from: sipNum('+31205550123'), to: TO, callId: 'na-3@x' }) }])).toEqual([]);
    expect(runSip([{ src: SRC.pbxAcme, text: invite({ from: sipNum('+31881234567'), to: TO, callId: 'na-4@x' }) }])).toEqual([]);
    expect(runSip([{ src: SRC.carrierNl, text: invite({ from: sipNum('+31104567890'), to: TO, callId: 'na-5@x' }) }])).toEqual([]);
  });

  it('is lowered to info for a forwarded call from a trusted peer whose Diversion names a number a trusted peer owns', () => {
    // An outside caller rang ACME extension +31205550123, which forwards to a mobile: the PBX sends the
    // original caller's number with a Diversion naming its own DDI.
    const diversion = '<sip:+31205550123@pbx.acme.example;user=phone>;reason=unconditional;counter=1';
    const alerts = runSip([
      {
        src: SRC.pbxAcme,
        text: invite({
          from: sipNum('+31612345678', 'Outside Caller'),
          to: TO,
          callId: 'fwd-1@pbx.acme.example',
          headers: [`P-Asserted-Identity: ${sipNum('+31612345678')}`, `Diversion: ${diversion}`],
        }),
      },
    ]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:info']);
    const a = only(alerts, 'CLI-NOT-AUTHORIZED');
    expect(a.reasons[2]).toBe(
      'DIV-EXPLAINS: the call was forwarded by +31205550123 (Diversion), a number of trusted peer "pbx-acme", so this is likely a forwarded call; lowered to info.',
    );
    expect(a.evidence).toEqual([
      { frame: 1, header: 'P-Asserted-Identity', value: sipNum('+31612345678') },
      { frame: 1, header: 'Diversion', value: diversion },
    ]);
    expect(a.call.diversion).toEqual([diversion]);
  });

  it('is lowered to info when History-Info maps the call from a number a trusted peer owns (RFC 7044 mp)', () => {
    // index 1 is the number originally called (ACME's DDI); 1.1 is the forwarding target, mapped (mp) from 1.
    const alerts = runSip([
      {
        src: SRC.pbxAcme,
        text: invite({
          from: sipNum('+31612345678'),
          to: TO,
          callId: 'fwd-hi@pbx.acme.example',
          headers: [
            `P-Asserted-Identity: ${sipNum('+31612345678')}`,
            'History-Info: <sip:+31205550123@pbx.acme.example;user=phone>;index=1',
            `History-Info: <sip:${CALLEE}@sbc.example.net;user=phone?Reason=SIP%3Bcause%3D302>;index=1.1;mp=1`,
          ],
        }),
      },
    ]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:info']);
    const a = only(alerts, 'CLI-NOT-AUTHORIZED');
    expect(a.reasons[2]).toContain('forwarded by +31205550123 (History-Info), a number of trusted peer "pbx-acme"');
    expect(a.evidence[1]).toEqual({ frame: 1, header: 'History-Info', value: '<sip:+31205550123@pbx.acme.example;user=phone>;index=1' });
  });

  it('is NOT lowered when the peer is untrusted, even with the same Diversion', () => {
    const diversion = '<sip:+31205550123@pbx.acme.example;user=phone>;reason=unconditional;counter=1';
    const alerts = runSip([
      {
        src: SRC.untrusted,
        text: invite({ from: sipNum('+31612345678'), to: TO, callId: 'fwd-2@home.example', host: '127.0.0.13', headers: [`Diversion: ${diversion}`] }),
      },
    ]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:high', 'DIV-UNTRUSTED:medium']);
    const a = only(alerts, 'CLI-NOT-AUTHORIZED');
    expect(a.reasons[2]).toBe('Diversion names +31205550123, but the peer is untrusted, so it does not explain the number (spoofers forge Diversion).');
  });

  it('is NOT lowered when no trusted peer owns the diverting number', () => {
    const alerts = runSip([
      {
        src: SRC.pbxAcme,
        text: invite({
          from: sipNum('+31612345678'),
          to: TO,
          callId: 'fwd-3@pbx.acme.example',
          headers: ['Diversion: <sip:+31104567890@pbx.acme.example;user=phone>;reason=no-answer'],
        }),
      },
    ]);
    expect(ruleSet(alerts)).toEqual(['CLI-NOT-AUTHORIZED:high']);
    expect(only(alerts, 'CLI-NOT-AUTHORIZED').reasons[2]).toContain('no trusted peer owns it');
  });
});

describe('HDR-PAI-UNTRUSTED', () => {
  it('raises medium for a PAI from an untrusted peer', () => {
    const pai = sipNum('+31301112233');
    const alerts = runSip([
      { src: SRC.untrusted, text: invite({ from: sipNum('+31301112233'), to: TO, callId: 'pai-1@home', host: '127.0.0.13', headers: [`P-Asserted-Identity: ${pai}`] }) },
    ]);
    expect(ruleSet(alerts)).toEqual(['HDR-PAI-UNTRUSTED:medium']);
    const a = only(alerts, 'HDR-PAI-UNTRUSTED');
    expect(a.reasons).toEqual([
      'The call came from untrusted peer "access-untrusted"; it must not assert an identity (RFC 3325 §5).',
      `It sent P-Asserted-Identity ${pai}.`,
    ]);
    expect(a.evidence).toEqual([{ frame: 1, header: 'P-Asserted-Identity', value: pai }]);
    expect(a.presented).toEqual({ number: '+31301112233', header: 'P-Asserted-Identity' });
  });

  it('raises high when the asserted number is protected', () => {
    const alerts = runSip([
      {
        src: SRC.untrusted,
        text: invite({ from: sipNum('+31301112233'), to: TO, callId: 'pai-2@home', host: '127.0.0.13', headers: [`P-Asserted-Identity: ${sipNum('+31703456789')}`] }),
      },
    ]);
    expect(ruleSet(alerts)).toEqual(['HDR-PAI-UNTRUSTED:high']);
    expect(only(alerts, 'HDR-PAI-UNTRUSTED').reasons[2]).toBe('+31703456789 is a protected number of De Vries Advocaten (lawyer, legal privilege).');
  });

  it('raises for Remote-Party-ID with screen=yes from an untrusted peer', () => {
    const rpid = '<sip:+31301112233@home.example;user=phone>;party=calling;screen=yes;privacy=off';
    const alerts = runSip([
      { src: SRC.untrusted, text: invite({ from: sipNum('+31301112233'), to: TO, callId: 'rpid-1@home', host: '127.0.0.13', headers: [`Remote-Party-ID: ${rpid}`] }) },
    ]);
    expect(ruleSet(alerts)).toEqual(['HDR-PAI-UNTRUSTED:medium']);
    expect(only(alerts, 'HDR-PAI-UNTRUSTED').evidence).toEqual([{ frame: 1, header: 'Remote-Party-ID', value: rpid }]);
  });

  it('does not raise for a trusted peer’s PAI, nor for FreeSWITCH’s default RPID (screen=no)', () => {
    expect(
      runSip([{ src: SRC.pbxAcme, text: invite({ from: sipNum('+31205550123'), to: TO, callId: 'pai-3@x', headers: [`P-Asserted-Identity: ${sipNum('+31205550123')}`] }) }]),
    ).toEqual([]);
    const rpid = '"Alice" <sip:+31301112233@home.example>;party=calling;screen=no;privacy=off';
    expect(
      runSip([{ src: SRC.untrusted, text: invite({ from: sipNum('+31301112233'), to: TO, callId: 'rpid-2@x', host: '127.0.0.13', headers: [`Remote-Party-ID: ${rpid}`] }) }]),
    ).toEqual([]);
  });
});

describe('SRC-UNKNOWN-PEER', () => {
  it('raises medium for a source that matches no peer', () => {
    const alerts = runSip([{ src: SRC.unknown, text: invite({ from: sipNum('+31104567890'), to: TO, callId: 'unk-1@x', host: '192.0.2.66' }) }]);
    expect(ruleSet(alerts)).toEqual(['SRC-UNKNOWN-PEER:medium']);
    const a = only(alerts, 'SRC-UNKNOWN-PEER');
    expect(a.reasons).toEqual(['No configured peer matches the source 192.0.2.66:5060 (udp).']);
    expect(a.evidence).toEqual([{ frame: 1, header: 'Source', value: '192.0.2.66:5060 udp' }]);
    expect(a.network.peer).toBeUndefined();
  });

  it('raises medium for a known address on the wrong transport', () => {
    const alerts = runSip([{ src: SRC.pbxAcme, transport: 'tcp', text: invite({ from: sipNum('+31205550123'), to: TO, callId: 'unk-2@x' }) }]);
    expect(ruleSet(alerts)).toEqual(['SRC-UNKNOWN-PEER:medium']);
    expect(only(alerts, 'SRC-UNKNOWN-PEER').reasons[0]).toMatch(/^127\.0\.0\.10:5060 over tcp matches a peer's address, but /);
  });

  it('does not raise for a configured peer', () => {
    expect(runSip([{ src: SRC.pbxAcme, transport: 'udp', text: invite({ from: sipNum('+31205550123'), to: TO, callId: 'unk-3@x' }) }])).toEqual([]);
  });
});

describe('CLI-PROTECTED', () => {
  it('raises high when a protected number arrives from a peer that is not its owner’s', () => {
    const alerts = runSip([{ src: SRC.carrierNl, text: invite({ from: sipNum('+31703456789', 'Mr. de Vries'), to: TO, callId: 'prot-1@x' }) }]);
    expect(ruleSet(alerts)).toEqual(['CLI-PROTECTED:high']);
    const a = only(alerts, 'CLI-PROTECTED');
    expect(a.reasons).toEqual([
      '+31703456789 in From is a protected number of De Vries Advocaten (lawyer, legal privilege).',
      'Only "lawfirm-pbx" may present it; this call came from "carrier-nl".',
    ]);
    expect(a.evidence).toEqual([{ frame: 1, header: 'From', value: withTag(sipNum('+31703456789', 'Mr. de Vries'), 'prot-1@x') }]);
    expect(a.presented).toEqual({ number: '+31703456789', header: 'From', displayName: 'Mr. de Vries' });
  });

  it('does not raise when the owner’s own trunk presents it (staff presenting the office number)', () => {
    expect(runSip([{ src: SRC.lawfirm, text: invite({ from: sipNum('+31703456789'), to: TO, callId: 'prot-2@x' }) }])).toEqual([]);
  });
});

describe('CLI-DNO', () => {
  it('raises critical for a do-not-originate number', () => {
    const alerts = runSip([{ src: SRC.carrierNl, text: invite({ from: sipNum('+31201234000'), to: TO, callId: 'dno-1@x' }) }]);
    expect(ruleSet(alerts)).toEqual(['CLI-DNO:critical']);
    const a = only(alerts, 'CLI-DNO');
    expect(a.reasons).toEqual([
      '+31201234000 in From is on the do-not-originate list (Examplebank fraud helpdesk (inbound only)): it only receives calls, so a call from it is spoofed.',
    ]);
    expect(a.evidence[0]).toMatchObject({ frame: 1, header: 'From' });
  });

  it('does not raise for a neighbouring number of the same bank that is not on the list', () => {
    expect(runSip([{ src: SRC.carrierNl, text: invite({ from: sipNum('+31201234001'), to: TO, callId: 'dno-2@x' }) }])).toEqual([]);
  });
});

describe('ID-FROM-PAI-MISMATCH', () => {
  const acme = (from: string, pai: string, callId: string, src: string = SRC.pbxAcme) =>
    runSip([{ src, text: invite({ from: sipNum(from), to: TO, callId, headers: [`P-Asserted-Identity: ${sipNum(pai)}`] }) }]);

  it('is info for the company general number (a presentation number) over an employee’s DDI', () => {
    const alerts = acme('+31881234567', '+31205550123', 'mm-1@pbx.acme.example');
    expect(ruleSet(alerts)).toEqual(['ID-FROM-PAI-MISMATCH:info']);
    const a = only(alerts, 'ID-FROM-PAI-MISMATCH');
    expect(a.reasons).toEqual([
      'From shows +31881234567 while the network asserts +31205550123 (P-Asserted-Identity) on trusted peer "pbx-acme".',
      'Presenting another number the peer may present (e.g. a company number) is legitimate on its own.',
    ]);
    expect(a.evidence).toEqual([
      { frame: 1, header: 'From', value: withTag(sipNum('+31881234567'), 'mm-1@pbx.acme.example') },
      { frame: 1, header: 'P-Asserted-Identity', value: sipNum('+31205550123') },
    ]);
    expect(a.presented).toEqual({ number: '+31881234567', header: 'From' });
  });

  it('is medium when the peer may not present the From number', () => {
    const alerts = acme('+31104567890', '+31205550123', 'mm-2@pbx.acme.example');
    expect(ruleSet(alerts)).toEqual(['ID-FROM-PAI-MISMATCH:medium']);
    expect(only(alerts, 'ID-FROM-PAI-MISMATCH').reasons[1]).toBe('"pbx-acme" may not present +31104567890.');
  });

  it('is high when the From number is protected', () => {
    const alerts = acme('+31703456789', '+31205550123', 'mm-3@pbx.acme.example');
    expect(ruleSet(alerts)).toEqual(['ID-FROM-PAI-MISMATCH:high']);
    expect(only(alerts, 'ID-FROM-PAI-MISMATCH').reasons[1]).toBe('+31703456789 is a protected number of De Vries Advocaten (lawyer, legal privilege).');
  });

  it('is high when the From number is do-not-originate', () => {
    const alerts = acme('+31201234000', '+31205550123', 'mm-4@pbx.acme.example');
    expect(ruleSet(alerts)).toEqual(['ID-FROM-PAI-MISMATCH:high']);
    expect(only(alerts, 'ID-FROM-PAI-MISMATCH').reasons[1]).toBe('+31201234000 is on the do-not-originate list.');
  });

  it('is info when the protected owner’s own trunk presents its protected general number', () => {
    const alerts = acme('+31703456789', '+31703456712', 'mm-5@lawfirm', SRC.lawfirm);
    expect(ruleSet(alerts)).toEqual(['ID-FROM-PAI-MISMATCH:info']);
  });

  it('does not raise when From equals PAI, or on an untrusted peer (where PAI is no network identity)', () => {
    expect(acme('+31205550123', '+31205550123', 'mm-6@x')).toEqual([]);
    const untrusted = runSip([
      {
        src: SRC.untrusted,
        text: invite({ from: sipNum('+31301112233'), to: TO, callId: 'mm-7@x', host: '127.0.0.13', headers: [`P-Asserted-Identity: ${sipNum('+31301112299')}`] }),
      },
    ]);
    expect(ruleSet(untrusted)).toEqual(['HDR-PAI-UNTRUSTED:medium']);
  });
});

describe('PRIV-ANON-WITH-PAI', () => {
  const anon = '"Anonymous" <sip:anonymous@anonymous.invalid>';

  it('raises medium for an anonymous From with a PAI from an untrusted peer', () => {
    const pai = sipNum('+31301112233');
    const alerts = runSip([
      {
        src: SRC.untrusted,
        text: invite({ from: anon, to: TO, callId: 'anon-1@home', host: '127.0.0.13', headers: [`P-Asserted-Identity: ${pai}`, 'Privacy: id'] }),
      },
    ]);
    expect(ruleSet(alerts)).toEqual(['HDR-PAI-UNTRUSTED:medium', 'PRIV-ANON-WITH-PAI:medium']);
    const a = only(alerts, 'PRIV-ANON-WITH-PAI');
    expect(a.reasons).toEqual([
      'From is withheld (sip:anonymous@anonymous.invalid) but P-Asserted-Identity asserts sip:+31301112233@sbc.example.net;user=phone.',
      'The peer is untrusted, so the assertion is caller-controlled and the withheld call is unexplained.',
    ]);
    expect(a.evidence).toEqual([
      { frame: 1, header: 'From', value: withTag(anon, 'anon-1@home') },
      { frame: 1, header: 'P-Asserted-Identity', value: pai },
    ]);
    expect(a.presented).toEqual({ number: '+31301112233', header: 'P-Asserted-Identity' });
  });

  it('does not raise for a withheld call inside the trust domain (trusted peer, Privacy: id, real number in PAI)', () => {
    const alerts = runSip([
      {
        src: SRC.pbxAcme,
        text: invite({ from: anon, to: TO, callId: 'anon-2@pbx.acme.example', headers: [`P-Asserted-Identity: ${sipNum('+31205550123')}`, 'Privacy: id'] }),
      },
    ]);
    expect(alerts).toEqual([]);
  });
});

describe('DIV-UNTRUSTED', () => {
  it('raises medium for a Diversion from an untrusted peer naming a number it does not own', () => {
    const div = '<sip:+31104567890@home.example;user=phone>;reason=unconditional';
    const alerts = runSip([
      { src: SRC.untrusted, text: invite({ from: sipNum('+31301112233'), to: TO, callId: 'div-1@home', host: '127.0.0.13', headers: [`Diversion: ${div}`] }) },
    ]);
    expect(ruleSet(alerts)).toEqual(['DIV-UNTRUSTED:medium']);
    const a = only(alerts, 'DIV-UNTRUSTED');
    expect(a.reasons).toEqual([
      'Diversion names +31104567890, received from untrusted peer "access-untrusted".',
      'The peer does not own +31104567890, so the forwarding claim is unverified.',
    ]);
    expect(a.evidence).toEqual([{ frame: 1, header: 'Diversion', value: div }]);
  });

  it('raises medium for a Diversion counter above the limit, even for the peer’s own number', () => {
    const alerts = runSip([
      {
        src: SRC.untrusted,
        text: invite({
          from: sipNum('+31301112233'),
          to: TO,
          callId: 'div-2@home',
          host: '127.0.0.13',
          headers: ['Diversion: <sip:+31301112233@home.example;user=phone>;reason=unconditional;counter=9'],
        }),
      },
    ]);
    expect(ruleSet(alerts)).toEqual(['DIV-UNTRUSTED:medium']);
    expect(only(alerts, 'DIV-UNTRUSTED').reasons[1]).toBe('Diversion counter 9 exceeds the limit 5.');
  });

  it('raises for History-Info mapped from a number the untrusted peer does not own', () => {
    const alerts = runSip([
      {
        src: SRC.untrusted,
        text: invite({
          from: sipNum('+31301112233'),
          to: TO,
          callId: 'div-3@home',
          host: '127.0.0.13',
          headers: ['History-Info: <sip:+31104567890@home.example>;index=1', `History-Info: <sip:${CALLEE}@home.example>;index=1.1;mp=1`],
        }),
      },
    ]);
    expect(ruleSet(alerts)).toEqual(['DIV-UNTRUSTED:medium']);
    expect(only(alerts, 'DIV-UNTRUSTED').evidence).toEqual([{ frame: 1, header: 'History-Info', value: '<sip:+31104567890@home.example>;index=1' }]);
  });

  it('does not raise for the untrusted peer’s own number with a normal counter, nor for a trusted peer', () => {
    expect(
      runSip([
        {
          src: SRC.untrusted,
          text: invite({ from: sipNum('+31301112233'), to: TO, callId: 'div-4@home', host: '127.0.0.13', headers: ['Diversion: <sip:+31301112233@home.example>;reason=no-answer;counter=1'] }),
        },
      ]),
    ).toEqual([]);
    expect(
      runSip([{ src: SRC.carrierNl, text: invite({ from: sipNum('+31104567890'), to: TO, callId: 'div-5@x', headers: ['Diversion: <sip:+31209998877@carrier.example>;reason=busy'] }) }]),
    ).toEqual([]);
  });
});

describe('DISPLAY-IMPERSONATION', () => {
  it('raises high for a look-alike brand name on a number that is not the brand’s', () => {
    const from = sipNum('+31104567890', 'Examp1e Bank');
    const alerts = runSip([{ src: SRC.carrierNl, text: invite({ from, to: TO, callId: 'brand-1@x' }) }]);
    expect(ruleSet(alerts)).toEqual(['DISPLAY-IMPERSONATION:high']);
    const a = only(alerts, 'DISPLAY-IMPERSONATION');
    expect(a.reasons).toEqual([
      'From shows the name "Examp1e Bank", which matches brand "Examplebank" ("Example Bank").',
      "The caller number +31104567890 is not one of Examplebank's numbers.",
    ]);
    expect(a.evidence).toEqual([{ frame: 1, header: 'From', value: withTag(from, 'brand-1@x') }]);
    expect(a.presented).toEqual({ number: '+31104567890', header: 'From', displayName: 'Examp1e Bank' });
  });

  it('does not raise for the brand calling from its own numbers, or for an unrelated name', () => {
    expect(runSip([{ src: SRC.carrierNl, text: invite({ from: sipNum('+31201234050', 'Example Bank'), to: TO, callId: 'brand-2@x' }) }])).toEqual([]);
    expect(runSip([{ src: SRC.carrierNl, text: invite({ from: sipNum('+31104567890', 'Jan de Vries'), to: TO, callId: 'brand-3@x' }) }])).toEqual([]);
  });
});

describe('raw text', () => {
  it('reads a hand-written INVITE exactly as the builder would', () => {
    const text = crlf([
      'INVITE sip:+31687654321@sbc.example.net;user=phone SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.11:5060;branch=z9hG4bK776asdhds',
      'Max-Forwards: 70',
      'From: "Examplebank" <sip:+31201234000@carrier.example;user=phone>;tag=1928301774',
      'To: <sip:+31687654321@sbc.example.net;user=phone>',
      'Call-ID: a84b4c76e66710@carrier.example',
      'CSeq: 314159 INVITE',
      'Contact: <sip:+31201234000@127.0.0.11:5060>',
      'Content-Length: 0',
    ]);
    expect(ruleSet(runSip([{ src: SRC.carrierNl, text }]))).toEqual(['CLI-DNO:critical']);
  });
});
