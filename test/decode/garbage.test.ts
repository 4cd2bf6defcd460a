import { describe, expect, it } from 'vitest';
import { LinkType } from '../../src/types.js';
import { DECODE_ANOMALY_KINDS } from '../../src/decode/limits.js';
import {
  AddressFamily,
  EtherTypes,
  IpProto,
  TcpFlags,
  ethernet,
  fragmentIpv4,
  fragmentIpv6,
  gre,
  ip,
  ipInIp,
  ipv4,
  ipv6,
  loopback,
  sll,
  sll2,
  tcpPacket,
  udp,
  udpPacket,
} from '../../scripts/lib/packets.js';
import { SIP_INVITE, harness, rng } from './helpers.js';

const KINDS: readonly string[] = DECODE_ANOMALY_KINDS;
const u4 = udpPacket('192.0.2.1', 5060, '192.0.2.2', 5060, SIP_INVITE);
const u6 = udpPacket('2001:db8::1', 5060, '2001:db8::2', 5060, SIP_INVITE);
const t4 = tcpPacket('192.0.2.1', 5060, '192.0.2.2', 5060, { seq: 1, flags: TcpFlags.ACK, payload: SIP_INVITE });
const ext6 = ipv6({
  src: '2001:db8::1',
  dst: '2001:db8::2',
  nextHeader: IpProto.UDP,
  payload: udp({ srcPort: 1, dstPort: 2, payload: SIP_INVITE }),
  extensions: [{ type: IpProto.HOPOPT, data: Buffer.alloc(6) }, { type: IpProto.AH, data: Buffer.alloc(10) }],
});

/** Valid frames of every kind the decoder handles. */
const VALID: [string, number, Buffer][] = [
  ['ethernet v4', LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV4, payload: u4 })],
  ['ethernet qinq v6', LinkType.ETHERNET, ethernet({ etherType: EtherTypes.IPV6, payload: u6, vlans: [{ tpid: EtherTypes.QINQ, vid: 1 }, { vid: 2 }] })],
  ['sll', LinkType.LINUX_SLL, sll({ protocol: EtherTypes.IPV4, payload: t4 })],
  ['sll2', LinkType.LINUX_SLL2, sll2({ protocol: EtherTypes.IPV6, payload: ext6 })],
  ['null', LinkType.NULL, loopback(AddressFamily.INET6_DARWIN, u6, 'le')],
  ['loop', LinkType.LOOP, loopback(AddressFamily.INET, u4, 'be')],
  ['raw', LinkType.RAW, ipInIp('10.0.0.1', '10.0.0.2', u6)],
  ['ipv4', LinkType.IPV4, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: IpProto.UDP, payload: udp({ srcPort: 1, dstPort: 2, payload: SIP_INVITE }), options: Buffer.alloc(8) })],
  ['ipv6', LinkType.IPV6, ext6],
  ['gre teb', LinkType.RAW, ip('10.0.0.1', '10.0.0.2', IpProto.GRE, gre({ protocol: EtherTypes.TEB, payload: ethernet({ etherType: EtherTypes.IPV4, payload: t4 }), key: 5, checksum: true }))],
  ['v4 fragment', LinkType.RAW, fragmentIpv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: IpProto.UDP, payload: Buffer.alloc(200) }, 64)[1] as Buffer],
  ['v6 fragment', LinkType.RAW, fragmentIpv6({ src: '::1', dst: '::2', nextHeader: IpProto.UDP, payload: Buffer.alloc(200) }, 64)[1] as Buffer],
];

