/**
 * Issue #18: every decoder bound comes from the config's `limits` (decodeLimitsOf), and setting the key changes
 * what the decoder does: fragments, fragmentTimeoutSeconds, flows, flowIdleSeconds, flowBufferBytes,
 * reassemblyBytes. Each case runs the same packets with the key set and with the default.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { decodeLimitsOf } from '../../src/decode/limits.js';
import { LinkType } from '../../src/types.js';
import { fragmentIpv4, IpProto, TcpFlags, tcpPacket, udp } from '../../scripts/lib/packets.js';
import { SIP_INVITE, harness } from './helpers.js';

function decoderWith(yaml: string) {
  const r = parseConfig(yaml === '' ? '' : `limits:\n${yaml}`, 'test.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return harness(decodeLimitsOf(r.config.limits));
}

const count = (h: ReturnType<typeof harness>, kind: string) => h.kinds().filter((k) => k === kind).length;
const firstFragment = (id: number) =>
  fragmentIpv4({ src: '192.0.2.10', dst: '198.51.100.20', protocol: IpProto.UDP, payload: udp({ srcPort: 5060, dstPort: 5060, payload: SIP_INVITE }), id }, 80)[0]!;
const { SYN, ACK } = TcpFlags;

describe('decoder bounds from limits.*', () => {
  it('maps every key', () => {
    const r = parseConfig('limits: { fragments: 7, fragmentTimeoutSeconds: 3, flows: 9, flowIdleSeconds: 4, flowBufferBytes: 1000, reassemblyBytes: 5000 }', 't.yaml');
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(decodeLimitsOf(r.config.limits)).toEqual({
      maxFragmentDatagrams: 7,
      fragmentTimeoutMs: 3000,
      maxTcpFlows: 9,
      tcpIdleTimeoutMs: 4000,
      maxTcpFlowBufferBytes: 1000,
      maxTcpTotalBufferBytes: 5000,
    });
  });

  it('limits.fragments: 2 evicts the oldest of 3 incomplete datagrams; the default (4096) keeps them', () => {
    for (const [yaml, evicted] of [['  fragments: 2\n', 1], ['', 0]] as const) {
      const h = decoderWith(yaml);
      for (const id of [1, 2, 3]) h.push(LinkType.RAW, firstFragment(id), 1000);
      expect(count(h, 'frag.evicted')).toBe(evicted);
      expect(h.dec.pendingFragments).toBe(3 - evicted);
    }
  });

  it('limits.fragmentTimeoutSeconds: 2 drops a datagram incomplete after 3 s of capture time; the default (30) waits', () => {
    for (const [yaml, expired] of [['  fragmentTimeoutSeconds: 2\n', 1], ['', 0]] as const) {
      const h = decoderWith(yaml);
      h.push(LinkType.RAW, firstFragment(1), 1000);
      h.push(LinkType.RAW, firstFragment(2), 1003);
      expect(count(h, 'frag.expired')).toBe(expired);
    }
  });

  it('limits.flows: 2 evicts the least recently used of 3 TCP flows; the default keeps them', () => {
    for (const [yaml, evicted] of [['  flows: 2\n', 1], ['', 0]] as const) {
      const h = decoderWith(yaml);
      for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) h.push(LinkType.RAW, tcpPacket(a, 40000, '10.0.0.9', 5060, { seq: 0, flags: SYN }), 1000);
      expect(count(h, 'tcp.flow-evicted')).toBe(evicted);
      expect(h.dec.stats.tcpFlows).toBe(3 - evicted);
    }
  });

  it('limits.flowIdleSeconds: 5 forgets a flow silent for 10 s of capture time; the default (300) keeps it', () => {
    for (const [yaml, expired] of [['  flowIdleSeconds: 5\n', 1], ['', 0]] as const) {
      const h = decoderWith(yaml);
      h.push(LinkType.RAW, tcpPacket('10.0.0.1', 40000, '10.0.0.9', 5060, { seq: 0, flags: SYN }), 1000);
      for (let t = 1001; t <= 1010; t++) h.push(LinkType.RAW, tcpPacket('10.0.0.2', 40000, '10.0.0.9', 5060, { seq: t === 1001 ? 0 : t - 1001, flags: t === 1001 ? SYN : ACK, payload: t === 1001 ? undefined : Buffer.from('x') }), t);
      expect(h.dec.stats.flowsExpired).toBe(expired);
    }
  });

  for (const key of ['flowBufferBytes', 'reassemblyBytes'] as const) {
    it(`limits.${key}: 1000 skips the hole once 1,200 out-of-order bytes wait; the default waits for them`, () => {
      for (const [yaml, limited] of [[`  ${key}: 1000\n`, 1], ['', 0]] as const) {
        const h = decoderWith(yaml);
        h.push(LinkType.RAW, tcpPacket('10.0.0.1', 40000, '10.0.0.9', 5060, { seq: 0, flags: SYN }), 1000);
        // Bytes 1..10 never arrive; 1,200 bytes after them are held.
        for (let i = 0; i < 3; i++) h.push(LinkType.RAW, tcpPacket('10.0.0.1', 40000, '10.0.0.9', 5060, { seq: 11 + i * 400, flags: ACK, payload: Buffer.alloc(400, 0x61) }), 1001);
        expect(count(h, 'tcp.buffer-limit')).toBe(limited);
        expect(h.out.length > 0).toBe(limited === 1);
      }
    });
  }
});
