import { describe, expect, it } from 'vitest';
import { MemoryWindowState } from '../../src/rules/window.js';

describe('MemoryWindowState', () => {
  it('returns entries inside the window only', () => {
    const w = new MemoryWindowState();
    w.add('k', 1_000, 'a');
    w.add('k', 5_000, 'b');
    expect(w.recent<string>('k', 6_000, 2_000).map((e) => e.value)).toEqual(['b']);
    expect(w.recent<string>('k', 60_000, 2_000)).toEqual([]);
    expect(w.size).toBe(0);
  });

  it('counts what recent() would return, dropping the same old entries', () => {
    const w = new MemoryWindowState();
    expect(w.count('none', 0, 1_000)).toBe(0);
    w.add('one', 1_000, 'x');
    expect(w.count('one', 1_500, 1_000)).toBe(1);
    for (let t = 0; t < 4; t++) w.add('many', 2_000 + 100 * t, t);
    expect(w.count('many', 2_300, 1_000)).toBe(4);
    expect(w.count('many', 3_150, 1_000)).toBe(2); // 2_000 and 2_100 left the window…
    expect(w.recent<number>('many', 3_150, 60_000).map((e) => e.value)).toEqual([2, 3]); // …and are gone
    expect(w.count('one', 2_001, 1_000)).toBe(0);
    expect(w.size).toBe(1);
  });

  it('adds to what the read before found: absent, present, expired, or evicted in between', () => {
    const w = new MemoryWindowState(2);
    expect(w.count('a', 0, 1_000)).toBe(0); // absent …
    w.add('a', 0, 1); // … created
    w.add('a', 1, 2); // a second add after no read: the slot made above
    expect(w.count('a', 2, 1_000)).toBe(2);
    w.add('a', 3, 3); // read then add: the same slot
    expect(w.recent<number>('a', 4, 1_000).map((e) => e.value)).toEqual([1, 2, 3]);
    expect(w.count('a', 10_000, 1_000)).toBe(0); // expired on this read …
    w.add('a', 10_000, 4); // … so a new slot
    expect(w.recent<number>('a', 10_000, 1_000).map((e) => e.value)).toEqual([4]);
    expect(w.count('a', 10_001, 1_000)).toBe(1);
    w.add('b', 10_001, 1);
    w.add('c', 10_002, 1); // bound 2: evicts a, read just before b's add
    w.add('a', 10_003, 5); // the slot read before is gone: a new one
    expect(w.recent<number>('a', 10_003, 1_000).map((e) => e.value)).toEqual([5]);
    expect(w.size).toBe(2);
  });

  it('keeps a key with one entry and one that grows to many alike (inline first entry, list from the second)', () => {
    const w = new MemoryWindowState(10, 3);
    w.add('one', 1_000, 'x');
    expect(w.recent<string>('one', 1_500, 1_000)).toEqual([{ atMs: 1_000, value: 'x' }]);
    for (let t = 0; t < 5; t++) w.add('many', 2_000 + t, t);
    // at most 3 entries per key: the two oldest were dropped (and counted)
    expect(w.recent<number>('many', 2_004, 10_000)).toEqual([
      { atMs: 2_002, value: 2 },
      { atMs: 2_003, value: 3 },
      { atMs: 2_004, value: 4 },
    ]);
    expect(w.evicted).toBe(2);
    expect(w.recent<number>('many', 2_003 + 1_000, 1_000).map((e) => e.value)).toEqual([3, 4]);
    expect(w.recent('one', 2_001, 1_000)).toEqual([]);
    expect(w.size).toBe(1);
  });

  it('evicts the oldest key beyond the bound, skipping keys that expired and came back', () => {
    const w = new MemoryWindowState(3);
    w.recent('z', 0, 1e9); // some rule has a long window, so nothing is swept here
    w.add('a', 0, 1);
    w.add('b', 1, 1);
    expect(w.recent('a', 100_000, 10)).toEqual([]); // a expires …
    w.add('a', 100_001, 2); // … and comes back as the newest key
    w.add('c', 100_002, 1);
    w.add('d', 100_003, 1); // bound 3: evicts b (oldest live), not the re-added a
    expect(w.recent('b', 100_003, 1e9)).toEqual([]);
    expect(w.recent<number>('a', 100_003, 1e9).map((e) => e.value)).toEqual([2]);
    expect(w.evicted).toBe(1);
    expect(w.size).toBe(3);
  });

  it('sweeps keys nobody reads again once they left the largest window (capture clock), a few per add', () => {
    const w = new MemoryWindowState();
    w.recent('x', 0, 10_000); // a rule with a 10 s window
    for (let i = 0; i < 1000; i++) w.add(`n${i}`, i, i);
    expect(w.size).toBe(1000);
    w.add('late', 70_000, 0); // > 60 s of capture time later: a sweep starts, 64 keys per add
    expect(w.swept).toBe(64);
    for (let i = 1; i < 16; i++) w.add(`late${i}`, 70_000 + i, 0);
    expect(w.swept).toBe(1000); // 16 adds × 64 keys: every stale key is gone, the 16 new ones stay
    expect(w.size).toBe(16);
    expect(w.recent('n999', 70_016, 1e9)).toEqual([]);
    expect(w.recent<number>('late', 70_016, 1e9).map((e) => e.value)).toEqual([0]);
  });

  it('keeps exactly the newest keys under the bound while sweeps walk the order and eviction compacts it', () => {
    // Nothing is ever stale (a rule reads a very long window), so sweeps remove nothing but keep walking while
    // evictions move the head past them and compact the order under them: the live keys must stay the newest
    // `bound` ones, as a plain oldest-first model says.
    const bound = 300;
    const w = new MemoryWindowState(bound);
    w.recent('probe', 0, 1e12);
    const model: string[] = [];
    let evicted = 0;
    for (let i = 0; i < 5000; i++) {
      const key = `k${i}`;
      w.add(key, i * 1_000, i); // one key a second: a sweep starts every minute, 64 places per add
      model.push(key);
      if (model.length > bound) {
        model.shift();
        evicted++;
      }
      if (i % 97 === 0 || i > 4990) {
        expect(w.size).toBe(model.length);
        expect(w.evicted).toBe(evicted);
        expect(w.recent<number>(model[0]!, i * 1_000, 1e12).map((e) => e.value)).toEqual([Number(model[0]!.slice(1))]);
        if (i >= bound) expect(w.recent(`k${i - bound}`, i * 1_000, 1e12)).toEqual([]);
      }
    }
    expect(w.swept).toBe(0);
    for (const key of model) expect(w.count(key, 5_000_000, 1e12)).toBe(1);
  });

  it('sweeps what left the window while keys expire, come back and are evicted around it', () => {
    // A 30 s window, keys re-used: every read must see exactly the entries of the last 30 s (a brute-force model),
    // whatever the sweeps and the expiry on read did to the order meanwhile.
    const w = new MemoryWindowState(10_000);
    const model = new Map<string, number[]>();
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let t = 0; t < 600_000; t += 50) {
      const key = `n${rnd(2_000)}`;
      if (rnd(3) === 0) {
        const want = (model.get(key) ?? []).filter((at) => at >= t - 30_000);
        expect(w.recent<number>(key, t, 30_000).map((e) => e.value)).toEqual(want);
      } else {
        w.add(key, t, t);
        model.set(key, [...(model.get(key) ?? []), t]);
      }
    }
    expect(w.swept).toBeGreaterThan(0);
    expect(w.evicted).toBe(0);
  });

  describe('pair (two states over one store)', () => {
    it('gives each state exactly its own entries, as if alone, while both read and add the same keys', () => {
      // Windows of 10 min and 1 min over the same numbers, interleaved as CLI-MULTI-PEER and CLI-VELOCITY use them;
      // each read must see what a brute-force model of that state alone says, whatever the other lane did.
      const [a, b] = MemoryWindowState.pair(10_000);
      const lanes = [
        { w: a, windowMs: 600_000, model: new Map<string, number[]>() },
        { w: b, windowMs: 60_000, model: new Map<string, number[]>() },
      ];
      let seed = 11;
      const rnd = (n: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed >>> 8) % n;
      };
      let reads = 0;
      for (let t = 0; t < 1_800_000; t += 100) {
        const key = `+3120555${rnd(3_000)}`;
        const lane = lanes[rnd(4) === 0 ? 1 : 0]!;
        const other = lanes[lane === lanes[0] ? 1 : 0]!;
        const want = (m: typeof lane) => (m.model.get(key) ?? []).filter((at) => at >= t - m.windowMs);
        expect(lane.w.recent<number>(key, t, lane.windowMs).map((e) => e.value)).toEqual(want(lane));
        expect(other.w.count(key, t, other.windowMs)).toBe(want(other).length);
        reads += 2;
        if (rnd(3) !== 0) {
          lane.w.add(key, t, t);
          lane.model.set(key, [...(lane.model.get(key) ?? []), t]);
        }
      }
      expect(reads).toBe(36_000);
      expect(a.swept).toBeGreaterThan(0);
      expect(a.evicted).toBe(0);
    });

    it('keeps a value of undefined apart from an empty lane', () => {
      const [a, b] = MemoryWindowState.pair();
      a.add('k', 1_000, undefined);
      expect(a.recent('k', 1_000, 1_000)).toEqual([{ atMs: 1_000, value: undefined }]);
      expect(b.count('k', 1_000, 1_000)).toBe(0);
      b.add('k', 1_500, undefined);
      b.add('k', 1_600, 'x');
      expect(b.recent('k', 1_600, 1_000)).toEqual([
        { atMs: 1_500, value: undefined },
        { atMs: 1_600, value: 'x' },
      ]);
      expect(a.count('k', 2_100, 1_000)).toBe(0); // a's entry left its window; b's keep the key
      expect(a.size).toBe(1);
      expect(b.count('k', 2_700, 1_000)).toBe(0);
      expect(b.size).toBe(0);
    });

    it('shares one bound on keys: a key is counted once, and evicting it drops both states’ entries', () => {
      const [a, b] = MemoryWindowState.pair(2);
      a.add('x', 0, 1);
      b.add('x', 0, 'x0');
      b.add('y', 1, 'y1');
      expect([a.size, b.size]).toEqual([2, 2]);
      a.add('z', 2, 1); // third key: x, the oldest, goes with both lanes
      expect(a.evicted).toBe(1);
      expect(b.evicted).toBe(1);
      expect(a.recent('x', 2, 1e9)).toEqual([]);
      expect(b.recent('x', 2, 1e9)).toEqual([]);
      expect(b.recent<string>('y', 2, 1e9).map((e) => e.value)).toEqual(['y1']);
      expect(a.count('y', 2, 1e9)).toBe(0);
    });

    it('has two lanes only', () => {
      const [a, b] = MemoryWindowState.pair();
      expect(() => new MemoryWindowState(1, 1, a)).toThrow('a window store has two lanes');
      expect(() => new MemoryWindowState(1, 1, b)).toThrow('a window store has two lanes');
    });
  });
});
