import { describe, expect, it } from 'vitest';
import { LinkType } from '../../src/types.js';
import {
  EtherTypes,
  IpProto,
  ethernet,
  fragmentIpv4,
  fragmentIpv6,
  ipInIp,
  ipv4,
  ipv6ExtensionChain,
  ipv6Fragment,
  udp,
  udpPacket,
} from '../../scripts/lib/packets.js';
import { SIP_INVITE, harness, permutations } from './helpers.js';

const V4 = { src: '192.0.2.10', dst: '198.51.100.20' };
const V6 = { src: '2001:db8::10', dst: '2001:db8::20' };
const UDP_SEG = udp({ srcPort: 5060, dstPort: 5070, payload: SIP_INVITE });

function expectSip(h: ReturnType<typeof harness>, src: string, dst: string, frame: number): void {
  expect(h.anomalies).toEqual([]);
  expect(h.out).toEqual([
    {
      ts: { sec: 1_700_000_000 + frame, nsec: 0 },
      src: { ip: src, port: 5060 },
      dst: { ip: dst, port: 5070 },
      transport: 'udp',
      payload: SIP_INVITE,
      frame,
    },
  ]);
  expect(h.dec.stats.fragmentsReassembled).toBe(1);
  expect(h.dec.pendingFragments).toBe(0);
}

describe('IPv4 fragments', () => {
  const frags = fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: UDP_SEG, id: 0xbeef }, 80);
  it('builds 4 fragments with offsets 0, 80, 160, 240', () => {
    expect(frags.length).toBe(4);
    expect(frags.map((f) => f.readUInt16BE(6))).toEqual([0x2000, 0x2000 | 10, 0x2000 | 20, 30]);
  });

  it('every order of 4 fragments gives the same datagram, framed by the completing fragment', () => {
    for (const order of permutations(4)) {
      const h = harness();
      for (const i of order) h.push(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV4, payload: frags[i] as Buffer }));
      expectSip(h, V4.src, V4.dst, 4);
    }
  });

  it('every order of 3 fragments plus a duplicate', () => {
    const three = fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: UDP_SEG }, 104);
    expect(three.length).toBe(3);
    const withDup = [...three, three[1] as Buffer];
    for (const order of permutations(4)) {
      const h = harness();
      let completedAt = 0;
      for (const i of order) {
        h.push(LinkType.RAW, withDup[i] as Buffer);
        if (completedAt === 0 && h.out.length === 1) completedAt = h.dec.stats.frames;
      }
      // After completion the late duplicate starts a new (never completed) datagram.
      expect(h.out.length).toBe(1);
      expect(h.out[0]?.payload).toEqual(SIP_INVITE);
      expect(h.out[0]?.frame).toBe(completedAt);
      expect(h.anomalies).toEqual([]);
    }
  });

  it('overlapping fragments with equal bytes reassemble silently in every order', () => {
    const data = UDP_SEG;
    const parts: [number, number][] = [
      [0, 96],
      [48, 160],
      [152, data.length],
    ];
    const pkts = parts.map(([s, e]) =>
      ipv4({ ...V4, protocol: IpProto.UDP, id: 9, payload: data.subarray(s, e), fragmentOffset: s, moreFragments: e < data.length }),
    );
    for (const order of permutations(3)) {
      const h = harness();
      for (const i of order) h.push(LinkType.RAW, pkts[i] as Buffer);
      expectSip(h, V4.src, V4.dst, 3);
    }
  });

  it('overlapping fragments with different bytes: the first copy wins, an anomaly is counted', () => {
    const data = UDP_SEG;
    const forged = Buffer.from(data.subarray(40, 120));
    forged.fill(0x58, 10, 20); // bytes 50..59 differ
    const first = ipv4({ ...V4, protocol: IpProto.UDP, id: 9, payload: data.subarray(0, 80), moreFragments: true });
    const overlap = ipv4({ ...V4, protocol: IpProto.UDP, id: 9, payload: forged, fragmentOffset: 40, moreFragments: true });
    const rest = ipv4({ ...V4, protocol: IpProto.UDP, id: 9, payload: data.subarray(120), fragmentOffset: 120 });
    const h = harness();
    h.push(LinkType.RAW, first);
    h.push(LinkType.RAW, overlap);
    h.push(LinkType.RAW, rest);
    expect(h.out[0]?.payload).toEqual(SIP_INVITE);
    expect(h.kinds()).toEqual(['frag.overlap-differs']);

    const h2 = harness();
    h2.push(LinkType.RAW, overlap);
    h2.push(LinkType.RAW, first);
    h2.push(LinkType.RAW, rest);
    const expected = Buffer.from(SIP_INVITE);
    expected.fill(0x58, 42, 52); // forged copy came first: it wins (UDP header is 8 bytes)
    expect(h2.out[0]?.payload).toEqual(expected);
    expect(h2.kinds()).toEqual(['frag.overlap-differs']);
  });

  it('a fragmented outer packet carrying an IPv6 tunnel is reassembled, then decoded', () => {
    const inner = udpPacket(V6.src, 5060, V6.dst, 5070, SIP_INVITE);
    const fr = fragmentIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IpProto.IPV6, payload: inner }, 128);
    for (const order of permutations(fr.length)) {
      const h = harness();
      for (const i of order) h.push(LinkType.RAW, fr[i] as Buffer);
      expectSip(h, V6.src, V6.dst, fr.length);
    }
  });

  it('fragments of different datagrams (ids) do not mix', () => {
    const a = fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: UDP_SEG, id: 1 }, 104);
    const b = fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: udp({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(250, 0x41) }), id: 2 }, 104);
    const h = harness();
    for (let i = 0; i < 3; i++) {
      h.push(LinkType.RAW, a[i] as Buffer);
      h.push(LinkType.RAW, b[2 - i] as Buffer);
    }
    expect(h.out.map((d) => [d.frame, d.payload.length])).toEqual([
      [5, SIP_INVITE.length],
      [6, 250],
    ]);
  });
});

