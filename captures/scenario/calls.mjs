// The labelled scenario calls: one SIPp UAC scenario per call, played from the peer's own 127.0.0.x address
// (see spoofwatch.yaml for the peers). `node calls.mjs` writes xml/<id>.xml; ../../scripts/capture-scenario.sh plays
// them against a SIPp UAS and records captures/scenario/scenario.pcapng. `expect` is the exact alert set
// (rule → severity) that spoofwatch must raise for the call; test/scenario.test.ts checks it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PEERS = {
  acme: '127.0.0.10', // pbx-acme: trusted enterprise, +312055501xx, presents +31881234567
  carrier: '127.0.0.11', // carrier-nl: trusted national transit (any)
  intl: '127.0.0.12', // carrier-intl: trusted international transit (any)
  access: '127.0.0.13', // access-untrusted: one subscriber line +31301112233
  lawfirm: '127.0.0.14', // lawfirm-pbx: owner of protected +31703456789
  unknown: '127.0.0.99', // no peer
};

/** @type {{id:string, peer:keyof PEERS, transport?:'udp'|'tcp', label:string, from:string, to?:string, headers?:string[], expect:Record<string,string>}[]} */
export const CALLS = [
  { id: 'sc01', peer: 'acme', label: 'legitimate: employee line, PAI equals From', from: '<sip:+31205550101@acme.example>', headers: ['P-Asserted-Identity: <sip:+31205550101@acme.example>'], expect: {} },
  { id: 'sc02', peer: 'acme', label: "legitimate: employee presents the company's general number", from: '"Acme BV" <sip:+31881234567@acme.example>', headers: ['P-Asserted-Identity: <sip:+31205550101@acme.example>'], expect: { 'ID-FROM-PAI-MISMATCH': 'info' } },
  { id: 'sc03', peer: 'acme', label: 'legitimate: withheld call inside the trust domain', from: '"Anonymous" <sip:anonymous@anonymous.invalid>', headers: ['P-Asserted-Identity: <tel:+31205550102>', 'Privacy: id'], expect: {} },
  { id: 'sc04', peer: 'acme', label: 'legitimate: call forwarded by a trusted PBX (DIV-EXPLAINS lowers to info)', from: '<sip:+31612345678@mobile.example>', headers: ['P-Asserted-Identity: <sip:+31612345678@mobile.example>', 'Diversion: <sip:+31205550103@acme.example>;reason=unconditional;counter=1'], expect: { 'CLI-NOT-AUTHORIZED': 'info' } },
  { id: 'sc05', peer: 'access', label: "spoof: subscriber presents the PBX's number", from: '<sip:+31205550100@voip.example>', expect: { 'CLI-NOT-AUTHORIZED': 'high' } },
  { id: 'sc06', peer: 'access', label: 'untrusted peer sends PAI', from: '<sip:+31301112233@voip.example>', headers: ['P-Asserted-Identity: <sip:+31301112233@voip.example>'], expect: { 'HDR-PAI-UNTRUSTED': 'medium' } },
  { id: 'sc07', peer: 'unknown', label: 'call from an unknown source', from: '<sip:+31301234567@unknown.example>', expect: { 'SRC-UNKNOWN-PEER': 'medium' } },
  { id: 'sc08', peer: 'access', label: "spoof: lawyer's protected number", from: '<sip:+31703456789@voip.example>', expect: { 'CLI-NOT-AUTHORIZED': 'high', 'CLI-PROTECTED': 'high' } },
  { id: 'sc09', peer: 'carrier', label: "spoof: bank's inbound-only fraud line (DNO)", from: '<sip:+31201234000@carrier.example>', expect: { 'CLI-DNO': 'critical' } },
  { id: 'sc10', peer: 'carrier', label: 'spoof: emergency number as caller', from: '<sip:112@carrier.example>', expect: { 'CLI-SPECIAL': 'critical' } },
  { id: 'sc11', peer: 'carrier', label: 'spoof: premium-rate number as caller', from: '<sip:+319001234567@carrier.example>', expect: { 'CLI-SPECIAL': 'high' } },
  { id: 'sc12', peer: 'carrier', label: 'spoof: impossible number', from: '<sip:+3112345@carrier.example>', expect: { 'CLI-INVALID': 'high' } },
  { id: 'sc13', peer: 'intl', label: 'Dutch fixed number arriving from abroad', from: '<sip:+31201234567@intl.example>', expect: { 'REG-INTL-NATIONAL-CLI': 'high' } },
  { id: 'sc14', peer: 'carrier', label: 'spoof: caller presents the called number', from: '<sip:+31301234599@carrier.example>', to: '+31301234599', expect: { 'CLI-CALLED-AS-CALLER': 'high' } },
  { id: 'sc15', peer: 'carrier', label: 'spoof: display name imitates a bank', from: '"Examp1e Bank" <sip:+31612345679@carrier.example>', expect: { 'DISPLAY-IMPERSONATION': 'high' } },
  { id: 'sc16', peer: 'unknown', label: 'scanner: friendly-scanner from an unknown source', from: '"sipvicious" <sip:100@127.0.0.99>', headers: ['User-Agent: friendly-scanner'], expect: { 'SRC-UNKNOWN-PEER': 'medium', 'UA-ATTACK-TOOL': 'high', 'CLI-INVALID': 'high' } },
  { id: 'sc17', peer: 'access', label: 'anonymous From with PAI from an untrusted peer', from: '<sip:anonymous@anonymous.invalid>', headers: ['P-Asserted-Identity: <sip:+31301112233@voip.example>'], expect: { 'HDR-PAI-UNTRUSTED': 'medium', 'PRIV-ANON-WITH-PAI': 'medium' } },
  { id: 'sc18', peer: 'access', label: 'forged verstat from an untrusted peer', from: '<sip:+31301112233;verstat=TN-Validation-Passed@voip.example;user=phone>', expect: { 'HDR-PAI-UNTRUSTED': 'medium', 'VERSTAT-FORGED': 'high' } },
  { id: 'sc19', peer: 'carrier', label: 'malformed: duplicate From header', from: '<sip:+31301234568@carrier.example>', headers: ['From: <sip:+31301234569@carrier.example>;tag=dup'], expect: { 'MSG-MALFORMED': 'medium' } },
  { id: 'sc20', peer: 'access', label: 'spoof with a forged Diversion from an untrusted peer', from: '<sip:+31612345670@voip.example>', headers: ['Diversion: <sip:+31205550100@acme.example>;reason=unconditional;counter=1'], expect: { 'CLI-NOT-AUTHORIZED': 'high', 'DIV-UNTRUSTED': 'medium' } },
  { id: 'sc21', peer: 'lawfirm', label: 'legitimate: protected number from its owner', from: '<sip:+31703456789@lawfirm.example>', headers: ['P-Asserted-Identity: <sip:+31703456789@lawfirm.example>'], expect: {} },
  { id: 'sc22', peer: 'acme', transport: 'tcp', label: "PBX's address but the wrong transport", from: '<sip:+31205550104@acme.example>', headers: ['P-Asserted-Identity: <sip:+31205550104@acme.example>'], expect: { 'SRC-UNKNOWN-PEER': 'medium', 'HDR-PAI-UNTRUSTED': 'medium' } },
  { id: 'sc23', peer: 'unknown', label: "unknown source presents the PBX employee's number seen minutes before", from: '<sip:+31205550101@unknown.example>', expect: { 'SRC-UNKNOWN-PEER': 'medium', 'CLI-MULTI-PEER': 'high' } },
  { id: 'sc24', peer: 'acme', label: 'employee presents a number the PBX may not present', from: '<sip:+31612345611@acme.example>', headers: ['P-Asserted-Identity: <sip:+31205550105@acme.example>'], expect: { 'ID-FROM-PAI-MISMATCH': 'medium' } },
  { id: 'sc25', peer: 'intl', label: 'legitimate: foreign caller via the international carrier', from: '<sip:+4930123456@intl.example>', expect: {} },
];

