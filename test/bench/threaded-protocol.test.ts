/**
 * The batch encoding between `analyze --threads N` and its decode worker: what goes in comes out, in order, after a
 * real structured clone with the buffers transferred (test/bench/threads.test.ts compares whole analyses).
 */
import { describe, expect, it } from 'vitest';
import { BATCH_BYTES, BatchWriter, readBatch, type WorkerBatch } from '../../src/pipeline/threaded-protocol.js';
import { parseSipMessage, type SipParse } from '../../src/sip/index.js';
import type { Anomaly, Datagram } from '../../src/types.js';

type Item = { d: Datagram } | { a: Anomaly };

/** Payloads as text, so that the deep comparisons below stay fast. */
const plain = (items: readonly Item[]): unknown[] => items.map((i) => ('d' in i ? { d: { ...i.d, payload: i.d.payload.toString('base64') } } : i));

function roundTrip(items: readonly Item[], postWhenFull = true): { out: Item[]; batches: WorkerBatch[] } {
  const w = new BatchWriter();
  const batches: WorkerBatch[] = [];
  const post = (): void => {
    if (w.empty) return;
    const { batch, transfer } = w.take(123, 456);
    const cloned = structuredClone(batch, { transfer });
    expect(transfer.every((b) => b.byteLength === 0)).toBe(true); // moved, not copied
    batches.push(cloned);
  };
  for (const it of items) {
    if ('a' in it) w.anomaly(it.a);
    else {
      if (postWhenFull && !w.fits(it.d.payload.length)) post();
      w.datagram(it.d);
    }
  }
  post();
  const out: Item[] = [];
  for (const b of batches) readBatch(b, { datagram: (d) => out.push({ d }), sip: () => expect.unreachable(), anomaly: (a) => out.push({ a }) });
  return { out, batches };
}

const udp = (i: number, bytes = 300): Datagram => ({
  ts: { sec: 1_700_000_000 + i, nsec: (i * 7_919_000) % 1e9 },
  src: { ip: i % 2 ? '10.0.0.1' : '2001:db8::1', port: 5060 + (i % 3) },
  dst: { ip: '127.0.0.1', port: 5060 },
  transport: 'udp',
  payload: Buffer.alloc(bytes, i % 251),
  frame: i + 1,
});

describe('decode worker batches', () => {
  it('give back every datagram and anomaly in order, TCP extras and all', () => {
    const items: Item[] = [];
    for (let i = 0; i < 3000; i++) {
      items.push({ d: udp(i) });
      if (i % 500 === 7) items.push({ a: { kind: 'ip.bad-version', detail: `frame ${i}`, frame: i + 1 } });
      if (i % 700 === 3) items.push({ a: { kind: 'capture.truncated', detail: 'no frame' } });
      if (i % 900 === 5) {
        items.push({
          d: { ...udp(i, 40), transport: 'tcp', flow: '10.0.0.1:5060>127.0.0.1:5060', gap: true, frames: [i - 1, i, i + 1] },
        });
        items.push({ d: { ...udp(i, 41), transport: 'tls', flow: '10.0.0.1:5061>127.0.0.1:5061', frames: [i + 1] } });
      }
    }
    const { out, batches } = roundTrip(items);
    expect(batches.length).toBeGreaterThan(3); // 3000 × 300 bytes span several batches
    expect(batches.every((b) => b.bytesRead === 123 && b.fileSize === 456)).toBe(true);
    expect(plain(out)).toEqual(plain(items));
    // Addresses go once per batch into its string table, not once per datagram.
    expect(batches[0]!.strings.length).toBeLessThan(10);
  });

  it('carries a payload larger than a batch, after or before others in the same batch', () => {
    const big = { ...udp(1, BATCH_BYTES + 1000), transport: 'tcp' as const, flow: 'a>b' };
    const items: Item[] = [{ d: udp(0) }, { d: big }, { d: udp(2) }];
    expect(plain(roundTrip(items).out)).toEqual(plain(items));
    // Without posting first, the batch's buffer grows to hold everything.
    const { out, batches } = roundTrip(items, false);
    expect(plain(out)).toEqual(plain(items));
    expect(batches).toHaveLength(1);
  });

  it('rebuild SIP messages split in the worker as parsing them here would (anomalies, headers, body)', () => {
    const texts = [
      'INVITE sip:+31201234567@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n' +
        'From: "Alice" <sip:+31612345678@10.0.0.1>;tag=a\r\nTo: <sip:+31201234567@10.0.0.2>\r\nCall-ID: c1@x\r\n' +
        'CSeq: 1 INVITE\r\nP-Asserted-Identity: <sip:+31612345678@10.0.0.1>\r\nContent-Length: 4\r\n\r\nv=0\n',
      // duplicate From, a Content-Length mismatch and a bare CR inside a value: anomalies of the split and lazy ones
      'BYE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\nMax-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\n' +
        'From: <sip:c@x>;tag=2\r\nTo: <sip:b@y>;tag=3\r\nCall-ID: c2\r\nCSeq: 2 BYE\r\nUser-Agent: x\ry\r\nContent-Length: 9\r\n\r\nab',
      'SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=3\r\nCall-ID: c1@x\r\nCSeq: 1 INVITE\r\n\r\n',
      'SIP/2.0 999 Nope\r\nCall-ID: c3\r\n\r\n', // start line does not parse
    ];
    const view = (p: SipParse): unknown => {
      if (p.kind === 'invalid') return p;
      const before = [...p.anomalies];
      const headers = Array.from({ length: p.headerCount }, (_, i) => p.headerAt(i));
      return { ...p, before, headers, body: p.body.toString('latin1'), from: p.from, pai: p.pai, all: [...p.collectAnomalies()] };
    };
    const w = new BatchWriter();
    const ds = texts.map((t, i) => ({ ...udp(i), payload: Buffer.from(t, 'latin1') }));
    for (const d of ds) w.sip(d, parseSipMessage(d.payload, d.frame));
    const { batch, transfer } = w.take(0, undefined);
    const got: unknown[] = [];
    readBatch(structuredClone(batch, { transfer }), {
      datagram: () => expect.unreachable(),
      anomaly: () => expect.unreachable(),
      sip: (d, parsed) => got.push({ d: { ...d, payload: d.payload.toString('latin1') }, m: view(parsed) }),
    });
    const want = ds.map((d) => ({ d: { ...d, payload: d.payload.toString('latin1') }, m: view(parseSipMessage(d.payload, d.frame)) }));
    expect(got).toEqual(want);
    const kinds = (i: number) => (want[i] as { m: { all: Anomaly[] } }).m.all.map((a) => a.kind);
    expect(kinds(1)).toEqual(expect.arrayContaining(['sip.duplicate-from', 'sip.content-length-mismatch', 'sip.bare-cr']));
    expect((want[3] as { m: SipParse }).m.kind).toBe('invalid');
  });

  it('counts skipped payloads in a batch of their own when nothing else came', () => {
    const w = new BatchWriter();
    expect(w.empty).toBe(true);
    w.skipped += 5;
    expect(w.empty).toBe(false);
    const { batch } = w.take(1, undefined);
    expect(batch.count).toBe(0);
    expect(batch.skipped).toBe(5);
    expect(w.empty).toBe(true);
  });
});
