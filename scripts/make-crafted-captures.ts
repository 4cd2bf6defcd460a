/**
 * Makes the crafted captures in test/captures/crafted/ for the decoder acceptance tests: every link type we
 * decode, VLAN/QinQ, IP-in-IP and GRE tunnels, out-of-order IPv4/IPv6 fragments, TCP with several SIP
 * messages per segment and one message over several (reordered, retransmitted) segments, two-interface
 * pcapng, nanosecond and big-endian files, gzip, and SIP on non-standard ports among RTP/DNS noise; the link
 * and tunnel layers of access and data-centre networks (PPPoE sessions, MPLS unicast/multicast and an Ethernet
 * pseudowire, ERSPAN type II and III, VXLAN), the modified pcap of Alexey Kuznetzov (magic 0xa1b2cd34), a
 * Microsoft Network Monitor 2.x file, and a capture of LLDP frames only (no SIP).
 *
 * Deterministic: fixed timestamps, documentation addresses (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32)
 * and a seeded generator, so a rerun gives byte-identical files. Also writes
 * test/captures/crafted/tshark-options.json (extra tshark args per file) and test/captures/crafted/expected.json
 * (the SIP messages each file carries, in wire order).
 *
 * Usage: npx tsx scripts/make-crafted-captures.ts [outdir]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { LinkType, type Timestamp } from '../src/types.js';
import { PcapWriter, PcapngWriter, type Endianness } from '../src/sources/capture/writer.js';
import {
  AddressFamily,
  EtherTypes,
  IpProto,
  TcpFlags,
  erspanII,
  erspanIII,
  ethernet,
  etherTypeOf,
  fragmentIpv4,
  gre,
  lldpdu,
  mpls,
  pppoeSession,
  pppProtocolOf,
  VXLAN_PORT,
  vxlan,
  ip,
  ipInIp,
  ipv6Fragment,
  loopback,
  sll,
  sll2,
  tcpPacket,
  udp,
  udpPacket,
  type VlanTag,
} from './lib/packets.js';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, '..', 'test', 'captures', 'crafted'));

// ---------------------------------------------------------------- SIP text

type Transport = 'UDP' | 'TCP';

interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

interface CallSpec {
  /** Call-ID is `crafted-<file name without extension>-<n>@example.test`. */
  readonly file: string;
  readonly n: number;
  readonly caller: Endpoint;
  readonly callee: Endpoint;
  readonly from: string; // E.164, with '+'
  readonly to: string;
  readonly displayName?: string;
  /** Each entry is one P-Asserted-Identity header line (may itself hold a comma-separated list). */
  readonly pai: readonly string[];
  readonly transport?: Transport;
  /** Extra lines for the INVITE's SDP (to make it large). */
  readonly extraSdp?: readonly string[];
  /** Extra header lines for the INVITE. */
  readonly extraHeaders?: readonly string[];
}

interface SipMsg {
  /** true: caller → callee. */
  readonly fwd: boolean;
  readonly text: string;
  readonly label: string; // 'INVITE', '100', …
}

const hostOf = (a: string): string => (a.includes(':') ? `[${a}]` : a);
const sdpAddr = (a: string): string => (a.includes(':') ? `IN IP6 ${a}` : `IN IP4 ${a}`);