describe('garbage never throws and is a named anomaly', () => {
  it('every truncation of every valid frame is exactly one named anomaly and no datagram', () => {
    for (const [name, lt, bytes] of VALID) {
      for (let len = 0; len < bytes.length; len++) {
        const h = harness();
        h.push(lt, Buffer.from(bytes.subarray(0, len)));
        expect(h.out, `${name} cut at ${len}`).toEqual([]);
        expect(h.anomalies.length, `${name} cut at ${len}: ${h.kinds().join()}`).toBe(1);
        expect(KINDS, `${name} cut at ${len}`).toContain(h.anomalies[0]?.kind);
        expect(h.anomalies[0]?.frame).toBe(1);
      }
    }
  });

  it('every valid frame decodes without anomalies (the truncation test starts from good input)', () => {
    for (const [name, lt, bytes] of VALID) {
      const h = harness();
      h.push(lt, bytes);
      expect(h.anomalies, name).toEqual([]);
    }
  });

  it('named examples: cut link, VLAN, IPv6 extension, TCP and GRE headers', () => {
    const h = harness();
    h.push(LinkType.ETHERNET, Buffer.alloc(13));
    h.push(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.VLAN, payload: Buffer.from([0, 1]) }));
    const badExt = Buffer.from(ext6);
    badExt[41] = 200; // hop-by-hop claims 1608 bytes
    h.push(LinkType.RAW, badExt);
    const badTcp = Buffer.from(t4);
    badTcp[20 + 12] = 0x30; // data offset 3 words
    h.push(LinkType.RAW, badTcp);
    h.push(LinkType.RAW, ip('10.0.0.1', '10.0.0.2', IpProto.GRE, Buffer.from([0x80, 0, 8, 0, 0])));
    h.push(LinkType.RAW, ip('10.0.0.1', '10.0.0.2', IpProto.TCP, Buffer.alloc(19)));
    h.push(LinkType.RAW, Buffer.from([0x45, 0, 0, 10, ...Buffer.alloc(16)]));
    h.push(LinkType.RAW, Buffer.from([0x43, ...Buffer.alloc(19)]));
    h.push(LinkType.RAW, Buffer.from([0x55]));
    expect(h.anomalies).toEqual([
      { kind: 'link.truncated', detail: 'Ethernet header needs 14 bytes, 13 captured', frame: 1 },
      { kind: 'vlan.truncated', detail: 'VLAN tag needs 4 bytes, 2 left', frame: 2 },
      { kind: 'ipv6.ext-truncated', detail: `extension header 0 of 1608 bytes, ${ext6.length - 40} left`, frame: 3 },
      { kind: 'tcp.bad-header-length', detail: `data offset 12 bytes, ${SIP_INVITE.length + 20} in segment`, frame: 4 },
      { kind: 'gre.truncated', detail: 'GRE header needs 8 bytes, 5 left', frame: 5 },
      { kind: 'tcp.truncated', detail: 'TCP header needs 20 bytes, 19 left', frame: 6 },
      { kind: 'ipv4.bad-total-length', detail: 'total length 10 < header length 20', frame: 7 },
      { kind: 'ipv4.bad-header-length', detail: 'IHL 3', frame: 8 },
      { kind: 'ip.bad-version', detail: 'raw IP version nibble 5', frame: 9 },
    ]);
  });

  it('random bytes under every link type never throw; every anomaly is named and counted', () => {
    const r = rng(7);
    const links = [0, 1, 12, 101, 108, 113, 228, 229, 276];
    const h = harness({ maxTcpFlows: 16, maxFragmentDatagrams: 8 });
    for (let i = 0; i < 10_000; i++) {
      const len = Math.floor(r() * 120);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(r() * 256);
      // Bias towards plausible headers so deeper layers are reached.
      if (len > 20 && r() < 0.5) b[0] = r() < 0.5 ? 0x45 : 0x60;
      const lt = links[i % links.length] as number;
      expect(() => h.push(lt, b)).not.toThrow();
    }
    expect(() => h.dec.flush()).not.toThrow();
    expect(h.anomalies.length).toBeGreaterThan(500);
    expect(h.dec.stats.anomalies).toBe(h.anomalies.length);
    for (const a of h.anomalies) expect(KINDS).toContain(a.kind);
  });

  it('random byte flips in valid frames (deep layers, TCP state, fragments) never throw', () => {
    const r = rng(11);
    const h = harness({ maxTcpFlows: 8, maxFragmentDatagrams: 4, maxTcpFlowBufferBytes: 512 });
    for (let i = 0; i < 10_000; i++) {
      const [, lt, bytes] = VALID[i % VALID.length] as [string, number, Buffer];
      const b = Buffer.from(bytes);
      const flips = 1 + Math.floor(r() * 3);
      for (let f = 0; f < flips; f++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      expect(() => h.push(lt, b, 1_700_000_000 + Math.floor(i / 100))).not.toThrow();
      expect(h.dec.tcpFlows).toBeLessThanOrEqual(8);
      expect(h.dec.pendingFragments).toBeLessThanOrEqual(4);
    }
    expect(() => h.dec.flush()).not.toThrow();
    expect(h.dec.tcpFlows).toBe(0);
    for (const a of h.anomalies) expect(KINDS).toContain(a.kind);
  });
});
