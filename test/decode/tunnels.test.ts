/**
 * Link and tunnel layers of access, carrier and data-centre networks (issue #16 point 4): PPPoE sessions, MPLS
 * label stacks (unicast, multicast, Ethernet pseudowires with and without the control word), ERSPAN type I, II and
 * III inside GRE, and VXLAN. Each decodes to exactly the inner datagram; every truncation is one named anomaly
 * (the parsers never throw); what is not IP is counted per reason.
 */
import { describe, expect, it } from 'vitest';
import { LinkType } from '../../src/types.js';
import { DECODE_ANOMALY_KINDS } from '../../src/decode/limits.js';
import { parseErspan, parseMpls, parsePppoeSession, parseVxlan } from '../../src/decode/headers.js';
import {
  EtherTypes,
  IpProto,
  PppProtocols,
  VXLAN_PORT,
  erspanII,
  erspanIII,
  ethernet,
  etherTypeOf,
  gre,
  ip,
  lldpdu,
  mpls,
  pppoeSession,
  pppProtocolOf,
  udpPacket,
  vxlan,
} from '../../scripts/lib/packets.js';
import { SIP_INVITE, harness } from './helpers.js';

const KINDS: readonly string[] = DECODE_ANOMALY_KINDS;
const V4 = { src: '192.0.2.10', dst: '198.51.100.20' };
const V6 = { src: '2001:db8::10', dst: '2001:db8:0:1::20' };
const udp4 = udpPacket(V4.src, 5060, V4.dst, 5070, SIP_INVITE);
const udp6 = udpPacket(V6.src, 5060, V6.dst, 5070, SIP_INVITE);
const R1 = '198.51.100.1';
const R2 = '198.51.100.2';

const eth = (p: Buffer): Buffer => ethernet({ etherType: etherTypeOf(p), payload: p });
const pppoe = (p: Buffer, protocol = pppProtocolOf(p)): Buffer =>
  ethernet({ etherType: EtherTypes.PPPOE_SESSION, payload: pppoeSession({ sessionId: 7, protocol, payload: p }) });
const greIn = (protocol: number, payload: Buffer, sequence?: number): Buffer =>
  eth(ip(R1, R2, IpProto.GRE, gre({ protocol, payload, ...(sequence !== undefined ? { sequence } : {}) })));
const vx = (inner: Buffer): Buffer => eth(udpPacket(R1, 50000, R2, VXLAN_PORT, vxlan(42, inner)));

/** Frames (Ethernet link) that must each decode to exactly the SIP datagram of `inner` (udp4 or udp6). */
function cases(inner: Buffer): [string, Buffer][] {
  return [
    ['PPPoE session', pppoe(inner)],
    ['PPPoE session with Ethernet padding past its length', (() => {
      const f = pppoe(inner);
      return Buffer.concat([f, Buffer.alloc(20, 0xee)]);
    })()],
    ['MPLS one label', ethernet({ etherType: EtherTypes.MPLS, payload: mpls([{ label: 100 }], inner) })],
    ['MPLS three labels', ethernet({ etherType: EtherTypes.MPLS, payload: mpls([{ label: 1 }, { label: 2 }, { label: 3 }], inner) })],
    ['MPLS multicast', ethernet({ etherType: EtherTypes.MPLS_MULTICAST, payload: mpls([{ label: 30000 }], inner) })],
    ['MPLS Ethernet pseudowire with control word', ethernet({ etherType: EtherTypes.MPLS, payload: mpls([{ label: 5 }], eth(inner), { sequence: 9 }) })],
    [
      'MPLS Ethernet pseudowire without control word (destination MAC starting with a 0 nibble)',
      ethernet({ etherType: EtherTypes.MPLS, payload: mpls([{ label: 5 }], ethernet({ etherType: etherTypeOf(inner), payload: inner, dst: '00:1b:21:00:00:01' })) }),
    ],
    ['ERSPAN type I (GRE 0x88be without sequence number)', greIn(EtherTypes.ERSPAN_II, eth(inner))],
    ['ERSPAN type II', greIn(EtherTypes.ERSPAN_II, erspanII({ sessionId: 3, payload: eth(inner) }), 1)],
    ['ERSPAN type III', greIn(EtherTypes.ERSPAN_III, erspanIII({ sessionId: 3, timestamp: 5, payload: eth(inner) }), 1)],
    [
      'ERSPAN type III with platform subheader',
      greIn(EtherTypes.ERSPAN_III, erspanIII({ sessionId: 3, timestamp: 5, subheader: Buffer.alloc(8, 1), payload: eth(inner) }), 1),
    ],
    ['ERSPAN type III carrying an IP frame (frame type 2)', greIn(EtherTypes.ERSPAN_III, erspanIII({ sessionId: 3, timestamp: 5, frameType: 2, payload: inner }), 1)],
    ['VXLAN', vx(eth(inner))],
    ['VXLAN inside PPPoE', pppoe(udpPacket(R1, 50000, R2, VXLAN_PORT, vxlan(1, eth(inner))), PppProtocols.IPV4)],
  ];
}

