import { describe, expect, it } from 'vitest';
import { InsertionRing } from '../../src/util/insertion-ring.js';

describe('InsertionRing', () => {
  it('gives the oldest live key, skipping entries deleted or added again since', () => {
    const ring = new InsertionRing();
    const live = new Map<string, number>();
    for (const k of ['a', 'b', 'c']) live.set(k, ring.add(k));
    live.delete('a'); // deleted without eviction
    live.delete('b');
    live.set('b', ring.add('b')); // b again: its first ring entry is stale
    const isLive = (k: string, seq: number) => live.get(k) === seq;
    expect(ring.peek(isLive)).toBe('c');
    expect(ring.peek(isLive)).toBe('c'); // peek does not consume
    ring.shift();
    live.delete('c');
    expect(ring.peek(isLive)).toBe('b');
    ring.shift();
    live.delete('b');
    expect(ring.peek(isLive)).toBeUndefined();
    expect(ring.length).toBe(0);
  });

  it('compacts: drops the consumed front, and rebuilds from the live entries when stale ones pile up', () => {
    const ring = new InsertionRing();
    const live = new Map<string, number>();
    const isLive = (k: string, seq: number) => live.get(k) === seq;
    const entries = () => [...live];
    for (let i = 0; i < 3000; i++) live.set(`k${i}`, ring.add(`k${i}`));
    for (let i = 0; i < 2000; i++) {
      expect(ring.peek(isLive)).toBe(`k${i}`);
      ring.shift();
      live.delete(`k${i}`);
    }
    ring.compact(live.size, entries);
    expect(ring.length).toBe(1000);
    // 10,000 keys come and go without eviction (e.g. pinned elsewhere): stale slots, rebuilt from the live map
    for (let i = 0; i < 10_000; i++) ring.add(`gone${i}`);
    ring.compact(live.size, entries);
    expect(ring.length).toBe(1000);
    expect(ring.peek(isLive)).toBe('k2000');
  });
});
