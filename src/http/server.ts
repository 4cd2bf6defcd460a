/**
 * The daemon's HTTP server (one port): WebSocket upgrade on `/alerts`, the alert history on `/api/alerts`,
 * `/healthz`, `/metrics`, and a hook for a web page at `/` (DESIGN.md §2.3, §5).
 *
 * Auth: with tokens configured, `/alerts`, `/api/*` and `/metrics` need `Authorization: Bearer <token>` or
 * `?token=<token>` (401 otherwise); `/healthz` stays open for container health checks. Without tokens the
 * server must be on a loopback address — the daemon refuses to start otherwise.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { isSeverity, type Severity } from '../alerts/alert.js';
import type { AlertStore } from '../sinks/store.js';
import { QUERY_LIMIT_MAX } from '../sinks/store.js';
import type { WsHub } from '../sinks/websocket.js';
import { routeWebRequest, type WebContext } from '../web/routes.js';

/** Serves extra GET pages (the live web page); returns true when it handled the request. */
export type StaticHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface HealthReport {
  readonly ok: boolean;
  readonly [key: string]: unknown;
}

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly tokens: readonly string[];
  readonly store: AlertStore;
  readonly hub: WsHub;
  readonly metrics: () => Promise<string>;
  readonly metricsContentType: string;
  readonly health: () => HealthReport;
  readonly staticHandler?: StaticHandler;
  /** The live page at `/` and the per-alert evidence API `/api/alerts/:id[/pcap]` (issue #6). */
  readonly web?: WebContext;
  readonly onAuthFailure?: (endpoint: 'ws' | 'api') => void;
  /** Largest client → server WebSocket message (subscribe messages are tiny). */
  readonly maxWsMessageBytes?: number;
}

export interface HttpServerHandle {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Token from `Authorization: Bearer …` or `?token=`. */
function presentedToken(req: IncomingMessage, url: URL): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(h.trim());
    if (m?.[1]) return m[1];
  }
  return url.searchParams.get('token') ?? undefined;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

type ApiQuery =
  | { ok: true; since?: number; rule?: string[]; peer?: string[]; minSeverity?: Severity; limit?: number }
  | { ok: false; error: string };

/** Parse `/api/alerts` parameters; lists accept repeats and commas (`rule=A,B&rule=C`). */
export function parseApiQuery(params: URLSearchParams): ApiQuery {
  const list = (name: string): string[] | undefined => {
    const all = params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    return all.length > 0 ? all.slice(0, 256) : undefined;
  };
  const int = (name: string): number | undefined | string => {
    const v = params.get(name);
    if (v === null || v === '') return undefined;
    if (!/^\d{1,15}$/.test(v)) return `${name} must be a non-negative integer`;
    return Number(v);
  };
  const since = int('since');
  if (typeof since === 'string') return { ok: false, error: since };
  const limit = int('limit');
  if (typeof limit === 'string') return { ok: false, error: limit };
  const sev = params.get('minSeverity');
  if (sev !== null && sev !== '' && !isSeverity(sev)) return { ok: false, error: 'minSeverity must be info|low|medium|high|critical' };
  const rule = list('rule');
  const peer = list('peer');
  return {
    ok: true,
    ...(since !== undefined ? { since } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(sev !== null && sev !== '' && isSeverity(sev) ? { minSeverity: sev } : {}),
    ...(rule ? { rule } : {}),
    ...(peer ? { peer } : {}),
  };
}

export function startHttpServer(opts: HttpServerOptions): Promise<HttpServerHandle> {
  const tokenDigests = opts.tokens.map(digest);
  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (tokenDigests.length === 0) return true;
    const t = presentedToken(req, url);
    if (t === undefined) return false;
    const d = digest(t);
    // Compare fixed-size digests in constant time; check every token so timing does not reveal which matched.
    let ok = false;
    for (const td of tokenDigests) if (timingSafeEqual(td, d)) ok = true;
    return ok;
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxWsMessageBytes ?? 16 * 1024, clientTracking: false });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(res, 405, { error: 'method not allowed' });
      return;
    }
    if (path === '/healthz') {
      const h = opts.health();
      json(res, h.ok ? 200 : 503, h);
      return;
    }
    // Page, page assets and /api/alerts/:id[/pcap]; checks the token itself where the path needs it.
    if (opts.web && routeWebRequest(req, res, url, opts.web, () => authorized(req, url), () => opts.onAuthFailure?.('api'))) return;
    if (path === '/metrics' || path.startsWith('/api/')) {
      if (!authorized(req, url)) {
        opts.onAuthFailure?.('api');
        res.setHeader('www-authenticate', 'Bearer');
        json(res, 401, { error: 'missing or wrong bearer token' });
        return;
      }
      if (path === '/metrics') {
        const text = await opts.metrics();
        res.writeHead(200, { 'content-type': opts.metricsContentType });
        res.end(text);
        return;
      }
      if (path === '/api/alerts') {
        const q = parseApiQuery(url.searchParams);
        if (!q.ok) {
          json(res, 400, { error: q.error });
          return;
        }
        const { ok: _ok, ...filter } = q;
        const alerts = opts.store.query(filter);
        const last = alerts[alerts.length - 1];
        json(res, 200, {
          alerts,
          lastSeq: opts.store.lastSeq(),
          // Page on with since=next while `more` is true.
          next: last?.seq ?? filter.since ?? 0,
          more: alerts.length === Math.min(filter.limit ?? 100, QUERY_LIMIT_MAX) && last !== undefined && last.seq < opts.store.lastSeq(),
        });
        return;
      }
      json(res, 404, { error: 'not found' });
      return;
    }
    if (opts.staticHandler && (await opts.staticHandler(req, res, url))) return;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('spoofwatch daemon\n  ws   /alerts       live alert stream (JSON, resumable with since)\n  GET  /api/alerts   alert history (?since=&rule=&minSeverity=&peer=&limit=)\n  GET  /healthz      sources, last packet, store\n  GET  /metrics      Prometheus\n');
      return;
    }
    json(res, 404, { error: 'not found' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { error: e instanceof Error ? e.message : String(e) });
      else res.destroy();
    });
  });
  // Slow-loris and idle keep-alive bounds.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n${status === 401 ? 'WWW-Authenticate: Bearer\r\n' : ''}\r\n`);
    };
    if (url.pathname !== '/alerts') return refuse(404, 'Not Found');
    if (!authorized(req, url)) {
      opts.onAuthFailure?.('ws');
      return refuse(401, 'Unauthorized');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      opts.hub.attach(ws, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`);
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      const a = server.address();
      const port = typeof a === 'object' && a !== null ? a.port : opts.port;
      resolve({
        server,
        port,
        close: () =>
          new Promise<void>((r) => {
            wss.close();
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
