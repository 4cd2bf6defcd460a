/**
 * The packet builder is itself checked: header checksums, and — where tshark is installed (CI
 * installs it) — tshark decodes crafted captures to the same addresses, ports and payloads as we do.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LinkType } from '../../src/types.js';
import {
  AddressFamily,
  EtherTypes,
  IpProto,
  ethernet,
  fragmentIpv4,
  fragmentIpv6,
  gre,
  internetChecksum,
  ip,
  ipInIp,
  ipv4,
  ipv6,
  ipv6Bytes,
  loopback,
  sll,
  sll2,
  udp,
  udpPacket,
} from '../../scripts/lib/packets.js';
import { SIP_INVITE, harness } from './helpers.js';

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function pcap(linkType: number, frames: readonly Buffer[]): Buffer {
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(262144, 16);
  gh.writeUInt32LE(linkType, 20);
  const recs = frames.map((f, i) => {
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1_700_000_000 + i, 0);
    rh.writeUInt32LE(f.length, 8);
    rh.writeUInt32LE(f.length, 12);
    return Buffer.concat([rh, f]);
  });
  return Buffer.concat([gh, ...recs]);
}

describe('packet builder', () => {
  it('IPv4 header checksum verifies; UDP checksum verifies over the pseudo-header', () => {
    const p = ipv4({ src: '192.0.2.1', dst: '198.51.100.2', protocol: IpProto.UDP, payload: Buffer.alloc(8), options: Buffer.from([1, 1, 1]) });
    expect(p[0]).toBe(0x46);
    expect(internetChecksum(p.subarray(0, 24))).toBe(0);
    const u = udpPacket('192.0.2.1', 5060, '198.51.100.2', 5060, Buffer.from('abc'));
    const pseudo = Buffer.concat([u.subarray(12, 20), Buffer.from([0, 17, 0, 11])]);
    expect(internetChecksum(pseudo, u.subarray(20))).toBe(0);
  });

  it('parses IPv6 text forms', () => {
    expect(ipv6Bytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(ipv6Bytes('64:ff9b::192.0.2.1').toString('hex')).toBe('0064ff9b0000000000000000c0000201');
    expect(ipv6Bytes('1:2:3:4:5:6:7:8').toString('hex')).toBe('00010002000300040005000600070008');
    expect(ipv6Bytes('::').toString('hex')).toBe('0'.repeat(32));
  });
});

const SIP = SIP_INVITE;
const u4 = udpPacket('192.0.2.1', 5060, '192.0.2.2', 5070, SIP);
const u6 = udpPacket('2001:db8::1', 5060, '2001:db8::2', 5070, SIP);

const CAPTURES: [string, number, Buffer[]][] = [
  [
    'ethernet',
    LinkType.ETHERNET,
    [
      ethernet({ etherType: EtherTypes.IPV4, payload: u4, vlans: [{ tpid: EtherTypes.QINQ, vid: 7 }, { vid: 8 }] }),
      ethernet({
        etherType: EtherTypes.IPV4,
        payload: ip('10.0.0.1', '10.0.0.2', IpProto.GRE, gre({ protocol: EtherTypes.TEB, key: 3, payload: ethernet({ etherType: EtherTypes.IPV6, payload: u6 }) })),
      }),
      ethernet({
        etherType: EtherTypes.IPV6,
        payload: ipv6({
          src: '2001:db8::5',
          dst: '2001:db8::6',
          nextHeader: IpProto.UDP,
          payload: udp({ srcPort: 5062, dstPort: 5063, payload: SIP, checksum: { src: '2001:db8::5', dst: '2001:db8::6' } }),
          extensions: [{ type: IpProto.HOPOPT, data: Buffer.from([1, 4, 0, 0, 0, 0]) }, { type: IpProto.DSTOPTS, data: Buffer.alloc(6) }],
        }),
      }),
      ...fragmentIpv4({ src: '192.0.2.7', dst: '192.0.2.8', protocol: IpProto.UDP, id: 77, payload: udp({ srcPort: 5060, dstPort: 5060, payload: SIP }) }, 120)
        .reverse()
        .map((p) => ethernet({ etherType: EtherTypes.IPV4, payload: p })),
      ...fragmentIpv6({ src: '2001:db8::7', dst: '2001:db8::8', nextHeader: IpProto.UDP, payload: udp({ srcPort: 5060, dstPort: 5060, payload: SIP }) }, 96).map((p) =>
        ethernet({ etherType: EtherTypes.IPV6, payload: p }),
      ),
      ethernet({ etherType: EtherTypes.IPV4, payload: ipInIp('10.1.1.1', '10.1.1.2', ipInIp('fd00::1', 'fd00::2', u4)) }),
    ],
  ],
  ['sll', LinkType.LINUX_SLL, [sll({ protocol: EtherTypes.IPV4, payload: u4 }), sll({ protocol: EtherTypes.IPV6, payload: u6 })]],
  ['sll2', LinkType.LINUX_SLL2, [sll2({ protocol: EtherTypes.IPV4, payload: u4 }), sll2({ protocol: EtherTypes.IPV6, payload: u6 })]],
  ['null', LinkType.NULL, [loopback(AddressFamily.INET, u4, 'le'), loopback(AddressFamily.INET6_DARWIN, u6, 'le')]],
  ['loop', LinkType.LOOP, [loopback(AddressFamily.INET, u4, 'be'), loopback(AddressFamily.INET6_FREEBSD, u6, 'be')]],
  ['raw', LinkType.RAW, [u4, u6]],
];

describe.skipIf(!hasTshark())('tshark agrees on crafted captures', () => {
  for (const [name, lt, frames] of CAPTURES) {
    it(name, () => {
      const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-decode-'));
      try {
        const file = join(dir, `${name}.pcap`);
        writeFileSync(file, pcap(lt, frames));
        const out = execFileSync(
          'tshark',
          ['-n', '-r', file, '-T', 'fields', '-E', 'occurrence=l', '-e', 'frame.number', '-e', 'ip.src', '-e', 'ipv6.src',
            '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'udp.payload', '-Y', 'udp'],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
        );
        const theirs = out
          .trim()
          .split('\n')
          .map((l) => l.split('\t'))
          .map(([n, v4, v6, sp, dp, pl]) => ({ frame: Number(n), srcs: [v4, v6], sp: Number(sp), dp: Number(dp), payload: (pl ?? '').replace(/:/g, '') }));
        const h = harness();
        frames.forEach((f) => h.push(lt, f));
        expect(h.out.length).toBeGreaterThanOrEqual(2);
        expect(h.anomalies).toEqual([]);
        expect(h.out.map((d) => ({ frame: d.frame, sp: d.src.port, dp: d.dst.port, payload: d.payload.toString('hex') }))).toEqual(
          theirs.map(({ frame, sp, dp, payload }) => ({ frame, sp, dp, payload })),
        );
        h.out.forEach((d, i) => expect(theirs[i]?.srcs).toContain(d.src.ip));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
