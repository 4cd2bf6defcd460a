/** Issue #6: the evidence pcapng of an alert opens in tshark and holds exactly the call's SIP messages. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { loadConfig } from '../../src/config/index.js';
import { CALL_BYTES, EvidenceBuffer, heldBytes } from '../../src/evidence/buffer.js';

const HAVE_TSHARK = spawnSync('tshark', ['-v']).status === 0;
if (!HAVE_TSHARK) console.warn('tshark missing: evidence tests skipped (apt-get install -y tshark); CI installs it');

function fields(file: string, filter: string, ...f: string[]): string[][] {
  const args = ['-r', file, '-Y', filter, '-T', 'fields', ...f.flatMap((x) => ['-e', x])];
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
}

describe.skipIf(!HAVE_TSHARK)('analyze --evidence-dir', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-evidence-'));
  const cfg = loadConfig('captures/scenario/spoofwatch.yaml');
  if (!cfg.ok) throw new Error(cfg.errors.join('\n'));
  const CAPTURE = 'captures/scenario/scenario.pcapng';
  const report = await analyzeFiles([CAPTURE], cfg.config, undefined, dir);

  it('writes one pcapng per alert', () => {
    expect(report.evidenceFiles).toHaveLength(report.alerts.length);
    expect(readdirSync(dir)).toHaveLength(report.alerts.length);
  });

  for (const callId of ['sc08-1@spoofwatch.test', 'sc22-1@spoofwatch.test']) {
    it(`${callId}: exactly the call's messages, times and addresses as in the original capture`, () => {
      const alert = report.alerts.find((a) => a.call.callId === callId)!;
      const file = report.evidenceFiles![report.alerts.indexOf(alert)]!;
      const original = fields(CAPTURE, `sip.Call-ID == "${callId}"`, 'frame.time_epoch', 'ip.src', 'ip.dst', 'sip.Method', 'sip.Status-Code', 'sip.CSeq');
      const evidence = fields(file, 'sip', 'frame.time_epoch', 'ip.src', 'ip.dst', 'sip.Method', 'sip.Status-Code', 'sip.CSeq');
      expect(evidence).toEqual(original);
      expect(fields(file, 'frame', 'frame.number')).toHaveLength(original.length); // nothing else in the file
      const comments = fields(file, 'frame.comment contains "spoofwatch"', 'frame.number', 'frame.comment');
      expect(comments).toHaveLength(1);
      expect(comments[0]![1]).toContain(`spoofwatch ${alert.rule} (${alert.severity})`);
      expect(comments[0]![1]).toContain(`original frame ${alert.evidence[0]!.frame}`);
    });
  }
});

describe('EvidenceBuffer bounds', () => {
  /** A call's first message of 100 bytes (copy with its header, list slot) and a call of one such message. */
  const MSG = heldBytes(100, 0);
  const ONE = CALL_BYTES + MSG;
  const msg = (n: number) => ({
    frame: n,
    ts: { sec: n, nsec: 0 },
    src: { ip: '192.0.2.1', port: 5060 },
    dst: { ip: '192.0.2.2', port: 5060 },
    transport: 'udp',
    raw: Buffer.alloc(100, 0x41),
  });
  it('evicts the oldest unpinned calls beyond the byte bound, keeps pinned ones, and copies the bytes', () => {
    // Entry, meta array for 8 messages of 7 numbers (with the route), two arrays; then the string (header + 104) and its list slot.
    expect([CALL_BYTES, MSG]).toEqual([64 + 16 + 448 + 64, 16 + 104 + 8]);
    const b = new EvidenceBuffer({ maxBytes: Math.floor(2.5 * ONE), maxPinnedBytes: 1 << 20, maxMessagesPerCall: 5 });
    const src = msg(1);
    b.add('a', src);
    b.pin('a');
    src.raw.fill(0x42);
    expect(b.get('a')![0]!.raw[0]).toBe(0x41);
    for (let i = 0; i < 4; i++) b.add(`c${i}`, msg(10 + i));
    expect(b.get('c0')).toBeUndefined();
    expect(b.get('c1')).toBeUndefined();
    expect(b.get('c3')).toHaveLength(1);
    expect(b.get('a')).toHaveLength(1);
    expect(b.stats.evictedCalls).toBe(2);
    for (let i = 0; i < 7; i++) b.add('a', msg(20 + i));
    expect(b.get('a')).toHaveLength(5);
    expect(b.stats.truncatedCalls).toBe(1);
  });

  it('gives back every message as added: frame, time, addresses, transport and bytes, also after its storage grew', () => {
    const b = new EvidenceBuffer({ maxBytes: 1 << 20, maxPinnedBytes: 1 << 20, maxMessagesPerCall: 100 });
    const a = { ip: '192.0.2.1', port: 5060 };
    const z = { ip: '2001:db8::2', port: 5070 };
    const added = Array.from({ length: 12 }, (_, i) => ({
      frame: 100 + i,
      ts: { sec: 1_700_000_000 + i, nsec: 999_999_000 - i },
      src: i % 2 === 0 ? { ...a } : { ...z }, // equal endpoints in fresh objects, as the decoder makes them
      dst: i % 2 === 0 ? { ...z } : { ...a },
      transport: i === 5 ? 'tcp' : 'udp',
      raw: Buffer.from(`message ${i} `.repeat(10 + i * 40)), // grows past the first allocations
    }));
    b.add('g', added[0]!);
    const early = b.get('g')!; // a view taken before the call's storage grows stays valid
    for (const m of added.slice(1)) b.add('g', m);
    expect(early[0]!.raw.equals(added[0]!.raw)).toBe(true);
    const got = b.get('g')!;
    expect(got).toHaveLength(12);
    got.forEach((m, i) => {
      const want = added[i]!;
      expect({ ...m, raw: m.raw.toString() }).toEqual({ ...want, raw: want.raw.toString(), routes: ['tap'] });
    });
    // Held bytes: the call's own, then each message's copy rounded up to 8 bytes with a 16-byte header and its 8-byte
    // list slot, and from the 9th message on its 56 bytes of numbers.
    expect(b.bytes.open).toBe(added.reduce((n, m, i) => n + 16 + Math.ceil(m.raw.length / 8) * 8 + 8 + (i >= 8 ? 56 : 0), CALL_BYTES));
  });

  it('counts a call by the bytes it holds, not only its message bytes: 100 calls of 100 bytes hold 72,000, not 10,000', () => {
    const b = new EvidenceBuffer({ maxBytes: 40 * ONE, maxPinnedBytes: 1 << 20, maxMessagesPerCall: 5 });
    for (let i = 0; i < 100; i++) b.add(`f${i}`, msg(i));
    expect(b.bytes.open).toBe(40 * ONE);
    expect(b.stats.evictedCalls).toBe(60);
    expect(b.get('f59')).toBeUndefined();
    expect(b.get('f60')).toHaveLength(1);
  });

  it('drops pinned calls in pin order (not first-message order), also after the order ring was compacted', () => {
    const b = new EvidenceBuffer({ maxBytes: 1 << 20, maxPinnedBytes: 2 * ONE + heldBytes(5000, 1) + 100, maxMessagesPerCall: 5 });
    b.add('x', msg(1));
    b.add('y', msg(2));
    b.pin('y');
    b.pin('x'); // pinned: y, then x
    for (let i = 0; i < 3000; i++) {
      // Pinned and released again: dead ring slots until the ring is compacted from the live entries.
      b.add(`t${i}`, msg(10 + i));
      b.pin(`t${i}`);
      b.release(`t${i}`);
    }
    expect(b.bytes).toEqual({ open: 0, pinned: 2 * ONE });
    b.add('z', msg(5000));
    b.pin('z');
    expect(b.stats.droppedPinnedCalls).toBe(0);
    b.add('z', { ...msg(5001), raw: Buffer.alloc(5000, 0x43) }); // z holds 656 + 5,024 bytes: the first pinned (y) goes
    expect(b.get('y')).toBeUndefined();
    expect(b.get('x')).toHaveLength(1);
    expect(b.get('z')).toHaveLength(2);
    expect(b.stats.droppedPinnedCalls).toBe(1);
    expect(b.bytes).toEqual({ open: 0, pinned: 2 * ONE + 16 + 5000 + 8 });
  });

  it('finds a call again through the caller\'s hint slot, and never writes through a stale one', () => {
    // Room for two calls with up to 5 messages between them, not for a third call.
    const b = new EvidenceBuffer({ maxBytes: 2 * CALL_BYTES + 5 * MSG, maxPinnedBytes: 1 << 20, maxMessagesPerCall: 5 });
    const slot = { evidence: undefined as unknown };
    expect(b.add('h', msg(1), slot)).toBe(false);
    expect(slot.evidence).toBeDefined();
    expect(b.add('h', msg(2), slot)).toBe(true);
    expect(b.get('h')!.map((m) => m.frame)).toEqual([1, 2]);
    // A slot holding another call's entry is not used for this one.
    expect(b.add('other', msg(3), slot)).toBe(false);
    expect(b.get('h')!.map((m) => m.frame)).toEqual([1, 2]);
    expect(b.get('other')!.map((m) => m.frame)).toEqual([3]);
    // 'h' is evicted (byte bound: the oldest open call); its old entry, still in a slot, must not take the next message.
    const stale = { evidence: undefined as unknown };
    expect(b.add('h', msg(4), stale)).toBe(true);
    b.add('x', msg(5));
    expect(b.get('h')).toBeUndefined();
    expect(b.stats.evictedCalls).toBe(1);
    expect(b.add('h', msg(7), stale)).toBe(false); // a new entry
    expect(b.get('h')!.map((m) => m.frame)).toEqual([7]);
  });
});
