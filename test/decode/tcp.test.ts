import { describe, expect, it } from 'vitest';
import { LinkType } from '../../src/types.js';
import { TcpFlags, tcpPacket } from '../../scripts/lib/packets.js';
import { SIP_INVITE, harness, permutations, rng, type Harness } from './helpers.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const FLOW = '10.0.0.1:40000>10.0.0.2:5060';
const { SYN, ACK, FIN, RST, PSH } = TcpFlags;

function seg(h: Harness, seq: number, flags: number, payload?: Buffer | string, sec?: number): void {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  h.push(LinkType.RAW, tcpPacket(A, 40000, B, 5060, { seq, ack: 1, flags, payload: p }), sec);
}

function back(h: Harness, seq: number, flags: number, payload?: string): void {
  h.push(LinkType.RAW, tcpPacket(B, 5060, A, 40000, { seq, ack: 1, flags, payload: payload === undefined ? undefined : Buffer.from(payload) }));
}

const MSG2 = Buffer.from(
  'SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK1\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nabcd',
);

describe('TCP in-order delivery', () => {
  it('several SIP messages in one segment after a handshake: one datagram, exact fields', () => {
    const h = harness();
    seg(h, 1000, SYN);
    back(h, 5000, SYN | ACK);
    seg(h, 1001, ACK);
    const two = Buffer.concat([SIP_INVITE, MSG2]);
    seg(h, 1001, ACK | PSH, two);
    expect(h.anomalies).toEqual([]);
    expect(h.out).toEqual([
      {
        ts: { sec: 1_700_000_004, nsec: 0 },
        src: { ip: A, port: 40000 },
        dst: { ip: B, port: 5060 },
        transport: 'tcp',
        payload: two,
        frame: 4,
        flow: FLOW,
        frames: [4],
      },
    ]);
    expect(h.dec.stats).toMatchObject({ tcpSegments: 4, tcpFlowsOpened: 2, tcpFlows: 2 });
  });

  it('one message over several segments: each in-order run is delivered as it arrives', () => {
    const h = harness();
    seg(h, 0, SYN);
    seg(h, 1, ACK, SIP_INVITE.subarray(0, 100));
    seg(h, 101, ACK, SIP_INVITE.subarray(100, 200));
    seg(h, 201, ACK, SIP_INVITE.subarray(200));
    expect(h.out.map((d) => [d.frame, d.frames, d.payload.length, d.gap])).toEqual([
      [2, [2], 100, undefined],
      [3, [3], 100, undefined],
      [4, [4], SIP_INVITE.length - 200, undefined],
    ]);
    expect(h.stream()).toEqual(SIP_INVITE);
  });

  it('zero-length segments deliver nothing and a pure ACK of an unknown flow keeps no state', () => {
    const h = harness();
    seg(h, 77, ACK);
    expect(h.dec.tcpFlows).toBe(0);
    seg(h, 0, SYN);
    seg(h, 1, ACK, Buffer.alloc(0));
    expect(h.out).toEqual([]);
    expect(h.dec.tcpFlows).toBe(1);
  });

  it('a flow seen mid-stream starts at its first segment, flagged gap once', () => {
    const h = harness();
    seg(h, 123456, ACK, 'ab');
    seg(h, 123458, ACK, 'cd');
    expect(h.out.map((d) => [d.payload.toString(), d.gap])).toEqual([
      ['ab', true],
      ['cd', undefined],
    ]);
    expect(h.anomalies).toEqual([]);
  });

  it('IPv6 flow keys are bracketed; the two directions are separate flows', () => {
    const h = harness();
    h.push(LinkType.RAW, tcpPacket('2001:db8::1', 5061, '2001:db8::2', 5060, { seq: 0, flags: SYN }));
    h.push(LinkType.RAW, tcpPacket('2001:db8::2', 5060, '2001:db8::1', 5061, { seq: 9, flags: SYN | ACK }));
    h.push(LinkType.RAW, tcpPacket('2001:db8::1', 5061, '2001:db8::2', 5060, { seq: 1, flags: ACK, payload: Buffer.from('A') }));
    h.push(LinkType.RAW, tcpPacket('2001:db8::2', 5060, '2001:db8::1', 5061, { seq: 10, flags: ACK, payload: Buffer.from('B') }));
    expect(h.out.map((d) => [d.flow, d.payload.toString()])).toEqual([
      ['[2001:db8::1]:5061>[2001:db8::2]:5060', 'A'],
      ['[2001:db8::2]:5060>[2001:db8::1]:5061', 'B'],
    ]);
  });
});

