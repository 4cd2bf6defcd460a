/**
 * Issue #17, full disk: the store is the source of truth for `seq`. While the alert store refuses writes, no alert
 * is announced (WebSocket, sinks), ingestion goes on, unstored alerts wait in a bounded spill queue (drops counted),
 * /healthz answers 503 with the reason and the log says so once; after recovery every seq is unique, the live
 * stream and the replayed history equal the store, and a restart continues the numbering without reuse.
 *
 * The failure is real SQLite failing inside the daemon's own write transaction: a second connection to the store
 * file adds a trigger that aborts every alert insert (the same path as SQLITE_FULL: the transaction rolls back),
 * and drops it to "free the disk". The second test does it for real where it may (root): the store on a 2 MB
 * tmpfs it mounts, filled up, then grown to 32 MB.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import winston from 'winston';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import type { DaemonHandle } from '../../src/daemon/daemon.js';
import { invite, labConfig, metricValue, quietDaemon, sendUdp, sleep, tempDir, waitFor, WsClient } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function recordingLogger(): { logger: winston.Logger; lines: { level: string; message: string; [k: string]: unknown }[] } {
  const lines: { level: string; message: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as { level: string; message: string });
      cb();
    },
  });
  return { logger: winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] }), lines };
}

let caller = 0;
/** `n` calls from an unknown source (127.0.0.99), each from another number: one SRC-UNKNOWN-PEER alert each. */
async function calls(d: DaemonHandle, prefix: string, n: number): Promise<void> {
  const batch: Buffer[] = [];
  for (let i = 0; i < n; i++) batch.push(invite(`${prefix}-${i}@full`, { from: `+31205${String(100_000 + caller++)}` }));
  await sendUdp(d.ports.sipUdp!, batch, '127.0.0.99');
}

const sipMessages = (d: DaemonHandle): number => d.sources().find((s) => s.name === 'sip-udp')?.counters.sipMessages ?? 0;
const seqs = (alerts: readonly Alert[]): number[] => alerts.map((a) => a.seq);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Every alert insert fails inside the daemon's transaction until `free()`. */
function fillDisk(file: string): { free(): void } {
  const db = new Database(file);
  db.pragma('busy_timeout = 2000');
  db.exec("CREATE TRIGGER disk_full BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'database or disk is full (test)'); END");
  return {
    free() {
      db.exec('DROP TRIGGER disk_full');
      db.close();
    },
  };
}

