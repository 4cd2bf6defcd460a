/**
 * Issue #17, resume: a client that subscribes with `since` gets exactly since+1 … lastSeq, then live alerts, strictly
 * increasing — across 50 reconnects while the real daemon raises alerts at ≥ 500/s on loopback; `since` beyond the
 * store is an explicit error naming lastSeq; and after the store was replaced (new epoch in hello) `tail` starts
 * again from 0 and says so.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startTail } from '../../src/commands/tail.js';
import type { Config } from '../../src/config/index.js';
import type { DaemonHandle } from '../../src/daemon/daemon.js';
import { invite, labConfig, quietDaemon, sendUdp, sleep, tempDir, waitFor, WsClient } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(): { config: Config; file: string } {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const file = join(tmp.dir, 'store.db');
  return { config: labConfig({ store: file }), file };
}

async function start(config: Config): Promise<DaemonHandle> {
  const d = await quietDaemon(config);
  cleanups.push(() => d.stop());
  return d;
}

let caller = 0;
/** One INVITE per call, each from another number: one SRC-UNKNOWN-PEER alert each. */
const call = (prefix: string, i: number): Buffer => invite(`${prefix}-${i}@resume`, { from: `+31205${String(200_000 + caller++)}` });

/** Sends `perTick` INVITEs every `tickMs` until stopped; returns how many it sent. */
function stream(port: number, prefix: string, perTick: number, tickMs: number): { stop(): Promise<number> } {
  const sock = createSocket('udp4');
  sock.bind(0, '127.0.0.99');
  let sent = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) sock.send(call(prefix, sent++), port, '127.0.0.1');
  }, tickMs);
  return {
    async stop() {
      clearInterval(timer);
      await sleep(50);
      await new Promise<void>((r) => sock.close(() => r()));
      return sent;
    },
  };
}

