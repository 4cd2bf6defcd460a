/**
 * Issue #6 acceptance in a real browser (playwright-core driving Debian's /usr/bin/chromium, never a downloaded
 * one): a SIPp call from the untrusted access peer (captures/scenario/xml/sc05.xml from 127.0.0.13) goes through
 * a UDP mirror into Ingest → Analyzer; its alert shows up on the page live, the ladder has one arrow per message of
 * the call, the From header the rule used is marked, the pcap holds exactly the call; keyboard navigation,
 * pause with an "N new" indicator, and no layout shift while alerts stream in.
 */
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import type { AlertDetailJson } from '../../src/web/api-types.js';
import {
  ARTIFACTS,
  ensureClientBuilt,
  freeUdpPort,
  hasBinary,
  playSippCall,
  SCENARIO_PCAP,
  startSippUas,
  startWebLab,
  UdpRelay,
  type WebLab,
} from './lab.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const HAVE_SIPP = hasBinary('sipp');
const HAVE_TSHARK = spawnSync('tshark', ['-v']).status === 0;
if (!HAVE_CHROMIUM) console.warn('chromium missing: browser tests of the live page skipped (apt-get install -y chromium); CI installs it');
if (!HAVE_SIPP) console.warn('sipp missing: browser tests of the live page skipped (apt-get install -y sip-tester); CI installs it');

const TOKEN = 'page-token-1';
const CALL_ID = 'web-sc05-1@spoofwatch.test';