function sdp(owner: string, rtpPort: number, extra: readonly string[] = []): string {
  return [
    'v=0',
    `o=- 20231114 20231114 ${sdpAddr(owner)}`,
    's=-',
    `c=${sdpAddr(owner)}`,
    't=0 0',
    `m=audio ${rtpPort} RTP/AVP 0 8 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    ...extra,
    'a=sendrecv',
    '',
  ].join('\r\n');
}

function message(startLine: string, headers: readonly string[], body = ''): string {
  const h = [...headers];
  if (body !== '') h.push('Content-Type: application/sdp');
  h.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${startLine}\r\n${h.join('\r\n')}\r\n\r\n${body}`;
}

/** A whole call: INVITE (SDP, PAI), 100, 180, 200 (SDP), ACK, BYE, 200. `only` keeps the first k. */
function call(c: CallSpec, only = 7): SipMsg[] {
  const t = c.transport ?? 'UDP';
  const base = c.file.replace(/\..*$/, '');
  const callId = `crafted-${base}-${c.n}@example.test`;
  const ruri = `sip:${c.to}@${hostOf(c.callee.ip)}:${c.callee.port};user=phone`;
  const fromTag = `${base}-${c.n}-f`;
  const toTag = `${base}-${c.n}-t`;
  const dn = c.displayName !== undefined ? `"${c.displayName}" ` : '';
  const from = `From: ${dn}<sip:${c.from}@${hostOf(c.caller.ip)};user=phone>;tag=${fromTag}`;
  const to = `To: <sip:${c.to}@${hostOf(c.callee.ip)};user=phone>`;
  const toT = `${to};tag=${toTag}`;
  const via = (b: string): string =>
    `Via: SIP/2.0/${t} ${hostOf(c.caller.ip)}:${c.caller.port};branch=z9hG4bK-${base}-${c.n}-${b}`;
  const cid = `Call-ID: ${callId}`;
  const contactA = `Contact: <sip:${c.from}@${hostOf(c.caller.ip)}:${c.caller.port}${t === 'TCP' ? ';transport=tcp' : ''}>`;
  const contactB = `Contact: <sip:${c.to}@${hostOf(c.callee.ip)}:${c.callee.port}${t === 'TCP' ? ';transport=tcp' : ''}>`;
  const ua = 'User-Agent: spoofwatch-crafted';
  const inv = [via('1'), 'Max-Forwards: 70', from, to, cid, 'CSeq: 1 INVITE', contactA, ua];
  inv.push(...c.pai.map((p) => `P-Asserted-Identity: ${p}`), ...(c.extraHeaders ?? []));
  const resp = (code: string, extra: readonly string[], body = ''): string =>
    message(`SIP/2.0 ${code}`, [via('1'), code.startsWith('100') ? to : toT, from, cid, 'CSeq: 1 INVITE', ...extra], body);
  const msgs: SipMsg[] = [
    { fwd: true, label: 'INVITE', text: message(`INVITE ${ruri} SIP/2.0`, inv, sdp(c.caller.ip, 16384 + 2 * c.n, c.extraSdp)) },
    { fwd: false, label: '100', text: resp('100 Trying', []) },
    { fwd: false, label: '180', text: resp('180 Ringing', [contactB]) },
    { fwd: false, label: '200', text: resp('200 OK', [contactB], sdp(c.callee.ip, 20000 + 2 * c.n)) },
    {
      fwd: true,
      label: 'ACK',
      text: message(`ACK ${ruri} SIP/2.0`, [via('2'), 'Max-Forwards: 70', from, toT, cid, 'CSeq: 1 ACK', ua]),
    },
    {
      fwd: true,
      label: 'BYE',
      text: message(`BYE ${ruri} SIP/2.0`, [via('3'), 'Max-Forwards: 70', from, toT, cid, 'CSeq: 2 BYE', ua]),
    },
    { fwd: false, label: '200', text: message('SIP/2.0 200 OK', [via('3'), from, toT, cid, 'CSeq: 2 BYE']) },
  ];
  return msgs.slice(0, only);
}

// ---------------------------------------------------------------- deterministic helpers

/** xorshift32, seeded: "random-looking" but reproducible bytes. */
function noise(seed: number, n: number): Buffer {
  let x = seed >>> 0 || 1;
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Packet clock: 2023-11-14T22:13:20Z plus 10 ms steps (or custom nanosecond offsets). */
class Clock {
  private i = 0;
  constructor(
    private readonly sec = 1_700_000_000,
    private readonly nsec = 0,
    private readonly stepNs = 10_000_000,
  ) {}
  next(): Timestamp {
    const total = BigInt(this.nsec) + BigInt(this.i++) * BigInt(this.stepNs);
    return { sec: this.sec + Number(total / 1_000_000_000n), nsec: Number(total % 1_000_000_000n) };
  }
}

// ---------------------------------------------------------------- files

interface Expected {
  callId: string;
  /** Method, or status code of a response. */
  message: string;
  /** From user (E.164). */
  from: string;
  /** P-Asserted-Identity URIs in order, across header lines and comma-separated lists (INVITEs only). */
  pai: string[];
}

const expected: Record<string, { sipMessages: number; messages: Expected[]; note?: string }> = {};
const tsharkOptions: Record<string, string[]> = {};
const sizes: Record<string, number> = {};

function record(file: string, msgs: readonly SipMsg[], note?: string): void {
  const list = msgs.map((m) => {
    const callId = /^Call-ID: (.*)$/m.exec(m.text)?.[1]?.trim() ?? '';
    const from = /^From: [^<]*<sip:([^@]+)@/m.exec(m.text)?.[1] ?? '';
    const pai = [...m.text.matchAll(/^P-Asserted-Identity: (.*)$/gm)].flatMap((h) =>
      [...(h[1] ?? '').matchAll(/<([^>]+)>/g)].map((u) => u[1] ?? ''),
    );
    return { callId, message: m.label, from, pai };
  });
  expected[file] = { sipMessages: list.length, messages: list, ...(note !== undefined ? { note } : {}) };
}

function save(file: string, bytes: Buffer): void {
  writeFileSync(join(outDir, file), bytes);
  sizes[file] = bytes.length;
  if (bytes.length > 100_000) throw new Error(`${file} is ${bytes.length} bytes (limit 100 KB)`);
}

function writePcap(file: string, linkType: number, frames: readonly Buffer[], opts: { endianness?: Endianness; ns?: boolean; clock?: Clock } = {}): Buffer {
  const w = new PcapWriter({ linkType, endianness: opts.endianness, resolution: opts.ns === true ? 'ns' : 'us' });
  const clock = opts.clock ?? new Clock();
  for (const bytes of frames) w.add({ ts: clock.next(), bytes });
  const buf = w.toBuffer();
  save(file, buf);
  return buf;
}

/** IP packets carrying each message over UDP between the call's endpoints. */
function udpPackets(c: CallSpec, msgs: readonly SipMsg[]): Buffer[] {
  return msgs.map((m) => {
    const [a, b] = m.fwd ? [c.caller, c.callee] : [c.callee, c.caller];
    return udpPacket(a.ip, a.port, b.ip, b.port, Buffer.from(m.text, 'utf8'));
  });
}

// Addresses and numbers used throughout.
const V4A = '192.0.2.10';
const V4B = '198.51.100.20';
const V6A = '2001:db8::10';
const V6B = '2001:db8:1::20';

const paiSip = (num: string, host = 'example.test'): string => `<sip:${num}@${host};user=phone>`;
const paiTel = (num: string): string => `<tel:${num}>`;

/** Two calls for a link-type file: one over IPv4, one over IPv6 (unless restricted). */
function linkCalls(file: string, families: 'both' | 'v4' | 'v6'): { specs: CallSpec[]; msgs: SipMsg[][] } {
  const specs: CallSpec[] = [];
  if (families !== 'v6') {
    specs.push({
      file,
      n: 1,
      caller: { ip: V4A, port: 5060 },
      callee: { ip: V4B, port: 5060 },
      from: '+14155550101',
      to: '+442079460101',
      displayName: 'Alice',
      pai: [`"Alice" ${paiSip('+14155550101')}, ${paiTel('+14155550101')}`],
    });
  }
  if (families !== 'v4') {
    specs.push({
      file,
      n: specs.length + 1,
      caller: { ip: V6A, port: 5060 },
      callee: { ip: V6B, port: 5060 },
      from: '+442079460102',
      to: '+14155550102',
      pai: [paiTel('+442079460102')],
    });
  }
  // The first call complete; the second only INVITE/100/180/200/ACK when there are two.
  const msgs = specs.map((s, i) => call(s, i === 0 ? 7 : 5));
  return { specs, msgs };
}

function linkFile(file: string, linkType: number, wrap: (ipPacket: Buffer) => Buffer, families: 'both' | 'v4' | 'v6' = 'both'): void {
  const { specs, msgs } = linkCalls(file, families);
  const frames: Buffer[] = [];
  const all: SipMsg[] = [];
  specs.forEach((s, i) => {
    const m = msgs[i] ?? [];
    frames.push(...udpPackets(s, m).map(wrap));
    all.push(...m);
  });
  writePcap(file, linkType, frames);
  record(file, all);
}

const eth = (p: Buffer, vlans?: readonly VlanTag[]): Buffer => ethernet({ etherType: etherTypeOf(p), payload: p, vlans });
const v6 = (p: Buffer): boolean => etherTypeOf(p) === EtherTypes.IPV6;

function main(): void {
  mkdirSync(outDir, { recursive: true });

  // ---- link types
  linkFile('link-ethernet.pcap', LinkType.ETHERNET, (p) => eth(p));
  linkFile('link-sll.pcap', LinkType.LINUX_SLL, (p) => sll({ protocol: etherTypeOf(p), payload: p }));
  linkFile('link-sll2.pcap', LinkType.LINUX_SLL2, (p) => sll2({ protocol: etherTypeOf(p), payload: p, ifindex: 2 }));
  linkFile('link-raw.pcap', LinkType.RAW, (p) => p);
  linkFile('link-ipv4.pcap', LinkType.IPV4, (p) => p, 'v4');
  linkFile('link-ipv6.pcap', LinkType.IPV6, (p) => p, 'v6');
  // NULL: host byte order (little-endian here), macOS' AF_INET6 value; LOOP: network order, OpenBSD's.
  linkFile('link-null.pcap', LinkType.NULL, (p) =>
    loopback(v6(p) ? AddressFamily.INET6_DARWIN : AddressFamily.INET, p, 'le'),
  );
  linkFile('link-loop.pcap', LinkType.LOOP, (p) =>
    loopback(v6(p) ? AddressFamily.INET6_NETBSD : AddressFamily.INET, p, 'be'),
  );

  // ---- VLAN
  linkFile('vlan.pcap', LinkType.ETHERNET, (p) => eth(p, [{ vid: v6(p) ? 200 : 100, pcp: 5 }]));
  linkFile('qinq.pcap', LinkType.ETHERNET, (p) =>
    eth(p, [
      { tpid: EtherTypes.QINQ, vid: 10 },
      { tpid: EtherTypes.VLAN, vid: v6(p) ? 200 : 100, pcp: 5 },
    ]),
  );

  // ---- tunnels: outer IPv4 between two routers
  const R1 = '198.51.100.1';
  const R2 = '198.51.100.2';
  linkFile('ipip.pcap', LinkType.ETHERNET, (p) => eth(ipInIp(R1, R2, p)));
  linkFile('gre.pcap', LinkType.ETHERNET, (p) => eth(ip(R1, R2, IpProto.GRE, gre({ protocol: etherTypeOf(p), payload: p }))));

  // ---- link and tunnel layers of access / carrier / data-centre networks (issue #16)
  const pppoe = (p: Buffer): Buffer =>
    ethernet({ etherType: EtherTypes.PPPOE_SESSION, payload: pppoeSession({ sessionId: 0x1a2b, protocol: pppProtocolOf(p), payload: p }) });
  linkFile('pppoe.pcap', LinkType.ETHERNET, pppoe);
  linkFile('mpls.pcap', LinkType.ETHERNET, (p) =>
    ethernet({ etherType: EtherTypes.MPLS, payload: mpls([{ label: 16001, tc: 5 }, { label: v6(p) ? 2 : 24017 }], p) }),
  );
  linkFile('mpls-multicast.pcap', LinkType.ETHERNET, (p) => ethernet({ etherType: EtherTypes.MPLS_MULTICAST, payload: mpls([{ label: 30000 }], p) }));
  {
    let seq = 0;
    linkFile('mpls-pw.pcap', LinkType.ETHERNET, (p) =>
      ethernet({ etherType: EtherTypes.MPLS, payload: mpls([{ label: 17000 }, { label: 299776 }], eth(p), { sequence: ++seq }) }),
    );
  }
  // tshark's pseudowire heuristic takes the control word for a MAC address: tell it the label carries one.
  tsharkOptions['mpls-pw.pcap'] = ['-d', 'mpls.label==299776,pwethcw'];
  {
    let seq = 0;
    linkFile('erspan-ii.pcap', LinkType.ETHERNET, (p) =>
      eth(ip(R1, R2, IpProto.GRE, gre({ protocol: EtherTypes.ERSPAN_II, sequence: ++seq, payload: erspanII({ sessionId: 100, index: seq, payload: eth(p) }) }))),
    );
  }
  {
    let seq = 0;
    linkFile('erspan-iii.pcap', LinkType.ETHERNET, (p) => {
      seq++;
      // The IPv6 call's frames carry the 8-byte platform-specific subheader (O bit).
      const sub = v6(p) ? Buffer.from([0x0c, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, seq]) : undefined;
      const span = erspanIII({ sessionId: 200, timestamp: 1_000_000 + seq, hwId: 5, ...(sub ? { subheader: sub } : {}), payload: eth(p) });
      return eth(ip(R1, R2, IpProto.GRE, gre({ protocol: EtherTypes.ERSPAN_III, sequence: seq, payload: span })));
    });
  }
  linkFile('vxlan.pcap', LinkType.ETHERNET, (p) => eth(udpPacket(R1, 49152 + (p.length % 1000), R2, VXLAN_PORT, vxlan(5001, eth(p)))));
  kuznetzov();
  netmon();
  lldpOnly();

  // ---- fragments
  fragFiles();

  // ---- TCP
  tcpMulti();
  tcpSplit();

  // ---- pcapng with two interfaces
  twoInterfaces();

  // ---- formats
  formats();

  // ---- SIP on non-standard ports among noise
  nonstandardPorts();

  const options = Object.fromEntries(Object.keys(sizes).map((f) => [f, tsharkOptions[f] ?? []]));
  writeFileSync(join(outDir, 'tshark-options.json'), `${JSON.stringify(options, null, 2)}\n`);
  // One line per message keeps the file short and diffable.
  const lines = Object.entries(expected).map(([f, e]) => {
    const msgs = e.messages.map((m) => `      ${JSON.stringify(m)}`).join(',\n');
    const note = e.note !== undefined ? `, "note": ${JSON.stringify(e.note)}` : '';
    return `  ${JSON.stringify(f)}: {\n    "sipMessages": ${e.sipMessages}${note},\n    "messages": [\n${msgs}\n    ]\n  }`;
  });
  writeFileSync(join(outDir, 'expected.json'), `{\n${lines.join(',\n')}\n}\n`);
  for (const [f, n] of Object.entries(sizes)) {
    console.log(`${f.padEnd(28)} ${String(n).padStart(6)} bytes  ${expected[f]?.sipMessages ?? '?'} SIP messages`);
  }
}

/** A ~3000-byte INVITE: many PAI lines (sip: and tel:) and SDP attributes. */
function bigCall(file: string, caller: Endpoint, callee: Endpoint): CallSpec {
  const pai: string[] = [];
  for (let i = 0; i < 6; i++) {
    const num = `+1415555${String(200 + i).padStart(4, '0')}`;
    pai.push(i % 2 === 0 ? `"Line ${i}" ${paiSip(num)}` : paiTel(num));
  }
  pai.push(`${paiSip('+14155550299')}, ${paiTel('+14155550299')}`);
  const extraSdp: string[] = [];
  for (let i = 0; i < 44; i++) extraSdp.push(`a=x-crafted-${String(i).padStart(2, '0')}:${noise(1000 + i, 12).toString('hex')}`);
  return {
    file,
    n: 1,
    caller,
    callee,
    from: '+14155550200',
    to: '+442079460200',
    displayName: 'Big Invite',
    pai,
    extraHeaders: ['Subject: fragmented INVITE', 'X-Crafted: large message split into IP fragments'],
    extraSdp,
  };
}

function fragFiles(): void {
  // IPv4: the INVITE's UDP datagram in 3 fragments sent last first, then the other two; then 100 Trying.
  {
    const file = 'frag-ipv4.pcap';
    const c = bigCall(file, { ip: V4A, port: 5060 }, { ip: V4B, port: 5060 });
    const msgs = call(c, 2);
    const invite = Buffer.from(msgs[0]?.text ?? '', 'utf8');
    if (invite.length < 2900) throw new Error(`big INVITE only ${invite.length} bytes`);
    const dgram = udp({ srcPort: 5060, dstPort: 5060, payload: invite, checksum: { src: V4A, dst: V4B } });
    const frags = fragmentIpv4({ src: V4A, dst: V4B, protocol: IpProto.UDP, payload: dgram, id: 0x4a01 }, 1200);
    if (frags.length < 3) throw new Error('expected 3+ IPv4 fragments');
    const order = [frags.length - 1, ...frags.keys()].slice(0, frags.length);
    const frames = order.map((i) => eth(frags[i] as Buffer));
    frames.push(...udpPackets(c, msgs.slice(1)).map((p) => eth(p)));
    writePcap(file, LinkType.ETHERNET, frames);
    record(file, msgs, `INVITE of ${invite.length} bytes in ${frags.length} IPv4 fragments, order ${order.join(',')}`);
  }
  // IPv6: the same with fragment headers (fragmentable part = UDP datagram), last first.
  {
    const file = 'frag-ipv6.pcap';
    const c = bigCall(file, { ip: V6A, port: 5060 }, { ip: V6B, port: 5060 });
    const msgs = call(c, 2);
    const invite = Buffer.from(msgs[0]?.text ?? '', 'utf8');
    const dgram = udp({ srcPort: 5060, dstPort: 5060, payload: invite, checksum: { src: V6A, dst: V6B } });
    const o = { src: V6A, dst: V6B, nextHeader: IpProto.UDP, payload: dgram };
    const step = 1200;
    const frags: Buffer[] = [];
    for (let off = 0; off < dgram.length; off += step) {
      frags.push(ipv6Fragment(o, off, dgram.subarray(off, off + step), off + step < dgram.length, 0x6a010203));
    }
    if (frags.length < 3) throw new Error('expected 3+ IPv6 fragments');
    const order = [frags.length - 1, ...frags.keys()].slice(0, frags.length);
    const frames = order.map((i) => eth(frags[i] as Buffer));
    frames.push(...udpPackets(c, msgs.slice(1)).map((p) => eth(p)));
    writePcap(file, LinkType.ETHERNET, frames);
    record(file, msgs, `INVITE of ${invite.length} bytes in ${frags.length} IPv6 fragments, order ${order.join(',')}`);
  }
}

interface TcpConn {
  readonly a: Endpoint;
  readonly b: Endpoint;
  seqA: number;
  seqB: number;
}

function handshake(c: TcpConn): Buffer[] {
  const out = [
    tcpPacket(c.a.ip, c.a.port, c.b.ip, c.b.port, { seq: c.seqA, flags: TcpFlags.SYN }),
    tcpPacket(c.b.ip, c.b.port, c.a.ip, c.a.port, { seq: c.seqB, ack: c.seqA + 1, flags: TcpFlags.SYN | TcpFlags.ACK }),
    tcpPacket(c.a.ip, c.a.port, c.b.ip, c.b.port, { seq: c.seqA + 1, ack: c.seqB + 1, flags: TcpFlags.ACK }),
  ];
  c.seqA += 1;
  c.seqB += 1;
  return out;
}

/** One data segment (PSH|ACK) in direction a→b (`fwd`) or b→a, advancing that side's sequence number. */
function segment(c: TcpConn, fwd: boolean, payload: Buffer): Buffer {
  const [s, d] = fwd ? [c.a, c.b] : [c.b, c.a];
  const seq = fwd ? c.seqA : c.seqB;
  const ack = fwd ? c.seqB : c.seqA;
  if (fwd) c.seqA += payload.length;
  else c.seqB += payload.length;
  return tcpPacket(s.ip, s.port, d.ip, d.port, { seq, ack, flags: TcpFlags.PSH | TcpFlags.ACK, payload });
}

function tcpMulti(): void {
  const file = 'tcp-multi.pcap';
  const a = { ip: V4A, port: 40512 };
  const b = { ip: V4B, port: 5060 };
  const conn: TcpConn = { a, b, seqA: 1_000_000, seqB: 2_000_000 };
  const spec = (n: number, from: string, to: string, pai: string[]): CallSpec => ({
    file,
    n,
    caller: a,
    callee: b,
    from,
    to,
    pai,
    transport: 'TCP',
  });
  const c1 = call(spec(1, '+14155550301', '+442079460301', [paiSip('+14155550301'), paiTel('+14155550301')]));
  const c2 = call(spec(2, '+14155550302', '+442079460302', [paiTel('+14155550302')]), 2);
  const c3 = call(spec(3, '+14155550303', '+442079460303', [`${paiSip('+14155550303')}, ${paiTel('+14155550303')}`]), 2);
  const cat = (ms: readonly (SipMsg | undefined)[]): Buffer => Buffer.concat(ms.map((m) => Buffer.from(m?.text ?? '', 'utf8')));
  const frames = handshake(conn);
  const wire: SipMsg[] = [];
  const send = (fwd: boolean, ms: (SipMsg | undefined)[]): void => {
    frames.push(segment(conn, fwd, cat(ms)));
    wire.push(...ms.filter((m): m is SipMsg => m !== undefined));
  };
  send(true, [c1[0], c2[0], c3[0]]); // three INVITEs in one segment
  send(false, [c1[1], c2[1], c3[1]]); // three 100 Trying in one segment
  for (const m of c1.slice(2)) send(m.fwd, [m]); // the rest of call 1, one message per segment
  writePcap(file, LinkType.ETHERNET, frames.map((p) => eth(p)));
  record(file, wire, 'segment 4 carries 3 INVITEs, segment 5 three 100 Trying');
}

function tcpSplit(): void {
  const file = 'tcp-split.pcap';
  const a = { ip: V6A, port: 40600 };
  const b = { ip: V6B, port: 5060 };
  const conn: TcpConn = { a, b, seqA: 3_000_000, seqB: 4_000_000 };
  const c = call(
    {
      file,
      n: 1,
      caller: a,
      callee: b,
      from: '+14155550401',
      to: '+442079460401',
      displayName: 'Split',
      pai: [`"Split" ${paiSip('+14155550401')}`, paiTel('+14155550401')],
      transport: 'TCP',
    },
    2,
  );
  const invite = Buffer.from(c[0]?.text ?? '', 'utf8');
  const q = Math.ceil(invite.length / 4);
  const pieces = [0, 1, 2, 3].map((i) => invite.subarray(i * q, (i + 1) * q));
  const frames = handshake(conn);
  const segs = pieces.map((p) => segment(conn, true, p));
  const [s1, s2, s3, s4] = segs as [Buffer, Buffer, Buffer, Buffer];
  // Wire order: 1, 3 (out of order), 2, 2 again (retransmission), 4.
  frames.push(s1, s3, s2, s2, s4);
  frames.push(segment(conn, false, Buffer.from(c[1]?.text ?? '', 'utf8')));
  writePcap(file, LinkType.ETHERNET, frames.map((p) => eth(p)));
  record(file, c, 'INVITE over 4 segments sent 1,3,2,2(retransmission),4; tshark needs tcp.reassemble_out_of_order');
  tsharkOptions[file] = ['-o', 'tcp.reassemble_out_of_order:TRUE'];
}

function twoInterfaces(): void {
  const file = 'two-interfaces.pcapng';
  const { specs, msgs } = linkCalls(file, 'both');
  // Interface 0: Ethernet, µs timestamps; interface 1: Linux SLL, ns timestamps. Interleaved by message.
  const w = new PcapngWriter({ application: 'spoofwatch make-crafted-captures' });
  const p1 = udpPackets(specs[0] as CallSpec, msgs[0] ?? []);
  const p2 = udpPackets(specs[1] as CallSpec, msgs[1] ?? []);
  const wire: SipMsg[] = [];
  let k = 0;
  for (let i = 0; i < Math.max(p1.length, p2.length); i++) {
    const a = p1[i];
    if (a !== undefined) {
      w.add({ ts: { sec: 1_700_000_100 + k, nsec: 250_000_000 + k * 1000 }, linkType: LinkType.ETHERNET, tsresol: 6, bytes: eth(a) });
      wire.push(msgs[0]?.[i] as SipMsg);
      k++;
    }
    const b = p2[i];
    if (b !== undefined) {
      w.add({
        ts: { sec: 1_700_000_100 + k, nsec: 250_000_001 + k },
        linkType: LinkType.LINUX_SLL,
        tsresol: 9,
        bytes: sll({ protocol: etherTypeOf(b), payload: b, packetType: 4 }),
        comment: 'interface 1 (Linux SLL, ns)',
      });
      wire.push(msgs[1]?.[i] as SipMsg);
      k++;
    }
  }
  save(file, w.toBuffer());
  record(file, wire, 'odd frames on interface 0 (Ethernet, tsresol 6), even frames until the IPv6 call ends on interface 1 (SLL, tsresol 9)');
}

function formats(): void {
  // Nanosecond classic pcap.
  {
    const file = 'nanosecond.pcap';
    const { specs, msgs } = linkCalls(file, 'both');
    const frames = specs.flatMap((s, i) => udpPackets(s, msgs[i] ?? []).map((p) => eth(p)));
    writePcap(file, LinkType.ETHERNET, frames, { ns: true, clock: new Clock(1_700_000_200, 123_456_789, 1_000_001) });
    record(file, msgs.flat(), 'timestamps 1700000200.123456789 + k * 0.001000001 s');
  }
  // Big-endian classic pcap.
  {
    const file = 'big-endian.pcap';
    const { specs, msgs } = linkCalls(file, 'both');
    const frames = specs.flatMap((s, i) => udpPackets(s, msgs[i] ?? []).map((p) => eth(p)));
    writePcap(file, LinkType.ETHERNET, frames, { endianness: 'be' });
    record(file, msgs.flat());
  }
  // Big-endian pcapng (Ethernet + raw IP interfaces).
  {
    const file = 'pcapng-be.pcapng';
    const { specs, msgs } = linkCalls(file, 'both');
    const w = new PcapngWriter({ endianness: 'be', application: 'spoofwatch make-crafted-captures' });
    const clock = new Clock(1_700_000_300, 987_654_321, 1_000_000);
    specs.forEach((s, i) => {
      for (const p of udpPackets(s, msgs[i] ?? [])) {
        if (i === 0) w.add({ ts: clock.next(), linkType: LinkType.ETHERNET, bytes: eth(p) });
        else w.add({ ts: clock.next(), linkType: LinkType.RAW, bytes: p });
      }
    });
    save(file, w.toBuffer());
    record(file, msgs.flat(), 'IPv4 call on an Ethernet interface, IPv6 call on a raw-IP interface; tsresol 9');
  }
  // gzip of link-ethernet.pcap, byte for byte: reading it must give exactly what link-ethernet.pcap gives.
  {
    const file = 'gzip.pcap.gz';
    save(file, gzipSync(readFileSync(join(outDir, 'link-ethernet.pcap')), { level: 9 }));
    const src = expected['link-ethernet.pcap'];
    if (src === undefined) throw new Error('link-ethernet.pcap first');
    expected[file] = { ...src, note: 'gzip of link-ethernet.pcap (same bytes, same Call-IDs)' };
  }
}

/**
 * Alexey Kuznetzov's modified pcap (libpcap's savefile.c, magic 0xa1b2cd34): the classic file header, then
 * 24-byte record headers (the classic 16 plus ifindex u32, protocol u16, pkt_type u8, pad u8). Little-endian,
 * microseconds.
 */
function kuznetzov(): void {
  const file = 'pcap-kuznetzov.pcap';
  const { specs, msgs } = linkCalls(file, 'both');
  const frames = specs.flatMap((s, i) => udpPackets(s, msgs[i] ?? []).map((p) => eth(p)));
  const clock = new Clock(1_700_000_400, 500_000_000, 2_000_000);
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2cd34, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262_144, 16);
  head.writeUInt32LE(LinkType.ETHERNET, 20);
  const parts: Buffer[] = [head];
  frames.forEach((f, i) => {
    const ts = clock.next();
    const r = Buffer.alloc(24);
    r.writeUInt32LE(ts.sec, 0);
    r.writeUInt32LE(Math.floor(ts.nsec / 1000), 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    r.writeUInt32LE(2, 16); // ifindex
    r.writeUInt16LE(etherTypeOf(f.subarray(14)), 20); // protocol (as the kernel's skb->protocol, host order here)
    r[22] = i % 2 === 0 ? 4 : 0; // pkt_type: outgoing / to us
    r[23] = 0;
    parts.push(r, f);
  });
  save(file, Buffer.concat(parts));
  record(file, msgs.flat(), 'magic 0xa1b2cd34 (24-byte record headers), timestamps 1700000400.5 + k * 0.002 s');
}

/**
 * A Microsoft Network Monitor 2.x capture (the format Wireshark's wiretap/netmon.c reads; NetMon 3.x help
 * "Capture File Format"): 128-byte header (magic GMBU, version 2.3, media type, start time as a SYSTEMTIME,
 * frame table offset/length), frames (8-byte µs offset from the start, original and captured length, data, a
 * 15-byte 2.3 trailer: media type, process index, UTC FILETIME, time zone index), then the frame table.
 * Frames: the IPv4 call on Ethernet (media type 1), the IPv6 call as raw IP (media type 9), one 802.11 frame
 * (media type 6, not decoded), and a gap of 16 junk bytes between two frames that only the frame table skips.
 */
function netmon(): void {
  const file = 'netmon2.cap';
  const { specs, msgs } = linkCalls(file, 'both');
  const frames: { media: number; bytes: Buffer }[] = [];
  specs.forEach((s, i) => {
    for (const p of udpPackets(s, msgs[i] ?? [])) frames.push(i === 0 ? { media: 1, bytes: eth(p) } : { media: 9, bytes: p });
  });
  // An 802.11 frame (NetMon's own 802.11 metadata header is not decoded by us): counted as not decoded.
  frames.splice(3, 0, { media: 6, bytes: noise(6, 40) });
  // Start: 2023-11-14 22:13:20.250 UTC; frames every 10 ms from 0.
  const startSec = 1_700_000_000;
  const startMs = 250;
  const head = Buffer.alloc(128);
  head.write('GMBU', 0, 'latin1');
  head[4] = 3; // minor
  head[5] = 2; // major
  head.writeUInt16LE(1, 6); // network: Ethernet (per-frame media types from 2.1 on)
  const d = new Date(startSec * 1000 + startMs);
  [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDay(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()].forEach(
    (v, i) => head.writeUInt16LE(v, 8 + 2 * i),
  );
  const parts: Buffer[] = [head];
  const offsets: number[] = [];
  let pos = 128;
  frames.forEach((f, i) => {
    if (i === 5) {
      const gap = noise(55, 16);
      parts.push(gap);
      pos += gap.length;
    }
    const deltaUs = BigInt(i) * 10_000n;
    const h = Buffer.alloc(16);
    h.writeBigUInt64LE(deltaUs, 0);
    h.writeUInt32LE(f.bytes.length, 8);
    h.writeUInt32LE(f.bytes.length, 12);
    const t = Buffer.alloc(15);
    t.writeUInt16LE(f.media, 0);
    t.writeUInt32LE(0, 2); // process info index
    // FILETIME: 100 ns units since 1601-01-01 UTC.
    const filetime = (BigInt(startSec) + 11_644_473_600n) * 10_000_000n + BigInt(startMs) * 10_000n + deltaUs * 10n;
    t.writeBigUInt64LE(filetime, 6);
    t[14] = 0; // time zone index
    offsets.push(pos);
    parts.push(h, f.bytes, t);
    pos += h.length + f.bytes.length + t.length;
  });
  const table = Buffer.alloc(offsets.length * 4);
  offsets.forEach((o, i) => table.writeUInt32LE(o, i * 4));
  head.writeUInt32LE(pos, 24);
  head.writeUInt32LE(table.length, 28);
  parts.push(table);
  save(file, Buffer.concat(parts));
  record(file, msgs.flat(), 'NetMon 2.3: IPv4 call as Ethernet (media 1), IPv6 call as raw IP (media 9), frame 4 is 802.11 (media 6), 16 junk bytes before frame 6');
}

/** Twelve LLDP frames (ethertype 0x88cc) and nothing else: a capture that yields no SIP, and says why. */
function lldpOnly(): void {
  const file = 'lldp.pcap';
  const frames: Buffer[] = [];
  for (let i = 0; i < 12; i++) {
    frames.push(
      ethernet({
        etherType: EtherTypes.LLDP,
        dst: '01:80:c2:00:00:0e',
        src: `02:00:00:00:01:${(i % 4).toString(16).padStart(2, '0')}`,
        payload: lldpdu(`02:00:00:00:01:${(i % 4).toString(16).padStart(2, '0')}`, `ge-0/0/${i % 4}`),
        pad: true,
      }),
    );
  }
  writePcap(file, LinkType.ETHERNET, frames, { clock: new Clock(1_700_000_500, 0, 30_000_000_000) });
  record(file, [], '12 LLDP frames from 4 ports every 30 s: no SIP');
}

function dnsQuery(): Buffer {
  // Standard query, id 0x5350, RD, one question: _sip._udp.example.test SRV IN.
  const h = Buffer.from([0x53, 0x50, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
  const labels = ['_sip', '_udp', 'example', 'test'];
  const name = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  return Buffer.concat([h, name, Buffer.from([0x00, 0x21, 0x00, 0x01])]);
}

function rtp(seq: number, ts: number, ssrc: number): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80; // V=2
  h[1] = 0; // PT 0 (PCMU)
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, noise(seq * 7919 + ssrc, 160)]);
}

function nonstandardPorts(): void {
  const file = 'sip-nonstandard-port.pcap';
  const c1: CallSpec = {
    file,
    n: 1,
    caller: { ip: V4A, port: 40000 },
    callee: { ip: V4B, port: 5099 },
    from: '+14155550501',
    to: '+442079460501',
    pai: [paiSip('+14155550501'), paiTel('+14155550501')],
  };
  const c2: CallSpec = {
    file,
    n: 2,
    caller: { ip: V6A, port: 40000 },
    callee: { ip: V6B, port: 40000 },
    from: '+442079460502',
    to: '+14155550502',
    pai: [`${paiSip('+442079460502')}, ${paiTel('+442079460502')}`],
  };
  const m1 = call(c1);
  const m2 = call(c2, 4);
  const sip1 = udpPackets(c1, m1);
  const sip2 = udpPackets(c2, m2);
  const frames: Buffer[] = [];
  const wire: SipMsg[] = [];
  // DNS SRV query for _sip._udp first (not SIP), then the calls with RTP between them.
  frames.push(udpPacket(V4A, 53001, '192.0.2.53', 53, dnsQuery()));
  for (let i = 0; i < 4; i++) {
    frames.push(sip1[i] as Buffer);
    wire.push(m1[i] as SipMsg);
  }
  for (let k = 0; k < 6; k++) {
    const fwd = k % 2 === 0;
    frames.push(
      fwd
        ? udpPacket(V4A, 16386, V4B, 20002, rtp(100 + k, 160 * k, 0x11223344))
        : udpPacket(V4B, 20002, V4A, 16386, rtp(500 + k, 160 * k, 0x55667788)),
    );
  }
  for (let i = 4; i < m1.length; i++) {
    frames.push(sip1[i] as Buffer);
    wire.push(m1[i] as SipMsg);
  }
  sip2.forEach((p, i) => {
    frames.push(p);
    wire.push(m2[i] as SipMsg);
  });
  // RTP-like noise on the SIP port 40000 (caller's port of call 2): must not become SIP.
  frames.push(udpPacket(V6A, 40000, V6B, 40002, rtp(900, 0, 0x0badcafe)));
  writePcap(file, LinkType.ETHERNET, frames.map((p) => eth(p)));
  record(file, wire, 'SIP on UDP 40000<->5099 and 40000<->40000; RTP noise and a DNS SRV query for _sip._udp are not SIP');
  tsharkOptions[file] = ['-d', 'udp.port==5099,sip', '-d', 'udp.port==40000,sip'];
}

main();
