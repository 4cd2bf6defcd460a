import { describe, expect, it } from 'vitest';
import { LinkType } from '../../src/types.js';
import {
  AddressFamily,
  EtherTypes,
  IpProto,
  ethernet,
  gre,
  ip,
  ipInIp,
  ipv4,
  ipv6,
  loopback,
  sll,
  sll2,
  udp,
  udpPacket,
} from '../../scripts/lib/packets.js';
import { SIP_INVITE, harness } from './helpers.js';

const V4 = { src: '192.0.2.10', dst: '198.51.100.20' };
const V6 = { src: '2001:db8::10', dst: '2001:db8:0:1::20' };
const udp4 = udpPacket(V4.src, 5060, V4.dst, 5070, SIP_INVITE);
const udp6 = udpPacket(V6.src, 5060, V6.dst, 5070, SIP_INVITE);

function expectOne(linkType: number, bytes: Buffer, src: string, dst: string, payload = SIP_INVITE): void {
  const h = harness();
  h.push(linkType, bytes, 1_700_000_123);
  expect(h.anomalies).toEqual([]);
  expect(h.out).toEqual([
    {
      ts: { sec: 1_700_000_123, nsec: 0 },
      src: { ip: src, port: 5060 },
      dst: { ip: dst, port: 5070 },
      transport: 'udp',
      payload,
      frame: 1,
    },
  ]);
}

