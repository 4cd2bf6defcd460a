/**
 * Issue #17, epoch on the live page (playwright-core driving Debian's /usr/bin/chromium): when the daemon comes back
 * with another store (replaced or reset: a new epoch in hello), the page drops the rows of the old store, says so,
 * and shows the new store's alerts from seq 1 — instead of resubscribing with the old lastSeq and showing nothing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonHandle } from '../../src/daemon/daemon.js';
import { ensureClientBuilt } from '../web/lab.js';
import { invite, labConfig, quietDaemon, sendUdp, tempDir } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn('chromium missing: the page epoch test is skipped (apt-get install -y chromium); CI installs it');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let caller = 0;
async function calls(d: DaemonHandle, prefix: string, n: number): Promise<void> {
  const batch = Array.from({ length: n }, (_, i) => invite(`${prefix}-${i}@page`, { from: `+31205${String(400_000 + caller++)}` }));
  await sendUdp(d.ports.sipUdp!, batch, '127.0.0.99');
}

describe.skipIf(!HAVE_CHROMIUM)('live page and the store epoch', () => {
  it('a replaced store: the page restarts its feed from 0 and says so', async () => {
    ensureClientBuilt();
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const file = join(tmp.dir, 'store.db');
    const config = labConfig({ store: file });
    const d1 = await quietDaemon(config);
    let d1Stopped = false;
    cleanups.push(() => (d1Stopped ? undefined : d1.stop()));
    await calls(d1, 'old', 3);

    const userDir = mkdtempSync(join(tmpdir(), 'sw-chromium-epoch-'));
    cleanups.push(() => rmSync(userDir, { recursive: true, force: true }));
    const ctx: BrowserContext = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    cleanups.push(() => ctx.close());
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const base = d1.urls.api.replace('/api/alerts', '/');
    await page.goto(base);
    await expect.poll(() => page.locator('.row').count(), { timeout: 10_000 }).toBe(3);

    // The store is replaced; the daemon comes back on the same port with a new, empty store.
    d1Stopped = true;
    await d1.stop();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    const d2 = await quietDaemon({ ...config, server: { ...config.server, port: d1.ports.http } });
    cleanups.push(() => d2.stop());
    await expect.poll(() => page.locator('#conn').textContent(), { timeout: 15_000 }).toContain('the alert store was replaced or reset: feed restarted from 0');
    await calls(d2, 'new', 2);
    await expect.poll(() => page.locator('.row').count(), { timeout: 10_000 }).toBe(2);
    const rows = await page.locator('.row').evaluateAll((els) => els.map((e) => `${e.id} ${e.querySelector('.summary')?.textContent ?? ''}`));
    expect(rows).toEqual(d2.store.query().map((a) => `alert-${a.seq} ${a.summary}`));
    expect(rows.map((r) => r.split(' ')[0])).toEqual(['alert-1', 'alert-2']);
    expect(await page.locator('#feed-count').textContent()).toBe('2');
  }, 60_000);
});
