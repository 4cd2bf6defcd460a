/**
 * Makes the SIP-over-WebSocket captures in test/captures/crafted/ws/ (RFC 7118, what SIP.js and JsSIP send), for the
 * differential test against tshark and the WebSocket decoder tests:
 *
 * - ws-basic.pcap: a whole call over ws on port 8080 (IPv4): opening handshake with `Sec-WebSocket-Protocol: sip`,
 *   masked client frames, unmasked server frames, one message per frame.
 * - ws-fragmented.pcap: the INVITE in three frames (text + two continuations) with a ping and a pong between the
 *   fragments, one frame split over two TCP segments, a 180 in a binary frame, a 200 with a 64-bit length, and
 *   several frames in one segment.
 * - ws-port-5062.pcap: a call over IPv6 on a non-standard port; tshark needs `-d tcp.port==5062,http` to see the handshake (written to tshark-options.json here).
 *
 * Deterministic: fixed timestamps, masks and documentation addresses, so a rerun gives byte-identical files. Also
 * writes test/captures/crafted/ws/tshark-options.json (extra tshark args per file) and expected.json (the SIP messages of
 * each file in wire order, with the frame that completes each).
 *
 * Usage: npx tsx scripts/make-ws-captures.ts [outdir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LinkType } from '../src/types.js';
import { PcapWriter } from '../src/sources/capture/writer.js';
import { TcpFlags, ethernet, etherTypeOf, tcpPacket } from './lib/packets.js';
import { wsFrame } from './lib/websocket.js';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, '..', 'test', 'captures', 'crafted', 'ws'));

interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

const hostOf = (a: string): string => (a.includes(':') ? `[${a}]` : a);

// ---------------------------------------------------------------- WebSocket frames (RFC 6455 §5.2)

/** A deterministic masking key per frame. */
let maskSeed = 0x3a7f1c05;
function nextMask(): Buffer {
  maskSeed = (Math.imul(maskSeed, 1103515245) + 12345) >>> 0;
  const b = Buffer.alloc(4);
  b.writeUInt32BE(maskSeed);
  return b;
}

// ---------------------------------------------------------------- SIP over WS (RFC 7118 §7 examples, shortened)

interface Call {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly pai?: string;
  readonly client: Endpoint;
  readonly server: Endpoint;
}

interface SipMsg {
  readonly fwd: boolean;
  readonly label: string;
  readonly text: string;
}