describe('link layers', () => {
  it('Ethernet IPv4 / IPv6', () => {
    expectOne(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV4, payload: udp4 }), V4.src, V4.dst);
    expectOne(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV6, payload: udp6 }), V6.src, V6.dst);
  });

  it('Ethernet padding after a short IPv4 packet is not payload', () => {
    const small = udpPacket(V4.src, 5060, V4.dst, 5070, Buffer.from('\r\n\r\n'));
    const f = ethernet({ etherType: EtherTypes.IPV4, payload: small, pad: true });
    expect(f.length).toBe(60);
    expectOne(LinkType.ETHERNET, f, V4.src, V4.dst, Buffer.from('\r\n\r\n'));
  });

  const stacks: [string, { tpid?: number; vid: number }[]][] = [
    ['802.1Q', [{ vid: 100 }]],
    ['802.1ad + 802.1Q (QinQ)', [{ tpid: EtherTypes.QINQ, vid: 10 }, { vid: 20 }]],
    ['0x9100 + 0x8100', [{ tpid: EtherTypes.QINQ_OLD, vid: 10 }, { vid: 20 }]],
    ['three tags', [{ tpid: EtherTypes.QINQ, vid: 1 }, { tpid: EtherTypes.VLAN, vid: 2 }, { vid: 3 }]],
  ];
  for (const [name, vlans] of stacks) {
    it(`VLAN ${name}`, () => {
      expectOne(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV4, payload: udp4, vlans }), V4.src, V4.dst);
      expectOne(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV6, payload: udp6, vlans }), V6.src, V6.dst);
    });
  }

  it('Linux SLL and SLL2 (also with a VLAN tag left in)', () => {
    expectOne(LinkType.LINUX_SLL, sll({ protocol: EtherTypes.IPV4, payload: udp4, arphrd: 772 }), V4.src, V4.dst);
    expectOne(LinkType.LINUX_SLL, sll({ protocol: EtherTypes.IPV6, payload: udp6 }), V6.src, V6.dst);
    const tagged = Buffer.concat([Buffer.from([0x00, 0x64, 0x08, 0x00]), udp4]);
    expectOne(LinkType.LINUX_SLL, sll({ protocol: EtherTypes.VLAN, payload: tagged }), V4.src, V4.dst);
    expectOne(LinkType.LINUX_SLL2, sll2({ protocol: EtherTypes.IPV4, payload: udp4, packetType: 4 }), V4.src, V4.dst);
    expectOne(LinkType.LINUX_SLL2, sll2({ protocol: EtherTypes.IPV6, payload: udp6 }), V6.src, V6.dst);
  });

  it('raw IP: 101 and 12 by version nibble, 228 IPv4, 229 IPv6', () => {
    expectOne(LinkType.RAW, udp4, V4.src, V4.dst);
    expectOne(LinkType.RAW, udp6, V6.src, V6.dst);
    expectOne(12, udp6, V6.src, V6.dst);
    expectOne(LinkType.IPV4, udp4, V4.src, V4.dst);
    expectOne(LinkType.IPV6, udp6, V6.src, V6.dst);
  });

  it('BSD NULL (host order) and LOOP (network order), every AF_INET6 value', () => {
    for (const order of ['le', 'be'] as const) {
      for (const lt of [LinkType.NULL, LinkType.LOOP]) {
        expectOne(lt, loopback(AddressFamily.INET, udp4, order), V4.src, V4.dst);
        for (const fam of [AddressFamily.INET6_NETBSD, AddressFamily.INET6_FREEBSD, AddressFamily.INET6_DARWIN]) {
          expectOne(lt, loopback(fam, udp6, order), V6.src, V6.dst);
        }
      }
    }
  });

  it('non-IP frames are counted, not anomalies', () => {
    const h = harness();
    h.push(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.ARP, payload: Buffer.alloc(28) }));
    h.push(LinkType.ETHERNET, Buffer.concat([Buffer.alloc(12), Buffer.from([0x00, 0x2e]), Buffer.alloc(46)])); // 802.3
    h.push(LinkType.NULL, loopback(7, udp4, 'le'));
    h.push(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV4, payload: ipv4({ ...V4, protocol: IpProto.ICMP, payload: Buffer.alloc(8) }) }));
    expect(h.out).toEqual([]);
    expect(h.anomalies).toEqual([]);
    expect(h.dec.stats).toMatchObject({ frames: 4, nonIp: 3, otherProtocols: 1, ipPackets: 1 });
  });

  it('non-IP frames are counted per reason (issue #16)', () => {
    const h = harness();
    h.push(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.ARP, payload: Buffer.alloc(28) }));
    h.push(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.ARP, payload: Buffer.alloc(28) }));
    h.push(LinkType.ETHERNET, Buffer.concat([Buffer.alloc(12), Buffer.from([0x00, 0x2e]), Buffer.alloc(46)]));
    h.push(LinkType.NULL, loopback(7, udp4, 'le'));
    h.push(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV4, payload: ipv4({ ...V4, protocol: IpProto.ICMP, payload: Buffer.alloc(8) }) }));
    h.push(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV6, payload: ipv6({ ...V6, nextHeader: IpProto.ESP, payload: Buffer.alloc(8) }) }));
    h.push(147, udp4);
    expect(h.dec.stats.notDecoded).toEqual({
      'ethertype 0x0806': 2,
      '802.3 frame': 1,
      'loopback family 7': 1,
      'ip protocol 1': 1,
      'ip protocol 50': 1,
      'link type 147': 1,
    });
    expect(h.anomalies).toEqual([]);
  });

  it('an unknown link type is counted as not decoded, not an anomaly (it is not malformed)', () => {
    const h = harness();
    h.push(147, udp4);
    expect(h.anomalies).toEqual([]);
    expect(h.dec.stats).toMatchObject({ frames: 1, nonIp: 1, notDecoded: { 'link type 147': 1 } });
    h.push(LinkType.IPV4, udp6);
    expect(h.kinds()).toEqual(['ip.bad-version']);
  });

  it('the reasons are a bounded set: past 32, frames count under "other"', () => {
    const h = harness();
    for (let t = 0; t < 40; t++) h.push(LinkType.ETHERNET, ethernet({ etherType: 0x9000 + t, payload: Buffer.alloc(46) }));
    h.push(LinkType.ETHERNET, ethernet({ etherType: 0x9000, payload: Buffer.alloc(46) }));
    const nd = h.dec.stats.notDecoded;
    expect(Object.keys(nd)).toHaveLength(33);
    expect(nd['ethertype 0x9000']).toBe(2);
    expect(nd['ethertype 0x901f']).toBe(1);
    expect(nd['ethertype 0x9020']).toBeUndefined();
    expect(nd['other']).toBe(8);
    expect(Object.values(nd).reduce((a, b) => a + b, 0)).toBe(41);
  });
});

