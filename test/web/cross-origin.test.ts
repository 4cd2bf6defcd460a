/**
 * Issue #17 point 2 in a real browser (playwright-core driving Debian's /usr/bin/chromium, as browser.test.ts):
 * a hostile page served from another origin (a second loopback HTTP server this test starts on 127.0.0.2) tries
 * cross-site WebSocket hijacking of `ws://127.0.0.1:PORT/alerts` with `subscribe since:0`, and `fetch()` of
 * `/api/alerts` (CORS and no-cors); a DNS-rebinding name (Chromium's resolver maps `rebind.test` to 127.0.0.1)
 * and a Node client with `Host: evil.example:PORT` try the API. All are refused, no alert leaves the server. The
 * live page on its own origin still streams every alert, and with a token its WebSocket URL carries none (the
 * token travels as a subprotocol).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClientBuilt, SCENARIO_PCAP, startWebLab, type WebLab } from './lab.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn('chromium missing: cross-origin browser tests skipped (apt-get install -y chromium); CI installs it');

const TOKEN = 'xo-page-token-7';

/** The attacker's page: every attempt's outcome lands in `window.attack` (a promise). */
function hostilePage(target: number): string {
  return `<!doctype html><meta charset="utf-8"><title>cute cats</title><script>
window.attack = (async () => {
  const out = {};
  out.ws = await new Promise((resolve) => {
    let opened = false;
    const got = [];
    const ws = new WebSocket('ws://127.0.0.1:${target}/alerts');
    ws.onopen = () => { opened = true; ws.send(JSON.stringify({ type: 'subscribe', since: 0 })); };
    ws.onmessage = (e) => got.push(String(e.data).slice(0, 80));
    ws.onclose = (e) => setTimeout(() => resolve({ opened, messages: got, code: e.code }), 100);
    setTimeout(() => resolve({ opened, messages: got, code: 'still open' }), 4000);
  });
  try {
    const r = await fetch('http://127.0.0.1:${target}/api/alerts?since=0');
    out.cors = { status: r.status, body: (await r.text()).slice(0, 80) };
  } catch (e) { out.cors = { error: String(e) }; }
  try {
    const r = await fetch('http://127.0.0.1:${target}/api/alerts?since=0', { mode: 'no-cors' });
    out.noCors = { type: r.type, status: r.status, body: (await r.text()).slice(0, 80) };
  } catch (e) { out.noCors = { error: String(e) }; }
  return out;
})();
</script><p>nothing to see</p>`;
}

function nodeGet(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!HAVE_CHROMIUM)('another origin in chromium', () => {
  let lab: WebLab;
  let tokenLab: WebLab;
  let evil: Server;
  let evilBase: string;
  let ctx: BrowserContext;
  let page: Page;
  let userDir: string;

  beforeAll(async () => {
    ensureClientBuilt();
    lab = await startWebLab();
    await lab.feedCapture(SCENARIO_PCAP);
    await lab.settle();
    expect(lab.store.lastSeq()).toBe(29);
    tokenLab = await startWebLab({ tokens: [TOKEN] });
    await tokenLab.feedCapture(SCENARIO_PCAP);
    await tokenLab.settle();
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(hostilePage(lab.port));
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.2', () => r()));
    const a = evil.address();
    evilBase = `http://127.0.0.2:${typeof a === 'object' && a ? a.port : 0}/`;
    userDir = mkdtempSync(join(tmpdir(), 'sw-chromium-xo-'));
    ctx = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        // The rebinding attacker's name, already pointing at the victim's loopback.
        '--host-resolver-rules=MAP rebind.test 127.0.0.1',
      ],
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    await new Promise<void>((r) => (evil ? evil.close(() => r()) : r()));
    await lab?.close();
    await tokenLab?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('a page on another origin gets no alert: its WebSocket is refused before the hello, its fetches fail', async () => {
    lab.refused.length = 0;
    await page.goto(evilBase);
    const got = await page.evaluate(() => (window as unknown as { attack: Promise<unknown> }).attack);
    expect(got).toEqual({
      ws: { opened: false, messages: [], code: 1006 },
      cors: { error: 'TypeError: Failed to fetch' },
      // no-cors: answered, but Cross-Origin-Resource-Policy: same-origin keeps even an opaque response away
      noCors: { error: 'TypeError: Failed to fetch' },
    });
    // The server refused the handshake and the CORS fetch (each carried the hostile Origin). A no-cors GET
    // carries no Origin: it is answered, but chromium hands the page nothing (CORP same-origin).
    expect(lab.refused).toEqual(['ws origin', 'http origin']);
  });

  it('DNS rebinding: a page or API request under a rebound name is a 403, from chromium and from a Node client', async () => {
    lab.refused.length = 0;
    for (const path of ['api/alerts?since=0', '']) {
      const r = await page.goto(`http://rebind.test:${lab.port}/${path}`);
      expect(r?.status()).toBe(403);
      expect(await page.locator('body').textContent()).toBe('{"error":"Host does not name this server (configure server.hostnames)"}');
    }
    const n = await nodeGet(lab.port, '/api/alerts', `evil.example:${lab.port}`);
    expect(n).toEqual({ status: 403, body: '{"error":"Host does not name this server (configure server.hostnames)"}' });
    // the two navigations, the Node request, and whatever favicon requests chromium made under the name
    expect(lab.refused.length).toBeGreaterThanOrEqual(3);
    expect(lab.refused).toEqual(Array(lab.refused.length).fill('http host'));
  });

  it('the live page on its own origin still streams every alert', async () => {
    lab.refused.length = 0;
    await page.goto(lab.base);
    await page.locator('#conn.ok').waitFor({ timeout: 5000 });
    await expect.poll(() => page.locator('#feed .row').count(), { timeout: 5000 }).toBe(29);
    expect(lab.refused).toEqual([]);
  });

  it('with a token, the page sends it as a WebSocket subprotocol, not in the URL', async () => {
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.goto(`${tokenLab.base}?token=${TOKEN}`);
    await page.locator('#conn.ok').waitFor({ timeout: 5000 });
    await expect.poll(() => page.locator('#feed .row').count(), { timeout: 5000 }).toBe(29);
    // A browser cannot set Authorization on a WebSocket: with no token in the URL, the subprotocol carried it.
    expect(sockets).toEqual([`ws://127.0.0.1:${tokenLab.port}/alerts`]);
    expect(tokenLab.refused).toEqual([]);
  });
});