describe('TCP reordering, retransmission, overlap', () => {
  it('out-of-order segments wait for the hole, then go out as one payload', () => {
    const h = harness();
    seg(h, 0, SYN);
    seg(h, 1, ACK, 'aaaa');
    seg(h, 9, ACK, 'cccc');
    seg(h, 13, ACK, 'dddd');
    expect(h.out.length).toBe(1);
    seg(h, 5, ACK, 'bbbb');
    expect(h.out.map((d) => [d.payload.toString(), d.frame, d.frames])).toEqual([
      ['aaaa', 2, [2]],
      ['bbbbccccdddd', 5, [3, 4, 5]],
    ]);
    expect(h.anomalies).toEqual([]);
  });

  it('a retransmission is dropped; one with different bytes is an anomaly', () => {
    const h = harness();
    seg(h, 0, SYN);
    seg(h, 1, ACK, 'hello');
    seg(h, 1, ACK, 'hello');
    expect(h.out.length).toBe(1);
    expect(h.anomalies).toEqual([]);
    expect(h.dec.stats.tcpRetransmissions).toBe(1);
    seg(h, 1, ACK, 'jello');
    expect(h.out.length).toBe(1);
    expect(h.anomalies).toEqual([{ kind: 'tcp.overlap-differs', detail: `retransmitted bytes differ on ${FLOW}`, frame: 4 }]);
  });

  it('a segment overlapping delivered bytes delivers only the new part', () => {
    const h = harness();
    seg(h, 0, SYN);
    seg(h, 1, ACK, 'abcdef');
    seg(h, 4, ACK, 'defghi');
    expect(h.out.map((d) => d.payload.toString())).toEqual(['abcdef', 'ghi']);
    expect(h.anomalies).toEqual([]);
  });

  it('overlapping held segments: the first copy wins, differing bytes are counted', () => {
    const h = harness();
    seg(h, 0, SYN);
    seg(h, 11, ACK, 'KLMNO'); // bytes 10..14
    seg(h, 8, ACK, 'hijXXXop'); // 7..14: "klmno" region differs
    seg(h, 1, ACK, 'abcdefgHIJ'); // 0..9, overlaps 7..9 of the previous held copy
    expect(h.stream().toString()).toBe('abcdefghijKLMNO');
    expect(h.kinds()).toEqual(['tcp.overlap-differs', 'tcp.overlap-differs']);
  });

  it('sequence numbers wrap around 2^32', () => {
    const h = harness();
    seg(h, 0xfffffff8, SYN);
    seg(h, 0xfffffff9, ACK, 'abcd'); // ..fffffffc
    seg(h, 0x00000001, ACK, 'ijkl'); // out of order across the wrap
    seg(h, 0xfffffffd, ACK, 'efgh'); // fffffffd..00000000
    seg(h, 0x00000005, ACK, 'mnop');
    expect(h.out.map((d) => d.payload.toString())).toEqual(['abcd', 'efghijkl', 'mnop']);
    expect(h.anomalies).toEqual([]);
  });
});

describe('TCP gaps and resynchronisation', () => {
  it('flush() skips a hole that never filled: gap flagged, anomaly counted', () => {
    const h = harness();
    seg(h, 0, SYN);
    seg(h, 1, ACK, 'INVITE sip:a SIP/2.0\r\n');
    seg(h, 41, ACK, 'BYE sip:a SIP/2.0\r\n');
    expect(h.out.length).toBe(1);
    h.dec.flush();
    expect(h.out.map((d) => [d.payload.toString(), d.gap, d.frame, d.frames])).toEqual([
      ['INVITE sip:a SIP/2.0\r\n', undefined, 2, [2]],
      ['BYE sip:a SIP/2.0\r\n', true, 3, [3]],
    ]);
    expect(h.anomalies).toEqual([{ kind: 'tcp.gap', detail: `18 bytes missing on ${FLOW} (end of input)`, frame: 3 }]);
    expect(h.dec.stats).toMatchObject({ tcpGaps: 1, tcpGapBytes: 18, tcpFlows: 0 });
  });

  it('the per-flow buffer limit skips the oldest hole', () => {
    const h = harness({ maxTcpFlowBufferBytes: 10 });
    seg(h, 0, SYN);
    seg(h, 11, ACK, '0123456789'); // held: 10 bytes, at the limit
    expect(h.out.length).toBe(0);
    seg(h, 31, ACK, 'x'); // 11 held: skip the hole before byte 10
    expect(h.out.map((d) => [d.payload.toString(), d.gap])).toEqual([['0123456789', true]]);
    expect(h.kinds()).toEqual(['tcp.buffer-limit', 'tcp.gap']);
    seg(h, 21, ACK, 'abcdefghij'); // fills the second hole
    expect(h.out.map((d) => d.payload.toString())).toEqual(['0123456789', 'abcdefghijx']);
  });

  it('the total buffer limit skips holes of the least recently used flows', () => {
    const h = harness({ maxTcpTotalBufferBytes: 8 });
    seg(h, 0, SYN);
    seg(h, 11, ACK, 'aaaaa');
    h.push(LinkType.RAW, tcpPacket('10.0.0.3', 1, B, 5060, { seq: 0, flags: SYN }));
    h.push(LinkType.RAW, tcpPacket('10.0.0.3', 1, B, 5060, { seq: 11, flags: ACK, payload: Buffer.from('bbbbb') }));
    expect(h.out.map((d) => [d.flow, d.payload.toString(), d.gap])).toEqual([[FLOW, 'aaaaa', true]]);
    expect(h.kinds()).toEqual(['tcp.buffer-limit', 'tcp.gap']);
  });
});