describe('tunnel and link layers decode to the inner datagram', () => {
  for (const [inner, addr] of [
    [udp4, V4],
    [udp6, V6],
  ] as const) {
    for (const [name, frame] of cases(inner)) {
      it(`${name} (IPv${addr === V4 ? 4 : 6})`, () => {
        const h = harness();
        h.push(LinkType.ETHERNET, frame, 1_700_000_123);
        expect(h.anomalies).toEqual([]);
        expect(h.out).toEqual([
          {
            ts: { sec: 1_700_000_123, nsec: 0 },
            src: { ip: addr.src, port: 5060 },
            dst: { ip: addr.dst, port: 5070 },
            transport: 'udp',
            payload: SIP_INVITE,
            frame: 1,
          },
        ]);
        expect(h.dec.stats.notDecoded).toEqual({});
      });
    }
  }

  it('a SIP message sent to UDP port 4789 is still SIP, not VXLAN', () => {
    const h = harness();
    h.push(LinkType.RAW, udpPacket(V4.src, 5060, V4.dst, VXLAN_PORT, SIP_INVITE));
    expect(h.anomalies).toEqual([]);
    expect(h.out.map((d) => [d.dst.port, d.payload.toString('latin1')])).toEqual([[VXLAN_PORT, SIP_INVITE.toString('latin1')]]);
  });
});

describe('what the tunnels carry that is not IP is counted per reason', () => {
  it('PPP LCP, an LLDP frame in VXLAN, an MPLS payload nibble, ERSPAN frame type 1', () => {
    const h = harness();
    h.push(LinkType.ETHERNET, pppoe(Buffer.alloc(10), PppProtocols.LCP));
    h.push(LinkType.ETHERNET, vx(ethernet({ etherType: EtherTypes.LLDP, payload: lldpdu('02:00:00:00:00:09', 'eth0') })));
    h.push(LinkType.ETHERNET, ethernet({ etherType: EtherTypes.MPLS, payload: mpls([{ label: 1 }], Buffer.from([0x90, 0, 0, 0])) }));
    h.push(LinkType.ETHERNET, greIn(EtherTypes.ERSPAN_III, erspanIII({ sessionId: 1, timestamp: 1, frameType: 1, payload: Buffer.alloc(20) }), 1));
    expect(h.anomalies).toEqual([]);
    expect(h.out).toEqual([]);
    expect(h.dec.stats.notDecoded).toEqual({
      'ppp protocol 0xc021': 1,
      'ethertype 0x88cc': 1,
      'mpls payload nibble 9': 1,
      'erspan frame type 1': 1,
    });
    expect(h.dec.stats.nonIp).toBe(4);
  });

  it('named anomalies: bad PPPoE header, ERSPAN version mismatch', () => {
    const h = harness();
    const bad = pppoe(udp4);
    bad[14] = 0x12;
    h.push(LinkType.ETHERNET, bad);
    const code = pppoe(udp4);
    code[15] = 0x09;
    h.push(LinkType.ETHERNET, code);
    const v = erspanII({ sessionId: 1, payload: eth(udp4) });
    v[0] = 0x20;
    h.push(LinkType.ETHERNET, greIn(EtherTypes.ERSPAN_II, v, 1));
    expect(h.anomalies).toEqual([
      { kind: 'pppoe.bad-header', detail: 'PPPoE version/type 0x12 (expected 0x11)', frame: 1 },
      { kind: 'pppoe.bad-header', detail: 'PPPoE session code 0x9 (expected 0x00)', frame: 2 },
      { kind: 'erspan.bad-header', detail: 'ERSPAN version 2 under GRE protocol 0x88be', frame: 3 },
    ]);
    expect(h.out).toEqual([]);
  });

  it('nesting is bounded: MPLS inside VXLAN inside … past maxEncapsulationDepth is encap.too-deep', () => {
    let f = udp4;
    for (let i = 0; i < 6; i++) f = udpPacket(R1, 50000 + i, R2, VXLAN_PORT, vxlan(i, eth(f)));
    const h = harness({ maxEncapsulationDepth: 8 });
    h.push(LinkType.RAW, f);
    expect(h.kinds()).toEqual(['encap.too-deep']);
    const ok = harness({ maxEncapsulationDepth: 20 });
    ok.push(LinkType.RAW, f);
    expect(ok.out).toHaveLength(1);
  });
});

