/**
 * The daemon's HTTP server (one port): WebSocket upgrade on `/alerts`, the alert history on `/api/alerts`,
 * `/healthz`, `/metrics`, and a hook for a web page at `/` (DESIGN.md §2.3, §5).
 *
 * Auth: with tokens configured, `/alerts`, `/api/*` and `/metrics` need `Authorization: Bearer <token>` or
 * `?token=<token>` (401 otherwise); `/alerts` also takes it as a WebSocket subprotocol
 * `spoofwatch.token.<token>` next to `spoofwatch.v1` (RFC 6455 §1.9, §4.2.2: the server answers
 * `spoofwatch.v1`, never the token), so a browser need not put it in a URL. `/healthz` stays open for container
 * health checks, but without a token it says only whether the daemon is ok. Without tokens the server must be on
 * a loopback address — the daemon refuses to start otherwise.
 *
 * Browser-origin defence (issue #17), before any route or token check:
 * - `Host` (RFC 9110 §7.2) must name this server: an IP literal (the listening address, or any when bound to a
 *   wildcard address), `localhost`, or a configured `server.hostnames` entry; else 403. A DNS-rebinding page
 *   (evil.example resolving to 127.0.0.1) makes the browser send `Host: evil.example`, so it is refused.
 * - A request carrying `Origin` (RFC 6454 §7; browsers send it on every WebSocket handshake, RFC 6455 §4.1, and
 *   on cross-origin fetches) must come from the page's own origin (`http://` + the accepted Host) or a configured
 *   `server.allowedOrigins` entry; else 403. Clients that send no `Origin` (tail, scripts, curl) are not browsers
 *   and are not affected. This stops cross-site WebSocket hijacking of `/alerts`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
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
  /** Names accepted in `Host` besides IP literals and `localhost` (config `server.hostnames`, lower case). */
  readonly hostnames?: readonly string[];
  /** Origins allowed besides the page's own (config `server.allowedOrigins`, serialised as `Origin` sends them). */
  readonly allowedOrigins?: readonly string[];
  /** A request refused by the browser-origin defence: a `Host` not naming this server, or a foreign `Origin`. */
  readonly onRefused?: (reason: RefusalReason, endpoint: 'ws' | 'http') => void;
  /**
   * Open connections at once (`limits.httpConnections`, WebSocket clients included); beyond it the kernel's
   * accepted socket is closed at once and `onConnectionDropped` told. Default unbounded.
   */
  readonly maxConnections?: number;
  readonly onConnectionDropped?: () => void;
  /** Largest client → server WebSocket message (subscribe messages are tiny). */
  readonly maxWsMessageBytes?: number;
}

export interface HttpServerHandle {
  readonly server: Server;
  readonly port: number;
  /** Connections open now (WebSocket clients included). */
  connections(): number;
  close(): Promise<void>;
}

export type RefusalReason = 'host' | 'origin';

/** The WebSocket subprotocol of the alert stream; the only one the server ever selects. */
export const WS_PROTOCOL = 'spoofwatch.v1';
/** Prefix of the subprotocol that carries a bearer token (`spoofwatch.token.<token>`). */
export const WS_TOKEN_PROTOCOL_PREFIX = 'spoofwatch.token.';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Tokens from `Authorization: Bearer …`, `?token=` and (WebSocket handshakes) `spoofwatch.token.<T>` subprotocols. */
function presentedTokens(req: IncomingMessage, url: URL, subprotocols: boolean): string[] {
  const out: string[] = [];
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(h.trim());
    if (m?.[1]) out.push(m[1]);
  }
  const q = url.searchParams.get('token');
  if (q !== null) out.push(q);
  const p = req.headers['sec-websocket-protocol'];
  if (subprotocols && typeof p === 'string') {
    for (const item of p.split(',').slice(0, 16)) {
      const v = item.trim();
      if (v.startsWith(WS_TOKEN_PROTOCOL_PREFIX) && v.length > WS_TOKEN_PROTOCOL_PREFIX.length) out.push(v.slice(WS_TOKEN_PROTOCOL_PREFIX.length));
    }
  }
  return out;
}

/** `Host` split into a lower-case name (IPv6 without brackets) and port; undefined when malformed. */
export function parseHostHeader(host: string): { name: string; port?: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(host.trim());
  if (!m) return undefined;
  const v6 = m[1];
  if (v6 !== undefined && isIP(v6) !== 6) return undefined;
  const name = (v6 ?? m[2] ?? '').toLowerCase();
  if (name === '') return undefined;
  const port = m[3] !== undefined ? Number(m[3]) : undefined;
  if (port !== undefined && port > 65535) return undefined;
  return port !== undefined ? { name, port } : { name };
}