describe('TCP flow lifecycle', () => {
  it('FIN in order frees the flow; a late retransmission does not reopen it', () => {
    const h = harness();
    seg(h, 0, SYN);
    seg(h, 1, ACK | FIN, 'bye');
    expect(h.out.map((d) => d.payload.toString())).toEqual(['bye']);
    expect(h.dec.tcpFlows).toBe(0);
    seg(h, 1, ACK | FIN, 'bye');
    expect(h.out.length).toBe(1);
    expect(h.dec.tcpFlows).toBe(0);
  });

  it('FIN before a missing segment: the flow waits for it, then closes', () => {
    const h = harness();
    seg(h, 0, SYN);
    seg(h, 4, ACK | FIN, 'def');
    expect(h.dec.tcpFlows).toBe(1);
    seg(h, 1, ACK, 'abc');
    expect(h.out.map((d) => [d.payload.toString(), d.gap])).toEqual([['abcdef', undefined]]);
    expect(h.dec.tcpFlows).toBe(0);
  });

  it('FIN with a hole that never fills: after the FIN timeout the hole is skipped', () => {
    const h = harness();
    seg(h, 0, SYN, undefined, 100);
    seg(h, 4, ACK | FIN, 'def', 100);
    seg(h, 99, ACK, undefined, 106); // any later frame advances the capture clock
    expect(h.out.map((d) => [d.payload.toString(), d.gap])).toEqual([['def', true]]);
    expect(h.dec.tcpFlows).toBe(0);
    expect(h.kinds()).toEqual(['tcp.gap']);
  });

  it('RST delivers what is held (gap) and frees the flow', () => {
    const h = harness();
    seg(h, 0, SYN);
    seg(h, 5, ACK, 'efg');
    seg(h, 8, RST);
    expect(h.out.map((d) => [d.payload.toString(), d.gap])).toEqual([['efg', true]]);
    expect(h.dec.tcpFlows).toBe(0);
  });

  it('a new SYN with another ISN restarts the flow', () => {
    const h = harness();
    seg(h, 0, SYN);
    seg(h, 1, ACK, 'old');
    seg(h, 5000, SYN);
    seg(h, 5001, ACK, 'new');
    expect(h.out.map((d) => [d.payload.toString(), d.gap])).toEqual([
      ['old', undefined],
      ['new', undefined],
    ]);
    expect(h.dec.stats.tcpFlowsOpened).toBe(2);
  });

  it('idle flows expire after 120 s of capture time and resume without a gap', () => {
    const h = harness();
    seg(h, 0, SYN, undefined, 1000);
    seg(h, 1, ACK, 'a', 1000);
    seg(h, 2, ACK, 'b', 1121);
    expect(h.dec.stats.flowsExpired).toBe(1);
    expect(h.out.map((d) => [d.payload.toString(), d.gap])).toEqual([
      ['a', undefined],
      ['b', undefined],
    ]);
    expect(h.anomalies).toEqual([]);
  });

  it('an idle flow with a hole delivers what it held, flagged gap, when it expires', () => {
    const h = harness();
    seg(h, 0, SYN, undefined, 1000);
    seg(h, 1, ACK, 'a', 1000);
    seg(h, 3, ACK, 'c', 1010);
    h.push(LinkType.RAW, tcpPacket('10.0.0.9', 1, B, 5060, { seq: 5, flags: ACK, payload: Buffer.from('z') }), 1131);
    expect(h.out.map((d) => [d.flow, d.payload.toString(), d.gap])).toEqual([
      [FLOW, 'a', undefined],
      [FLOW, 'c', true],
      ['10.0.0.9:1>10.0.0.2:5060', 'z', true],
    ]);
    expect(h.anomalies).toEqual([{ kind: 'tcp.gap', detail: `1 bytes missing on ${FLOW} (idle)`, frame: 3 }]);
    expect(h.dec.stats).toMatchObject({ flowsExpired: 1, tcpFlows: 1 });
  });

  it('the flow limit evicts the least recently used flow', () => {
    const h = harness({ maxTcpFlows: 2 });
    const open = (ip: string, sec: number) =>
      h.push(LinkType.RAW, tcpPacket(ip, 1, B, 5060, { seq: 0, flags: SYN }), sec);
    open('10.0.1.1', 10);
    open('10.0.1.2', 11);
    h.push(LinkType.RAW, tcpPacket('10.0.1.1', 1, B, 5060, { seq: 1, flags: ACK, payload: Buffer.from('x') }), 12);
    open('10.0.1.3', 13); // 10.0.1.2 is the least recently used
    expect(h.anomalies).toEqual([
      { kind: 'tcp.flow-evicted', detail: 'flow limit 2 reached: 10.0.1.2:1>10.0.0.2:5060', frame: 4 },
    ]);
    expect(h.dec.stats).toMatchObject({ flowsEvicted: 1, tcpFlows: 2 });
  });
});

