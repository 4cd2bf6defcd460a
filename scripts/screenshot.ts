/**
 * Re-takes docs/screenshot.png, the README's picture of the live page (issues #6, #19, #20): the daemon of the
 * scenario demo (captures/scenario/spoofwatch.yaml, what `npm start` runs) on loopback ephemeral ports with a
 * throwaway store reads captures/scenario/scenario.pcapng from its watch folder; Debian's chromium (through
 * playwright-core, never a downloaded browser) opens the page at 1280×860, where it leads with the incidents, and
 * the incident with the most alerts (then the most severe) is opened on its rate, its alerts and a sample call's ladder.
 *
 *   npm run build && npx tsx scripts/screenshot.ts [out.png]
 *
 * Needs /usr/bin/chromium (apt-get install -y chromium fonts-liberation). Writes a PNG of about 150 KB.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { severityRank } from '../src/alerts/alert.js';
import { loadConfig } from '../src/config/index.js';
import { startDaemon } from '../src/daemon/daemon.js';
import { createLogger } from '../src/daemon/logger.js';

const ROOT = join(import.meta.dirname, '..');
const CHROMIUM = '/usr/bin/chromium';
const SCENARIO = join(ROOT, 'captures/scenario');
const out = process.argv[2] ?? join(ROOT, 'docs/screenshot.png');

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install -y chromium fonts-liberation`);
  if (!existsSync(join(ROOT, 'dist/web/client/app.js'))) throw new Error('dist/web/client/app.js missing: run npm run build first');
  const r = loadConfig(join(SCENARIO, 'spoofwatch.yaml'));
  if (!r.ok) throw new Error(r.errors.join('\n'));
  const work = mkdtempSync(join(tmpdir(), 'sw-screenshot-'));
  const watch = join(work, 'inbox');
  mkdirSync(watch);
  const listener = { host: '127.0.0.1', port: 0, udp: true, tcp: false };
  const daemon = await startDaemon({
    config: {
      ...r.config,
      sources: { sip: listener, watch: { dir: watch, pollSeconds: 0.2 } },
      server: { ...r.config.server, host: '127.0.0.1', port: 0, tokens: [] },
      store: { ...r.config.store, path: join(work, 'store.db') },
    },
    logger: createLogger({ silent: true }),
  });
  const userDir = mkdtempSync(join(tmpdir(), 'sw-screenshot-chromium-'));
  try {
    copyFileSync(join(SCENARIO, 'scenario.pcapng'), join(watch, 'scenario.pcapng'));
    await daemon.pollWatch();
    const deadline = Date.now() + 20_000;
    while (daemon.store.queryIncidents({ limit: 1 }).length === 0) {
      if (Date.now() > deadline) throw new Error('no incident from the scenario capture within 20 s');
      await new Promise((res) => setTimeout(res, 100));
    }
    await new Promise((res) => setTimeout(res, 1000)); // the last updates of the replay
    const ctx = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 860 },
    });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(`http://127.0.0.1:${daemon.ports.http}/`);
    await page.locator('#conn.ok').waitFor({ timeout: 10_000 });
    await page.locator('.inc-row svg.spark').first().waitFor({ timeout: 10_000 });
    // The grouper's copies are current (the stored ones are written at most every updateSeconds while they grow).
    const biggest = [...daemon.incidents.grouper.openIncidents()].sort((a, b) => b.count - a.count || severityRank(b.severity) - severityRank(a.severity) || a.id - b.id)[0]!;
    await page.locator(`#incident-${biggest.id}`).click();
    await page.locator('#incident-sample svg.ladder').waitFor({ timeout: 10_000 });
    await page.locator('#incident-rate svg').waitFor({ timeout: 10_000 });
    await page.waitForTimeout(300); // counters are batched
    await page.screenshot({ path: out });
    await ctx.close();
    console.log(`${out}: ${statSync(out).size} bytes; incident ${biggest.id} (${biggest.rule}, ${biggest.count} alerts) opened`);
  } finally {
    await daemon.stop();
    rmSync(userDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
