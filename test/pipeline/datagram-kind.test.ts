/**
 * How Ingest (and analyze's decode worker, which must choose the same) takes a datagram: HEP, SIP, neither, or TCP
 * stream bytes. Real payloads: a SIP INVITE, a HEP v3 packet made by the project's encoder, an RTP header.
 */
import { describe, expect, it } from 'vitest';
import { encodeHep } from '../../src/decode/hep.js';
import { datagramKind } from '../../src/pipeline/ingest.js';
import type { Datagram } from '../../src/types.js';

const SIP = Buffer.from('INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\nCall-ID: x\r\n\r\n', 'latin1');
const RTP = Buffer.from([0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78, 0xd5, 0xd5]);
const HEP = encodeHep({
  ipFamily: 4,
  ipProtocol: 17,
  src: { ip: '10.0.0.1', port: 5060 },
  dst: { ip: '10.0.0.2', port: 5060 },
  ts: { sec: 1_700_000_000, nsec: 0 },
  payloadType: 1,
  payload: SIP,
});

const dg = (payload: Buffer, extra: Partial<Datagram> = {}): Datagram => ({
  ts: { sec: 1, nsec: 0 },
  src: { ip: '10.0.0.1', port: 5060 },
  dst: { ip: '10.0.0.2', port: 5060 },
  transport: 'udp',
  payload,
  frame: 1,
  ...extra,
});

describe('datagramKind', () => {
  it('tells UDP payloads apart by content, on any port', () => {
    expect(datagramKind(dg(SIP))).toBe('sip');
    expect(datagramKind(dg(HEP))).toBe('hep');
    expect(datagramKind(dg(RTP))).toBe('other');
    expect(datagramKind(dg(Buffer.alloc(0)))).toBe('other');
    expect(datagramKind(dg(Buffer.from('HEP')))).toBe('other'); // too short for the magic
  });

  it('does not unwrap HEP found inside a HEP packet', () => {
    expect(datagramKind(dg(HEP), true)).toBe('other');
    expect(datagramKind(dg(SIP), true)).toBe('sip');
  });

  it('frames TCP bytes with a flow; a message from a socket source without one is whole', () => {
    expect(datagramKind(dg(SIP, { transport: 'tcp', flow: 'a>b' }))).toBe('stream');
    expect(datagramKind(dg(HEP, { transport: 'tcp', flow: 'a>b' }))).toBe('stream');
    expect(datagramKind(dg(SIP, { transport: 'tcp' }))).toBe('sip');
    expect(datagramKind(dg(SIP, { transport: 'udp', flow: 'a>b' }))).toBe('sip');
  });
});
