/**
 * Issue #18 point 6: the UDP fast path drops RTP/RTCP, DTLS and STUN (RFC 7983 §7 first-byte ranges) before a
 * Datagram is built — but only what datagramKind would call 'other': SIP behind junk bytes that start in those
 * ranges still reaches the parser, HEP (v3 'H', v1/v2 first byte 1 or 2) is never dropped, and the counts of
 * datagrams and other payloads are the ones the slow path gives.
 */
import { describe, expect, it } from 'vitest';
import { udpFrame } from '../../bench/capture.js';
import { encodeHep } from '../../src/decode/hep.js';
import { PacketDecoder } from '../../src/decode/packet-decoder.js';
import { datagramKind, Ingest, isMediaNotSip, mediaFilter } from '../../src/pipeline/ingest.js';
import { SL_SIZE } from '../../src/sip/startline.js';
import type { Datagram, Frame } from '../../src/types.js';

const SIP = 'INVITE sip:+31201234567@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:+31612345678@x>;tag=1\r\nTo: <sip:+31201234567@y>\r\nCall-ID: media-filter-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';
const RTP = Buffer.from([0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78, ...Buffer.alloc(160, 0xd5)]);
const RTCP = Buffer.from([0x81, 0xc8, 0x00, 0x06, 0x12, 0x34, 0x56, 0x78, ...Buffer.alloc(20, 0)]);
// STUN Binding request (RFC 8489 §5): type 0x0001, length 0, magic cookie, 96-bit transaction id.
const STUN = Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
// DTLS 1.2 handshake record header (content type 22).
const DTLS = Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x10, ...Buffer.alloc(16, 7)]);
/** SIP after junk that looks like RTP (Zeek's sip_junk_before_request; the probe accepts it). */
const JUNK_SIP = Buffer.concat([Buffer.from([0x80, 0x00]), Buffer.from(SIP, 'latin1')]);
const HEP = encodeHep({
  ipFamily: 4,
  ipProtocol: 17,
  src: { ip: '10.0.0.1', port: 5060 },
  dst: { ip: '10.0.0.2', port: 5060 },
  ts: { sec: 1_700_000_000, nsec: 0 },
  payloadType: 1,
  payload: Buffer.from(SIP, 'latin1'),
});

const dg = (payload: Buffer): Datagram => ({ ts: { sec: 1, nsec: 0 }, src: { ip: '10.0.0.1', port: 5060 }, dst: { ip: '10.0.0.2', port: 5060 }, transport: 'udp', payload, frame: 1 });
const frame = (n: number, payload: Buffer): Frame => {
  const bytes = udpFrame('10.0.0.1', 40000, '10.0.0.2', 5060, payload, n);
  return { number: n, ts: { sec: 1_700_000_000, nsec: n * 1000 }, linkType: 1, bytes, origLen: bytes.length, iface: 0 };
};

describe('UDP fast path for media', () => {
  const scratch = new Int32Array(SL_SIZE);
  const drops = (p: Buffer): boolean => isMediaNotSip(p, 0, p.length, scratch);

  it('drops RTP, RTCP, STUN and DTLS; keeps SIP, SIP behind RTP-like junk, HEP v3 and first bytes 1/2 (HEP v1/v2)', () => {
    expect([RTP, RTCP, STUN, DTLS].map(drops)).toEqual([true, true, true, true]);
    expect(drops(Buffer.from(SIP, 'latin1'))).toBe(false);
    expect(drops(JUNK_SIP)).toBe(false);
    expect(datagramKind(dg(JUNK_SIP))).toBe('sip');
    expect(drops(HEP)).toBe(false);
    const v2like = Buffer.from(STUN);
    v2like[0] = 2; // first byte 2 with STUN's cookie: left to datagramKind (HEP v2 starts with 2)
    expect(drops(v2like)).toBe(false);
    v2like[0] = 1;
    expect(drops(v2like)).toBe(false);
    expect(drops(Buffer.alloc(0))).toBe(false);
    // A first byte 0 without the cookie is not STUN: the ordinary path decides.
    expect(drops(Buffer.from([0, 1, 0, 0, 0, 0, 0, 0]))).toBe(false);
  });

  it('drops nothing datagramKind would take: every first byte, with media, SIP and junk-then-SIP tails', () => {
    const tails = [RTP.subarray(1), STUN.subarray(1), Buffer.from(SIP, 'latin1').subarray(1), Buffer.from(' sip:a@b SIP/2.0\r\n\r\n'), JUNK_SIP];
    const dropped = tails.map(() => 0);
    for (let first = 0; first < 256; first++) {
      tails.forEach((tail, i) => {
        const p = Buffer.concat([Buffer.from([first]), tail]);
        if (drops(p)) {
          dropped[i]!++;
          expect(datagramKind(dg(p)), `first byte ${first}`).toBe('other');
        }
      });
    }
    // RTP tail: all 64 RTP/RTCP + 44 DTLS first bytes; STUN tail: those + 0 and 3 (the cookie is in place). With a
    // SIP tail the 17 token bytes among them make a method ("3NVITE sip:…", "% sip:…") and stay; with junk-then-SIP
    // the other 91 are more junk before INVITE and stay, while a token byte glued to the junk ("3\x80\x00INVITE")
    // is no SIP for datagramKind either.
    expect(dropped).toEqual([108, 110, 91, 91, 17]);
  });

  it('the decoder builds no Datagram for dropped payloads, and Ingest counts them as before', () => {
    const payloads = [RTP, RTCP, STUN, DTLS, JUNK_SIP, Buffer.from(SIP.replace('media-filter-1', 'media-filter-2'), 'latin1'), RTP];
    const frames = payloads.map((p, i) => frame(i + 1, p));
    const seen: Buffer[] = [];
    let droppedCount = 0;
    const decoder = new PacketDecoder({ onDatagram: (d) => seen.push(d.payload), onAnomaly: () => {}, dropUdp: mediaFilter(), onUdpDropped: () => droppedCount++ });
    for (const f of frames) decoder.push(f);
    expect(seen.map((p) => p.length)).toEqual([JUNK_SIP.length, SIP.length]);
    expect(droppedCount).toBe(5);
    expect(decoder.stats.udp).toBe(7);
    expect(decoder.stats.datagrams).toBe(7);

    const calls: string[] = [];
    const ingest = new Ingest({ origin: 'test', onMessage: (e) => calls.push(e.msg.callId ?? '') });
    for (const f of frames) ingest.pushFrame(f);
    ingest.flush();
    expect(calls).toEqual(['media-filter-1', 'media-filter-2']);
    expect(ingest.stats.datagrams).toBe(7);
    expect(ingest.stats.notSip).toBe(5);
    expect(ingest.stats.sipMessages).toBe(2);
  });
});
