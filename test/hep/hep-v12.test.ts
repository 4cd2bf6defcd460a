/**
 * Issue #16 point 6: HEP v1 and v2 (Kamailio siptrace `hep_version` 1|2, its default being 1) are decoded, over UDP
 * (one packet per datagram, payload to the end) and TCP (framed by the SIP message's Content-Length), IPv4 and IPv6.
 */
import { describe, expect, it } from 'vitest';
import { decodeHep, encodeHep, encodeHepV12, HepStreamFramer, looksLikeHepV12, type HepPacket } from '../../src/decode/hep.js';
import { datagramKind, Ingest, type HepRejection, type SipEvent } from '../../src/pipeline/ingest.js';
import type { Datagram } from '../../src/types.js';

const INVITE =
  'INVITE sip:+31201234567@127.0.0.1:25060 SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 127.0.0.1:25071;branch=z9hG4bK-1\r\n' +
  'From: <sip:+31301234567@127.0.0.1>;tag=1\r\n' +
  'To: <sip:+31201234567@127.0.0.1>\r\n' +
  'Call-ID: v12-call-1\r\n' +
  'CSeq: 1 INVITE\r\n' +
  'Content-Length: 4\r\n\r\nv=0\n';

/**
 * The first 28 bytes of a HEP v2 packet a real Kamailio 5.6.3 (siptrace, hep_version 2, hep_capture_id 2001) sent on
 * loopback for an INVITE 127.0.0.1:25071 → 127.0.0.1:25060, copied from tcpdump -X.
 */
const KAMAILIO_V2_HEADER = Buffer.from('021002' + '11' + '61ef' + '61e4' + '7f000001' + '7f000001' + '4e05136b' + '16100600' + 'd107' + '0000', 'hex');

const base: HepPacket = {
  ipFamily: 4,
  ipProtocol: 17,
  src: { ip: '192.0.2.10', port: 5060 },
  dst: { ip: '198.51.100.20', port: 5080 },
  ts: { sec: 1_700_000_000, nsec: 123_456_000 },
  payloadType: 1,
  captureId: 2001,
  payload: Buffer.from(INVITE),
};
const v6: HepPacket = { ...base, ipFamily: 6, ipProtocol: 6, src: { ip: '2001:db8::1', port: 5060 }, dst: { ip: '2001:db8::2:1', port: 15060 } };

function ok(r: ReturnType<typeof decodeHep>): HepPacket {
  if (r.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.value;
}

/** The HEP layer's anomalies: the short SIP test messages' own (sip.missing-header …) are the SIP tests' business. */
function notSip(a: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(a).filter(([k]) => !k.startsWith('sip.')));
}

