/**
 * Issue #18: the bytes held for TCP reassembly are bounded across all connections, not only per connection.
 * 2,000 connections each send 900 KB of SIP header lines that never end, interleaved (every connection open at
 * once), through the real Ingest (the live TCP listener's path: socket bytes with a flow).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { Ingest, ingestLimitsOf } from '../../src/pipeline/ingest.js';

const CHUNK = 60_000; // under the 64 KiB header bound, so that every connection holds bytes
const CHUNKS = 15; // 900 KB per connection
const CONNECTIONS = 2000;

function limitsOf(yaml: string) {
  const r = parseConfig(yaml, 'test.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config.limits;
}

/** Run the flood; returns the most bytes all streams held at once, and the per-flow maximum. */
function flood(ingest: Ingest, chunks = CHUNKS): { peak: number; anomalies: Record<string, number>; messages: number } {
  const first = Buffer.from('INVITE sip:+31301234500@127.0.0.1 SIP/2.0\r\n' + 'X-Pad: ' + 'a'.repeat(CHUNK - 60) + '\r\n');
  const line = Buffer.from(('X-Pad: ' + 'b'.repeat(90) + '\r\n').repeat(Math.floor(CHUNK / 99)));
  let messages = 0;
  let peak = 0;
  let frame = 0;
  for (let c = 0; c < chunks; c++) {
    for (let i = 0; i < CONNECTIONS; i++) {
      const ip = `10.${(i >> 8) & 255}.${i & 255}.1`;
      ingest.pushDatagram({
        ts: { sec: 1_700_000_000 + c, nsec: 0 },
        src: { ip, port: 5060 },
        dst: { ip: '192.0.2.1', port: 5060 },
        transport: 'tcp',
        payload: c === 0 ? first : line,
        frame: ++frame,
        flow: `${ip}:5060>192.0.2.1:5060`,
      });
      if (ingest.streamBudget.used > peak) peak = ingest.streamBudget.used;
    }
  }
  messages = ingest.stats.sipMessages;
  return { peak, anomalies: ingest.stats.anomalies, messages };
}

describe('TCP reassembly bytes across all connections (limits.reassemblyBytes, limits.messageBytes)', () => {
  it('2,000 connections × 900 KB of unended headers stay within the default total cap (64 MiB)', () => {
    const limits = limitsOf('');
    expect(limits.reassemblyBytes).toBe(64 * 1024 * 1024);
    const ingest = new Ingest({ origin: 'test', onMessage: () => undefined, ...ingestLimitsOf(limits) });
    const r = flood(ingest);
    expect(r.peak).toBeLessThanOrEqual(64 * 1024 * 1024);
    expect(r.peak).toBeGreaterThan(60 * 1024 * 1024); // the cap, not something else, is what held it
    expect(ingest.streamBudget.refused).toBeGreaterThan(0);
    expect(r.anomalies['tcp.stream-buffer-limit']).toBe(ingest.streamBudget.refused);
    expect(r.messages).toBe(0);
    ingest.flush();
    expect(ingest.streamBudget.used).toBe(0); // every byte is given back
  });

  it('limits.reassemblyBytes: 8 MiB holds the same flood to 8 MiB', () => {
    const ingest = new Ingest({ origin: 'test', onMessage: () => undefined, ...ingestLimitsOf(limitsOf('limits:\n  reassemblyBytes: 8388608\n')) });
    const r = flood(ingest, 2);
    expect(r.peak).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(r.peak).toBeGreaterThan(7 * 1024 * 1024);
  });

  it('limits.messageBytes: an unended header section is dropped at 8 KiB per stream instead of 64 KiB', () => {
    const small = new Ingest({ origin: 'test', onMessage: () => undefined, ...ingestLimitsOf(limitsOf('limits:\n  messageBytes: 8192\n')) });
    const dflt = new Ingest({ origin: 'test', onMessage: () => undefined, ...ingestLimitsOf(limitsOf('')) });
    const head = Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + 'X-Pad: x\r\n'.repeat(1000)); // 10 KB, no end
    for (const ing of [small, dflt]) {
      ing.pushDatagram({ ts: { sec: 1, nsec: 0 }, src: { ip: '10.0.0.1', port: 1 }, dst: { ip: '10.0.0.2', port: 5060 }, transport: 'tcp', payload: head, frame: 1, flow: 'f' });
    }
    expect(small.stats.anomalies['tcp.stream-header-too-large']).toBe(1);
    expect(dflt.stats.anomalies['tcp.stream-header-too-large']).toBeUndefined();
    expect(dflt.streamBudget.used).toBe(head.length);
  });
});