describe('IPv6 fragments', () => {
  // Unfragmentable part: hop-by-hop. Fragmentable part: destination options, then UDP.
  const dst = ipv6ExtensionChain([{ type: IpProto.DSTOPTS, data: Buffer.alloc(6) }], IpProto.UDP);
  const opts = {
    ...V6,
    nextHeader: IpProto.DSTOPTS,
    payload: Buffer.concat([dst.bytes, UDP_SEG]),
    extensions: [{ type: IpProto.HOPOPT, data: Buffer.alloc(6) }],
  };
  const frags = fragmentIpv6(opts, 80);

  it('every order of 4 fragments gives the same datagram', () => {
    expect(frags.length).toBe(4);
    for (const order of permutations(4)) {
      const h = harness();
      for (const i of order) h.push(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV6, payload: frags[i] as Buffer }));
      expectSip(h, V6.src, V6.dst, 4);
    }
  });

  it('an atomic fragment (offset 0, M = 0) is decoded without reassembly', () => {
    const h = harness();
    h.push(LinkType.RAW, ipv6Fragment({ ...V6, nextHeader: IpProto.UDP, payload: UDP_SEG }, 0, UDP_SEG, false, 5));
    expect(h.out.map((d) => d.payload)).toEqual([SIP_INVITE]);
    expect(h.dec.stats.fragments).toBe(0);
  });

  it('different identifications do not mix; same id from another source neither', () => {
    const h = harness();
    const o = { ...V6, nextHeader: IpProto.UDP, payload: UDP_SEG };
    const a = fragmentIpv6(o, 160, 1);
    const b = fragmentIpv6({ ...o, src: '2001:db8::99' }, 160, 1);
    h.push(LinkType.RAW, a[0] as Buffer);
    h.push(LinkType.RAW, b[1] as Buffer);
    h.push(LinkType.RAW, a[1] as Buffer);
    h.push(LinkType.RAW, b[0] as Buffer);
    expect(h.out.map((d) => [d.src.ip, d.frame])).toEqual([
      [V6.src, 3],
      ['2001:db8::99', 4],
    ]);
  });
});

