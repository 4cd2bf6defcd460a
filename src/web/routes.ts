/**
 * The live web page and the per-alert evidence API (issue #6), as one request handler the daemon's HTTP server
 * calls before its own routes:
 *
 * | path                          | access | what                                                        |
 * |-------------------------------|--------|-------------------------------------------------------------|
 * | `/`, `/index.html`            | token  | the page (it takes `?token=` and uses it for WS and fetch)   |
 * | `/web/app.css`                | public | its style sheet (no data)                                    |
 * | `/web/client/<name>.js`       | public | its scripts, compiled by `npm run build` (no data)           |
 * | `/api/alerts/<id or seq>`     | token  | the alert plus its call's SIP messages (JSON)                |
 * | `/api/alerts/<id or seq>/pcap`| token  | pcapng of exactly that call's messages, offending frame commented |
 * | `/api/incidents`              | token  | incidents (issue #19): `?state=open|closed&rule=&peer=&since=<ISO time>&after=<id>&limit=`; `order=newest` (with `before=<id>`) lists newest first |
 * | `/api/incidents/<id>`         | token  | one incident and its alerts, paged: `?after=<seq>&limit=`    |
 * | `/api/incidents/<id>/rate`    | token  | its stored alerts per capture-time bucket: `?buckets=` (1 … 500, default 40), the page's sparkline |
 * | `/api/counts`                 | token  | stored alerts per rule and per peer with the lastSeq they include (the page's counters on first paint) |
 *
 * Auth is the caller's job: {@link webRouteAccess} says which paths need the token. Page assets are public because
 * the page's ES modules import each other by URL and the browser sends no token with those requests; they hold
 * code only. HTML and CSS are embedded TS string modules (static/*.ts) so the runtime image, which ships only
 * `dist/`, serves them without extra files.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Alert } from '../alerts/alert.js';
import { routeJson, type EvidenceMessage } from '../evidence/buffer.js';
import { evidencePcapng } from '../evidence/pcap.js';
import type { EvidenceService } from '../evidence/service.js';
import type { Incident } from '../incidents/incident.js';
import { captureIso } from '../alerts/from-finding.js';
import { clampLimit, type AlertStore } from '../sinks/store.js';
import { tsString } from '../types.js';
import { AlertLookup } from './alert-lookup.js';
import { IncidentRates } from './incident-rate.js';
import type { AlertCountsJson, AlertDetailJson, EvidenceMessageJson } from './api-types.js';
import { PAGE_CSS } from './static/page-css.js';
import { PAGE_HTML } from './static/page-html.js';

export interface WebContext {
  /** Alert history (the daemon's AlertStore). */
  readonly store: AlertStore;
  /** Live buffer + persisted evidence. */
  readonly evidence: EvidenceService;
  /** Where the compiled page scripts are; default `dist/web/client/` of this checkout. */
  readonly clientDir?: string;
  /**
   * The current copy of an open incident (the daemon's grouper). The stored copy of a growing incident is written
   * at most once per `incidents.updateSeconds`, while the WebSocket's subscribe sends the current one: without this,
   * a page opening an incident right after it grew would get fewer alerts than its row shows.
   */
  readonly liveIncident?: (id: number) => Incident | undefined;
}

export type WebAccess = 'public' | 'token';

const ALERT_ROUTE = /^\/api\/alerts\/([^/]{1,64})(\/pcap)?$/;
const INCIDENT_ROUTE = /^\/api\/incidents(?:\/(\d{1,15})(\/rate)?)?$/;
const COUNTS_ROUTE = '/api/counts';
const CLIENT_ROUTE = /^\/web\/client\/([a-z][a-z0-9-]{0,40}\.js)$/;

/** Whether `pathname` is served by {@link handleWebRequest}, and whether it needs the bearer token. */
export function webRouteAccess(pathname: string): WebAccess | undefined {
  if (pathname === '/' || pathname === '/index.html') return 'token';
  if (ALERT_ROUTE.test(pathname) || INCIDENT_ROUTE.test(pathname) || pathname === COUNTS_ROUTE) return 'token';
  if (pathname === '/web/app.css' || CLIENT_ROUTE.test(pathname)) return 'public';
  return undefined;
}