describe('HEP v1/v2 decoding', () => {
  it('decodes the packet a real Kamailio siptrace sent (hep_version 2)', () => {
    const payload = Buffer.from(INVITE);
    const p = ok(decodeHep(Buffer.concat([KAMAILIO_V2_HEADER, payload])));
    expect(p).toEqual({
      version: 2,
      ipFamily: 4,
      ipProtocol: 17,
      src: { ip: '127.0.0.1', port: 25071 },
      dst: { ip: '127.0.0.1', port: 25060 },
      ts: { sec: 1_796_408_654, nsec: 397_334_000 },
      payloadType: 1,
      captureId: 2001,
      payload,
    });
  });

  it('v2 IPv4: 28-byte header (hep_hdr 8, addresses 8, time 12 with the capture id little-endian)', () => {
    const b = encodeHepV12(base, 2);
    expect(b.length).toBe(28 + INVITE.length);
    expect(b.subarray(0, 28).toString('hex')).toBe('02100211' + '13c413d8' + 'c000020a' + 'c6336414' + '00f15365' + '40e20100' + 'd1070000');
    expect(ok(decodeHep(b))).toEqual({ ...base, version: 2, ts: { sec: 1_700_000_000, nsec: 123_456_000 } });
  });

  it('v1 IPv4: 16-byte header, no time (tsMissing) and no capture id', () => {
    const b = encodeHepV12(base, 1);
    expect(b.length).toBe(16 + INVITE.length);
    const { captureId: _c, ...rest } = base;
    expect(ok(decodeHep(b))).toEqual({ ...rest, version: 1, ts: { sec: 0, nsec: 0 }, tsMissing: true });
  });

  it('v1 and v2 IPv6 over TCP: 40-byte address header', () => {
    const one = encodeHepV12(v6, 1);
    expect(one.subarray(0, 4)).toEqual(Buffer.from([1, 40, 10, 6]));
    const { captureId: _c, ...rest } = v6;
    expect(ok(decodeHep(one))).toEqual({ ...rest, version: 1, ts: { sec: 0, nsec: 0 }, tsMissing: true });
    const two = encodeHepV12(v6, 2);
    expect(two.length).toBe(52 + INVITE.length);
    expect(ok(decodeHep(two))).toEqual({ ...v6, version: 2 });
  });

  it('every truncation of a v1/v2 packet (IPv4, IPv6) is incomplete or invalid, never ok before the payload, never a throw', () => {
    for (const [p, v] of [[base, 1], [base, 2], [v6, 1], [v6, 2]] as const) {
      const b = encodeHepV12(p, v);
      const header = (p.ipFamily === 4 ? 16 : 40) + (v === 2 ? 12 : 0);
      for (let i = 0; i <= b.length; i++) {
        const r = decodeHep(b.subarray(0, i));
        if (i < header) expect(r.kind, `cut at ${i}`).toBe('incomplete');
        else if (i === header) expect(r).toEqual({ kind: 'invalid', reason: `HEP v${v}: no payload after the ${header}-byte header` });
        else {
          // A datagram's payload runs to its end: a cut payload is a shorter payload (the SIP layer sees its truncation).
          expect(r.kind).toBe('ok');
          expect(ok(r).payload.length).toBe(i - header);
        }
      }
    }
  });

  it('names what is wrong: header length, family, microseconds', () => {
    const b = encodeHepV12(base, 2);
    const bad = (f: (x: Buffer) => void) => {
      const x = Buffer.from(b);
      f(x);
      return decodeHep(x);
    };
    expect(bad((x) => (x[1] = 20))).toEqual({ kind: 'invalid', reason: 'HEP v2: header length 20, expected 16 (IPv4) or 40 (IPv6)' });
    expect(bad((x) => (x[2] = 28))).toEqual({ kind: 'invalid', reason: 'HEP v2: unknown address family 28' });
    expect(bad((x) => (x[1] = 40))).toEqual({ kind: 'invalid', reason: 'HEP v2: header length 40 does not match IPv4' });
    expect(bad((x) => x.writeUInt32LE(1_000_000, 20))).toEqual({ kind: 'invalid', reason: 'HEP v2: timestamp microseconds 1000000 out of range' });
  });

  it('random buffers starting with version 1 or 2 never throw', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8) & 0xff;
    for (let n = 0; n < 5000; n++) {
      const len = rnd() % 80;
      const x = Buffer.alloc(len);
      for (let i = 0; i < len; i++) x[i] = rnd();
      if (len > 0) x[0] = 1 + (n & 1);
      if (len > 1 && n % 3 === 0) x[1] = n % 2 ? 16 : 40;
      if (len > 2 && n % 3 === 0) x[2] = n % 2 ? 2 : 10;
      expect(() => decodeHep(x)).not.toThrow();
      expect(() => new HepStreamFramer().push(x)).not.toThrow();
    }
  });

  it('looksLikeHepV12 / datagramKind: v1/v2 datagrams are HEP, SIP and short or odd bytes are not', () => {
    const d = (payload: Buffer): Datagram => ({ ts: { sec: 0, nsec: 0 }, src: base.src, dst: base.dst, transport: 'udp', payload, frame: 1 });
    expect(datagramKind(d(encodeHepV12(base, 1)))).toBe('hep');
    expect(datagramKind(d(encodeHepV12(v6, 2)))).toBe('hep');
    expect(datagramKind(d(Buffer.from(INVITE)))).toBe('sip');
    expect(looksLikeHepV12(Buffer.from([1, 16, 2, 17]))).toBe(false); // header cut: not taken for HEP
    expect(looksLikeHepV12(Buffer.from([2, 16, 10, 17, 0, 0, 0, 0]))).toBe(false);
    expect(datagramKind(d(encodeHepV12(base, 2).subarray(0, 28)))).toBe('other'); // header without payload
  });
});