describe('resume without gap, duplicate or reorder', () => {
  it('50 reconnects with since while alerts stream at ≥ 500/s: every seq exactly once, strictly increasing', async () => {
    const { config } = setup();
    const d = await start(config);
    const received: number[] = [];
    let last = 0;
    const sender = stream(d.ports.sipUdp!, 'live', 20, 10); // up to 2,000 INVITEs/s offered
    await waitFor(() => d.store.lastSeq() > 50, 10_000, 'alerts flowing');
    const seqAtStart = d.store.lastSeq();
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) {
      const c = new WsClient(d.urls.ws);
      cleanups.push(() => void c.ws.terminate());
      const hello = await c.hello();
      expect(hello.lastSeq).toBeGreaterThanOrEqual(last);
      c.send({ type: 'subscribe', since: last });
      // Stay for a while (replay, then live), then go away mid-stream: politely or not.
      await sleep(20 + ((i * 37) % 60));
      if (i % 2 === 0) c.ws.terminate();
      else await c.close();
      const got = c.alerts.map((a) => a.seq);
      received.push(...got);
      last = got[got.length - 1] ?? last;
    }
    const elapsed = (Date.now() - t0) / 1000;
    const rate = (d.store.lastSeq() - seqAtStart) / elapsed;
    await sender.stop();
    await waitFor(() => d.bus.stats().pendingPersist === 0, 5000, 'persisted');
    await sleep(100);
    // A last client collects the rest.
    const final = new WsClient(d.urls.ws);
    cleanups.push(() => void final.ws.terminate());
    await final.hello();
    final.send({ type: 'subscribe', since: last });
    const end = d.store.lastSeq();
    await waitFor(() => (final.alerts[final.alerts.length - 1]?.seq ?? last) >= end, 10_000, 'the rest');
    received.push(...final.alerts.map((a) => a.seq));

    console.log(`resume: 50 reconnects in ${elapsed.toFixed(1)} s while alerts were stored at ${Math.round(rate)}/s; ${received.length} alerts received`);
    expect(rate).toBeGreaterThanOrEqual(500);
    const dupes = received.length - new Set(received).size;
    const backwards = received.filter((s, i) => i > 0 && s <= received[i - 1]!).length;
    expect({ dupes, backwards }).toEqual({ dupes: 0, backwards: 0 });
    expect(received).toEqual(Array.from({ length: end }, (_, i) => i + 1)); // no gap either
  });

  it('a client whose bus queue overflows catches up from the store instead of getting a gap', async () => {
    const { config } = setup();
    const d = await start({ ...config, limits: { ...config.limits, sinkQueue: 8 } });
    const c = new WsClient(d.urls.ws);
    cleanups.push(() => void c.ws.terminate());
    await c.hello();
    c.send({ type: 'subscribe' });
    await waitFor(() => c.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed');
    await sendUdp(d.ports.sipUdp!, Array.from({ length: 400 }, (_, i) => call('burst', i)), '127.0.0.99');
    await waitFor(() => d.store.lastSeq() === 400, 10_000, '400 stored');
    await waitFor(() => c.alerts.length >= 400, 10_000, `all 400 (${c.alerts.length})`);
    await sleep(100);
    expect(c.alerts.map((a) => a.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(d.hub.stats().catchUps).toBeGreaterThan(0);
    expect(d.bus.stats().sinks.every((s) => s.queued <= 8)).toBe(true);
  });

  it('since above lastSeq is an explicit error naming lastSeq and the epoch; the client can subscribe again', async () => {
    const { config } = setup();
    const d = await start(config);
    await sendUdp(d.ports.sipUdp!, [call('ahead', 0), call('ahead', 1)], '127.0.0.99');
    await waitFor(() => d.store.lastSeq() === 2, 5000, 'two alerts');
    const c = new WsClient(d.urls.ws);
    cleanups.push(() => void c.ws.terminate());
    const hello = await c.hello();
    expect(hello).toEqual({ type: 'hello', v: 1, lastSeq: 2, epoch: d.store.epoch() });
    c.send({ type: 'subscribe', since: 24 });
    await waitFor(() => c.messages.some((m) => m.type === 'error'), 5000, 'error');
    expect(c.messages.find((m) => m.type === 'error')).toEqual({
      type: 'error',
      code: 'SINCE_AHEAD',
      message: `since 24 is above the store's lastSeq 2 (epoch ${d.store.epoch()}): the store was replaced or reset; subscribe with since 0 to start again`,
      lastSeq: 2,
      epoch: d.store.epoch(),
    });
    c.send({ type: 'subscribe', since: 0 });
    await waitFor(() => c.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed');
    await sendUdp(d.ports.sipUdp!, [call('ahead', 2)], '127.0.0.99');
    await waitFor(() => c.alerts.length === 3, 5000, 'replay then live');
    expect(c.messages.map((m) => (m.type === 'alert' ? m.alert!.seq : m.type))).toEqual(['hello', 'error', 1, 2, 'subscribed', 3]);
  });

  it('tail --since beyond the store (hello lastSeq below it): it restarts from 0 and says so', async () => {
    const { config } = setup();
    const d = await start(config);
    await sendUdp(d.ports.sipUdp!, [call('tail-ahead', 0), call('tail-ahead', 1)], '127.0.0.99');
    await waitFor(() => d.store.lastSeq() === 2, 5000, 'two alerts');
    const lines: string[] = [];
    const status: string[] = [];
    const tail = startTail({ url: d.urls.ws, since: 24, out: (l) => lines.push(l), err: (l) => status.push(l), initialBackoffMs: 50 });
    cleanups.push(() => tail.stop());
    await waitFor(() => lines.length === 2, 5000, 'two lines');
    expect(lines.map((l) => /^#(\d+) /.exec(l)?.[1])).toEqual(['1', '2']);
    expect(status).toEqual([
      `spoofwatch tail: connected to ${d.urls.ws} (server lastSeq 2, server lastSeq 2 is below 24: the store was replaced or reset, restarting from 0)`,
    ]);
  });

  it('store replaced: hello carries a new epoch, tail restarts from 0 and says so', async () => {
    const { config, file } = setup();
    const d1 = await quietDaemon(config);
    const lines: string[] = [];
    const status: string[] = [];
    const tail = startTail({ url: d1.urls.ws, out: (l) => lines.push(l), err: (l) => status.push(l), initialBackoffMs: 50, maxBackoffMs: 200 });
    cleanups.push(() => tail.stop());
    await waitFor(() => status.some((s) => s.includes(': connected to')), 5000, 'tail connected');
    await sendUdp(d1.ports.sipUdp!, Array.from({ length: 5 }, (_, i) => call('old', i)), '127.0.0.99');
    await waitFor(() => lines.length === 5, 5000, 'five lines');
    const oldEpoch = d1.store.epoch();
    await d1.stop();
    // The store is replaced (deleted; a new one is made on the same path), the daemon comes back on the same port.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    const d2 = await start({ ...config, server: { ...config.server, port: d1.ports.http } });
    const newEpoch = d2.store.epoch();
    expect(newEpoch).not.toBe(oldEpoch);
    await waitFor(() => status.filter((s) => s.includes(': connected to')).length === 2, 10_000, `tail reconnected: ${status.join(' / ')}`);
    await sendUdp(d2.ports.sipUdp!, Array.from({ length: 3 }, (_, i) => call('new', i)), '127.0.0.99');
    await waitFor(() => lines.length === 8, 5000, 'three new lines');
    expect(lines.map((l) => /^#(\d+) /.exec(l)?.[1])).toEqual(['1', '2', '3', '4', '5', '1', '2', '3']);
    expect(lines.map((l) => /\(Call-ID (\S+)\)$/.exec(l)?.[1])).toEqual([0, 1, 2, 3, 4].map((i) => `old-${i}@resume`).concat([0, 1, 2].map((i) => `new-${i}@resume`)));
    expect(status.filter((s) => s.includes(': connected to'))).toEqual([
      `spoofwatch tail: connected to ${d1.urls.ws} (server lastSeq 0)`,
      `spoofwatch tail: connected to ${d1.urls.ws} (server lastSeq 0, store epoch changed (${oldEpoch} → ${newEpoch}): the store was replaced or reset, restarting from 0)`,
    ]);
    expect(tail.lastSeq()).toBe(3);
  });
});