/** IPv4-mapped IPv6 (`::ffff:127.0.0.1`) as the IPv4 it is; other addresses lower case. */
const plainIp = (ip: string): string => {
  const l = ip.toLowerCase();
  return l.startsWith('::ffff:') && isIP(l.slice(7)) === 4 ? l.slice(7) : l;
};

const isLoopbackIp = (ip: string): boolean => ip === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);

const WILDCARD = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '']);

/**
 * The browser-origin checks of one server, as pure functions of the request headers (RFC 9110 §7.2 Host, RFC
 * 6454 Origin). A name is accepted in `Host` when it is an IP literal of the listening address or a loopback
 * one (`127.0.0.1`, `[::1]`; any IP literal on a wildcard bind: NAT and port publishing change the address a
 * client sees, and an IP literal cannot be rebound), `localhost`, or configured. The port is not compared: it plays no part in DNS rebinding and
 * differs behind port mappings. An `Origin` is accepted when it is `http://` + the request's own `Host`, or
 * configured.
 */
export class OriginPolicy {
  private readonly names: ReadonlySet<string>;
  private readonly origins: ReadonlySet<string>;
  private readonly bindWildcard: boolean;
  private readonly bindIp: string | undefined;

  constructor(bindHost: string, hostnames: readonly string[] = [], allowedOrigins: readonly string[] = []) {
    this.names = new Set(['localhost', ...hostnames.map((h) => h.toLowerCase().replace(/\.$/, ''))]);
    this.origins = new Set(allowedOrigins);
    this.bindWildcard = WILDCARD.has(bindHost.toLowerCase());
    this.bindIp = isIP(bindHost) !== 0 ? plainIp(bindHost) : undefined;
  }

  /** Whether `host` (the `Host` header) names this server; `localAddress` is the connection's local address. */
  hostAllowed(host: string | undefined, localAddress: string | undefined): boolean {
    if (host === undefined) return false;
    const h = parseHostHeader(host);
    if (!h) return false;
    if (isIP(h.name) !== 0) {
      if (this.bindWildcard) return true;
      const ip = plainIp(h.name);
      return ip === this.bindIp || isLoopbackIp(ip) || (localAddress !== undefined && ip === plainIp(localAddress));
    }
    return this.names.has(h.name.replace(/\.$/, ''));
  }

  /** Whether a request with `origin` (the `Origin` header, absent for non-browser clients) may be served. */
  originAllowed(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    let o: string;
    try {
      const u = new URL(origin);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
      o = u.origin;
    } catch {
      return false; // `null` (sandboxed frames, file: pages) and garbage
    }
    if (this.origins.has(o)) return true;
    if (host === undefined) return false;
    try {
      return new URL(`http://${host}`).origin === o;
    } catch {
      return false;
    }
  }
}

/** Headers of every JSON answer: no MIME sniffing (a JSON body is never a script), not readable cross-origin. */
const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin',
} as const;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

type ApiQuery =
  | {
      ok: true;
      since?: number;
      rule?: string[];
      peer?: string[];
      minSeverity?: Severity;
      limit?: number;
      callId?: string;
      number?: string;
      fromMs?: number;
      toMs?: number;
    }
  | { ok: false; error: string };

/**
 * A capture-time bound of `/api/alerts` in ms: epoch seconds (`1764342739`, `1764342739.43`) or an ISO 8601
 * date-time with a zone (`2026-11-28T15:12:19Z`, `…+01:00`); a string error otherwise.
 */