/** `dist/web/client/` whether this module runs compiled (dist/web/routes.js) or from source (src/web/routes.ts). */
export function defaultClientDir(): string {
  return fileURLToPath(new URL('../../dist/web/client/', import.meta.url));
}

const endpoint = (e: { ip: string; port: number }): string => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);

const REQUEST_LINE = /^([A-Za-z][A-Za-z0-9.!%*_+`'~-]*) \S+ SIP\/2\.0$/;
const STATUS_LINE = /^SIP\/2\.0 (\d{3})(?: (.*))?$/;
const CSEQ_HEADER = /^CSeq[ \t]*:[ \t]*(.+)$/im;

/** One message as the page shows it (start line parsed for the arrow label; the rest stays raw). */
export function messageJson(m: EvidenceMessage, index: number, offendingFrames: ReadonlySet<number>): EvidenceMessageJson {
  const raw = m.raw.toString('utf8');
  const firstLine = raw.slice(0, Math.max(0, raw.search(/\r?\n/))) || raw;
  const cseq = CSEQ_HEADER.exec(raw.slice(0, 8192))?.[1]?.trim();
  const base = {
    index,
    frame: m.frame,
    ts: tsString(m.ts),
    time: captureIso(m.ts),
    src: endpoint(m.src),
    dst: endpoint(m.dst),
    transport: m.transport,
    ...(m.routes ? { routes: m.routes.map(routeJson) } : {}),
    ...(cseq !== undefined ? { cseq } : {}),
    offending: offendingFrames.has(m.frame),
    raw,
    bytes: m.raw.length,
  };
  const req = REQUEST_LINE.exec(firstLine);
  if (req?.[1]) return { ...base, kind: 'request', method: req[1], label: req[1] };
  const st = STATUS_LINE.exec(firstLine);
  if (st?.[1]) {
    const reason = st[2]?.trim() ?? '';
    return { ...base, kind: 'response', status: Number(st[1]), ...(reason ? { reason } : {}), label: reason ? `${st[1]} ${reason}` : st[1] };
  }
  return { ...base, kind: 'unknown', label: firstLine.slice(0, 40) || '(empty)' };
}

/** Frames named by the alert's evidence entries. */
export function offendingFrames(alert: Alert): Set<number> {
  const s = new Set<number>();
  for (const e of alert.evidence) if (e.frame !== undefined) s.add(e.frame);
  return s;
}

/** Packet comments for the pcap: the offending frames name the rule (same text as `analyze --evidence-dir`). */
export function pcapComments(alert: Alert): Map<number, string> {
  const comments = new Map<number, string>();
  for (const f of offendingFrames(alert)) comments.set(f, `spoofwatch ${alert.rule} (${alert.severity}): ${alert.summary}`);
  return comments;
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    'content-type': type,
    'content-length': String(buf.length),
    'x-content-type-options': 'nosniff',
    // The page URL may carry ?token=: never send it on in a Referer.
    'referrer-policy': 'no-referrer',
    ...extra,
  });
  res.end(req.method === 'HEAD' ? undefined : buf);
}

const json = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void =>
  send(req, res, status, 'application/json; charset=utf-8', JSON.stringify(body), { 'cache-control': 'no-store', 'cross-origin-resource-policy': 'same-origin' });

const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Compiled page scripts, read once per name (they change only with a rebuild and restart). */
const scriptCache = new Map<string, Buffer>();

function clientScript(dir: string, name: string): Buffer | undefined {
  const key = `${dir}\0${name}`;
  const hit = scriptCache.get(key);
  if (hit) return hit;
  try {
    const buf = readFileSync(new URL(name, `file://${dir.endsWith('/') ? dir : `${dir}/`}`));
    scriptCache.set(key, buf);
    return buf;
  } catch {
    return undefined;
  }
}

