import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { AlertBus, type AlertPersistence, type AlertSink } from '../../src/alerts/bus.js';
import { AlertStore } from '../../src/sinks/store.js';
import { SpoofwatchError } from '../../src/types.js';
import { makeAlert } from './fixtures.js';

/** A manual event loop: `schedule` queues, `turn` runs what was queued before it, `run` runs all. */
function manualLoop(): { schedule: (fn: () => void) => void; turn: () => number; run: () => void } {
  let q: (() => void)[] = [];
  const turn = (): number => {
    const now = q;
    q = [];
    for (const fn of now) fn();
    return now.length;
  };
  return {
    schedule: (fn) => void q.push(fn),
    turn,
    run: () => {
      for (let i = 0; i < 10_000 && turn() > 0; i++);
    },
  };
}

/** Persistence fake that records calls, so ordering against deliveries can be asserted. */
class RecordingStore implements AlertPersistence {
  readonly log: string[] = [];
  readonly stored: Alert[] = [];
  fail = false;
  constructor(private last = 0) {}
  lastSeq(): number {
    return this.last;
  }
  /** Numbers like the real store: from lastSeq + 1, inside the (here: pretend) transaction. */
  commit(alerts: readonly Alert[]): Alert[] {
    if (this.fail) {
      this.log.push(`fail ${alerts.length}`);
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    }
    const out = alerts.map((a, i) => ({ ...a, seq: this.last + 1 + i }));
    this.log.push(`commit ${out.map((a) => a.seq).join(',')}`);
    this.stored.push(...out);
    this.last = out[out.length - 1]?.seq ?? this.last;
    return out;
  }
}

/** Timers the test fires by hand: `due()` lists pending delays, `fire()` runs them. */
function manualTimers(): { setTimer: (fn: () => void, ms: number) => () => void; due: () => number[]; fire: () => void } {
  let timers: { fn: () => void; ms: number }[] = [];
  return {
    setTimer: (fn, ms) => {
      const t = { fn, ms };
      timers.push(t);
      return () => void (timers = timers.filter((x) => x !== t));
    },
    due: () => timers.map((t) => t.ms),
    fire: () => {
      const now = timers;
      timers = [];
      for (const t of now) t.fn();
    },
  };
}

function collector(name: string, log?: string[], over: Partial<AlertSink> = {}): AlertSink & { got: number[] } {
  const got: number[] = [];
  return {
    name,
    got,
    deliver: (a: Alert) => {
      got.push(a.seq);
      log?.push(`${name} ${a.seq}`);
    },
    ...over,
  };
}