describe('HEP v1/v2 over TCP (HepStreamFramer)', () => {
  const compact = { ...base, payload: Buffer.from(INVITE.replace('Content-Length: 4\r\n\r\nv=0\n', 'l: 0\r\n\r\n')) };
  const packets = [encodeHepV12(base, 1), encodeHepV12(v6, 2), encodeHep(base), encodeHepV12(compact, 2)];
  const stream = Buffer.concat(packets);
  /** Packets with the payload as text: comparing Buffers element by element made the every-cut test take seconds. */
  const view = (ps: HepPacket[]) => ps.map((p) => ({ ...p, payload: p.payload.toString('latin1') }));
  const want = view(packets.map((b) => ok(decodeHep(b))));

  it('frames v1, v2 and v3 packets of one stream by Content-Length (and compact l:), split at every byte', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new HepStreamFramer();
      const got = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
      expect(view(got), `cut at ${cut}`).toEqual(want);
      expect(f.stats).toEqual({ packets: 4, garbageBytes: 0, resyncs: 0, invalid: 0 });
    }
  });

  it('one byte at a time', () => {
    const f = new HepStreamFramer();
    const got: HepPacket[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...f.push(stream.subarray(i, i + 1)));
    expect(view(got)).toEqual(want);
  });

  it('resynchronises after garbage and after a v2 packet whose SIP message has a bad Content-Length', () => {
    const bad = encodeHepV12({ ...base, payload: Buffer.from(INVITE.replace('Content-Length: 4', 'Content-Length: x4')) }, 2);
    const f = new HepStreamFramer();
    const got = f.push(Buffer.concat([Buffer.from('junk'), bad, encodeHepV12(base, 1)]));
    expect(view(got)).toEqual([want[0]]);
    expect(f.stats.invalid).toBe(1);
    expect(f.stats.lastInvalidReason).toBe('HEP v2 over TCP: unparseable Content-Length');
    expect(f.stats.packets).toBe(1);
    expect(f.stats.garbageBytes).toBe(4 + bad.length);
  });

  it('a v1 header followed by 64 KiB without an empty line is invalid, and the framer holds no more than that', () => {
    const f = new HepStreamFramer();
    const head = encodeHepV12({ ...base, payload: Buffer.from('INVITE sip:a@b SIP/2.0\r\n') }, 1);
    f.push(head);
    f.push(Buffer.alloc(40_000, 0x41));
    expect(f.buffered).toBe(head.length + 40_000);
    f.push(Buffer.alloc(40_000, 0x41));
    expect(f.stats.invalid).toBe(1);
    expect(f.stats.lastInvalidReason).toBe('HEP v1 over TCP: no end of SIP headers within 65536 bytes');
    expect(f.buffered).toBeLessThanOrEqual(3);
  });
});

describe('HEP v1/v2 over TCP: hostile look-alike headers are skipped as a block, each byte searched once', () => {
  // 17 bytes that look like a v1 header (version 1, length 16, AF_INET, UDP) and the first letter of a SIP message.
  const fake = Buffer.from([1, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc4, 1, 2, 3, 4, 5, 6, 7, 8, 0x41]);
  const noEnd = Buffer.concat(new Array<Buffer>(Math.ceil((256 * 1024) / fake.length)).fill(fake));

  for (const read of [1024, noEnd.length]) {
    it(`256 KiB without an end of headers, in ${read} byte reads: three rejections, bounded buffer`, () => {
      const f = new HepStreamFramer();
      for (let i = 0; i < noEnd.length; i += read) f.push(noEnd.subarray(i, i + read));
      // Each rejection skips the 64 KiB it searched (before: one byte, and the next look-alike searched them again).
      expect(f.stats).toEqual({ packets: 0, garbageBytes: 196_656, resyncs: 3, invalid: 3, lastInvalidReason: 'HEP v1 over TCP: no end of SIP headers within 65536 bytes' });
      expect(f.buffered).toBe(noEnd.length - 196_656);
    });
  }

  it('look-alike headers ending in a bad Content-Length: the whole header block is skipped at once', () => {
    const block = Buffer.concat([noEnd.subarray(0, 60_000), Buffer.from('\r\nContent-Length: x\r\n\r\n')]);
    const f = new HepStreamFramer();
    f.push(Buffer.concat([block, block, encodeHepV12(base, 1)]));
    expect(f.stats.invalid).toBe(2);
    expect(f.stats.packets).toBe(1);
    expect(f.stats.garbageBytes).toBe(2 * block.length);
  });
});

