import type { Anomaly, Datagram, Frame } from '../../src/types.js';
import { PacketDecoder } from '../../src/decode/packet-decoder.js';
import type { DecodeLimits } from '../../src/decode/limits.js';

export function frame(number: number, linkType: number, bytes: Buffer, sec = 1_700_000_000, nsec = 0): Frame {
  return { number, ts: { sec, nsec }, linkType, bytes, origLen: bytes.length, iface: 0 };
}

export interface Harness {
  readonly dec: PacketDecoder;
  readonly out: Datagram[];
  readonly anomalies: Anomaly[];
  /** Push raw bytes as the next frame (numbered from 1), at `sec` seconds (default: frame number). */
  push(linkType: number, bytes: Buffer, sec?: number): void;
  /** Kinds of the anomalies seen so far. */
  kinds(): string[];
  /** Concatenated TCP payload of one flow direction. */
  stream(flow?: string): Buffer;
}

export function harness(limits?: Partial<DecodeLimits>): Harness {
  const out: Datagram[] = [];
  const anomalies: Anomaly[] = [];
  const dec = new PacketDecoder({ onDatagram: (d) => out.push(d), onAnomaly: (a) => anomalies.push(a), limits });
  let n = 0;
  return {
    dec,
    out,
    anomalies,
    push(linkType, bytes, sec) {
      n++;
      dec.push(frame(n, linkType, bytes, sec ?? 1_700_000_000 + n));
    },
    kinds: () => anomalies.map((a) => a.kind),
    stream: (flow) => Buffer.concat(out.filter((d) => flow === undefined || d.flow === flow).map((d) => d.payload)),
  };
}

/** All permutations of 0..n-1. */
export function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  }
  return out;
}

/** A deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SIP_INVITE = Buffer.from(
  'INVITE sip:+31201234567@example.net SIP/2.0\r\n' +
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n' +
    'From: <sip:+31612345678@example.com>;tag=1928301774\r\n' +
    'To: <sip:+31201234567@example.net>\r\n' +
    'Call-ID: a84b4c76e66710@192.0.2.10\r\n' +
    'CSeq: 314159 INVITE\r\n' +
    'Content-Length: 0\r\n\r\n',
  'latin1',
);
