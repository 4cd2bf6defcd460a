/**
 * Issue #17 point 2 and the HTTP items of point 8, with Node clients against the real HTTP server
 * (src/http/server.ts with the web routes, as the daemon wires them) and, for /healthz and /metrics, the real daemon:
 * - DNS rebinding: a `Host` that does not name the server is refused with 403 on every route and on the WebSocket
 *   upgrade; IP literals of the server, loopback literals, `localhost` and configured `server.hostnames` are served.
 * - Cross-site WebSocket hijacking: an upgrade with a foreign `Origin` is refused with 403 before any alert; the
 *   page's own origin, configured `server.allowedOrigins` and clients without `Origin` connect.
 * - The token as a WebSocket subprotocol `spoofwatch.token.<T>`; the server answers `spoofwatch.v1`.
 * - `/healthz` without a token shows only the status when tokens are configured.
 * - JSON answers carry `X-Content-Type-Options: nosniff`; `/api/alerts/%E0%A4%A` is a 400.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseConfig } from '../../src/config/index.js';
import { OriginPolicy, parseHostHeader } from '../../src/http/server.js';
import { labConfig, metricValue, quietDaemon, tempDir } from '../daemon/helpers.js';
import { SCENARIO_PCAP, startWebLab, type WebLab } from '../web/lab.js';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A GET with exactly these headers (fetch cannot set Host). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { host: `127.0.0.1:${port}`, ...headers }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

type WsOutcome = { opened: true; protocol: string; responseProtocol: string | undefined; hello: unknown; alerts: number } | { opened: false; error: string; messages: number };

/** Open /alerts with these headers/subprotocols, subscribe since 0, and report what came back within `ms`. */
function tryWs(port: number, opts: { headers?: Record<string, string>; protocols?: string[]; origin?: string; query?: string; ms?: number } = {}): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/alerts${opts.query ?? ''}`, opts.protocols ?? [], {
      headers: opts.headers ?? {},
      ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
      handshakeTimeout: 5000,
    });
    let responseProtocol: string | undefined;
    let hello: unknown;
    let alerts = 0;
    let messages = 0;
    ws.on('upgrade', (res) => {
      const p = res.headers['sec-websocket-protocol'];
      responseProtocol = typeof p === 'string' ? p : undefined;
    });
    ws.on('message', (data) => {
      messages++;
      const m = JSON.parse(String(data)) as { type: string };
      if (m.type === 'hello') {
        hello = m;
        ws.send(JSON.stringify({ type: 'subscribe', since: 0 }));
      } else if (m.type === 'alert') alerts++;
    });
    ws.on('open', () => {
      setTimeout(() => {
        resolve({ opened: true, protocol: ws.protocol, responseProtocol, hello, alerts });
        ws.terminate();
      }, opts.ms ?? 300);
    });
    ws.on('error', (e) => resolve({ opened: false, error: e.message, messages }));
  });
}

describe('browser-origin defence on the HTTP server (no tokens, the default)', () => {
  let lab: WebLab;
  let stored: number;

  beforeAll(async () => {
    lab = await startWebLab({ hostnames: ['monitor.example'], allowedOrigins: ['https://monitor.example'] });
    await lab.feedCapture(SCENARIO_PCAP);
    await lab.settle();
    stored = lab.store.lastSeq();
    expect(stored).toBe(29);
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('DNS rebinding: a Host naming another site gets 403 on every route and on the upgrade, counted; no alert leaves', async () => {
    lab.refused.length = 0;
    const p = lab.port;
    for (const path of ['/api/alerts', '/api/alerts?since=0', '/api/alerts/1', '/api/alerts/1/pcap', '/', '/index.html', '/web/app.css', '/healthz', '/metrics', '/nope']) {
      const r = await get(p, path, { host: `evil.example:${p}` });
      expect({ path, status: r.status }).toEqual({ path, status: 403 });
      expect(r.body).toBe('{"error":"Host does not name this server (configure server.hostnames)"}');
    }
    for (const host of [`evil.example`, `127.0.0.1.evil.example:${p}`, `localhost.evil.example:${p}`, `evil.example.:${p}`, `[::1:${p}`, `1.2.3.4:${p}`, `127.0.0.1:99999`, `127.0.0.1@evil.example`]) {
      expect({ host, status: (await get(p, '/api/alerts', { host })).status }).toEqual({ host, status: 403 });
    }
    const ws = await tryWs(p, { headers: { host: `evil.example:${p}` } });
    expect(ws).toEqual({ opened: false, error: 'Unexpected server response: 403', messages: 0 });
    expect(lab.refused).toEqual([...Array(10 + 8).fill('http host'), 'ws host']);
  });

  it('serves Host values that name it: its IP literal, loopback literals, localhost, configured hostnames', async () => {
    const p = lab.port;
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `LocalHost:${p}`, `[::1]:${p}`, `127.0.0.2:${p}`, `monitor.example:${p}`, `Monitor.Example.`, `monitor.example`]) {
      const r = await get(p, '/api/alerts?limit=500', { host });
      expect({ host, status: r.status }).toEqual({ host, status: 200 });
      expect((JSON.parse(r.body) as { alerts: unknown[] }).alerts).toHaveLength(stored);
    }
    const ws = await tryWs(p, { headers: { host: `monitor.example` } });
    expect(ws).toMatchObject({ opened: true, alerts: stored });
  });

  it('cross-site WebSocket hijacking: a foreign Origin gets 403 before any message; own origin, configured origins and no Origin connect', async () => {
    lab.refused.length = 0;
    const p = lab.port;
    for (const origin of ['http://evil.example', `http://evil.example:${p}`, 'null', `http://127.0.0.1:${p + 1 > 65535 ? p - 1 : p + 1}`, `https://127.0.0.1:${p}`, `http://localhost:${p}`, 'https://monitor.example:8443', 'file://', 'garbage']) {
      expect({ origin, ws: await tryWs(p, { origin }) }).toEqual({ origin, ws: { opened: false, error: 'Unexpected server response: 403', messages: 0 } });
    }
    expect(lab.refused).toEqual(Array(9).fill('ws origin'));
    // The page's own origin (same scheme, host and port as the Host it sent), a configured one, none at all.
    expect(await tryWs(p, { origin: `http://127.0.0.1:${p}` })).toMatchObject({ opened: true, alerts: stored, hello: { type: 'hello', v: 1, lastSeq: stored } });
    expect(await tryWs(p, { origin: `http://localhost:${p}`, headers: { host: `localhost:${p}` } })).toMatchObject({ opened: true, alerts: stored });
    expect(await tryWs(p, { origin: 'https://monitor.example', headers: { host: 'monitor.example' } })).toMatchObject({ opened: true, alerts: stored });
    expect(await tryWs(p)).toMatchObject({ opened: true, alerts: stored });
    // A cross-origin fetch (browsers send Origin with it) is refused too, not only left unreadable by CORS.
    const r = await get(p, '/api/alerts', { origin: 'http://evil.example' });
    expect(r.status).toBe(403);
    expect(r.body).not.toContain('"alerts"');
    expect((await get(p, '/api/alerts', { origin: `http://127.0.0.1:${p}` })).status).toBe(200);
  });

  it('JSON answers send nosniff (and are not readable cross-origin); the page keeps its CSP', async () => {
    const p = lab.port;
    for (const [path, status, headers] of [
      ['/api/alerts', 200, {}],
      ['/api/alerts/1', 200, {}],
      ['/api/alerts/99999', 404, {}],
      ['/api/nope', 404, {}],
      ['/api/alerts?since=x', 400, {}],
      ['/healthz', 200, {}],
      ['/api/alerts', 403, { host: 'evil.example' }],
      ['/api/alerts', 403, { origin: 'http://evil.example' }],
    ] as const) {
      const r = await get(p, path, headers);
      expect({ path, status: r.status, type: r.headers['content-type'], nosniff: r.headers['x-content-type-options'], corp: r.headers['cross-origin-resource-policy'] }).toEqual({
        path,
        status,
        type: 'application/json; charset=utf-8',
        nosniff: 'nosniff',
        corp: 'same-origin',
      });
    }
    const page = await get(p, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('/api/alerts/<bad percent-encoding> is a 400 that says so, not a 500', async () => {
    for (const path of ['/api/alerts/%E0%A4%A', '/api/alerts/%E0%A4%A/pcap', '/api/alerts/%ZZ', '/api/alerts/%']) {
      const r = await get(lab.port, path);
      expect({ path, status: r.status, body: r.body }).toEqual({ path, status: 400, body: '{"error":"bad percent-encoding in the alert id"}' });
    }
    // well-formed escapes still work
    expect((await get(lab.port, '/api/alerts/%31')).status).toBe(200);
  });
});

describe('token as a WebSocket subprotocol', () => {
  let lab: WebLab;
  const TOKEN = 'sub.proto-token_1';
  beforeAll(async () => {
    lab = await startWebLab({ tokens: [TOKEN] });
    await lab.feedCapture(SCENARIO_PCAP);
    await lab.settle();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('spoofwatch.token.<T> next to spoofwatch.v1 authorises; the answer names spoofwatch.v1 only; a wrong or missing one is 401', async () => {
    const p = lab.port;
    const ok = await tryWs(p, { protocols: ['spoofwatch.v1', `spoofwatch.token.${TOKEN}`] });
    expect(ok).toMatchObject({ opened: true, protocol: 'spoofwatch.v1', responseProtocol: 'spoofwatch.v1', alerts: 29 });
    expect(await tryWs(p, { protocols: ['spoofwatch.v1', 'spoofwatch.token.wrong'] })).toEqual({ opened: false, error: 'Unexpected server response: 401', messages: 0 });
    expect(await tryWs(p, { protocols: ['spoofwatch.v1'] })).toEqual({ opened: false, error: 'Unexpected server response: 401', messages: 0 });
    expect(await tryWs(p, { protocols: ['spoofwatch.v1', 'spoofwatch.token.'] })).toEqual({ opened: false, error: 'Unexpected server response: 401', messages: 0 });
    // the older ways still work, with or without the subprotocol
    expect(await tryWs(p, { headers: { authorization: `Bearer ${TOKEN}` } })).toMatchObject({ opened: true, protocol: '', alerts: 29 });
    expect(await tryWs(p, { query: `?token=${TOKEN}`, protocols: ['spoofwatch.v1'] })).toMatchObject({ opened: true, protocol: 'spoofwatch.v1', alerts: 29 });
    // a subprotocol is no token for plain HTTP
    expect((await get(p, '/api/alerts', { 'sec-websocket-protocol': `spoofwatch.token.${TOKEN}` })).status).toBe(401);
  });
});

describe('OriginPolicy and parseHostHeader', () => {
  it('parses Host as RFC 9110 §7.2 writes it', () => {
    expect(parseHostHeader('127.0.0.1:8080')).toEqual({ name: '127.0.0.1', port: 8080 });
    expect(parseHostHeader('[::1]:8080')).toEqual({ name: '::1', port: 8080 });
    expect(parseHostHeader('Example.COM')).toEqual({ name: 'example.com' });
    for (const bad of ['', ':80', '[::1', '::1', '[zz::1]:80', 'a:b', 'a:123456', 'a:70000', '[::1]x']) expect({ bad, r: parseHostHeader(bad) }).toEqual({ bad, r: undefined });
  });

  it('on a wildcard bind takes any IP literal (NAT, published ports) but still only configured names', () => {
    const any = new OriginPolicy('0.0.0.0', ['sensor.example']);
    expect(any.hostAllowed('192.0.2.7:8081', '172.17.0.2')).toBe(true);
    expect(any.hostAllowed('[2001:db8::1]:8080', undefined)).toBe(true);
    expect(any.hostAllowed('sensor.example:8081', undefined)).toBe(true);
    expect(any.hostAllowed('evil.example:8080', undefined)).toBe(false);
    const one = new OriginPolicy('192.0.2.7');
    expect(one.hostAllowed('192.0.2.7:8080', '192.0.2.7')).toBe(true);
    expect(one.hostAllowed('192.0.2.8:8080', '192.0.2.7')).toBe(false);
    expect(one.hostAllowed(undefined, '192.0.2.7')).toBe(false);
  });

  it('compares Origin with the Host the request came with (default ports folded) or the configured list', () => {
    const p = new OriginPolicy('127.0.0.1', [], ['https://monitor.example']);
    expect(p.originAllowed(undefined, '127.0.0.1:8080')).toBe(true);
    expect(p.originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080')).toBe(true);
    expect(p.originAllowed('http://localhost', 'localhost:80')).toBe(true);
    expect(p.originAllowed('HTTPS://MONITOR.EXAMPLE:443', 'monitor.example')).toBe(true);
    expect(p.originAllowed('http://127.0.0.1:8080', undefined)).toBe(false);
    expect(p.originAllowed('http://127.0.0.1:8081', '127.0.0.1:8080')).toBe(false);
    expect(p.originAllowed('null', '127.0.0.1:8080')).toBe(false);
  });
});

describe('server.hostnames and server.allowedOrigins in the config', () => {
  it('are checked and normalised; absent keys leave the server section as it was', () => {
    const r = parseConfig('server: { hostnames: [Monitor.Example., sensor-1.lab.example], allowedOrigins: ["HTTPS://Monitor.Example:443", "http://10.0.0.5:8080/"] }', 'x.yaml');
    expect(r.ok && r.config.server.hostnames).toEqual(['monitor.example', 'sensor-1.lab.example']);
    expect(r.ok && r.config.server.allowedOrigins).toEqual(['https://monitor.example', 'http://10.0.0.5:8080']);
    const bad = parseConfig('server: { hostnames: ["evil.example:8080", "http://x"], allowedOrigins: ["monitor.example", "https://x.example/path", "ftp://x.example", "null"] }', 'x.yaml');
    expect(bad.ok ? [] : bad.errors).toEqual([
      'server.hostnames[0]: not a host name without port or scheme ("evil.example:8080")',
      'server.hostnames[1]: not a host name without port or scheme ("http://x")',
      'server.allowedOrigins[0]: not an origin like https://monitor.example:8443 ("monitor.example")',
      'server.allowedOrigins[1]: not an origin like https://monitor.example:8443 ("https://x.example/path")',
      'server.allowedOrigins[2]: not an origin like https://monitor.example:8443 ("ftp://x.example")',
      'server.allowedOrigins[3]: not an origin like https://monitor.example:8443 ("null")',
    ]);
    const none = parseConfig('', 'x.yaml');
    expect(none.ok && 'hostnames' in none.config.server).toBe(false);
  });
});

describe('the daemon with tokens', () => {
  it('/healthz without a token says only whether it is ok; with one, sources and store; refusals are in /metrics', async () => {
    const t = tempDir();
    const d = await quietDaemon(labConfig({ store: `${t.dir}/a.db`, tokens: ['health-token'] }));
    try {
      const port = d.ports.http;
      const open = await get(port, '/healthz');
      expect(open.status).toBe(200);
      expect(JSON.parse(open.body)).toEqual({ ok: true, status: 'ok' });
      expect(open.body).not.toContain(t.dir);
      const full = JSON.parse((await get(port, '/healthz', { authorization: 'Bearer health-token' })).body) as { store: { path: string }; sources: { name: string }[] };
      expect(full.store.path).toBe(`${t.dir}/a.db`);
      expect(full.sources.length).toBeGreaterThan(0);
      expect(JSON.parse((await get(port, '/healthz?token=wrong')).body)).toEqual({ ok: true, status: 'ok' });

      expect((await get(port, '/healthz', { host: `evil.example:${port}` })).status).toBe(403);
      expect((await get(port, '/api/alerts?token=health-token', { host: `evil.example:${port}` })).status).toBe(403);
      expect(await tryWs(port, { origin: 'http://evil.example', query: '?token=health-token' })).toEqual({ opened: false, error: 'Unexpected server response: 403', messages: 0 });
      const m = (await get(port, '/metrics', { authorization: 'Bearer health-token' })).body;
      expect(metricValue(m, 'spoofwatch_http_refused_total', { reason: 'host', endpoint: 'http' })).toBe(2);
      expect(metricValue(m, 'spoofwatch_http_refused_total', { reason: 'origin', endpoint: 'ws' })).toBe(1);
    } finally {
      await d.stop();
      t.cleanup();
    }
  });
});