const lookups = new WeakMap<AlertStore, AlertLookup>();

function lookupFor(store: AlertStore): AlertLookup {
  let l = lookups.get(store);
  if (!l) lookups.set(store, (l = new AlertLookup(store)));
  return l;
}

/** Close the read connection opened for alert lookups on `store` (daemon shutdown, before `store.close()`). */
export function closeWeb(store: AlertStore): void {
  lookups.get(store)?.close();
  lookups.delete(store);
}

/** The alert detail of `/api/alerts/:id`, or undefined for an unknown alert. */
export function alertDetail(ctx: WebContext, key: string): { alert: Alert; messages: EvidenceMessage[] | undefined } | undefined {
  const alert = lookupFor(ctx.store).find(key);
  if (!alert) return undefined;
  return { alert, messages: ctx.evidence.messages(alert.call.callId) };
}

/** `decodeURIComponent` that says undefined for a malformed escape (`%E0%A4%A`, RFC 3986 §2.1) instead of throwing. */
function percentDecoded(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * Serve the page, its assets and the per-alert evidence API. Returns true when the request was handled (a
 * response was sent), false for any other path. GET and HEAD only; the caller has already checked the token
 * for paths where {@link webRouteAccess} says `token`.
 */
export function handleWebRequest(req: IncomingMessage, res: ServerResponse, url: URL, ctx: WebContext): boolean {
  const path = url.pathname;
  const access = webRouteAccess(path);
  if (access === undefined) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    json(req, res, 405, { error: 'method not allowed' });
    return true;
  }
  if (path === '/' || path === '/index.html') {
    send(req, res, 200, 'text/html; charset=utf-8', PAGE_HTML, { 'cache-control': 'no-store', 'content-security-policy': PAGE_CSP });
    return true;
  }
  if (path === '/web/app.css') {
    send(req, res, 200, 'text/css; charset=utf-8', PAGE_CSS, { 'cache-control': 'no-cache' });
    return true;
  }
  const script = CLIENT_ROUTE.exec(path)?.[1];
  if (script) {
    const body = clientScript(ctx.clientDir ?? defaultClientDir(), script);
    if (!body) json(req, res, 404, { error: `${script} not found: run npm run build` });
    else send(req, res, 200, 'text/javascript; charset=utf-8', body, { 'cache-control': 'no-cache' });
    return true;
  }
  if (path === COUNTS_ROUTE) {
    json(req, res, 200, alertCounts(ctx.store));
    return true;
  }
  const inc = INCIDENT_ROUTE.exec(path);
  if (inc?.[1] !== undefined && inc[2]) {
    // Answered later: the first count of a big incident is read in slices between other work.
    incidentRateResponse(ctx, inc[1], url.searchParams).then(
      (r) => json(req, res, r.status, r.body),
      (e: unknown) => json(req, res, 500, { error: e instanceof Error ? e.message : String(e) }),
    );
    return true;
  }
  if (inc) {
    const r = incidentsResponse(ctx, inc[1], url.searchParams);
    json(req, res, r.status, r.body);
    return true;
  }
  const m = ALERT_ROUTE.exec(path);
  const key = m?.[1] ? percentDecoded(m[1]) : '';
  if (key === undefined) {
    json(req, res, 400, { error: 'bad percent-encoding in the alert id' });
    return true;
  }
  const detail = key ? alertDetail(ctx, key) : undefined;
  if (!detail) {
    json(req, res, 404, { error: `no alert ${key}` });
    return true;
  }
  const { alert, messages } = detail;
  if (m?.[2]) {
    if (!messages || messages.length === 0) {
      json(req, res, 404, { error: `the messages of call ${alert.call.callId} are no longer kept` });
      return true;
    }
    const name = `spoofwatch-${alert.seq}-${alert.rule}.pcapng`.replace(/[^A-Za-z0-9._-]/g, '_');
    send(req, res, 200, 'application/x-pcapng', evidencePcapng(messages, pcapComments(alert)), {
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
      'cross-origin-resource-policy': 'same-origin',
    });
    return true;
  }
  const frames = offendingFrames(alert);
  const body: AlertDetailJson = {
    alert,
    messages: (messages ?? []).map((msg, i) => messageJson(msg, i, frames)),
    ...(!messages || messages.length === 0 ? { missing: 'the messages of this call are no longer kept (retention) or were never captured' } : {}),
    pcap: `api/alerts/${alert.seq}/pcap`,
  };
  json(req, res, 200, body);
  return true;
}