describe('truncation at every length never throws and is one named anomaly', () => {
  it('frames cut at every byte (PPPoE and MPLS at the link layer)', () => {
    for (const [inner, fam] of [
      [udp4, 4],
      [udp6, 6],
    ] as const) {
      // (The padded case is left out: cutting inside the padding leaves the whole packet.)
      for (const [name, frame] of cases(inner).filter(([n]) => !n.includes('padding'))) {
        for (let len = 0; len < frame.length; len++) {
          const h = harness();
          h.push(LinkType.ETHERNET, Buffer.from(frame.subarray(0, len)));
          expect(h.out, `${name} v${fam} cut at ${len}`).toEqual([]);
          expect(h.anomalies.length, `${name} v${fam} cut at ${len}: ${h.kinds().join()}`).toBe(1);
          expect(KINDS).toContain(h.anomalies[0]?.kind);
        }
      }
    }
  });

  it('tunnel payloads cut at every byte inside a valid outer packet (the tunnel parsers see the short input)', () => {
    const tunnels: [string, (cut: Buffer) => Buffer, Buffer][] = [
      ['ERSPAN II', (c) => greIn(EtherTypes.ERSPAN_II, c, 1), erspanII({ sessionId: 3, payload: eth(udp4) })],
      ['ERSPAN III', (c) => greIn(EtherTypes.ERSPAN_III, c, 1), erspanIII({ sessionId: 3, timestamp: 5, subheader: Buffer.alloc(8), payload: eth(udp6) })],
      ['VXLAN', (c) => eth(udpPacket(R1, 50000, R2, VXLAN_PORT, c)), vxlan(42, eth(udp4))],
      ['PPPoE in GRE', (c) => greIn(EtherTypes.PPPOE_SESSION, c), pppoeSession({ sessionId: 1, protocol: PppProtocols.IPV6, payload: udp6 })],
      ['MPLS in GRE', (c) => greIn(EtherTypes.MPLS, c), mpls([{ label: 1 }, { label: 2 }], udp4)],
    ];
    for (const [name, wrap, payload] of tunnels) {
      for (let len = 0; len < payload.length; len++) {
        const h = harness();
        h.push(LinkType.ETHERNET, wrap(Buffer.from(payload.subarray(0, len))));
        const label = `${name} cut at ${len}: ${h.kinds().join()}`;
        if (name === 'VXLAN' && len === 0) {
          // An empty datagram to port 4789 is not VXLAN: delivered as the (empty) UDP payload it is.
          expect(h.anomalies, label).toEqual([]);
          expect(h.out.map((d) => d.payload.length)).toEqual([0]);
          continue;
        }
        expect(h.out, label).toEqual([]);
        expect(h.anomalies.length, label).toBe(1);
        expect(KINDS, label).toContain(h.anomalies[0]?.kind);
      }
    }
  });

  it('the pure parsers return a value for every prefix of their input', () => {
    const inputs = [
      pppoeSession({ sessionId: 1, protocol: PppProtocols.IPV4, payload: udp4 }),
      mpls([{ label: 1 }, { label: 2 }], eth(udp4), { sequence: 1 }),
      erspanII({ sessionId: 1, payload: eth(udp4) }),
      erspanIII({ sessionId: 1, timestamp: 1, subheader: Buffer.alloc(8), payload: eth(udp4) }),
      vxlan(1, eth(udp4)),
    ];
    for (const full of inputs) {
      for (let len = 0; len <= full.length; len++) {
        const b = Buffer.from(full.subarray(0, len));
        for (const r of [
          parsePppoeSession(b, 0, len),
          parseMpls(b, 0, len),
          parseErspan(EtherTypes.ERSPAN_II, true, b, 0, len),
          parseErspan(EtherTypes.ERSPAN_III, true, b, 0, len),
          parseVxlan(b, 0, len),
        ]) {
          if (r === undefined) continue;
          expect(['network', 'not-ip', 'invalid']).toContain(r.kind);
          if (r.kind === 'network') expect(r.offset).toBeLessThanOrEqual(r.end);
          if (r.kind === 'network') expect(r.end).toBeLessThanOrEqual(len);
        }
      }
    }
  });

  it('named truncations', () => {
    expect(parsePppoeSession(Buffer.from([0x11, 0, 0, 1, 0, 2, 0]), 0, 7)).toEqual({
      kind: 'invalid',
      anomaly: 'pppoe.truncated',
      detail: 'PPPoE session header and PPP protocol need 8 bytes, 7 left',
    });
    expect(parseMpls(Buffer.from([0, 0, 0x10, 64, 0, 0]), 0, 6)).toEqual({
      kind: 'invalid',
      anomaly: 'mpls.truncated',
      detail: 'MPLS label stack entry needs 4 bytes, 2 left',
    });
    expect(parseMpls(Buffer.from([0, 0, 0x11, 64]), 0, 4)).toEqual({
      kind: 'invalid',
      anomaly: 'mpls.truncated',
      detail: 'nothing after the bottom of the MPLS label stack',
    });
    expect(parseVxlan(Buffer.from([0x08, 0, 0]), 0, 3)).toEqual({ kind: 'invalid', anomaly: 'vxlan.truncated', detail: 'VXLAN header needs 8 bytes, 3 left' });
    expect(parseErspan(EtherTypes.ERSPAN_III, true, Buffer.from([0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 0, 12)).toEqual({
      kind: 'invalid',
      anomaly: 'erspan.truncated',
      detail: 'ERSPAN type III header with subheader needs 20 bytes, 12 left',
    });
  });
});
