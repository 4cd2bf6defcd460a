/**
 * Issues #19 and #20 on the live page, in a real browser (playwright-core driving Debian's /usr/bin/chromium at
 * 1280×800, never a downloaded one) against a real daemon on loopback (startDaemon, ephemeral ports, a token):
 *
 * - the page leads with incidents: a burst of INVITEs from an unknown source (127.0.0.99) opens one
 *   SRC-UNKNOWN-PEER incident whose row shows its rule, key, count, distinct numbers and a rate sparkline; more
 *   INVITEs grow the count on the same row over the WebSocket (no reload); opening it lists its alerts (paged) and
 *   draws a sample call's ladder, and another of its alerts drills down to that call's ladder;
 * - hostile data (an incident key and an alert from SIP carrying `<img src=x onerror=…>`) is shown as text;
 * - issue #20: the alert summary has ≥ 300 px at 1280 px, and the per-rule/per-peer counters are filled from
 *   `GET /api/counts` on first paint even when the WebSocket never delivers anything.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonHandle } from '../../src/daemon/daemon.js';
import type { Incident } from '../../src/incidents/incident.js';
import { invite, labConfig, quietDaemon, sendUdp, tempDir, waitFor } from '../daemon/helpers.js';
import { ensureClientBuilt } from './lab.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn('chromium missing: the incident view test is skipped (apt-get install -y chromium); CI installs it');

const TOKEN = 'incident-page-token';
const RULE = 'SRC-UNKNOWN-PEER';
const FLOOD_SRC = '127.0.0.99';
const HOSTILE = '<img src=x onerror=window.__xss=1>';

/** `n` INVITEs from `src`, each its own call and its own presented number. */
async function flood(d: DaemonHandle, src: string, tag: string, from: number, n: number): Promise<void> {
  const batch = Array.from({ length: n }, (_, i) => invite(`${tag}-${from + i}@incident.test`, { srcIp: src, from: `+3130123${String(4000 + from + i)}` }));
  await sendUdp(d.ports.sipUdp!, batch, src);
}

function openIncident(d: DaemonHandle, rule: string, src: string): Incident | undefined {
  return d.incidents.grouper.openIncidents().find((i) => i.rule === rule && i.key.src === src);
}

