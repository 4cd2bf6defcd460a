/**
 * Bench inputs written at run time (never committed): pcapng captures of the lab traffic model, SIP only or
 * mixed with RTP (90% of packets), through the project's own {@link PcapngWriter} into a buffered file sink.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PcapngWriter, type CaptureSink } from '../src/sources/capture/index.js';
import { LinkType } from '../src/types.js';
import { SLOT_NS, slotMessages, type SipPacket } from './traffic.js';

/** Ethernet + IPv4 + UDP around a payload (UDP checksum 0: allowed on IPv4, RFC 768). */
export function udpFrame(srcIp: string, srcPort: number, dstIp: string, dstPort: number, payload: Buffer, ipId = 0): Buffer {
  const b = Buffer.allocUnsafe(14 + 20 + 8 + payload.length);
  b.writeUIntBE(0x020000000001, 0, 6);
  b.writeUIntBE(0x020000000002, 6, 6);
  b.writeUInt16BE(0x0800, 12);
  const ip = 14;
  b[ip] = 0x45;
  b[ip + 1] = 0;
  b.writeUInt16BE(20 + 8 + payload.length, ip + 2);
  b.writeUInt16BE(ipId & 0xffff, ip + 4);
  b.writeUInt16BE(0x4000, ip + 6); // DF
  b[ip + 8] = 64;
  b[ip + 9] = 17;
  b.writeUInt16BE(0, ip + 10);
  writeIpv4(b, ip + 12, srcIp);
  writeIpv4(b, ip + 16, dstIp);
  let sum = 0;
  for (let o = ip; o < ip + 20; o += 2) sum += b.readUInt16BE(o);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, ip + 10);
  const u = ip + 20;
  b.writeUInt16BE(srcPort, u);
  b.writeUInt16BE(dstPort, u + 2);
  b.writeUInt16BE(8 + payload.length, u + 4);
  b.writeUInt16BE(0, u + 6);
  payload.copy(b, u + 8);
  return b;
}

function writeIpv4(b: Buffer, at: number, ip: string): void {
  let part = 0;
  let o = at;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      b[o++] = part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  b[o] = part;
}

/** A file sink that batches writes into 4 MiB blocks (the writer produces one small Buffer per packet). */
class FileSink implements CaptureSink {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(4 << 20);
  private used = 0;
  bytes = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  write(chunk: Buffer): boolean {
    if (this.used + chunk.length > this.buf.length) this.drain();
    if (chunk.length > this.buf.length) writeSync(this.fd, chunk);
    else {
      chunk.copy(this.buf, this.used);
      this.used += chunk.length;
    }
    this.bytes += chunk.length;
    return true;
  }
  private drain(): void {
    let o = 0;
    while (o < this.used) o += writeSync(this.fd, this.buf, o, this.used - o);
    this.used = 0;
  }
  close(): void {
    this.drain();
    closeSync(this.fd);
  }
}

export interface GeneratedCapture {
  readonly path: string;
  readonly bytes: number;
  readonly packets: number;
  readonly sipMessages: number;
  readonly rtpPackets: number;
  readonly calls: number;
  /** Calls built to raise an alert (their INVITE is a spoof). */
  readonly spoofCalls: number;
}

export interface GenerateOptions {
  /** Stop after this many SIP messages (calls in progress are cut, as in a real capture). */
  readonly sipMessages: number;
  /** RTP packets written per SIP message (9 → 90% of packets are RTP). */
  readonly rtpPerSip?: number;
  /** Capture start, epoch seconds. */
  readonly startSec?: number;
}

const RTP_PAYLOAD = Buffer.alloc(160, 0xd5); // PCMU silence

/** Write a pcapng of the lab traffic model. */
export function generateCapture(path: string, o: GenerateOptions): GeneratedCapture {
  const sink = new FileSink(path);
  const w = new PcapngWriter({ application: 'spoofwatch bench' }, sink);
  const start = o.startSec ?? 1_700_000_000;
  const rtpPer = o.rtpPerSip ?? 0;
  const rtp = Buffer.allocUnsafe(12 + RTP_PAYLOAD.length);
  RTP_PAYLOAD.copy(rtp, 12);
  let sip = 0;
  let rtpPackets = 0;
  let packets = 0;
  let spoof = 0;
  let calls = 0;
  let ipId = 0;
  const add = (slot: number, sub: number, bytes: Buffer): void => {
    const ns = slot * SLOT_NS + sub * 1000;
    const sec = start + Math.floor(ns / 1e9);
    w.add({ ts: { sec, nsec: ns % 1e9 }, bytes, linkType: LinkType.ETHERNET, tsresol: 6 });
    packets++;
  };
  const total = o.sipMessages;
  for (let s = 0; sip < total; s++) {
    const msgs: SipPacket[] = slotMessages(s, Number.MAX_SAFE_INTEGER);
    let sub = 0;
    for (const m of msgs) {
      if (sip >= total) break;
      if (m.text.startsWith('INVITE')) {
        calls++;
        if (m.spoofInvite) spoof++;
      }
      add(s, sub++, udpFrame(m.srcIp, m.srcPort, m.dstIp, m.dstPort, Buffer.from(m.text, 'latin1'), ipId++));
      sip++;
      for (let r = 0; r < rtpPer; r++) {
        // Media of the calls in progress: a stream per call, both directions.
        const call = Math.max(0, s - 600 - ((rtpPackets * 13) % 6000));
        const seq = rtpPackets & 0xffff;
        rtp[0] = 0x80;
        rtp[1] = 0;
        rtp.writeUInt16BE(seq, 2);
        rtp.writeUInt32BE((rtpPackets * 160) >>> 0, 4);
        rtp.writeUInt32BE((call * 2654435761) >>> 0, 8);
        const up = (rtpPackets & 1) === 0;
        const peer = `127.0.0.${10 + (call % 5)}`;
        const peerPort = 20000 + (call % 10000) * 2;
        const uasPort = 30000 + (call % 10000) * 2;
        add(s, sub++, up ? udpFrame(peer, peerPort, '127.0.0.1', uasPort, rtp, ipId++) : udpFrame('127.0.0.1', uasPort, peer, peerPort, rtp, ipId++));
        rtpPackets++;
      }
    }
  }
  sink.close();
  return { path, bytes: sink.bytes, packets, sipMessages: sip, rtpPackets, calls, spoofCalls: spoof };
}