describe.skipIf(!HAVE_CHROMIUM || !HAVE_SIPP)('live page in chromium', () => {
  let lab: WebLab;
  let uas: ChildProcess;
  let relay: UdpRelay;
  let ctx: BrowserContext;
  let page: Page;
  let userDir: string;
  let alert: Alert;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureClientBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    lab = await startWebLab({ tokens: [TOKEN] });
    const uasPort = await freeUdpPort();
    uas = startSippUas(uasPort);
    relay = new UdpRelay({ ip: '127.0.0.1', port: uasPort }, lab.ingest('sip-udp'));
    await relay.start();
    userDir = mkdtempSync(join(tmpdir(), 'sw-chromium-'));
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
    relay?.close();
    uas?.kill('SIGTERM');
    await lab?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('loads with the token from ?token= and goes live over the WebSocket', async () => {
    await page.goto(`${lab.base}?token=${TOKEN}`);
    await page.locator('#conn.ok').waitFor({ timeout: 5000 });
    expect(await page.locator('#conn').textContent()).toContain('live');
    // The page leads with incidents (issue #19); the alert list is the second tab.
    expect(await page.locator('#tab-incidents').getAttribute('aria-selected')).toBe('true');
    await page.locator('#tab-alerts').click();
    // Record, in the page, when each feed row appears (wall clock, same machine as the relay).
    await page.evaluate(() => {
      const seen: Record<string, number> = {};
      (window as unknown as { rowSeen: Record<string, number> }).rowSeen = seen;
      new MutationObserver((records) => {
        for (const r of records)
          r.addedNodes.forEach((n) => {
            if (n instanceof HTMLElement && n.classList.contains('row')) seen[n.querySelector('.rule')?.textContent ?? ''] ??= Date.now();
          });
      }).observe(document.getElementById('feed')!, { childList: true });
    });
  });

  it('an alert raised by a SIPp call appears within a second of its INVITE', async () => {
    const code = await playSippCall('sc05', '127.0.0.13', relay.local, CALL_ID);
    expect(code, 'sipp exit code').toBe(0);
    const row = page.locator('.row', { hasText: 'CLI-NOT-AUTHORIZED' });
    await row.waitFor({ timeout: 5000 });
    const invite = relay.seen.find((s) => s.fromClient && s.firstLine.startsWith('INVITE'))!;
    const shownAt = await page.evaluate(() => (window as unknown as { rowSeen: Record<string, number> }).rowSeen['CLI-NOT-AUTHORIZED']);
    expect(shownAt! - invite.at).toBeLessThan(1000);
    alert = lab.published.find((a) => a.call.callId === CALL_ID && a.rule === 'CLI-NOT-AUTHORIZED')!;
    expect(alert).toMatchObject({ severity: 'high', network: { peer: 'access-untrusted', src: expect.stringMatching(/^127\.0\.0\.13:/) } });
    expect(await row.locator('.badge').textContent()).toBe('high');
    expect(await row.locator('.peer').textContent()).toBe('access-untrusted');
  });

  it('clicking it draws the ladder with one arrow per message of the call and marks the From header', async () => {
    const messages = relay.seen.length; // every datagram of this one call, both directions
    expect(messages).toBeGreaterThanOrEqual(6); // INVITE 180 200 ACK BYE 200 (+100)
    expect(lab.evidence.messages(CALL_ID)).toHaveLength(messages);
    await page.locator(`#alert-${alert.seq}`).click();
    const arrows = page.locator('svg.ladder g.arrow');
    await expect.poll(() => arrows.count(), { timeout: 5000 }).toBe(messages);
    const labels = await arrows.locator('text.label').allTextContents();
    expect(labels[0]).toBe('⚠ INVITE');
    expect(labels).toContain('ACK');
    expect(labels).toContain('BYE');
    expect(await page.locator('svg.ladder g.arrow.offending').count()).toBe(1);
    // columns: the caller (with its peer name) and the mirror's address
    expect(await page.locator('svg.ladder .col-addr').allTextContents()).toEqual([alert.network.src, alert.network.dst]);
    expect(await page.locator('svg.ladder .column.source .col-peer').textContent()).toBe('peer access-untrusted');
    // the offending INVITE is shown with the From line marked
    const marks = await page.locator('#raw mark').allTextContents();
    expect(marks).toEqual(['From: <sip:+31205550100@voip.example>;tag=sc05-caller']);
    expect(await page.locator('.reasons li').allTextContents()).toEqual(alert.reasons);
    // another arrow shows its own message
    await arrows.nth(messages - 1).click();
    expect(await page.locator('#raw .line').first().textContent()).toMatch(/^SIP\/2\.0 200/);
    await arrows.nth(0).click();
    const href = await page.locator('#pcap-link').getAttribute('href');
    expect(href).toBe(`${lab.base}api/alerts/${alert.seq}/pcap?token=${TOKEN}`);
    await page.screenshot({ path: join(ARTIFACTS, 'web-ladder.png') });
    expect(pageErrors).toEqual([]);
  });

  it.skipIf(!HAVE_TSHARK)('the page’s pcap link gives exactly the call’s messages (tshark)', async () => {
    const res = await page.request.get(`${lab.base}api/alerts/${alert.seq}/pcap?token=${TOKEN}`);
    expect(res.status()).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), 'sw-web-pcap-'));
    const file = join(dir, 'call.pcapng');
    writeFileSync(file, await res.body());
    const rows = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'sip.Call-ID', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'frame.comment'], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    rmSync(dir, { recursive: true, force: true });
    expect(rows).toHaveLength(relay.seen.length);
    expect(rows.every((r) => r[0] === CALL_ID)).toBe(true);
    expect(rows.map((r) => r[1] || r[2])).toEqual(relay.seen.map((s) => (s.fromClient ? s.firstLine.split(' ')[0] : s.firstLine.split(' ')[1])));
    expect(rows[0]![3]).toContain('spoofwatch CLI-NOT-AUTHORIZED (high)');
  });

  it('streams a burst of alerts without moving the selected row (no layout shift), with keyboard navigation', async () => {
    const selected = page.locator(`#alert-${alert.seq}`);
    const before = await selected.boundingBox();
    await page.evaluate(() => {
      const w = window as unknown as { cls: number; shifted: string[] };
      w.cls = 0;
      w.shifted = [];
      type Shift = PerformanceEntry & { value: number; hadRecentInput: boolean; sources: { node?: Node }[] };
      new PerformanceObserver((list) => {
        for (const e of list.getEntries() as Shift[]) {
          if (e.hadRecentInput) continue;
          w.cls += e.value;
          if (e.sources.length === 0) w.shifted.push(`unattributed shift ${e.value} at ${e.startTime}`);
          for (const s of e.sources) w.shifted.push(s.node instanceof Element ? `${s.node.tagName}#${s.node.id}.${s.node.className}` : `${String(s.node?.nodeName)} ${JSON.stringify(s)}`);
        }
      }).observe({ type: 'layout-shift', buffered: false });
    });
    await lab.feedCapture(SCENARIO_PCAP); // ~30 alerts, published live
    await lab.settle();
    const total = lab.published.length;
    await expect.poll(() => page.locator('.row').count(), { timeout: 5000 }).toBe(total);
    await page.waitForTimeout(300); // counters are batched
    expect(await selected.boundingBox()).toEqual(before);
    expect(await page.evaluate(() => (window as unknown as { shifted: string[] }).shifted)).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { cls: number }).cls)).toBe(0);
    expect(await page.locator('#feed-count').textContent()).toBe(String(total));
    const rowHeights = new Set(await page.locator('.row').evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height)));
    // Two lines: the summary has the row's whole width (issue #20).
    expect([...rowHeights]).toEqual([46]);
    // "N new" tells about the rows below the fold; the selected row did not move to show them
    expect(await page.locator('#new-alerts').isVisible()).toBe(true);
    // counters per rule and per peer
    expect(await page.locator('#c-peer li', { hasText: 'access-untrusted' }).locator('.n').textContent()).toBe(
      String(lab.published.filter((a) => a.network.peer === 'access-untrusted').length),
    );

    // keyboard: the selected row has focus; ArrowDown moves it, with a visible focus ring; Enter opens it
    await selected.focus();
    await page.keyboard.press('ArrowDown');
    const next = lab.published.find((a) => a.seq > alert.seq)!;
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`alert-${next.seq}`);
    const ring = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement!);
      return `${s.outlineStyle} ${s.outlineWidth}`;
    });
    expect(ring).toBe('solid 3px');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#d-title').textContent()).toContain(next.title);
    expect(await page.locator(`#alert-${next.seq}`).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('End');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`alert-${lab.published[lab.published.length - 1]!.seq}`);
    await page.keyboard.press('Home');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`alert-${lab.published[0]!.seq}`);

    // filter by severity and rule
    await page.selectOption('#f-severity', 'critical');
    const critical = lab.published.filter((a) => a.severity === 'critical').length;
    expect(await page.locator('.row:visible').count()).toBe(critical);
    await page.selectOption('#f-severity', 'info');
    await page.selectOption('#f-rule', 'CLI-NOT-AUTHORIZED');
    expect(await page.locator('.row:visible').count()).toBe(lab.published.filter((a) => a.rule === 'CLI-NOT-AUTHORIZED').length);
    await page.selectOption('#f-rule', '');

    // the screenshot for the README: the SIPp call's alert and its ladder
    await page.locator(`#alert-${alert.seq}`).click();
    await page.locator('svg.ladder g.arrow').first().waitFor();
    await page.locator('#feed').evaluate((f) => (f.scrollTop = 0));
    await page.setViewportSize({ width: 1280, height: 900 }); // tall enough to show the marked From line
    await page.screenshot({ path: join(ARTIFACTS, 'web-page.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('pause holds new alerts behind an "N new" indicator; resume appends them', async () => {
    await page.locator('#pause').click();
    expect(await page.locator('#pause').getAttribute('aria-pressed')).toBe('true');
    const rowsBefore = await page.locator('.row').count();
    const code = await playSippCall('sc06', '127.0.0.13', relay.local, 'web-sc06-1@spoofwatch.test');
    expect(code).toBe(0);
    const raised = lab.published.filter((a) => a.call.callId === 'web-sc06-1@spoofwatch.test');
    expect(raised.length).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#new-alerts').textContent(), { timeout: 5000 }).toBe(`${raised.length} new (paused) — resume`);
    expect(await page.locator('.row').count()).toBe(rowsBefore);
    await page.locator('#new-alerts').click();
    expect(await page.locator('.row').count()).toBe(rowsBefore + raised.length);
    expect(await page.locator('#pause').getAttribute('aria-pressed')).toBe('false');
    expect(pageErrors).toEqual([]);
  });
});