describe('AlertBus numbering and persistence', () => {
  it('numbers after the store, persists a tick batch in one append, and only then delivers', () => {
    const loop = manualLoop();
    const store = new RecordingStore(41);
    const bus = new AlertBus({ store, schedule: loop.schedule });
    const sink = collector('ws-1', store.log);
    bus.subscribe(sink, { maxQueue: 10 });
    const input = makeAlert({ seq: 7 });
    const committed: number[] = [];
    const bus2 = new AlertBus({ store: new RecordingStore(41), schedule: loop.schedule, onCommitted: (a) => void committed.push(a.seq) });
    expect([bus2.publish(input), bus.publish(input), bus.publish(makeAlert()), bus.publish(makeAlert())]).toEqual([true, true, true, true]);
    expect(input.seq).toBe(7); // caller's object untouched; its seq is not used
    expect(bus.lastSeq()).toBe(41); // no seq before the commit
    expect(store.log).toEqual([]); // nothing persisted or delivered within the publishing turn
    expect(bus.stats().pendingPersist).toBe(3);
    loop.run();
    expect(store.log).toEqual(['commit 42,43,44', 'ws-1 42', 'ws-1 43', 'ws-1 44']);
    expect(committed).toEqual([42]);
    expect(bus.stats()).toEqual({
      lastSeq: 44,
      published: 3,
      persisted: 3,
      persistErrors: 0,
      pendingPersist: 0,
      spillDropped: 0,
      maxSpill: 20_000,
      sinks: [{ name: 'ws-1', queued: 0, maxQueue: 10, delivered: 3, dropped: 0, filtered: 0, errors: 0, paused: false }],
    });
  });
  it('sync mode persists before publish returns', () => {
    const loop = manualLoop();
    const store = new RecordingStore();
    const bus = new AlertBus({ store, persist: 'sync', schedule: loop.schedule });
    const sink = collector('s', store.log);
    bus.subscribe(sink, { maxQueue: 10 });
    bus.publish(makeAlert());
    expect(store.log).toEqual(['commit 1']);
    bus.publish(makeAlert());
    loop.run();
    expect(store.log).toEqual(['commit 1', 'commit 2', 's 1', 's 2']);
  });
  it('a failing store: nothing delivered, alerts spill (bounded, drops counted), retried with backoff and smaller batches, one state change each way', () => {
    const loop = manualLoop();
    const timers = manualTimers();
    const store = new RecordingStore();
    const errors: string[] = [];
    const states: string[] = [];
    const bus = new AlertBus({
      store,
      schedule: loop.schedule,
      setTimer: timers.setTimer,
      now: () => 1000,
      maxSpill: 5,
      onError: (e) => errors.push(`${e.code} ${e.message}`),
      onStateChange: (st, info) => states.push(`${st.ok ? 'ok' : `failing ${st.reason}`} spilled=${info.spilled} dropped=${info.spillDropped}`),
    });
    const sink = collector('s', store.log);
    bus.subscribe(sink, { maxQueue: 10 });
    bus.publish(makeAlert({ id: 'x1' }));
    loop.run();
    expect(sink.got).toEqual([1]);
    store.fail = true;
    bus.publish(makeAlert({ id: 'x2' }));
    bus.publish(makeAlert({ id: 'x3' }));
    loop.run();
    expect(sink.got).toEqual([1]); // nothing announced that the store does not hold
    expect(bus.lastSeq()).toBe(1);
    expect(bus.persistState()).toEqual({ ok: false, reason: 'cannot store alerts: SQLITE_FULL: database or disk is full', sinceMs: 1000, failures: 1 });
    expect(timers.due()).toEqual([100]);
    // Publishing while failing does not write; the retry timer does, backing off.
    timers.fire();
    expect(timers.due()).toEqual([200]);
    timers.fire();
    timers.fire();
    expect(timers.due()).toEqual([800]);
    for (let i = 4; i <= 7; i++) expect(bus.publish(makeAlert({ id: `x${i}` }))).toBe(i <= 6);
    loop.run();
    expect(bus.stats()).toMatchObject({ pendingPersist: 5, spillDropped: 1, persistErrors: 4, persisted: 1, published: 7 });
    expect(errors).toHaveLength(4);
    expect(errors[0]).toBe('STORE_APPEND cannot store alerts: SQLITE_FULL: database or disk is full');
    expect(states).toEqual(['failing cannot store alerts: SQLITE_FULL: database or disk is full spilled=2 dropped=0']);
    store.fail = false;
    timers.fire();
    loop.run();
    expect(states.slice(1)).toEqual(['ok spilled=0 dropped=1']);
    expect(bus.persistState()).toEqual({ ok: true });
    expect(timers.due()).toEqual([]);
    expect(store.stored.map((a) => `${a.seq} ${a.id}`)).toEqual(['1 x1', '2 x2', '3 x3', '4 x4', '5 x5', '6 x6']);
    expect(sink.got).toEqual([1, 2, 3, 4, 5, 6]);
    // Each failed write halves the batch (a nearly full disk takes a small one), each success doubles it back.
    expect(store.log.filter((l) => /^(fail|commit)/.test(l))).toEqual(['commit 1', 'fail 2', 'fail 1', 'fail 1', 'fail 1', 'commit 2', 'commit 3,4', 'commit 5,6']);
  });
  it('a long backlog commits one batch per turn, in order', () => {
    const loop = manualLoop();
    const store = new RecordingStore();
    const bus = new AlertBus({ store, schedule: loop.schedule, commitBatch: 2 });
    const sink = collector('s');
    bus.subscribe(sink, { maxQueue: 10 });
    for (let i = 0; i < 5; i++) bus.publish(makeAlert());
    loop.turn();
    expect(store.log).toEqual(['commit 1,2']);
    loop.run();
    expect(store.log).toEqual(['commit 1,2', 'commit 3,4', 'commit 5']);
    expect(sink.got).toEqual([1, 2, 3, 4, 5]);
  });
  it('a full sink queue tells the sink which alert it dropped', () => {
    const loop = manualLoop();
    const over: number[] = [];
    const bus = new AlertBus({ schedule: loop.schedule });
    bus.subscribe({ name: 'stuck', deliver: () => false, overflow: (a) => void over.push(a.seq) }, { maxQueue: 2 });
    for (let i = 0; i < 5; i++) bus.publish(makeAlert());
    loop.run();
    expect(over).toEqual([3, 4, 5]); // 1 and 2 fill the queue before the first drain
  });
  it('with the real store, a restarted bus continues the sequence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-bus-'));
    try {
      const file = join(dir, 'a.db');
      let store = new AlertStore(file);
      const bus1 = new AlertBus({ store, persist: 'sync' });
      bus1.publish(makeAlert());
      bus1.publish(makeAlert());
      store.close();
      store = new AlertStore(file);
      const bus2 = new AlertBus({ store, persist: 'sync' });
      bus2.publish(makeAlert());
      expect(bus2.lastSeq()).toBe(3);
      expect(store.query().map((a) => a.seq)).toEqual([1, 2, 3]);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('AlertBus sinks', () => {
  it('a sink that stops taking alerts fills its own queue and drops, counted; others get everything', () => {
    const loop = manualLoop();
    const bus = new AlertBus({ schedule: loop.schedule });
    const fast = collector('fast');
    const slow = collector('slow', undefined, { deliver: () => false });
    bus.subscribe(fast, { maxQueue: 100 });
    const slowSub = bus.subscribe(slow, { maxQueue: 3 });
    for (let i = 0; i < 10; i++) bus.publish(makeAlert());
    loop.run();
    expect(fast.got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // the tick's batch of 10 met a queue of 3: 4..10 dropped for this sink; it then took 1 and paused
    expect(slowSub.stats()).toEqual({ name: 'slow', queued: 2, maxQueue: 3, delivered: 1, dropped: 7, filtered: 0, errors: 0, paused: true });
    bus.publish(makeAlert());
    bus.publish(makeAlert());
    loop.run();
    expect(slowSub.stats()).toMatchObject({ queued: 3, delivered: 1, dropped: 8 });
    expect(fast.got.length).toBe(12);
  });
  it('resume continues where a paused sink stopped', () => {
    const loop = manualLoop();
    const bus = new AlertBus({ schedule: loop.schedule });
    const got: number[] = [];
    let open = false;
    const sub = bus.subscribe({ name: 'ws', deliver: (a) => (got.push(a.seq), open) }, { maxQueue: 10 });
    for (let i = 0; i < 4; i++) bus.publish(makeAlert());
    loop.run();
    expect(got).toEqual([1]);
    open = true;
    sub.resume();
    loop.run();
    expect(got).toEqual([1, 2, 3, 4]);
    expect(sub.stats().paused).toBe(false);
  });
  it('drains in batches, yielding between them', () => {
    const loop = manualLoop();
    const bus = new AlertBus({ schedule: loop.schedule, drainBatch: 2 });
    const sink = collector('s');
    bus.subscribe(sink, { maxQueue: 10 });
    for (let i = 0; i < 5; i++) bus.publish(makeAlert());
    loop.turn(); // flush: persist + enqueue
    loop.turn();
    expect(sink.got).toEqual([1, 2]);
    loop.turn();
    expect(sink.got).toEqual([1, 2, 3, 4]);
    loop.run();
    expect(sink.got).toEqual([1, 2, 3, 4, 5]);
  });
  it('filters, errors and unsubscribe', () => {
    const loop = manualLoop();
    const bus = new AlertBus({ schedule: loop.schedule });
    const high = collector('high', undefined, { filter: (a) => a.severity === 'critical' });
    const flaky = collector('flaky', undefined, {
      deliver: (a) => {
        if (a.seq === 2) throw new Error('boom');
        flaky.got.push(a.seq);
      },
    });
    const subHigh = bus.subscribe(high, { maxQueue: 10 });
    bus.subscribe(flaky, { maxQueue: 10 });
    bus.publish(makeAlert({ severity: 'critical' }));
    bus.publish(makeAlert({ severity: 'low' }));
    bus.publish(makeAlert({ severity: 'critical' }));
    loop.run();
    expect(high.got).toEqual([1, 3]);
    expect(subHigh.stats().filtered).toBe(1);
    expect(flaky.got).toEqual([1, 3]);
    expect(bus.stats().sinks.find((s) => s.name === 'flaky')).toMatchObject({ delivered: 2, errors: 1 });
    subHigh.unsubscribe();
    bus.publish(makeAlert({ severity: 'critical' }));
    loop.run();
    expect(high.got).toEqual([1, 3]);
    expect(bus.stats().sinks.map((s) => s.name)).toEqual(['flaky']);
    // the name is free again after unsubscribe
    expect(() => bus.subscribe(collector('flaky'), { maxQueue: 1 })).toThrow(expect.objectContaining({ code: 'BUS_DUPLICATE_SINK' }));
    expect(() => bus.subscribe(collector('high'), { maxQueue: 0 })).toThrow(expect.objectContaining({ code: 'BUS_BAD_QUEUE' }));
    expect(bus.subscribe(collector('high'), { maxQueue: 1 }).name).toBe('high');
  });
  it('unsubscribing with alerts queued delivers none of them', () => {
    const loop = manualLoop();
    const bus = new AlertBus({ schedule: loop.schedule });
    const sink = collector('s');
    const sub = bus.subscribe(sink, { maxQueue: 10 });
    bus.publish(makeAlert());
    loop.turn(); // enqueued, drain scheduled
    sub.unsubscribe();
    loop.run();
    expect(sink.got).toEqual([]);
  });
});

describe('AlertBus throughput with the real store (printed, not asserted)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spoofwatch-busperf-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('10k alerts: sync vs per-tick persistence, on the real event loop', async () => {
    const lines: string[] = [];
    for (const mode of ['sync', 'tick'] as const) {
      const store = new AlertStore(join(dir, `${mode}.db`));
      const bus = new AlertBus({ store, persist: mode });
      let delivered = 0;
      bus.subscribe({ name: 'count', deliver: () => void delivered++ }, { maxQueue: 20_000 });
      const t = process.hrtime.bigint();
      let publishNs = 0n;
      // 100 turns of 100 alerts, like a busy ingest loop
      for (let turn = 0; turn < 100; turn++) {
        const p = process.hrtime.bigint();
        for (let i = 0; i < 100; i++) bus.publish(makeAlert());
        publishNs += process.hrtime.bigint() - p;
        await new Promise<void>((r) => setImmediate(r));
      }
      await bus.idle();
      const sec = Number(process.hrtime.bigint() - t) / 1e9;
      expect(delivered).toBe(10_000);
      expect(store.count()).toBe(10_000);
      lines.push(
        `${mode}: ${Math.round(10_000 / sec)} alerts/s end to end, publish() ${(Number(publishNs) / 10_000 / 1000).toFixed(1)} µs each`,
      );
      store.close();
    }
    console.log(`AlertBus 10k alerts → store + 1 sink: ${lines.join('; ')}`);
  });
});
