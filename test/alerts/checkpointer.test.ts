/** WAL checkpoints from a thread of their own: the writer's commits never checkpoint, and the WAL stays small. */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpointer } from '../../src/sinks/checkpointer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A WAL database whose connection never checkpoints by itself, as the daemon's stores run. */
function writer(): { db: Database.Database; file: string; round: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sw-ckpt-'));
  dirs.push(dir);
  const file = join(dir, 'store.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  const tx = db.transaction(() => {
    for (let i = 0; i < 10; i++) ins.run(Buffer.alloc(1000, i));
  });
  // One round: 1 MB in 100 commits.
  const round = (): void => {
    for (let i = 0; i < 100; i++) tx();
  };
  return { db, file, round };
}

const walBytes = (file: string): number => statSync(`${file}-wal`).size;

describe('Checkpointer', () => {
  it('without it (automatic checkpoint off) the WAL grows with every write', () => {
    const w = writer();
    for (let r = 0; r < 8; r++) w.round();
    expect(walBytes(w.file)).toBeGreaterThan(8_000_000);
    w.db.close();
  });

  it('with it the writer restarts the WAL after each full checkpoint: it stays at one round of writes', async () => {
    const w = writer();
    // A timer too slow to fire during the test: checkpoints come from checkpointNow, between rounds, so the test
    // does not depend on timing.
    const cp = new Checkpointer(w.file, { intervalMs: 600_000 });
    w.round();
    const one = walBytes(w.file);
    expect(one).toBeGreaterThan(500_000);
    for (let r = 1; r < 8; r++) {
      const c = await cp.checkpointNow();
      expect(c.log).toBeGreaterThan(0);
      expect(c.checkpointed).toBe(c.log); // nothing wrote meanwhile: every frame is in the database
      w.round(); // starts again at the head of the WAL (a round grows by a few b-tree pages as the table grows)
      expect(walBytes(w.file)).toBeLessThan(1.2 * one);
    }
    expect(cp.stats).toEqual({ checkpoints: 7, errors: 0 });
    expect(w.db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 8000 });
    await cp.close();
    w.db.close();
  });

  it('checkpoints on its own timer too', async () => {
    const w = writer();
    w.round();
    const full = new Promise<void>((resolve) => {
      const cp = new Checkpointer(w.file, {
        intervalMs: 20,
        onCheckpoint: (log, done) => {
          if (log > 0 && done === log) void cp.close().then(resolve);
        },
      });
    });
    await full; // the test times out if the timer never checkpoints the round
    w.db.close();
  });

  it('tells its owner when it cannot work (no database file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-ckpt-'));
    dirs.push(dir);
    const failed = new Promise<Error>((resolve) => new Checkpointer(join(dir, 'missing.db'), { intervalMs: 20, onError: resolve }));
    expect((await failed).message).toMatch(/^WAL checkpoint failed: cannot open .*missing\.db: unable to open database file$/);
  });
});

/** Root only: a tmpfs of `size` mounted for the test (a real full disk); undefined when mount is not allowed here. */
function mountTmpfs(size: string): { dir: string; unmount(): void } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'sw-ckpt-full-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount() {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether this process may mount a tmpfs (probed once: mounted and unmounted at once). */
const CAN_MOUNT = ((): boolean => {
  const m = mountTmpfs('64k');
  m?.unmount();
  return m !== undefined;
})();
if (!CAN_MOUNT) console.warn('checkpointer full-disk test skipped: it mounts a 2 MB tmpfs, which needs root (CI runs as root)');

describe.skipIf(!CAN_MOUNT)('Checkpointer on a full disk (a real 2 MB tmpfs)', () => {
  it('fails while the disk is full, and says it works again once space is freed', async () => {
    const full = mountTmpfs('2m');
    if (!full) throw new Error('mount -t tmpfs failed although the probe worked');
    const file = join(full.dir, 'store.db');
    const db = new Database(file);
    let c: Checkpointer | undefined;
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
      const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
      // ~300 KB in the WAL, none of it in the database file yet.
      db.transaction(() => {
        for (let i = 0; i < 300; i++) ins.run(Buffer.alloc(1000, i));
      })();
      // Fill the rest of the disk: the checkpoint cannot grow the database file.
      const filler = join(full.dir, 'filler');
      const fd = openSync(filler, 'w');
      try {
        for (;;) writeSync(fd, Buffer.alloc(16 * 1024));
      } catch {
        // ENOSPC: full
      } finally {
        closeSync(fd);
      }
      const events: string[] = [];
      c = new Checkpointer(file, {
        intervalMs: 50,
        onError: (e) => events.push(`error ${e.message}`),
        onRecovered: () => events.push('recovered'),
      });
      await waitUntil(() => events.length > 0);
      await new Promise((r) => setTimeout(r, 200)); // more failed rounds: still told once
      expect(events).toEqual(['error WAL checkpoint failed: database or disk is full']);
      expect(c.stats.errors).toBeGreaterThan(1);
      unlinkSync(filler);
      await waitUntil(() => events.includes('recovered'));
      expect(events).toEqual(['error WAL checkpoint failed: database or disk is full', 'recovered']);
      const r = await c.checkpointNow();
      expect(r.checkpointed).toBe(r.log);
      expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 300 });
    } finally {
      await c?.close();
      db.close();
      full.unmount();
    }
  });
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