describe('alert store failure (full disk)', () => {
  it('nothing announced unless stored, 503 while failing, bounded spill, then every seq once; the WS history equals the store; a restart continues', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = join(tmp.dir, 'store.db');
    const base = labConfig({ store: file });
    const config = { ...base, limits: { ...base.limits, alertSpill: 80 } };
    const { logger, lines } = recordingLogger();
    const d = await quietDaemon(config, { logger });
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : d.stop()));
    const epoch = d.store.epoch();

    const live = new WsClient(d.urls.ws);
    cleanups.push(() => void live.ws.terminate());
    expect(await live.hello()).toMatchObject({ type: 'hello', lastSeq: 0, epoch });
    live.send({ type: 'subscribe', since: 0 });
    await waitFor(() => live.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed');

    await calls(d, 'before', 30);
    await waitFor(() => live.alerts.length === 30, 10_000, '30 alerts').catch((e) => { throw new Error(`${String(e)} live=${live.alerts.length} store=${d.store.lastSeq()} rules=${live.alerts.map((a) => a.rule).join(',')}`); });
    expect(d.store.lastSeq()).toBe(30);

    // The disk fills up.
    const disk = fillDisk(file);
    await calls(d, 'during', 100);
    await waitFor(() => sipMessages(d) === 130, 10_000, 'ingestion goes on');
    await waitFor(() => d.bus.stats().persistErrors >= 2, 5000, 'a retry');
    // Nothing was announced that the store does not hold.
    expect(d.store.lastSeq()).toBe(30);
    expect(seqs(live.alerts)).toEqual(range(1, 30));
    expect(d.bus.stats()).toMatchObject({ lastSeq: 30, pendingPersist: 80, spillDropped: 20 });
    const health = await fetch(d.urls.health);
    expect(health.status).toBe(503);
    const report = (await health.json()) as { ok: boolean; reason: string; alertsHeld: number; alertsDropped: number; store: { writable: boolean } };
    expect(report).toMatchObject({ ok: false, alertsHeld: 80, alertsDropped: 20, store: { writable: false } });
    expect(report.reason).toMatch(new RegExp(`^alert store refuses writes since \\d{4}-\\d\\d-\\d\\dT.*: cannot store alerts in ${file}: SQLITE_CONSTRAINT_TRIGGER: database or disk is full \\(test\\)$`));
    let metrics = await (await fetch(d.urls.metrics)).text();
    expect(metricValue(metrics, 'spoofwatch_store_failing')).toBe(1);
    expect(metricValue(metrics, 'spoofwatch_bus_spill_dropped_total')).toBe(20);
    expect(metricValue(metrics, 'spoofwatch_bus_pending_persist')).toBe(80);
    // A client connecting now is told the last stored seq, not a seq the store never got.
    const during = new WsClient(d.urls.ws);
    cleanups.push(() => void during.ws.terminate());
    expect((await during.hello()).lastSeq).toBe(30);

    // Space is freed: the spilled alerts are stored, numbered 31…110, and only then delivered.
    disk.free();
    await waitFor(() => d.store.lastSeq() === 110, 10_000, 'spill stored');
    await waitFor(() => live.alerts.length === 110, 5000, 'spill delivered');
    expect((await fetch(d.urls.health)).status).toBe(200);
    metrics = await (await fetch(d.urls.metrics)).text();
    expect(metricValue(metrics, 'spoofwatch_store_failing')).toBe(0);
    // Logged once per state change, not per failed retry.
    const storeLines = lines.filter((l) => /alert store/.test(l.message)).map((l) => `${l.level} ${l.message}`);
    expect(storeLines).toEqual([
      'error alert store refuses writes: alerts are held (not delivered) and retried',
      'warn alert store writable again: spilled alerts stored and delivered',
    ]);
    expect(lines.find((l) => l.level === 'error')).toMatchObject({ store: file, maxSpill: 80, reason: expect.stringContaining('database or disk is full (test)') });
    expect(lines.find((l) => l.level === 'warn' && /writable again/.test(l.message))).toMatchObject({ lastSeq: 110, spillDropped: 20 });

    const stored = d.store.query({ limit: 1000 });
    expect(seqs(stored)).toEqual(range(1, 110));
    expect(new Set(stored.map((a) => a.call.callId)).size).toBe(110); // every seq names a different call
    expect(stored.map((a) => a.call.callId).slice(30)).toEqual(Array.from({ length: 80 }, (_, i) => `during-${i}@full`));
    // The live stream and the replayed history are the store, alert for alert.
    expect(live.alerts).toEqual(stored);
    const history = new WsClient(d.urls.ws);
    cleanups.push(() => void history.ws.terminate());
    await history.hello();
    history.send({ type: 'subscribe', since: 0 });
    await waitFor(() => history.alerts.length === 110, 5000, 'history');
    expect(history.alerts).toEqual(stored);
    // A client that never subscribes is subscribed from its hello's lastSeq after the grace time: nothing missed.
    await waitFor(() => during.alerts.length >= 80, 5000, `never-subscribing client (${during.alerts.length}) ${JSON.stringify(during.messages.map((m) => m.type))}`);
    expect(during.alerts).toEqual(stored.slice(30));
    expect(lines.filter((l) => l.level === 'error').length).toBe(1);

    // Restart on the same store: same epoch, numbering continues, no seq reused.
    stopped = true;
    await d.stop();
    const d2 = await quietDaemon(config);
    cleanups.push(() => d2.stop());
    expect(d2.store.epoch()).toBe(epoch);
    const again = new WsClient(d2.urls.ws);
    cleanups.push(() => void again.ws.terminate());
    expect(await again.hello()).toMatchObject({ lastSeq: 110, epoch });
    again.send({ type: 'subscribe', since: 100 });
    await calls(d2, 'after', 5);
    await waitFor(() => again.alerts.length === 15, 10_000, 'after restart');
    expect(seqs(again.alerts)).toEqual(range(101, 115));
    const all = d2.store.query({ limit: 1000 });
    expect(seqs(all)).toEqual(range(1, 115));
    expect(all.slice(110).map((a) => a.call.callId)).toEqual(Array.from({ length: 5 }, (_, i) => `after-${i}@full`));
  });
});