export function parseTimeParam(name: string, v: string): number | string {
  if (/^\d{1,12}(?:\.\d{1,9})?$/.test(v)) return Math.floor(Number(v) * 1000);
  if (/^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  return `${name} must be epoch seconds or an ISO 8601 date-time with a zone (2026-11-28T15:12:19Z)`;
}

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
  // Severity names in any case, as the CLI's --fail-on/--min-severity accept them.
  const sev = params.get('minSeverity')?.toLowerCase() ?? null;
  if (sev !== null && sev !== '' && !isSeverity(sev)) return { ok: false, error: 'minSeverity must be info|low|medium|high|critical (any case)' };
  const rule = list('rule');
  const peer = list('peer');
  const callId = params.get('callId');
  if (callId !== null && callId.length > 1024) return { ok: false, error: 'callId must be at most 1024 characters' };
  const rawNumber = params.get('number');
  const number = rawNumber === null ? null : rawNumber.replace(/[\s\-.()]/g, '');
  if (number !== null && number !== '' && !/^\+?[0-9]{1,32}$/.test(number)) {
    return { ok: false, error: 'number must be digits with an optional leading + (a prefix: +3120 finds every number under it)' };
  }
  const times: Record<'from' | 'to', number | undefined> = { from: undefined, to: undefined };
  for (const name of ['from', 'to'] as const) {
    const v = params.get(name);
    if (v === null || v === '') continue;
    const t = parseTimeParam(name, v);
    if (typeof t === 'string') return { ok: false, error: t };
    times[name] = t;
  }
  return {
    ok: true,
    ...(since !== undefined ? { since } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(sev !== null && sev !== '' && isSeverity(sev) ? { minSeverity: sev } : {}),
    ...(rule ? { rule } : {}),
    ...(peer ? { peer } : {}),
    ...(callId !== null && callId !== '' ? { callId } : {}),
    ...(number !== null && number !== '' ? { number } : {}),
    ...(times.from !== undefined ? { fromMs: times.from } : {}),
    ...(times.to !== undefined ? { toMs: times.to } : {}),
  };
}

export function startHttpServer(opts: HttpServerOptions): Promise<HttpServerHandle> {
  const tokenDigests = opts.tokens.map(digest);
  const authorized = (req: IncomingMessage, url: URL, ws = false): boolean => {
    if (tokenDigests.length === 0) return true;
    const presented = presentedTokens(req, url, ws);
    // Compare fixed-size digests in constant time; check every token so timing does not reveal which matched.
    let ok = false;
    for (const t of presented) {
      const d = digest(t);
      for (const td of tokenDigests) if (timingSafeEqual(td, d)) ok = true;
    }
    return ok;
  };
  const policy = new OriginPolicy(opts.host, opts.hostnames, opts.allowedOrigins);
  /** The browser-origin defence: undefined when the request may go on, else why it is refused. */
  const refusal = (req: IncomingMessage): RefusalReason | undefined => {
    const host = req.headers.host;
    // HTTP/1.0 may omit Host (RFC 9110 §7.2); browsers always send it, so only non-browser clients do that.
    if (host === undefined ? req.httpVersion !== '1.0' : !policy.hostAllowed(host, req.socket.localAddress)) return 'host';
    const origin = req.headers.origin;
    if (!policy.originAllowed(origin, host)) return 'origin';
    return undefined;
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxWsMessageBytes ?? 16 * 1024,
    clientTracking: false,
    // Select spoofwatch.v1 when offered; a token subprotocol is never echoed back (RFC 6455 §4.2.2 step 5.4).
    handleProtocols: (protocols: Set<string>) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const why = refusal(req);
    if (why) {
      opts.onRefused?.(why, 'http');
      json(res, 403, { error: why === 'host' ? 'Host does not name this server (configure server.hostnames)' : 'cross-origin request refused (configure server.allowedOrigins)' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(res, 405, { error: 'method not allowed' });
      return;
    }
    if (path === '/healthz') {
      const h = opts.health();
      // Sources, addresses and the store path are for token holders; anyone may learn whether it is ok.
      const body = authorized(req, url) ? h : { ok: h.ok, status: typeof h['status'] === 'string' ? h['status'] : h.ok ? 'ok' : 'degraded' };
      json(res, h.ok ? 200 : 503, body);
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
        res.writeHead(200, { 'content-type': opts.metricsContentType, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
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
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end('spoofwatch daemon\n  ws   /alerts       live alert stream (JSON, resumable with since)\n  GET  /api/alerts   alert history (?since=&rule=&minSeverity=&peer=&callId=&number=&from=&to=&limit=)\n  GET  /healthz      sources, last packet, store\n  GET  /metrics      Prometheus\n');
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
  if (opts.maxConnections !== undefined) server.maxConnections = opts.maxConnections;
  server.on('drop', () => opts.onConnectionDropped?.());
  let open = 0;
  server.on('connection', (sock) => {
    open++;
    sock.once('close', () => open--);
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
    const why = refusal(req);
    if (why) {
      opts.onRefused?.(why, 'ws');
      return refuse(403, 'Forbidden');
    }
    if (url.pathname !== '/alerts') return refuse(404, 'Not Found');
    if (!authorized(req, url, true)) {
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
        connections: () => open,
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