describe.skipIf(!HAVE_CHROMIUM)('incident view of the live page (chromium, real daemon)', () => {
  const tmp = tempDir('sw-incident-page-');
  let daemon: DaemonHandle;
  let ctx: BrowserContext;
  let page: Page;
  let base = '';
  let userDir = '';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureClientBuilt();
    daemon = await quietDaemon(
      labConfig({
        store: join(tmp.dir, 'store.db'),
        tokens: [TOKEN],
        over: { incidents: { quietSeconds: 300, updateSeconds: 0.5, maxOpen: 100, rules: {} } },
      }),
    );
    base = `http://127.0.0.1:${daemon.ports.http}/`;
    userDir = mkdtempSync(join(tmpdir(), 'sw-chromium-incidents-'));
    ctx = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 800 },
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    await daemon?.stop();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    tmp.cleanup();
  });

  it('a flood opens an incident row (rule, key, count, numbers, sparkline) that grows live and drills down to an alert’s ladder', async () => {
    await page.goto(`${base}?token=${TOKEN}`);
    await page.locator('#conn.ok').waitFor({ timeout: 5000 });
    expect(await page.locator('#tab-incidents').getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('#incidents-panel').isVisible()).toBe(true);

    await flood(daemon, FLOOD_SRC, 'inc', 0, 10);
    await waitFor(() => openIncident(daemon, RULE, FLOOD_SRC)?.count === 10, 10_000, 'the incident with 10 alerts');
    const inc = openIncident(daemon, RULE, FLOOD_SRC)!;
    const row = page.locator(`#incident-${inc.id}`);
    await expect.poll(() => row.locator('.i-count').textContent(), { timeout: 5000 }).toBe('10 alerts');
    expect(await row.locator('.i-rule').textContent()).toBe(RULE);
    expect(await row.locator('.i-key').textContent()).toBe(`src ${FLOOD_SRC}`);
    expect(await row.locator('.i-state').textContent()).toBe('open');
    expect(await row.locator('.i-distinct').textContent()).toBe('10 presented · 1 called');
    expect(await row.locator('.badge').textContent()).toBe(inc.severity);
    await expect.poll(() => row.locator('svg.spark polyline.spark-line').count(), { timeout: 5000 }).toBe(1);

    // More alerts: the same row (not a reload: a mark set on it stays) shows the new count.
    await row.evaluate((el) => (el.dataset['mark'] = 'before-growth'));
    await flood(daemon, FLOOD_SRC, 'inc', 10, 15);
    await expect.poll(() => row.locator('.i-count').textContent(), { timeout: 5000 }).toBe('25 alerts');
    expect(await row.getAttribute('data-mark')).toBe('before-growth');
    expect(await row.locator('.i-distinct').textContent()).toBe('25 presented · 1 called');
    const stored = daemon.store.incidentAlerts(openIncident(daemon, RULE, FLOOD_SRC)!, 0, 1000);
    expect(stored).toHaveLength(25);
    // The sparkline is the store's: its buckets hold every alert of the incident.
    const rate = (await (await fetch(`${base}api/incidents/${inc.id}/rate?buckets=30`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { counts: number[] };
    expect(rate.counts.reduce((a, b) => a + b, 0)).toBe(25);

    // Open it: its alerts, in seq order, and the ladder of its first (sample) call.
    await row.click();
    await expect.poll(() => page.locator('#d-title').textContent()).toBe(`${inc.severity} ${RULE} · src ${FLOOD_SRC}`);
    const alertRows = page.locator('#incident-alerts tr.inc-alert');
    await expect.poll(() => alertRows.count(), { timeout: 5000 }).toBe(25);
    expect(await alertRows.evaluateAll((trs) => trs.map((tr) => Number((tr as HTMLElement).dataset['seq'])))).toEqual(stored.map((a) => a.seq));
    expect(await page.locator('#incident-shown').textContent()).toBe('25 of 25 alerts shown');
    expect(await page.locator('#incident-rate svg.spark-large polyline').count()).toBe(1);
    const sample = stored[0]!;
    await page.locator('#incident-sample svg.ladder g.arrow').first().waitFor({ timeout: 5000 });
    expect(await page.locator('#incident-sample svg.ladder g.arrow text.label').allTextContents()).toEqual(['⚠ INVITE']);
    expect(await page.locator('#raw').textContent()).toContain(`Call-ID: ${sample.call.callId}`);
    // Drill down to another of its alerts: that call's ladder and message.
    const third = stored[2]!;
    await alertRows.nth(2).click();
    await expect.poll(() => page.locator('#raw').textContent(), { timeout: 5000 }).toContain(`Call-ID: ${third.call.callId}`);
    expect(await alertRows.nth(2).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('#incident-sample .summary').first().textContent()).toBe(third.summary);

    // While open, the detail follows the incident too.
    await flood(daemon, FLOOD_SRC, 'inc', 25, 5);
    await expect.poll(() => page.locator('#incident-summary').textContent(), { timeout: 5000 }).toMatch(/^30 SRC-UNKNOWN-PEER alerts from src 127\.0\.0\.99, /);
    await expect.poll(() => page.locator('#incident-shown').textContent()).toBe('25 of 30 alerts shown');
    await page.locator('#incident-more').click();
    await expect.poll(() => alertRows.count(), { timeout: 5000 }).toBe(30);

    // The alerts list stays one click away, with every alert.
    await page.locator('#tab-alerts').click();
    expect(await page.locator('#incidents-panel').isVisible()).toBe(false);
    const total = daemon.store.query({ limit: 1000 }).length;
    await expect.poll(() => page.locator('#feed .row').count(), { timeout: 5000 }).toBe(total);
    await page.locator('#tab-incidents').click();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('issue #20 at 1280×800: the alert summary gets ≥ 300 px and the full text is in the cell', async () => {
    await page.locator('#tab-alerts').click();
    const summaries = page.locator('#feed .row .summary');
    const widths = await summaries.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
    expect(widths.length).toBeGreaterThan(0);
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(300);
    const first = daemon.store.query({ limit: 1 })[0]!;
    const cell = page.locator(`#alert-${first.seq} .summary`);
    expect(await cell.textContent()).toBe(first.summary);
    // Not cut: the text fits in the cell (no ellipsis) for these summaries.
    expect(await cell.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
    await page.locator('#tab-incidents').click();
  });

  it('hostile data is shown as text: an incident key, rule and summary, and SIP fields carrying <img onerror>', async () => {
    // From SIP: a display name and a presented "number" with markup, from a new unknown source (a new incident).
    const evil = Buffer.from(
      invite('evil-1@incident.test', { srcIp: '127.0.0.98', from: '+3130' })
        .toString('latin1')
        .replace('<sip:+3130@unknown.example>', `"${HOSTILE}" <sip:+3120555${encodeURIComponent(HOSTILE)}@unknown.example>`),
      'latin1',
    );
    await sendUdp(daemon.ports.sipUdp!, [evil], '127.0.0.98');
    await waitFor(() => openIncident(daemon, RULE, '127.0.0.98') !== undefined, 10_000, 'the hostile call’s incident');
    const evilAlert = daemon.store.query({ callId: 'evil-1@incident.test', rule: RULE })[0]!;
    expect(evilAlert.presented).toMatchObject({ number: `+3120555${HOSTILE}`, displayName: HOSTILE });
    const evilRow = page.locator(`#incident-${openIncident(daemon, RULE, '127.0.0.98')!.id}`);
    await evilRow.waitFor({ timeout: 5000 });
    await evilRow.click();
    const cells = page.locator('#incident-alerts tr.inc-alert td');
    await expect.poll(() => cells.nth(2).textContent(), { timeout: 5000 }).toBe(`+3120555${HOSTILE}`);
    await page.locator('#incident-sample svg.ladder').waitFor({ timeout: 5000 });
    expect(await page.locator('#incident-sample .facts dd').allTextContents()).toContain(`+3120555${HOSTILE} in From ("${HOSTILE}")`);
    expect(await page.locator('#raw').textContent()).toContain(`From: "${HOSTILE}"`);

    // An incident whose key, rule and so its summary line carry markup, live over the WebSocket.
    const base0 = openIncident(daemon, RULE, FLOOD_SRC)!;
    const hostileIncident: Incident = { ...base0, id: 900_001, key: { peer: HOSTILE }, rule: `${RULE}${HOSTILE}` };
    daemon.store.saveIncident(hostileIncident);
    daemon.hub.publishIncident('open', hostileIncident);
    const row = page.locator('#incident-900001');
    await row.waitFor({ timeout: 5000 });
    expect(await row.locator('.i-key').textContent()).toBe(`peer ${HOSTILE}`);
    expect(await row.locator('.i-rule').textContent()).toBe(`${RULE}${HOSTILE}`);
    await row.click();
    await expect.poll(() => page.locator('#d-title').textContent()).toBe(`${base0.severity} ${RULE}${HOSTILE} · peer ${HOSTILE}`);
    expect(await page.locator('#incident-summary').textContent()).toContain(`${RULE}${HOSTILE} alerts from peer ${HOSTILE}, `);
    // Keyboard: newest first, ArrowDown moves to the next (older) incident, Enter opens it.
    const evilId = openIncident(daemon, RULE, '127.0.0.98')!.id;
    expect(await page.locator('#incidents .inc-row').evaluateAll((rows) => rows.slice(0, 3).map((r) => r.id))).toEqual([
      'incident-900001',
      `incident-${evilId}`,
      `incident-${base0.id}`,
    ]);
    await row.focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`incident-${evilId}`);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#d-title').textContent()).toBe(`medium ${RULE} · src 127.0.0.98`);
    // Nothing of it became markup: no image element, no handler ran.
    expect(await page.evaluate(() => document.querySelectorAll('img').length)).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });

  it('issue #20: counters are filled from the API on first paint, without anything from the WebSocket', async () => {
    const fresh = await ctx.newPage();
    // The WebSocket is answered by nobody: every count shown must come from GET /api/counts.
    await fresh.routeWebSocket(/\/alerts/, () => undefined);
    await fresh.goto(`${base}?token=${TOKEN}`);
    const counts = daemon.store.counts();
    const expectedRules = counts.rules.map((r) => `${r.rule} ${r.count}`);
    await expect.poll(() => fresh.locator('#c-rule li').evaluateAll((lis) => lis.map((li) => `${li.querySelector('button')?.textContent} ${li.querySelector('.n')?.textContent}`)), { timeout: 2000 }).toEqual(expectedRules);
    const unknown = counts.peers.find((p) => p.peer === undefined)!;

    expect(unknown.count).toBeGreaterThanOrEqual(30);
    expect(await fresh.locator('#c-peer li', { hasText: '(unknown)' }).locator('.n').textContent()).toBe(String(unknown.count));
    expect(await fresh.locator('#feed .row').count()).toBe(0);
    // The incidents came from the API too.
    expect(await fresh.locator(`#incident-${openIncident(daemon, RULE, FLOOD_SRC)!.id} .i-count`).textContent()).toMatch(/^\d+ alerts$/);
    await fresh.close();
  });
});
