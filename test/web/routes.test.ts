/**
 * Issue #6: `/api/alerts/:id` (alert + its call's messages), `/api/alerts/:id/pcap` (exactly that call, checked
 * with tshark against the original capture), the page and its assets, and auth — through the real HTTP server.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { EvidenceService } from '../../src/evidence/service.js';
import type { AlertDetailJson } from '../../src/web/api-types.js';
import { alertDetail, webRouteAccess } from '../../src/web/routes.js';
import { ensureClientBuilt, ROOT, SCENARIO_PCAP, startWebLab, type WebLab } from './lab.js';

const HAVE_TSHARK = spawnSync('tshark', ['-v']).status === 0;
if (!HAVE_TSHARK) console.warn('tshark missing: the pcap check of /api/alerts/:id/pcap is skipped (apt-get install -y tshark); CI installs it');

function fields(file: string, filter: string, ...f: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', ...f.flatMap((x) => ['-e', x])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
  return out === '' ? [] : out.split('\n').map((l) => l.split('\t'));
}

describe('web routes over the scenario capture', () => {
  let lab: WebLab;
  let alert: Alert;
  const tmp = mkdtempSync(join(tmpdir(), 'sw-web-routes-'));

  beforeAll(async () => {
    ensureClientBuilt();
    lab = await startWebLab();
    await lab.feedCapture(SCENARIO_PCAP);
    await lab.settle();
    lab.evidence.flush();
    alert = lab.published.find((a) => a.call.callId === 'sc05-1@spoofwatch.test' && a.rule === 'CLI-NOT-AUTHORIZED')!;
    expect(alert).toBeDefined();
  });
  afterAll(async () => {
    await lab.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('GET /api/alerts/:seq and /api/alerts/:id: the alert with every message of its call', async () => {
    const r = await fetch(`${lab.base}api/alerts/${alert.seq}`);
    expect(r.status).toBe(200);
    const d = (await r.json()) as AlertDetailJson;
    expect(d.alert).toEqual(alert);
    expect(d.pcap).toBe(`api/alerts/${alert.seq}/pcap`);
    const labels = d.messages.map((m) => m.label);
    expect(labels[0]).toBe('INVITE');
    expect(labels).toContain('ACK');
    expect(labels).toContain('BYE');
    expect(labels.some((l) => l.startsWith('200'))).toBe(true);
    const inv = d.messages[0]!;
    expect(inv).toMatchObject({ kind: 'request', method: 'INVITE', cseq: '1 INVITE', frame: alert.evidence[0]!.frame, offending: true, transport: 'udp' });
    expect(inv.src).toBe(alert.network.src);
    expect(inv.raw).toContain('From: <sip:+31205550100@voip.example>;tag=sc05-caller');
    expect(d.messages.filter((m) => m.offending)).toHaveLength(1);
    if (HAVE_TSHARK) {
      const original = fields(SCENARIO_PCAP, `sip.Call-ID == "${alert.call.callId}"`, 'frame.number', 'frame.time_epoch');
      expect(d.messages.map((m) => [String(m.frame), m.ts])).toEqual(original);
    }
    const byId = (await (await fetch(`${lab.base}api/alerts/${alert.id}`)).json()) as AlertDetailJson;
    expect(byId.alert.seq).toBe(alert.seq);
    expect(byId.messages).toEqual(d.messages);
  });

  it.skipIf(!HAVE_TSHARK)('GET /api/alerts/:id/pcap: exactly the call’s messages, as captured, the offending frame commented', async () => {
    const r = await fetch(`${lab.base}api/alerts/${alert.seq}/pcap`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-pcapng');
    expect(r.headers.get('content-disposition')).toBe(`attachment; filename="spoofwatch-${alert.seq}-CLI-NOT-AUTHORIZED.pcapng"`);
    const file = join(tmp, 'alert.pcapng');
    writeFileSync(file, Buffer.from(await r.arrayBuffer()));
    const f = ['frame.time_epoch', 'ip.src', 'ip.dst', 'udp.srcport', 'udp.dstport', 'sip.Method', 'sip.Status-Code', 'sip.CSeq', 'sip.from.user'];
    const original = fields(SCENARIO_PCAP, `sip.Call-ID == "${alert.call.callId}"`, ...f);
    expect(original.length).toBeGreaterThanOrEqual(5);
    expect(fields(file, 'sip', ...f)).toEqual(original);
    expect(fields(file, 'frame', 'frame.number')).toHaveLength(original.length); // nothing else in the file
    expect(fields(file, 'sip.Call-ID != "sc05-1@spoofwatch.test"', 'frame.number')).toEqual([]);
    const comments = fields(file, 'frame.comment contains "spoofwatch"', 'frame.number', 'frame.comment');
    expect(comments).toHaveLength(1);
    expect(comments[0]![0]).toBe('1');
    expect(comments[0]![1]).toContain('spoofwatch CLI-NOT-AUTHORIZED (high)');
    expect(comments[0]![1]).toContain(`original frame ${alert.evidence[0]!.frame}`);
  });

  it('after the buffer is gone (restart), the messages come from the evidence store', () => {
    const fresh = new EvidenceService({ store: lab.evidenceStore });
    const d = alertDetail({ store: lab.store, evidence: fresh }, String(alert.seq))!;
    expect(d.messages!.map((m) => m.frame)).toEqual(lab.evidence.messages(alert.call.callId)!.map((m) => m.frame));
    expect(fresh.buffer.get(alert.call.callId)).toBeUndefined();
  });

  it('unknown or malformed ids are 404 with JSON', async () => {
    for (const p of ['api/alerts/999999', 'api/alerts/ffffffffffffffffffff', 'api/alerts/nope', 'api/alerts/999999/pcap']) {
      const r = await fetch(`${lab.base}${p}`);
      expect(r.status, p).toBe(404);
      expect(((await r.json()) as { error: string }).error).toMatch(/^no alert /);
    }
    // the server's own routes still answer
    const list = (await (await fetch(`${lab.base}api/alerts?limit=1`)).json()) as { alerts: Alert[] };
    expect(list.alerts).toHaveLength(1);
  });

  it('serves the page with a strict CSP, its style sheet and its compiled scripts', async () => {
    const page = await fetch(lab.base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('<script type="module" src="web/client/app.js"></script>');
    const css = await fetch(`${lab.base}web/app.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain('--row-h');
    const js = await fetch(`${lab.base}web/client/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain("from './ladder.js'");
    expect((await fetch(`${lab.base}web/client/nope.js`)).status).toBe(404);
    expect((await fetch(`${lab.base}web/client/../../package.json`)).status).toBe(404);
    const head = await fetch(`${lab.base}web/app.css`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('the compiled page scripts import only each other (the browser gets nothing else)', () => {
    const dir = join(ROOT, 'dist/web/client');
    const scripts = readdirSync(dir).filter((f) => f.endsWith('.js'));
    expect(scripts.sort()).toEqual(['app.js', 'highlight.js', 'incidents.js', 'ladder.js']);
    for (const f of scripts) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)) expect(m[1], f).toMatch(/^\.\/[a-z-]+\.js$/);
      expect(text, f).not.toMatch(/\brequire\(|\bimport\(/);
    }
  });
});

describe('web routes with tokens', () => {
  let lab: WebLab;
  beforeAll(async () => {
    lab = await startWebLab({ tokens: ['s3cret'] });
    await lab.feedCapture(SCENARIO_PCAP);
    await lab.settle();
  });
  afterAll(() => lab.close());

  it('the page and the evidence API need the token (header or ?token=); assets do not', async () => {
    const seq = lab.published[0]!.seq;
    expect((await fetch(lab.base)).status).toBe(401);
    expect((await fetch(`${lab.base}?token=wrong`)).status).toBe(401);
    expect((await fetch(`${lab.base}?token=s3cret`)).status).toBe(200);
    expect((await fetch(`${lab.base}api/alerts/${seq}`)).status).toBe(401);
    expect((await fetch(`${lab.base}api/alerts/${seq}/pcap`)).status).toBe(401);
    expect((await fetch(`${lab.base}api/alerts/${seq}`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await fetch(`${lab.base}api/alerts/${seq}/pcap?token=s3cret`)).status).toBe(200);
    expect((await fetch(`${lab.base}web/app.css`)).status).toBe(200);
  });

  it('webRouteAccess names what is ours and what needs the token', () => {
    expect(webRouteAccess('/')).toBe('token');
    expect(webRouteAccess('/api/alerts/12')).toBe('token');
    expect(webRouteAccess('/api/alerts/12/pcap')).toBe('token');
    expect(webRouteAccess('/web/client/app.js')).toBe('public');
    expect(webRouteAccess('/api/alerts')).toBeUndefined();
    expect(webRouteAccess('/metrics')).toBeUndefined();
    expect(webRouteAccess('/web/client/App.js')).toBeUndefined();
  });
});