export function scenario(c) {
  const to = c.to ?? '+31301234500';
  const extra = (c.headers ?? []).map((h) => `      ${h}\n`).join('');
  const common = `      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${c.from};tag=${c.id}-caller
      To: <sip:${to}@[remote_ip]:[remote_port]>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- ${c.id}: ${c.label}. Generated by calls.mjs; expected alerts: ${JSON.stringify(c.expect)} -->
<scenario name="${c.id}">
  <send retrans="500">
    <![CDATA[
      INVITE sip:${to}@[remote_ip]:[remote_port] SIP/2.0
${common}
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
${extra}      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 8
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200"/>
  <send>
    <![CDATA[
      ACK sip:${to}@[remote_ip]:[remote_port] SIP/2.0
${common}[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <pause milliseconds="20"/>
  <send retrans="500">
    <![CDATA[
      BYE sip:${to}@[remote_ip]:[remote_port] SIP/2.0
${common}[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
</scenario>
`;
}

/** The Call-ID SIPp gives the call: -cid_str "<id>-%u@spoofwatch.test" with one call per run. */
export function callIdOf(c) {
  return `${c.id}-1@spoofwatch.test`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'xml');
  mkdirSync(dir, { recursive: true });
  const plan = [];
  for (const c of CALLS) {
    writeFileSync(join(dir, `${c.id}.xml`), scenario(c));
    plan.push(`${c.id} ${PEERS[c.peer]} ${c.transport ?? 'udp'}`);
  }
  writeFileSync(join(dir, 'plan.txt'), plan.join('\n') + '\n');
  console.log(`wrote ${CALLS.length} scenarios to ${dir}`);
}
