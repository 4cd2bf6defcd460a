/**
 * When the daemon compacts its heap (src/daemon/compaction.ts): once a build-up of held state (calls, evidence, alerts
 * waiting for the store) has drained, not while it drains, not for small ones; and that the compacting GC it asks V8
 * for really gives pages back. The policy tests count in calls (threshold 10k); the daemon counts bytes.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { CALL_STATE_BYTES, compactingGc, FloodCompaction, heldBytes, MIN_RELEASED_BYTES } from '../../src/daemon/compaction.js';

function policy(): { c: FloodCompaction; runs: () => number } {
  let runs = 0;
  const c = new FloodCompaction(() => (runs++, true), 10_000, () => 0);
  return { c, runs: () => runs };
}

describe('FloodCompaction: when', () => {
  it('compacts once when a 100k-call flood has drained, not during the drain (10k calls a tick)', () => {
    const { c, runs } = policy();
    for (let n = 0; n <= 100_000; n += 5_000) expect(c.observe(n)).toBeUndefined();
    // Expiry over the next ten ticks: 10k calls a tick.
    for (let n = 90_000; n >= 0; n -= 10_000) expect(c.observe(n)).toBeUndefined();
    expect(runs()).toBe(0);
    // The drain has stopped: one compaction, with what it saw.
    const done = c.observe(0);
    expect(done).toMatchObject({ peakHeld: 100_000, held: 0 });
    expect(runs()).toBe(1);
    expect(c.count).toBe(1);
    // Quiet ticks after it: nothing more.
    for (let i = 0; i < 10; i++) expect(c.observe(0)).toBeUndefined();
    expect(runs()).toBe(1);
  });

  it('counts from the peak over background traffic: 30k steady calls, a flood of 20k on top', () => {
    const { c, runs } = policy();
    for (const n of [30_000, 30_200, 29_900, 50_000, 48_000, 40_000, 32_000, 30_100]) expect(c.observe(n)).toBeUndefined();
    expect(c.observe(29_950)).toMatchObject({ peakHeld: 50_000, held: 29_950 });
    expect(runs()).toBe(1);
    // The background's own ups and downs never add up to a compaction.
    for (let i = 0; i < 200; i++) c.observe(30_000 + (i % 2 === 0 ? 500 : -500));
    expect(runs()).toBe(1);
  });

  it('a build-up of fewer calls than the threshold never compacts', () => {
    const { c, runs } = policy();
    for (let round = 0; round < 5; round++) {
      c.observe(9_999);
      c.observe(0);
      c.observe(0);
    }
    expect(runs()).toBe(0);
  });

  it('a slow drain compacts once per threshold of calls released', () => {
    const { c, runs } = policy();
    c.observe(50_000);
    for (let n = 50_000; n >= 0; n -= 500) c.observe(n);
    expect(runs()).toBe(5);
  });

  it('when V8 gives no GC it stops asking and says so', () => {
    let asked = 0;
    const c = new FloodCompaction(() => (asked++, false), 10_000, () => 0);
    c.observe(20_000);
    c.observe(0); // still draining: 20k calls went in this tick
    expect(c.unavailable).toBe(false);
    expect(c.observe(0)).toBeUndefined();
    expect(c.unavailable).toBe(true);
    c.observe(20_000);
    c.observe(0);
    c.observe(0);
    expect(asked).toBe(1);
    expect(c.count).toBe(0);
  });

  it('the default threshold is 20 MiB of held state: 10k calls, or evidence and alerts let go of later', () => {
    expect(MIN_RELEASED_BYTES).toBe(20 * 1048576);
    expect(heldBytes(10_240, 0, 0)).toBe(MIN_RELEASED_BYTES);
    expect(CALL_STATE_BYTES).toBe(2048);
    // After a storm on a full disk: calls long gone, 64 MiB of pinned evidence and 20k held alerts released once the
    // store takes them again.
    const c = new FloodCompaction(() => true, MIN_RELEASED_BYTES, () => 0);
    const full = heldBytes(0, 64 * 1048576, 20_000);
    c.observe(heldBytes(100_000, 96 * 1048576, 20_000));
    c.observe(full); // the calls expired: a compaction (evidence and alerts still held)
    expect(c.observe(full)).toMatchObject({ held: full });
    expect(c.observe(full)).toBeUndefined();
    c.observe(0); // the store is back: all saved and let go of at once
    expect(c.observe(0)).toMatchObject({ peakHeld: full, held: 0 });
    expect(c.count).toBe(2);
  });
});

describe('compactingGc: what', () => {
  it('gives back the pages of a heap where a tenth of the objects outlived the rest (no --expose-gc given)', () => {
    const oldSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!;
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    const keep: object[] = [];
    let junk: object[] | undefined = [];
    for (let i = 0; i < 600_000; i++) {
      const o = { a: `x${i}`, b: i * 1.5, c: [i] };
      if (i % 10 === 0) keep.push(o);
      else junk.push(o);
    }
    junk = undefined;
    const before = oldSpace();
    expect(compactingGc()).toBe(true);
    const after = oldSpace();
    // Committed old space shrinks to about what is live; every page was compacted, not only the emptiest.
    expect(after.space_size).toBeLessThan(before.space_size - 30 * 1048576);
    expect(after.space_size - after.space_used_size).toBeLessThan(16 * 1048576);
    expect(keep).toHaveLength(60_000);
    // The flag is on for that one collection only.
    expect(compactingGc()).toBe(true);
  });
});
