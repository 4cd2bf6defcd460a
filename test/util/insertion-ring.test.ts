import { describe, expect, it } from 'vitest';
import { compactingGc } from '../../src/daemon/compaction.js';
import { InsertionRing } from '../../src/util/insertion-ring.js';

interface Item {
  readonly key: string;
  live: boolean;
}

function ringOf(): { ring: InsertionRing<Item>; add: (key: string) => Item } {
  const ring = new InsertionRing<Item>((i) => i.live);
  return {
    ring,
    add: (key) => {
      const item = { key, live: true };
      ring.add(item);
      return item;
    },
  };
}

describe('InsertionRing', () => {
  it('gives the oldest live entry, skipping entries deleted or added again since', () => {
    const { ring, add } = ringOf();
    const a = add('a');
    const b = add('b');
    const c = add('c');
    a.live = false; // deleted without eviction
    b.live = false;
    const b2 = add('b'); // b again: its first place is stale
    expect(ring.peek()).toBe(c);
    expect(ring.peek()).toBe(c); // peek does not consume
    ring.shift();
    c.live = false;
    expect(ring.peek()).toBe(b2);
    ring.shift();
    b2.live = false;
    expect(ring.peek()).toBeUndefined();
    expect(ring.length).toBe(0);
  });

  it('compacts: drops the consumed front, and the stale places once they pile up', () => {
    const { ring, add } = ringOf();
    const items = Array.from({ length: 3000 }, (_, i) => add(`k${i}`));
    for (let i = 0; i < 2000; i++) {
      expect(ring.peek()).toBe(items[i]);
      ring.shift();
      items[i]!.live = false;
    }
    ring.compact(1000);
    expect(ring.length).toBe(1000);
    // 10,000 entries come and go without eviction (e.g. moved to another ring): stale places, dropped
    for (let i = 0; i < 10_000; i++) add(`gone${i}`).live = false;
    ring.compact(1000);
    expect(ring.length).toBe(1000);
    expect(ring.peek()).toBe(items[2000]);
  });

  it('walks every place once, and keeps its position when the ring is compacted under it', () => {
    const { ring, add } = ringOf();
    const items = Array.from({ length: 6000 }, (_, i) => add(`k${i}`));
    ring.startWalk();
    const seen: string[] = [];
    for (let n = 0; n < 2500; n++) seen.push(ring.next()!.key);
    // The front is consumed by eviction (head past the walk) and most of the rest goes stale: both compactions run.
    for (let i = 0; i < 3100; i++) {
      ring.shift();
      items[i]!.live = false;
    }
    for (let i = 3100; i < 6000; i++) if (i % 10 !== 0) items[i]!.live = false;
    ring.compact(290);
    expect(ring.length).toBe(290);
    expect(ring.walking).toBe(true);
    for (let it = ring.next(); it !== undefined; it = ring.next()) seen.push(it.key);
    expect(ring.walking).toBe(false);
    // The walk went on after k2499 with the live places left: k3100, k3110, … (stale and evicted ones dropped).
    expect(seen.slice(0, 2500)).toEqual(items.slice(0, 2500).map((i) => i.key));
    expect(seen.slice(2500)).toEqual(items.filter((i) => i.live).map((i) => i.key));
    expect(ring.next()).toBeUndefined();
  });

  it('keeps a walk in the middle in place when the stale places are dropped around it', () => {
    const { ring, add } = ringOf();
    const items = Array.from({ length: 6000 }, (_, i) => add(`k${i}`));
    ring.startWalk();
    for (let n = 0; n < 2500; n++) ring.next();
    for (let i = 0; i < 6000; i++) if (i % 10 !== 0) items[i]!.live = false;
    ring.compact(600);
    expect(ring.length).toBe(600);
    const rest: string[] = [];
    for (let it = ring.next(); it !== undefined; it = ring.next()) rest.push(it.key);
    expect(rest).toEqual(items.slice(2500).filter((i) => i.live).map((i) => i.key));
  });

  it('holds no entry it let go of: shifted and skipped entries can be collected before any compaction', async () => {
    const ring = new InsertionRing<Item>((i) => i.live);
    const refs: WeakRef<Item>[] = [];
    (() => {
      for (let i = 0; i < 3000; i++) {
        const item = { key: `k${i}`, live: true };
        ring.add(item);
        refs.push(new WeakRef(item));
      }
      // 1,000 shifted out (evicted), 500 gone stale and skipped by peek: fewer than half, so the array is not sliced.
      for (let i = 0; i < 1000; i++) {
        ring.peek();
        ring.shift();
      }
      for (let i = 1000; i < 1500; i++) refs[i]!.deref()!.live = false;
      expect(ring.peek()!.key).toBe('k1500');
    })();
    // WeakRef targets are kept until the job that made them ends.
    await new Promise((r) => setImmediate(r));
    expect(compactingGc()).toBe(true);
    expect(refs.slice(0, 1500).filter((r) => r.deref() !== undefined)).toHaveLength(0);
    expect(refs.slice(1500).filter((r) => r.deref() !== undefined)).toHaveLength(1500);
    expect(ring.length).toBe(1500);
  });
});