const INTEGER = /^\d{1,15}$/;

interface CountsCache {
  lastSeq: number;
  pruned: number;
  readonly rules: Map<string, number>;
  /** By peer name; '' for unknown sources. */
  readonly peers: Map<string, number>;
}
const countCaches = new WeakMap<AlertStore, CountsCache>();

/**
 * `GET /api/counts`: every page load asks, and a full GROUP BY reads every stored alert's index entries (~25 ms per
 * 100k), so the counts are kept per store and only alerts stored since are counted; retention pruning starts over.
 */
export function alertCounts(store: AlertStore): AlertCountsJson {
  const pruned = store.stats().pruned;
  let c = countCaches.get(store);
  const add = (d: AlertCountsJson, into: CountsCache): void => {
    for (const r of d.rules) into.rules.set(r.rule, (into.rules.get(r.rule) ?? 0) + r.count);
    for (const p of d.peers) into.peers.set(p.peer ?? '', (into.peers.get(p.peer ?? '') ?? 0) + p.count);
    into.lastSeq = d.lastSeq;
  };
  if (!c || c.pruned !== pruned) {
    c = { lastSeq: 0, pruned, rules: new Map(), peers: new Map() };
    add(store.counts(), c);
    countCaches.set(store, c);
  } else if (store.lastSeq() > c.lastSeq) add(store.counts(c.lastSeq), c);
  const sorted = <K>(m: Map<K, number>): [K, number][] => [...m].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
  return {
    lastSeq: c.lastSeq,
    rules: sorted(c.rules).map(([rule, count]) => ({ rule, count })),
    peers: sorted(c.peers).map(([peer, count]) => (peer === '' ? { count } : { peer, count })),
  };
}

/** The live copy of an open incident when there is one, else the stored copy. */
function currentIncident(ctx: Pick<WebContext, 'store' | 'liveIncident'>, id: number): Incident | undefined {
  return ctx.liveIncident?.(id) ?? ctx.store.incident(id);
}
const RATE_BUCKETS_DEFAULT = 40;
const rateCaches = new WeakMap<AlertStore, IncidentRates>();
const RATE_BUCKETS_MAX = 500;

/** `GET /api/incidents/:id/rate?buckets=`: the incident's stored alerts per capture-time bucket (issue #19, the page's sparkline). */
export async function incidentRateResponse(ctx: Pick<WebContext, 'store' | 'liveIncident'>, id: string, p: URLSearchParams): Promise<{ status: number; body: unknown }> {
  const { store } = ctx;
  const text = p.get('buckets');
  if (text !== null && (!INTEGER.test(text) || Number(text) < 1 || Number(text) > RATE_BUCKETS_MAX)) {
    return { status: 400, body: { error: `buckets must be an integer from 1 to ${RATE_BUCKETS_MAX}` } };
  }
  const incident = currentIncident(ctx, Number(id));
  if (!incident) return { status: 404, body: { error: `no incident ${id}` } };
  let rates = rateCaches.get(store);
  if (!rates) rateCaches.set(store, (rates = new IncidentRates(store)));
  return { status: 200, body: { id: incident.id, count: incident.count, ...(await rates.rate(incident, text === null ? RATE_BUCKETS_DEFAULT : Number(text))) } };
}