describe('fragment limits and expiry', () => {
  const frags = fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: UDP_SEG, id: 7 }, 104);

  it('an incomplete datagram expires 30 s after its first fragment (capture time)', () => {
    const h = harness();
    h.push(LinkType.RAW, frags[0] as Buffer, 1000);
    h.push(LinkType.RAW, frags[1] as Buffer, 1029);
    expect(h.anomalies).toEqual([]);
    h.push(LinkType.RAW, udpPacket('10.9.9.9', 1, '10.9.9.8', 2, Buffer.from('x')), 1030);
    expect(h.anomalies).toEqual([{ kind: 'frag.expired', detail: 'incomplete after 30000 ms (208 bytes held)', frame: 3 }]);
    expect(h.dec.stats).toMatchObject({ fragmentsExpired: 1, bytesDropped: 208, fragmentDatagrams: 0 });
    h.push(LinkType.RAW, frags[2] as Buffer, 1031);
    expect(h.out.length).toBe(1); // only the 'x' datagram
  });

  it('the clock does not step back with an earlier frame time', () => {
    const h = harness();
    h.push(LinkType.RAW, frags[0] as Buffer, 1000);
    h.push(LinkType.RAW, udpPacket('10.9.9.9', 1, '10.9.9.8', 2, Buffer.from('x')), 1031);
    expect(h.kinds()).toEqual(['frag.expired']);
    h.push(LinkType.RAW, frags[1] as Buffer, 1001);
    h.push(LinkType.RAW, frags[2] as Buffer, 1002);
    expect(h.out.length).toBe(1);
  });

  it('the concurrent-datagram limit evicts the oldest', () => {
    const h = harness({ maxFragmentDatagrams: 2 });
    for (const id of [1, 2, 3]) {
      h.push(LinkType.RAW, fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: UDP_SEG, id }, 104)[0] as Buffer);
    }
    expect(h.anomalies).toEqual([{ kind: 'frag.evicted', detail: 'reassembly limits reached (2 datagrams, 208 bytes)', frame: 3 }]);
    expect(h.dec.stats).toMatchObject({ fragmentsEvicted: 1, fragmentDatagrams: 2 });
    // datagram 1 can no longer complete; datagram 3 still can
    for (const f of fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: UDP_SEG, id: 1 }, 104).slice(1)) h.push(LinkType.RAW, f);
    for (const f of fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: UDP_SEG, id: 3 }, 104).slice(1)) h.push(LinkType.RAW, f);
    expect(h.out.map((d) => d.frame)).toEqual([7]);
  });

  it('the total byte limit evicts the oldest', () => {
    const h = harness({ maxFragmentTotalBytes: 300 });
    h.push(LinkType.RAW, fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: UDP_SEG, id: 1 }, 200)[0] as Buffer);
    h.push(LinkType.RAW, fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: UDP_SEG, id: 2 }, 200)[0] as Buffer);
    expect(h.kinds()).toEqual(['frag.evicted']);
    expect(h.dec.stats.bytesDropped).toBe(200);
  });

  it('fragments beyond 65 535 bytes are dropped', () => {
    const h = harness();
    h.push(LinkType.RAW, ipv4({ ...V4, protocol: IpProto.UDP, payload: Buffer.alloc(16), fragmentOffset: 65528 }));
    expect(h.anomalies).toEqual([{ kind: 'frag.too-large', detail: 'fragment ends at byte 65544 (limit 65535)', frame: 1 }]);
  });

  it('two last fragments that disagree drop the datagram', () => {
    const h = harness();
    h.push(LinkType.RAW, ipv4({ ...V4, protocol: IpProto.UDP, payload: Buffer.alloc(16), fragmentOffset: 64 }));
    h.push(LinkType.RAW, ipv4({ ...V4, protocol: IpProto.UDP, payload: Buffer.alloc(16), fragmentOffset: 80 }));
    expect(h.kinds()).toEqual(['frag.inconsistent']);
    expect(h.dec.pendingFragments).toBe(0);
  });

  it('flush() drops incomplete datagrams as expired', () => {
    const h = harness();
    h.push(LinkType.RAW, frags[2] as Buffer);
    h.dec.flush();
    expect(h.anomalies).toEqual([{ kind: 'frag.expired', detail: `incomplete at end of input (${UDP_SEG.length - 208} bytes held)`, frame: 1 }]);
  });
});

describe('tunnel of fragments', () => {
  it('inner fragments inside an unfragmented tunnel reassemble', () => {
    const inner = fragmentIpv4({ ...V4, protocol: IpProto.UDP, payload: UDP_SEG }, 104);
    const h = harness();
    for (const f of [...inner].reverse()) h.push(LinkType.RAW, ipInIp('fd00::1', 'fd00::2', f));
    expectSip(h, V4.src, V4.dst, 3);
  });
});