function sipMessage(start: string, headers: readonly string[], body = ''): string {
  const h = [...headers];
  if (body !== '') h.push('Content-Type: application/sdp');
  h.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${start}\r\n${h.join('\r\n')}\r\n\r\n${body}`;
}

function sdp(extra = 0): string {
  const lines = ['v=0', 'o=- 4858395 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'c=IN IP4 0.0.0.0'];
  for (let i = 0; i < extra; i++) lines.push(`a=candidate:${i} 1 udp 2122260223 192.0.2.${100 + i} ${50000 + i} typ host generation 0`);
  lines.push('a=rtpmap:111 opus/48000/2', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', '');
  return lines.join('\r\n');
}

/** INVITE, 100, 180, 200, ACK, BYE, 200 of one call from a browser (Via host `*.invalid`, RFC 7118 §5.2). */
function call(c: Call, sdpLines = 0): SipMsg[] {
  const viaHost = `${c.id.slice(0, 8)}.invalid`;
  const via = (b: string): string => `Via: SIP/2.0/WS ${viaHost};branch=z9hG4bK-${c.id}-${b}`;
  const ruri = `sip:${c.to}@${hostOf(c.server.ip)};user=phone`;
  const from = `From: "Browser" <sip:${c.from}@ws.example.test;user=phone>;tag=${c.id}-f`;
  const to = `To: <sip:${c.to}@${hostOf(c.server.ip)};user=phone>`;
  const toT = `${to};tag=${c.id}-t`;
  const cid = `Call-ID: ${c.id}@ws.example.test`;
  const contact = `Contact: <sip:${c.id.slice(0, 6)}@${viaHost};transport=ws;ob>`;
  const ua = 'User-Agent: SIP.js/0.21.2';
  const inv = [via('1'), 'Max-Forwards: 70', from, to, cid, 'CSeq: 1 INVITE', contact, ua, 'Supported: outbound'];
  if (c.pai) inv.push(`P-Asserted-Identity: <sip:${c.pai}@ws.example.test>`);
  const resp = (code: string, extra: readonly string[], body = ''): string =>
    sipMessage(`SIP/2.0 ${code}`, [via('1'), code.startsWith('100') ? to : toT, from, cid, 'CSeq: 1 INVITE', ...extra], body);
  const serverContact = `Contact: <sip:${c.to}@${hostOf(c.server.ip)}:${c.server.port};transport=ws>`;
  return [
    { fwd: true, label: 'INVITE', text: sipMessage(`INVITE ${ruri} SIP/2.0`, inv, sdp(sdpLines)) },
    { fwd: false, label: '100', text: resp('100 Trying', []) },
    { fwd: false, label: '180', text: resp('180 Ringing', [serverContact]) },
    { fwd: false, label: '200', text: resp('200 OK', [serverContact], sdp()) },
    { fwd: true, label: 'ACK', text: sipMessage(`ACK ${ruri} SIP/2.0`, [via('2'), 'Max-Forwards: 70', from, toT, cid, 'CSeq: 1 ACK', ua]) },
    { fwd: true, label: 'BYE', text: sipMessage(`BYE ${ruri} SIP/2.0`, [via('3'), 'Max-Forwards: 70', from, toT, cid, 'CSeq: 2 BYE', ua]) },
    { fwd: false, label: '200', text: sipMessage('SIP/2.0 200 OK', [via('3'), toT, from, cid, 'CSeq: 2 BYE']) },
  ];
}

function upgradeRequest(server: Endpoint, key: string): string {
  return [
    'GET / HTTP/1.1',
    `Host: ${hostOf(server.ip)}:${server.port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Origin: https://phone.example.test',
    'Sec-WebSocket-Protocol: sip',
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n');
}

function upgradeResponse(): string {
  return [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    // The accept value is not checked by a passive observer; this is RFC 6455 §1.3's example.
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    'Sec-WebSocket-Protocol: sip',
    '',
    '',
  ].join('\r\n');
}

// ---------------------------------------------------------------- TCP connection

class Conn {
  readonly packets: Buffer[] = [];
  private seqA: number;
  private seqB: number;

  constructor(
    readonly a: Endpoint,
    readonly b: Endpoint,
    seqA: number,
    seqB: number,
  ) {
    this.seqA = seqA;
    this.seqB = seqB;
    this.packets.push(tcpPacket(a.ip, a.port, b.ip, b.port, { seq: seqA, flags: TcpFlags.SYN }));
    this.packets.push(tcpPacket(b.ip, b.port, a.ip, a.port, { seq: seqB, ack: seqA + 1, flags: TcpFlags.SYN | TcpFlags.ACK }));
    this.seqA++;
    this.seqB++;
    this.packets.push(tcpPacket(a.ip, a.port, b.ip, b.port, { seq: this.seqA, ack: this.seqB, flags: TcpFlags.ACK }));
  }

  /** One data segment a→b (`fwd`) or b→a; returns its 1-based frame number. */
  send(fwd: boolean, payload: Buffer): number {
    const [s, d] = fwd ? [this.a, this.b] : [this.b, this.a];
    const seq = fwd ? this.seqA : this.seqB;
    const ack = fwd ? this.seqB : this.seqA;
    if (fwd) this.seqA += payload.length;
    else this.seqB += payload.length;
    this.packets.push(tcpPacket(s.ip, s.port, d.ip, d.port, { seq, ack, flags: TcpFlags.PSH | TcpFlags.ACK, payload }));
    return this.packets.length;
  }

  /** Orderly close (FIN both ways). */
  close(): void {
    this.packets.push(tcpPacket(this.a.ip, this.a.port, this.b.ip, this.b.port, { seq: this.seqA, ack: this.seqB, flags: TcpFlags.FIN | TcpFlags.ACK }));
    this.packets.push(tcpPacket(this.b.ip, this.b.port, this.a.ip, this.a.port, { seq: this.seqB, ack: this.seqA + 1, flags: TcpFlags.FIN | TcpFlags.ACK }));
    this.packets.push(tcpPacket(this.a.ip, this.a.port, this.b.ip, this.b.port, { seq: this.seqA + 1, ack: this.seqB + 1, flags: TcpFlags.ACK }));
  }
}

// ---------------------------------------------------------------- output

interface Expected {
  readonly frame: number;
  readonly label: string;
  readonly callId: string;
}

const expected: Record<string, Expected[]> = {};
const tsharkOptions: Record<string, string[]> = {};

function write(file: string, c: Conn): void {
  const w = new PcapWriter({ linkType: LinkType.ETHERNET, resolution: 'us' });
  let t = 0;
  for (const p of c.packets) {
    w.add({ ts: { sec: 1_700_100_000 + Math.floor(t / 10), nsec: (t % 10) * 100_000_000 }, bytes: ethernet({ etherType: etherTypeOf(p), payload: p }) });
    t++;
  }
  writeFileSync(join(outDir, file), w.toBuffer());
}

const sipBytes = (m: SipMsg | undefined): Buffer => Buffer.from(m?.text ?? '', 'utf8');
const callIdOf = (c: Call): string => `${c.id}@ws.example.test`;

function record(file: string, c: Call, frame: number, m: SipMsg | undefined): void {
  (expected[file] ??= []).push({ frame, label: m?.label ?? '?', callId: callIdOf(c) });
}

/** Every message in its own frame, in its own segment. */
function basic(): void {
  const file = 'ws-basic.pcap';
  const c: Call = { id: 'ws-basic-1', from: '+31201234567', to: '+31301234500', pai: '+31201234567', client: { ip: '192.0.2.30', port: 51000 }, server: { ip: '192.0.2.40', port: 8080 } };
  const conn = new Conn(c.client, c.server, 100_000, 200_000);
  conn.send(true, Buffer.from(upgradeRequest(c.server, 'dGhlIHNhbXBsZSBub25jZQ==')));
  conn.send(false, Buffer.from(upgradeResponse()));
  for (const m of call(c)) {
    const f = conn.send(m.fwd, wsFrame({ opcode: 1, payload: sipBytes(m), ...(m.fwd ? { mask: nextMask() } : {}) }));
    record(file, c, f, m);
  }
  conn.send(true, wsFrame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]), mask: nextMask() }));
  conn.send(false, wsFrame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) }));
  conn.close();
  write(file, conn);
}