describe('Ingest: HEP agents, non-SIP payloads, rejections', () => {
  const collect = () => {
    const events: SipEvent[] = [];
    const rejections: HepRejection[] = [];
    const ingest = new Ingest({ origin: 'hep-udp', onMessage: (e) => events.push(e), onHepRejected: (r) => rejections.push(r) });
    return { events, rejections, ingest };
  };
  const agent = { ip: '10.1.2.3', port: 5060 };

  it('a v1 packet becomes a SIP message that names its agent; v2 adds the capture id; v1 without time takes the clock', () => {
    const events: SipEvent[] = [];
    const ingest = new Ingest({ origin: 'hep-udp', onMessage: (e) => events.push(e), now: () => ({ sec: 42, nsec: 0 }) });
    ingest.pushHep(encodeHepV12(base, 1), 1, agent);
    ingest.pushHep(encodeHepV12(v6, 2), 2, agent);
    expect(events.map((e) => [e.msg.callId, e.meta.origin, e.meta.agent, e.meta.ts.sec, e.meta.transport, e.meta.src.ip, e.hepCaptureId])).toEqual([
      ['v12-call-1', 'hep-udp', { address: '10.1.2.3:5060', feed: 'udp' }, 42, 'udp', '192.0.2.10', 0],
      ['v12-call-1', 'hep-udp', { address: '10.1.2.3:5060', captureId: 2001, feed: 'udp' }, 1_700_000_000, 'tcp', '2001:db8::1', 2001],
    ]);
    // A plain SIP datagram after them carries no agent.
    ingest.pushDatagram({ ts: { sec: 1, nsec: 0 }, src: base.src, dst: base.dst, transport: 'udp', payload: Buffer.from(INVITE), frame: 3 });
    expect(events[2]?.meta).toMatchObject({ origin: 'hep-udp', agent: undefined });
    expect(notSip(ingest.stats.anomalies)).toEqual({});
  });

  it("Kamailio's TLS/WS/WSS marker (IP protocol 22) is read as TLS; SCTP (132) is an anomaly, not silence", () => {
    const { ingest, events } = collect();
    ingest.pushHep(encodeHepV12({ ...base, ipProtocol: 22 }, 2), 1, agent);
    ingest.pushHep(encodeHep({ ...base, ipProtocol: 132 }), 2, agent);
    expect(events.map((e) => [e.msg.callId, e.meta.transport])).toEqual([['v12-call-1', 'tls']]);
    expect(notSip(ingest.stats.anomalies)).toEqual({ 'hep.unsupported-protocol': 1 });
  });

  it('non-SIP HEP (Kamailio hlog type 100, RTCP type 5) is counted by payload type, not as an anomaly', () => {
    const { ingest, events } = collect();
    ingest.pushHep(encodeHep({ ...base, payloadType: 100, payload: Buffer.from('log line') }), 1, agent);
    ingest.pushHep(encodeHep({ ...base, payloadType: 100, payload: Buffer.from('log line 2') }), 2, agent);
    ingest.pushHep(encodeHep({ ...base, payloadType: 5, payload: Buffer.from('{"type":200}') }), 3, agent);
    expect(events).toHaveLength(0);
    expect(ingest.stats.hepNotSip).toEqual({ '100': 2, '5': 1 });
    expect(notSip(ingest.stats.anomalies)).toEqual({});
    expect(ingest.hepAgentsAllRejected()).toEqual([]);
  });

  it('reports the first rejected packet of each agent once, and names the agents of which nothing decoded', () => {
    const { ingest, rejections } = collect();
    const broken = Buffer.from(encodeHep(base));
    broken.writeUInt16BE(3, 4); // total length below the header
    const other = { ip: '10.9.9.9', port: 9 };
    ingest.pushHep(broken, 1, agent);
    ingest.pushHep(broken, 2, agent);
    ingest.pushHep(broken, 3, other);
    ingest.pushHep(encodeHep(base), 4, other);
    expect(rejections).toEqual([
      { agent: '10.1.2.3:5060', reason: 'total length 3 below header size', head: broken.subarray(0, 32).toString('hex'), frame: 1 },
      { agent: '10.9.9.9:9', reason: 'total length 3 below header size', head: broken.subarray(0, 32).toString('hex'), frame: 3 },
    ]);
    expect(notSip(ingest.stats.anomalies)).toEqual({ 'hep.invalid': 3 });
    expect(ingest.hepAgentsAllRejected()).toEqual(['10.1.2.3']);
    expect(ingest.hepAgentsAllRejected(3)).toEqual([]);
    // The agent is its address: a valid packet from another port of 10.1.2.3 clears it.
    ingest.pushHep(encodeHep(base), 5, { ip: '10.1.2.3', port: 40000 });
    expect(ingest.hepAgentsAllRejected()).toEqual([]);
  });

  it('a rejecting agent counts as degraded only while its last rejection is recent', () => {
    let now = 1_000;
    const ingest = new Ingest({ origin: 'hep-udp', onMessage: () => undefined, now: () => ({ sec: now, nsec: 0 }) });
    const broken = Buffer.from([0x48, 0x45, 0x50, 0x33, 0, 3]);
    for (let i = 0; i < 3; i++) ingest.pushHep(broken, i + 1, agent);
    now = 1_500;
    expect(ingest.hepAgentsAllRejected(3, 1_000_000)).toEqual(['10.1.2.3']);
    expect(ingest.hepAgentsAllRejected(3, 1_000_001)).toEqual([]);
  });
});