describe('IP headers', () => {
  it('IPv4 options are skipped by IHL (1 word and the maximum 10 words)', () => {
    for (const options of [Buffer.from([0x94, 0x04, 0, 0]), Buffer.alloc(40, 1)]) {
      const pkt = ipv4({ ...V4, protocol: IpProto.UDP, payload: udp({ srcPort: 5060, dstPort: 5070, payload: SIP_INVITE }), options });
      expect(pkt[0]).toBe(0x40 | ((20 + options.length) / 4));
      expectOne(LinkType.RAW, pkt, V4.src, V4.dst);
    }
  });

  it('IPv6 extension headers: hop-by-hop, routing, destination options, AH', () => {
    const payload = udp({ srcPort: 5060, dstPort: 5070, payload: SIP_INVITE });
    const pkt = ipv6({
      ...V6,
      nextHeader: IpProto.UDP,
      payload,
      extensions: [
        { type: IpProto.HOPOPT, data: Buffer.from([1, 4, 0, 0, 0, 0]) },
        { type: IpProto.ROUTING, data: Buffer.alloc(22) },
        { type: IpProto.DSTOPTS, data: Buffer.alloc(14) },
        { type: IpProto.AH, data: Buffer.alloc(22, 0xaa) },
      ],
    });
    expect(pkt[6]).toBe(0);
    expectOne(LinkType.RAW, pkt, V6.src, V6.dst);
  });

  it('IPv4 AH is skipped by its length', () => {
    const ah = Buffer.alloc(24);
    ah[0] = IpProto.UDP;
    ah[1] = 24 / 4 - 2;
    const pkt = ipv4({ ...V4, protocol: IpProto.AH, payload: Buffer.concat([ah, udp({ srcPort: 5060, dstPort: 5070, payload: SIP_INVITE })]) });
    expectOne(LinkType.RAW, pkt, V4.src, V4.dst);
  });

  it('IPv4-mapped and compressed IPv6 text', () => {
    expectOne(LinkType.RAW, udpPacket('::ffff:192.0.2.1', 5060, '2001:db8:0:0:1:0:0:1', 5070, SIP_INVITE), '::ffff:192.0.2.1', '2001:db8::1:0:0:1');
  });

  it('IPv4 total length 0 (captured before TCP segmentation offload) uses the captured length', () => {
    const pkt = ipv4({ ...V4, protocol: IpProto.UDP, payload: udp({ srcPort: 5060, dstPort: 5070, payload: SIP_INVITE }), totalLength: 0 });
    expectOne(LinkType.RAW, pkt, V4.src, V4.dst);
  });

  it('a packet cut by the snaplen is dropped with an anomaly', () => {
    const h = harness();
    h.push(LinkType.RAW, udp4.subarray(0, 100));
    expect(h.out).toEqual([]);
    expect(h.anomalies).toEqual([
      { kind: 'ipv4.payload-truncated', detail: `total length ${udp4.length}, 100 captured`, frame: 1 },
    ]);
    expect(h.dec.stats.bytesDropped).toBe(100);
  });
});

