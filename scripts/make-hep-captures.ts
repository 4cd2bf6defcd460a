/**
 * Makes the HEP captures in test/captures/crafted/hep/ (issue #16 point 6): a capture taken at a HEP collector, with
 * HEP v1, v2 and v3 over UDP and over TCP, IPv4 and IPv6 (outer and inner), as Kamailio's siptrace sends them.
 *
 * tshark 4.0 has no HEP dissector (`tshark -G protocols` lists none; v1, v2 and v3 alike), so beside each HEP capture
 * this writes its twin in test/captures/crafted/hep/twin/: the same SIP messages in the same frames without the HEP
 * wrapping (UDP datagrams to port 5060, or one TCP stream to port 5060 cut at the same places as the HEP stream), so
 * that tshark dissects the twin and the differential test (test/differential/tshark.test.ts) compares our reading of
 * the HEP capture with tshark's reading of the twin, frame by frame. A non-SIP HEP packet (a Kamailio `hlog()` line,
 * payload type 100) has a twin frame without SIP. Also writes test/captures/crafted/hep/expected.json: per capture, what
 * the HEP layer carries that tshark cannot check (inner addresses, transport, capture time, capture agent).
 *
 * Deterministic: fixed timestamps and documentation addresses; a rerun gives byte-identical files.
 * Usage: npx tsx scripts/make-hep-captures.ts [outdir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeHep, encodeHepV12, type HepPacket } from '../src/decode/hep.js';
import { PcapWriter } from '../src/sources/capture/writer.js';
import { LinkType, type Timestamp } from '../src/types.js';
import { TcpFlags, tcpPacket, udpPacket } from './lib/packets.js';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, '..', 'test', 'captures', 'crafted', 'hep'));

interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

interface Sip {
  readonly label: string;
  readonly fwd: boolean;
  readonly text: string;
}

const host = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

/** One call: INVITE (with PAI), 100, 180, 200, ACK, BYE, 200 — Call-ID `hep-<name>@example.test`. */
function call(name: string, caller: Endpoint, callee: Endpoint, from: string, pai: string, to: string, transport: 'UDP' | 'TCP'): Sip[] {
  const callId = `hep-${name}@example.test`;
  const ruri = `sip:${to}@${host(callee.ip)}:${callee.port}`;
  const fromH = `From: "Caller ${name}" <sip:${from}@${host(caller.ip)}>;tag=${name}-f`;
  const toH = `To: <sip:${to}@${host(callee.ip)}>`;
  const toT = `${toH};tag=${name}-t`;
  const via = (b: string) => `Via: SIP/2.0/${transport} ${host(caller.ip)}:${caller.port};branch=z9hG4bK-${name}-${b}`;
  const msg = (start: string, headers: string[], body = '') =>
    `${start}\r\n${[...headers, ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${Buffer.byteLength(body)}`].join('\r\n')}\r\n\r\n${body}`;
  const sdp = (ip: string, port: number) =>
    ['v=0', `o=- 1 1 IN IP${ip.includes(':') ? 6 : 4} ${ip}`, 's=-', `c=IN IP${ip.includes(':') ? 6 : 4} ${ip}`, 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
  const common = [fromH, `Call-ID: ${callId}`];
  const resp = (code: string, to: string, body = '') => msg(`SIP/2.0 ${code}`, [via('1'), to, ...common, 'CSeq: 1 INVITE'], body);
  return [
    { label: 'INVITE', fwd: true, text: msg(`INVITE ${ruri} SIP/2.0`, [via('1'), 'Max-Forwards: 70', toH, ...common, 'CSeq: 1 INVITE', `Contact: <sip:${from}@${host(caller.ip)}:${caller.port}>`, `P-Asserted-Identity: <sip:${pai}@${host(caller.ip)};user=phone>`], sdp(caller.ip, 16000)) },
    { label: '100', fwd: false, text: resp('100 Trying', toH) },
    { label: '180', fwd: false, text: resp('180 Ringing', toT) },
    { label: '200', fwd: false, text: resp('200 OK', toT, sdp(callee.ip, 20000)) },
    { label: 'ACK', fwd: true, text: msg(`ACK ${ruri} SIP/2.0`, [via('2'), 'Max-Forwards: 70', toT, ...common, 'CSeq: 1 ACK']) },
    { label: 'BYE', fwd: true, text: msg(`BYE ${ruri} SIP/2.0`, [via('3'), 'Max-Forwards: 70', toT, ...common, 'CSeq: 2 BYE']) },
    { label: '200', fwd: false, text: msg('SIP/2.0 200 OK', [via('3'), toT, ...common, 'CSeq: 2 BYE']) },
  ];
}

interface Spec {
  readonly file: string;
  readonly version: 1 | 2 | 3;
  readonly feed: 'udp' | 'tcp';
  /** The agent (Kamailio) and the collector: the outer addresses. */
  readonly agent: Endpoint;
  readonly collector: Endpoint;
  /** The signalling the agent reports: the inner addresses. */
  readonly caller: Endpoint;
  readonly callee: Endpoint;
  readonly inner: 'UDP' | 'TCP';
  readonly captureId: number;
  /** Add a non-SIP HEP packet (payload type 100, a Kamailio hlog() line) after the INVITE. */
  readonly log?: boolean;
}

const SPECS: readonly Spec[] = [
  { file: 'hep1-udp.pcap', version: 1, feed: 'udp', agent: { ip: '192.0.2.50', port: 5060 }, collector: { ip: '192.0.2.9', port: 9060 }, caller: { ip: '198.51.100.10', port: 5060 }, callee: { ip: '192.0.2.50', port: 5060 }, inner: 'UDP', captureId: 0 },
  { file: 'hep2-udp-ipv6.pcap', version: 2, feed: 'udp', agent: { ip: '2001:db8::50', port: 5060 }, collector: { ip: '2001:db8::9', port: 9060 }, caller: { ip: '2001:db8:1::10', port: 5070 }, callee: { ip: '2001:db8::50', port: 5060 }, inner: 'TCP', captureId: 2002 },
  { file: 'hep3-udp.pcap', version: 3, feed: 'udp', agent: { ip: '192.0.2.50', port: 5060 }, collector: { ip: '192.0.2.9', port: 47000 }, caller: { ip: '2001:db8:1::10', port: 5060 }, callee: { ip: '2001:db8::50', port: 5060 }, inner: 'UDP', captureId: 2003, log: true },
  { file: 'hep1-tcp.pcap', version: 1, feed: 'tcp', agent: { ip: '192.0.2.50', port: 40001 }, collector: { ip: '192.0.2.9', port: 9060 }, caller: { ip: '198.51.100.10', port: 5060 }, callee: { ip: '192.0.2.50', port: 5060 }, inner: 'UDP', captureId: 0 },
  { file: 'hep2-tcp-ipv6.pcap', version: 2, feed: 'tcp', agent: { ip: '2001:db8::50', port: 40002 }, collector: { ip: '2001:db8::9', port: 9061 }, caller: { ip: '2001:db8:1::10', port: 5060 }, callee: { ip: '2001:db8::50', port: 5060 }, inner: 'TCP', captureId: 2002 },
  { file: 'hep3-tcp.pcap', version: 3, feed: 'tcp', agent: { ip: '192.0.2.50', port: 40003 }, collector: { ip: '192.0.2.9', port: 9060 }, caller: { ip: '198.51.100.10', port: 5060 }, callee: { ip: '192.0.2.50', port: 5060 }, inner: 'UDP', captureId: 2003, log: true },
];

/** A piece of the stream: bytes [a, b) of message k's SIP text (with its HEP header when a = 0), or the log packet. */
type Piece = readonly [k: number, a: number, b: number] | 'log';

/**
 * How the HEP TCP stream is cut into segments (after the handshake): whole packets, two packets in one segment, a
 * packet cut inside its SIP headers and continued with the next packet, a packet cut inside its body.
 */
function segmentsOf(msgs: readonly Sip[], log: boolean): Piece[][] {
  const len = (k: number) => Buffer.byteLength(msgs[k]!.text);
  const half = (k: number) => Math.floor(len(k) / 2);
  return [
    [[0, 0, len(0)]],
    ...(log ? [['log' as const]] : []),
    [[1, 0, len(1)], [2, 0, len(2)]],
    [[3, 0, 40]],
    [[3, 40, len(3) - 10]],
    [[3, len(3) - 10, len(3)], [4, 0, half(4)]],
    [[4, half(4), len(4)]],
    [[5, 0, len(5)], [6, 0, len(6)]],
  ];
}

const logText = (name: string) => `ERROR: <script>: call hep-${name}@example.test has no route`;

function hepOf(s: Spec, m: Sip, ts: Timestamp, payloadType = 1, text = m.text): Buffer {
  const fwd = m.fwd;
  const p: HepPacket = {
    ipFamily: s.caller.ip.includes(':') ? 6 : 4,
    ipProtocol: s.inner === 'UDP' ? 17 : 6,
    src: fwd ? s.caller : s.callee,
    dst: fwd ? s.callee : s.caller,
    ts,
    payloadType,
    ...(s.captureId ? { captureId: s.captureId } : {}),
    payload: Buffer.from(text, 'latin1'),
  };
  return s.version === 3 ? encodeHep(p) : encodeHepV12(p, s.version);
}

interface Expected {
  readonly version: number;
  readonly feed: string;
  readonly sipMessages: number;
  readonly hepNotSip: Record<string, number>;
  /** The agent alerts name: the outer source address, and the capture id (v2, v3). */
  readonly agent: { address: string; captureId?: number };
  readonly messages: { frame: number; callId: string; message: string; src: string; dst: string; transport: string; ts: string }[];
}

const ep = (e: Endpoint) => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);
const iso = (t: Timestamp) => `${new Date(t.sec * 1000).toISOString().slice(0, 19)}.${String(Math.floor(t.nsec / 1000)).padStart(6, '0')}Z`;

function make(s: Spec): { hep: Buffer; twin: Buffer; expected: Expected } {
  const name = s.file.replace(/\.pcap$/, '');
  const msgs = call(name, s.caller, s.callee, '+31301234567', '+31201234000', '+31612345678', s.inner);
  const base = 1_767_225_600; // 2026-01-01T00:00:00Z
  // The agent's capture time of message k, and the (later) time the collector's capture saw the frame.
  const sent = (k: number): Timestamp => ({ sec: base + k, nsec: 250_000_000 + k * 1000 });
  const seen = (f: number): Timestamp => ({ sec: base + 100 + f, nsec: 0 });
  const hepW = new PcapWriter({ linkType: LinkType.RAW });
  const twinW = new PcapWriter({ linkType: LinkType.RAW });
  const expected: Expected = {
    version: s.version,
    feed: s.feed,
    sipMessages: msgs.length,
    hepNotSip: s.log ? { '100': 1 } : {},
    agent: { address: ep(s.agent), ...(s.version !== 1 ? { captureId: s.captureId } : {}) },
    messages: [],
  };
  let frame = 0;
  const logMsg: Sip = { label: 'log', fwd: true, text: logText(name) };
  const record = (k: number, f: number) => {
    const m = msgs[k]!;
    expected.messages.push({
      frame: f,
      callId: `hep-${name}@example.test`,
      message: m.label,
      src: ep(m.fwd ? s.caller : s.callee),
      dst: ep(m.fwd ? s.callee : s.caller),
      transport: s.inner.toLowerCase(),
      // HEP v1 carries no time: the message takes the time of the frame that carried it.
      ts: iso(s.version === 1 ? seen(f) : sent(k)),
    });
  };
  // Twin endpoints: SIP on port 5060 so that tshark dissects it.
  const tA: Endpoint = { ip: '203.0.113.1', port: 40000 };
  const tB: Endpoint = { ip: '203.0.113.2', port: 5060 };

  if (s.feed === 'udp') {
    const order: (number | 'log')[] = [0, ...(s.log ? ['log' as const] : []), 1, 2, 3, 4, 5, 6];
    for (const k of order) {
      frame++;
      if (k === 'log') {
        hepW.add({ ts: seen(frame), bytes: udpPacket(s.agent.ip, s.agent.port, s.collector.ip, s.collector.port, hepOf(s, logMsg, sent(0), 100)) });
        twinW.add({ ts: seen(frame), bytes: udpPacket(tA.ip, tA.port, tB.ip, 9, Buffer.from(logMsg.text)) });
        continue;
      }
      const m = msgs[k]!;
      hepW.add({ ts: seen(frame), bytes: udpPacket(s.agent.ip, s.agent.port, s.collector.ip, s.collector.port, hepOf(s, m, sent(k))) });
      twinW.add({ ts: seen(frame), bytes: udpPacket(tA.ip, tA.port, tB.ip, tB.port, Buffer.from(m.text, 'latin1')) });
      record(k, frame);
    }
    return { hep: hepW.toBuffer(), twin: twinW.toBuffer(), expected };
  }

  // TCP: handshake, then the segments, the same cuts in the HEP stream and in the twin's SIP stream.
  const both = (f: (a: Endpoint, b: Endpoint) => (seg: { seq: number; ack?: number; flags: number; payload?: Buffer }) => Buffer, segs: { seq: number; ack?: number; flags: number; payload?: Buffer }[], twinSegs: typeof segs) => {
    for (let i = 0; i < segs.length; i++) {
      frame++;
      hepW.add({ ts: seen(frame), bytes: f(s.agent, s.collector)(segs[i]!) });
      twinW.add({ ts: seen(frame), bytes: f(tA, tB)(twinSegs[i]!) });
    }
  };
  const fwdSeg = (a: Endpoint, b: Endpoint) => (seg: { seq: number; ack?: number; flags: number; payload?: Buffer }) => tcpPacket(a.ip, a.port, b.ip, b.port, seg);
  const revSeg = (a: Endpoint, b: Endpoint) => (seg: { seq: number; ack?: number; flags: number; payload?: Buffer }) => tcpPacket(b.ip, b.port, a.ip, a.port, seg);
  const { SYN, ACK, PSH } = TcpFlags;
  both(fwdSeg, [{ seq: 1000, flags: SYN }], [{ seq: 1000, flags: SYN }]);
  both(revSeg, [{ seq: 7000, ack: 1001, flags: SYN | ACK }], [{ seq: 7000, ack: 1001, flags: SYN | ACK }]);
  both(fwdSeg, [{ seq: 1001, ack: 7001, flags: ACK }], [{ seq: 1001, ack: 7001, flags: ACK }]);
  const packets = msgs.map((m, k) => hepOf(s, m, sent(k)));
  let hepSeq = 1001;
  let twinSeq = 1001;
  for (const seg of segmentsOf(msgs, s.log === true)) {
    const hepBytes: Buffer[] = [];
    const twinBytes: Buffer[] = [];
    const completes: number[] = [];
    for (const piece of seg) {
      if (piece === 'log') {
        hepBytes.push(hepOf(s, logMsg, sent(0), 100));
        continue;
      }
      const [k, a, b] = piece;
      const sip = Buffer.from(msgs[k]!.text, 'latin1');
      const prefix = packets[k]!.subarray(0, packets[k]!.length - sip.length);
      hepBytes.push(...(a === 0 ? [prefix] : []), sip.subarray(a, b));
      twinBytes.push(sip.subarray(a, b));
      if (b === sip.length) completes.push(k);
    }
    const hp = Buffer.concat(hepBytes);
    const tp = Buffer.concat(twinBytes);
    both(fwdSeg, [{ seq: hepSeq, ack: 7001, flags: PSH | ACK, payload: hp }], [{ seq: twinSeq, ack: 7001, flags: tp.length ? PSH | ACK : ACK, payload: tp }]);
    hepSeq += hp.length;
    twinSeq += tp.length;
    for (const k of completes) record(k, frame);
  }
  return { hep: hepW.toBuffer(), twin: twinW.toBuffer(), expected };
}

mkdirSync(join(outDir, 'twin'), { recursive: true });
const all: Record<string, Expected> = {};
for (const s of SPECS) {
  const { hep, twin, expected } = make(s);
  writeFileSync(join(outDir, s.file), hep);
  writeFileSync(join(outDir, 'twin', s.file), twin);
  all[s.file] = expected;
  console.log(`${join(outDir, s.file)}: ${hep.length} bytes, HEP v${s.version} over ${s.feed.toUpperCase()}, ${expected.messages.length} SIP messages`);
}
writeFileSync(join(outDir, 'expected.json'), JSON.stringify(all, null, 2) + '\n');