describe('TCP delivery is independent of segmentation and order', () => {
  const STREAM = Buffer.concat([SIP_INVITE, MSG2]);

  it('split at every byte offset, both orders, with and without a duplicate', () => {
    for (let k = 0; k <= STREAM.length; k++) {
      const first = STREAM.subarray(0, k);
      const second = STREAM.subarray(k);
      for (const order of [
        [0, 1],
        [1, 0],
        [1, 0, 1],
        [0, 0, 1],
      ]) {
        const h = harness();
        seg(h, 41, SYN);
        for (const i of order) seg(h, i === 0 ? 42 : 42 + k, ACK, i === 0 ? first : second);
        expect(h.stream()).toEqual(STREAM);
        expect(h.out.every((d) => d.gap === undefined)).toBe(true);
        expect(h.anomalies).toEqual([]);
      }
    }
  });

  it('every order of 4 segments (one overlapping) yields the same stream', () => {
    const cuts: [number, number][] = [
      [0, 90],
      [90, 200],
      [150, 300],
      [300, STREAM.length],
    ];
    for (const order of permutations(4)) {
      const h = harness();
      seg(h, 0, SYN);
      for (const i of order) {
        const [s, e] = cuts[i] as [number, number];
        seg(h, 1 + s, ACK, STREAM.subarray(s, e));
      }
      expect(h.stream()).toEqual(STREAM);
      for (const d of h.out) {
        expect(d.frame).toBe(Math.max(...(d.frames ?? [])));
        expect([...(d.frames ?? [])].sort((a, b) => a - b)).toEqual(d.frames);
      }
      expect(h.anomalies).toEqual([]);
    }
  });

  it('random segmentations, orders, duplicates and overlaps (seeded) yield the same stream', () => {
    for (let trial = 0; trial < 300; trial++) {
      const r = rng(trial + 1);
      const isn = Math.floor(r() * 0x100000000) >>> 0; // covers wrap-around too
      const segs: [number, number][] = [];
      let pos = 0;
      while (pos < STREAM.length) {
        const len = 1 + Math.floor(r() * 60);
        const back = pos > 0 && r() < 0.3 ? Math.floor(r() * Math.min(pos, 20)) : 0;
        segs.push([pos - back, Math.min(STREAM.length, pos + len)]);
        pos += len;
      }
      for (let i = 0; i < 3; i++) {
        const dup = segs[Math.floor(r() * segs.length)];
        if (dup !== undefined) segs.push(dup);
      }
      // Any order: the SYN before them fixes where the stream starts.
      for (let i = segs.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [segs[i], segs[j]] = [segs[j] as [number, number], segs[i] as [number, number]];
      }
      const h = harness();
      seg(h, isn, SYN);
      for (const [s, e] of segs) seg(h, (isn + 1 + s) >>> 0, ACK, STREAM.subarray(s, e));
      expect(h.stream(), `trial ${trial}`).toEqual(STREAM);
      expect(h.out.every((d) => d.gap === undefined)).toBe(true);
      expect(h.anomalies).toEqual([]);
      expect(h.dec.tcpFlows).toBe(1);
    }
  });
});