/** Fragmentation, control frames in between, binary frames, 64-bit lengths, split and coalesced frames. */
function fragmented(): void {
  const file = 'ws-fragmented.pcap';
  const c: Call = { id: 'ws-frag-1', from: '+31612345678', to: '+31301234501', client: { ip: '192.0.2.31', port: 51002 }, server: { ip: '192.0.2.41', port: 80 } };
  const conn = new Conn(c.client, c.server, 300_000, 400_000);
  const [invite, trying, ringing, ok, ack, bye, byeOk] = call(c, 4);
  conn.send(true, Buffer.from(upgradeRequest(c.server, 'AQIDBAUGBwgJCgsMDQ4PEA==')));
  conn.send(false, Buffer.from(upgradeResponse()));
  // INVITE in three fragments; a ping and a pong (control frames, §5.5) between them; fragment 2 over two segments.
  const inv = sipBytes(invite);
  const q = Math.ceil(inv.length / 3);
  const f1 = wsFrame({ opcode: 1, fin: false, payload: inv.subarray(0, q), mask: nextMask() });
  const f2 = wsFrame({ opcode: 0, fin: false, payload: inv.subarray(q, 2 * q), mask: nextMask() });
  const f3 = wsFrame({ opcode: 0, fin: true, payload: inv.subarray(2 * q), mask: nextMask() });
  conn.send(true, Buffer.concat([f1, wsFrame({ opcode: 9, payload: Buffer.from('keepalive'), mask: nextMask() })]));
  conn.send(false, wsFrame({ opcode: 10, payload: Buffer.from('keepalive') }));
  const cut = Math.floor(f2.length / 2);
  conn.send(true, f2.subarray(0, cut));
  conn.send(true, f2.subarray(cut));
  record(file, c, conn.send(true, f3), invite);
  // 100 Trying and 180 Ringing (binary frame) in one segment: tshark reports both in that frame.
  const f100 = wsFrame({ opcode: 1, payload: sipBytes(trying) });
  const f180 = wsFrame({ opcode: 2, payload: sipBytes(ringing) });
  const both = conn.send(false, Buffer.concat([f100, f180]));
  record(file, c, both, trying);
  record(file, c, both, ringing);
  // 200 OK with a 64-bit length (not the shortest form: an anomaly for us, legal framing for tshark).
  record(file, c, conn.send(false, wsFrame({ opcode: 1, payload: sipBytes(ok), len: 64 })), ok);
  record(file, c, conn.send(true, wsFrame({ opcode: 1, payload: sipBytes(ack), mask: nextMask() })), ack);
  // BYE: header alone in one segment, payload in the next.
  const fb = wsFrame({ opcode: 1, payload: sipBytes(bye), mask: nextMask() });
  conn.send(true, fb.subarray(0, 4));
  record(file, c, conn.send(true, fb.subarray(4)), bye);
  record(file, c, conn.send(false, wsFrame({ opcode: 1, payload: sipBytes(byeOk) })), byeOk);
  conn.close();
  write(file, conn);
}

/**
 * IPv6 on a non-standard port. (A client that pipelines frames right after its request head, before the 101, is
 * decoded by spoofwatch but not by tshark 4.0, which reads those bytes as HTTP: that case is a unit test, not here.)
 */
function nonStandardPort(): void {
  const file = 'ws-port-5062.pcap';
  const c: Call = { id: 'ws-5062-1', from: '+442079460123', to: '+31301234502', client: { ip: '2001:db8::30', port: 51004 }, server: { ip: '2001:db8:1::40', port: 5062 } };
  const conn = new Conn(c.client, c.server, 500_000, 600_000);
  conn.send(true, Buffer.from(upgradeRequest(c.server, 'EBESExQVFhcYGRobHB0eHw==')));
  conn.send(false, Buffer.from(upgradeResponse()));
  for (const m of call(c)) {
    record(file, c, conn.send(m.fwd, wsFrame({ opcode: 1, payload: sipBytes(m), ...(m.fwd ? { mask: nextMask() } : {}) })), m);
  }
  conn.close();
  write(file, conn);
  tsharkOptions[file] = ['-d', 'tcp.port==5062,http'];
}

function main(): void {
  mkdirSync(outDir, { recursive: true });
  basic();
  fragmented();
  nonStandardPort();
  writeFileSync(join(outDir, 'tshark-options.json'), JSON.stringify(tsharkOptions, null, 2) + '\n');
  writeFileSync(join(outDir, 'expected.json'), JSON.stringify(expected, null, 2) + '\n');
}

main();