/** A tmpfs mounted for one test (root only); undefined when this process may not mount. */
function mountTmpfs(size: string): { dir: string; grow(size: string): void; unmount(): void } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'sw-store-full-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    grow: (to) => void spawnSync('mount', ['-o', `remount,size=${to}`, dir]),
    unmount() {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
const CAN_MOUNT = ((): boolean => {
  const m = mountTmpfs('64k');
  m?.unmount();
  return m !== undefined;
})();
if (!CAN_MOUNT) console.warn('real full-disk test skipped: it mounts a 2 MB tmpfs, which needs root (CI runs as root)');

describe.skipIf(!CAN_MOUNT)('alert store on a real full disk (2 MB tmpfs)', () => {
  it('SQLITE_FULL: nothing announced unless stored, 503; once space is freed every alert stored and announced once, in order', async () => {
    const disk = mountTmpfs('2m')!;
    cleanups.push(() => disk.unmount());
    const file = join(disk.dir, 'store.db');
    const { logger, lines } = recordingLogger();
    const d = await quietDaemon(labConfig({ store: file }), { logger });
    cleanups.push(() => d.stop());
    const live = new WsClient(d.urls.ws);
    cleanups.push(() => void live.ws.terminate());
    await live.hello();
    live.send({ type: 'subscribe', since: 0 });
    await waitFor(() => live.messages.some((m) => m.type === 'subscribed'), 5000, 'subscribed');
    // Leave the store about 400 KB.
    const fd = openSync(join(disk.dir, 'filler'), 'w');
    try {
      for (let i = 0; i < 1500 / 16; i++) writeSync(fd, Buffer.alloc(16 * 1024));
    } catch {
      // ENOSPC
    } finally {
      closeSync(fd);
    }
    for (let i = 0; i < 10; i++) await calls(d, `real${i}`, 100);
    await waitFor(() => sipMessages(d) === 1000, 10_000, 'ingestion goes on');
    await waitFor(() => d.bus.persistState().ok === false, 10_000, 'the disk is full');
    const stored = d.store.lastSeq();
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(1000);
    console.log(`real full disk: ${stored} of 1000 alerts stored before SQLITE_FULL, ${1000 - stored} held`);
    expect(d.bus.stats().pendingPersist).toBe(1000 - stored);
    await sleep(1500); // the evidence of the held calls is saved (and fails) after its 1 s debounce
    expect(seqs(live.alerts)).toEqual(range(1, stored)); // nothing announced beyond the store
    // The full disk is logged once for the alerts, and once (with a count) for the evidence of hundreds of calls.
    const evidenceLines = lines.filter((l) => l.message === 'evidence save failed (retried)');
    expect(evidenceLines).toHaveLength(1);
    expect(evidenceLines[0]).toMatchObject({ error: 'database or disk is full', failuresSinceLastLine: 1 });
    expect(lines.filter((l) => /alert store/.test(l.message)).map((l) => l.message)).toEqual(['alert store refuses writes: alerts are held (not delivered) and retried']);
    const health = await fetch(d.urls.health);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { reason: string }).reason).toMatch(/SQLITE_FULL: database or disk is full$/);

    disk.grow('32m');
    await waitFor(() => d.store.lastSeq() === 1000, 20_000, 'spill stored');
    await waitFor(() => live.alerts.length === 1000, 5000, 'spill announced');
    expect((await fetch(d.urls.health)).status).toBe(200);
    expect(lines.filter((l) => l.message === 'evidence save failed (retried)')).toHaveLength(1);
    const all = d.store.query({ limit: 1000 });
    expect(seqs(all)).toEqual(range(1, 1000));
    expect(new Set(all.map((a) => a.call.callId)).size).toBe(1000);
    expect(live.alerts).toEqual(all);
  }, 40_000);
});