/**
 * `GET /api/incidents` and `GET /api/incidents/:id` (issue #19) as status and JSON body. List: `state`, `rule`,
 * `peer`, `since` (ISO 8601 capture time: incidents whose last alert is at or after it), `after` (id, paging),
 * `limit` (1 … 1000, default 100); `next` is the `after` of the next page when this one is full. Detail: the incident
 * and its stored alerts after `after` (seq), at most `limit`, with `next` likewise.
 */
export function incidentsResponse(ctx: Pick<WebContext, 'store' | 'liveIncident'>, id: string | undefined, p: URLSearchParams): { status: number; body: unknown } {
  const { store } = ctx;
  const limitText = p.get('limit');
  if (limitText !== null && !INTEGER.test(limitText)) return { status: 400, body: { error: 'limit must be a positive integer' } };
  const limit = clampLimit(limitText === null ? undefined : Number(limitText));
  const afterText = p.get('after');
  if (afterText !== null && !INTEGER.test(afterText)) return { status: 400, body: { error: 'after must be a non-negative integer' } };
  const after = afterText === null ? undefined : Number(afterText);
  if (id !== undefined) {
    const incident = currentIncident(ctx, Number(id));
    if (!incident) return { status: 404, body: { error: `no incident ${id}` } };
    const alerts = store.incidentAlerts(incident, after ?? 0, limit);
    const last = alerts[alerts.length - 1];
    return { status: 200, body: { incident, alerts, ...(alerts.length === limit && last ? { next: last.seq } : {}) } };
  }
  const state = p.get('state');
  if (state !== null && state !== 'open' && state !== 'closed') return { status: 400, body: { error: 'state must be open or closed' } };
  const order = p.get('order');
  if (order !== null && order !== 'newest' && order !== 'oldest') return { status: 400, body: { error: 'order must be newest or oldest' } };
  const beforeText = p.get('before');
  if (beforeText !== null && !INTEGER.test(beforeText)) return { status: 400, body: { error: 'before must be a non-negative integer' } };
  const since = p.get('since');
  const sinceMs = since === null ? undefined : Date.parse(since);
  if (sinceMs !== undefined && !Number.isFinite(sinceMs)) return { status: 400, body: { error: 'since must be an ISO 8601 time' } };
  const rule = p.get('rule');
  const peer = p.get('peer');
  const incidents = store.queryIncidents({
    ...(state !== null ? { state } : {}),
    ...(rule !== null ? { rule } : {}),
    ...(peer !== null ? { peer } : {}),
    ...(sinceMs !== undefined ? { sinceMs } : {}),
    ...(after !== undefined ? { afterId: after } : {}),
    ...(beforeText !== null ? { beforeId: Number(beforeText) } : {}),
    ...(order === 'newest' ? { newestFirst: true } : {}),
    limit,
  });
  const last = incidents[incidents.length - 1];
  return { status: 200, body: { incidents: incidents.map((i) => (i.state === 'open' ? (ctx.liveIncident?.(i.id) ?? i) : i)), ...(incidents.length === limit && last ? { next: last.id } : {}) } };
}

/** `handleWebRequest` bound to `ctx`, in the shape of the HTTP server's `StaticHandler`. */
export function createWebHandler(ctx: WebContext): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  return (req, res, url) => handleWebRequest(req, res, url, ctx);
}

/**
 * The whole integration in one call for the HTTP server: checks the token where {@link webRouteAccess} asks for
 * it (401 like the rest of `/api`), then serves. Returns true when the request was answered.
 */
export function routeWebRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: WebContext,
  authorized: () => boolean,
  onAuthFailure?: () => void,
): boolean {
  const access = webRouteAccess(url.pathname);
  if (access === undefined) return false;
  if (access === 'token' && !authorized()) {
    onAuthFailure?.();
    res.setHeader('www-authenticate', 'Bearer');
    json(req, res, 401, { error: 'missing or wrong bearer token' });
    return true;
  }
  return handleWebRequest(req, res, url, ctx);
}