describe('tunnels', () => {
  const cases: [string, Buffer, string, string][] = [
    ['IPv4 in IPv4', ipInIp('10.0.0.1', '10.0.0.2', udp4), V4.src, V4.dst],
    ['IPv6 in IPv4', ipInIp('10.0.0.1', '10.0.0.2', udp6), V6.src, V6.dst],
    ['IPv4 in IPv6', ipInIp('fd00::1', 'fd00::2', udp4), V4.src, V4.dst],
    ['IPv6 in IPv6', ipInIp('fd00::1', 'fd00::2', udp6), V6.src, V6.dst],
    ['IPv4 in IPv6 in IPv4', ipInIp('10.0.0.1', '10.0.0.2', ipInIp('fd00::1', 'fd00::2', udp4)), V4.src, V4.dst],
    ['GRE IPv4', ip('10.0.0.1', '10.0.0.2', IpProto.GRE, gre({ protocol: EtherTypes.IPV4, payload: udp4 })), V4.src, V4.dst],
    [
      'GRE with checksum, key and sequence, IPv6 inside',
      ip('10.0.0.1', '10.0.0.2', IpProto.GRE, gre({ protocol: EtherTypes.IPV6, payload: udp6, checksum: true, key: 42, sequence: 7 })),
      V6.src,
      V6.dst,
    ],
    ['GRE over IPv6 with key', ip('fd00::1', 'fd00::2', IpProto.GRE, gre({ protocol: EtherTypes.IPV4, payload: udp4, key: 1 })), V4.src, V4.dst],
    [
      'GRE transparent Ethernet bridging with a VLAN tag',
      ip('10.0.0.1', '10.0.0.2', IpProto.GRE, gre({ protocol: EtherTypes.TEB, payload: ethernet({ etherType: EtherTypes.IPV4, payload: udp4, vlans: [{ vid: 5 }] }), sequence: 1 })),
      V4.src,
      V4.dst,
    ],
  ];
  for (const [name, pkt, src, dst] of cases) {
    it(name, () => {
      expectOne(LinkType.ETHERNET, ethernet({ etherType: (pkt[0] ?? 0) >> 4 === 6 ? EtherTypes.IPV6 : EtherTypes.IPV4, payload: pkt }), src, dst);
      const h = harness();
      h.push(LinkType.RAW, pkt);
      expect(h.dec.stats.ipPackets).toBe(1);
      expect(h.dec.stats.tunnelled).toBeGreaterThanOrEqual(1);
    });
  }

  it('GRE version 1 (PPTP) and routing are unsupported anomalies', () => {
    const h = harness();
    h.push(LinkType.RAW, ip('10.0.0.1', '10.0.0.2', IpProto.GRE, gre({ protocol: EtherTypes.IPV4, payload: udp4, version: 1 })));
    const routed = gre({ protocol: EtherTypes.IPV4, payload: udp4 });
    routed[0] = 0x40;
    h.push(LinkType.RAW, ip('10.0.0.1', '10.0.0.2', IpProto.GRE, routed));
    expect(h.anomalies).toEqual([
      { kind: 'gre.unsupported', detail: 'GRE version 1', frame: 1 },
      { kind: 'gre.unsupported', detail: 'GRE routing (RFC 1701) present', frame: 2 },
    ]);
  });

  it('nesting deeper than the limit is an anomaly, up to the limit decodes', () => {
    let pkt = udp4;
    for (let i = 0; i < 8; i++) pkt = ipInIp('10.0.0.1', '10.0.0.2', pkt);
    const h = harness();
    h.push(LinkType.RAW, pkt);
    expect(h.out.length).toBe(1);
    h.push(LinkType.RAW, ipInIp('10.0.0.1', '10.0.0.2', pkt));
    expect(h.out.length).toBe(1);
    expect(h.kinds()).toEqual(['encap.too-deep']);
  });
});

describe('UDP', () => {
  it('length larger than the IP payload: anomaly, the IP payload is used', () => {
    const pkt = ip(V4.src, V4.dst, IpProto.UDP, udp({ srcPort: 5060, dstPort: 5070, payload: SIP_INVITE, length: SIP_INVITE.length + 100 }));
    const h = harness();
    h.push(LinkType.RAW, pkt);
    expect(h.out.map((d) => d.payload)).toEqual([SIP_INVITE]);
    expect(h.anomalies).toEqual([
      { kind: 'udp.length-mismatch', detail: `UDP length ${SIP_INVITE.length + 100}, IP payload ${SIP_INVITE.length + 8}`, frame: 1 },
    ]);
  });

  it('length smaller than the IP payload: anomaly, the UDP length is used', () => {
    const pkt = ip(V4.src, V4.dst, IpProto.UDP, udp({ srcPort: 5060, dstPort: 5070, payload: SIP_INVITE, length: 8 + 10 }));
    const h = harness();
    h.push(LinkType.RAW, pkt);
    expect(h.out.map((d) => d.payload)).toEqual([SIP_INVITE.subarray(0, 10)]);
    expect(h.kinds()).toEqual(['udp.length-mismatch']);
    expect(h.dec.stats.bytesDropped).toBe(SIP_INVITE.length - 10);
  });

  it('length below 8 is invalid', () => {
    const h = harness();
    h.push(LinkType.RAW, ip(V4.src, V4.dst, IpProto.UDP, udp({ srcPort: 1, dstPort: 2, payload: SIP_INVITE, length: 7 })));
    expect(h.out).toEqual([]);
    expect(h.anomalies).toEqual([{ kind: 'udp.bad-length', detail: 'UDP length 7', frame: 1 }]);
  });

  it('payload is a slice of the frame, not a copy', () => {
    const h = harness();
    const f = ethernet({ etherType: EtherTypes.IPV4, payload: udp4 });
    h.push(LinkType.ETHERNET, f);
    const d = h.out[0];
    expect(d?.payload.buffer).toBe(f.buffer);
    expect(d?.payload.byteOffset).toBe(f.byteOffset + 14 + 20 + 8);
  });
});
