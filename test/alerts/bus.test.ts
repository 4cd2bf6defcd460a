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
  append(alerts: readonly Alert[]): void {
    if (this.fail) throw new Error('disk full');
    this.log.push(`append ${alerts.map((a) => a.seq).join(',')}`);
    this.stored.push(...alerts);
    this.last = alerts[alerts.length - 1]?.seq ?? this.last;
  }
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
    const input = makeAlert();
    const out = [bus.publish(input), bus.publish(makeAlert()), bus.publish(makeAlert())];
    expect(out.map((a) => a.seq)).toEqual([42, 43, 44]);
    expect(input.seq).toBe(0); // caller's object untouched
    expect(store.log).toEqual([]); // nothing persisted or delivered within the publishing turn
    expect(bus.stats().pendingPersist).toBe(3);
    loop.run();
    expect(store.log).toEqual(['append 42,43,44', 'ws-1 42', 'ws-1 43', 'ws-1 44']);
    expect(bus.stats()).toEqual({
      lastSeq: 44,
      published: 3,
      persisted: 3,
      persistErrors: 0,
      pendingPersist: 0,
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
    expect(store.log).toEqual(['append 1']);
    bus.publish(makeAlert());
    loop.run();
    expect(store.log).toEqual(['append 1', 'append 2', 's 1', 's 2']);
  });
  it('a failing store is reported and counted, and sinks still get the alert', () => {
    const loop = manualLoop();
    const store = new RecordingStore();
    store.fail = true;
    const errors: SpoofwatchError[] = [];
    const bus = new AlertBus({ store, schedule: loop.schedule, onError: (e) => errors.push(e) });
    const sink = collector('s');
    bus.subscribe(sink, { maxQueue: 10 });
    bus.publish(makeAlert());
    loop.run();
    expect(sink.got).toEqual([1]);
    expect(errors.map((e) => [e.code, e.message])).toEqual([['STORE_APPEND', 'disk full']]);
    expect(bus.stats().persistErrors).toBe(1);
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
      expect(bus2.publish(makeAlert()).seq).toBe(3);
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
