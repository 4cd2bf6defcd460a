/**
 * The WebSocket `/alerts` stream (DESIGN.md §5): `{type:'hello', v:1, lastSeq, epoch}` on connect, then
 * `{type:'alert', alert}` messages. A client may send `{type:'subscribe', minSeverity?, rules?, peers?, since?}`.
 *
 * Resume without gap, duplicate or reorder (issue #17). Nothing live is sent before the client's first subscribe
 * is answered: on `subscribe` the client's live subscription (if any) is dropped, stored alerts with
 * `seq > since` (default: the highest seq already sent, or hello's lastSeq) are replayed page by page up to the
 * store's lastSeq *at that moment*, repeated until the replay has caught up, and then — synchronously, with no
 * turn of the event loop in between — a fresh live bus subscription is opened and `{type:'subscribed', since,
 * lastSeq, epoch}` says that live alerts follow. The bus delivers an alert only after the store committed it,
 * in the same step, so every alert above that lastSeq reaches the new subscription and every alert at or below it
 * came from the replay. Anything at or below the highest seq already sent is dropped, so seqs at the client
 * strictly increase. A client that never subscribes (older clients) is subscribed for it after
 * `subscribeGraceMs` from hello's lastSeq: it misses nothing either, it just starts a little later.
 * `since` above the store's lastSeq is refused with `{type:'error', code:'SINCE_AHEAD', lastSeq, epoch}` (the store
 * was replaced or reset: the epoch in hello tells the client to start again from 0); a refused subscribe changes
 * nothing.
 *
 * Incidents (issue #19): `subscribe` may carry `streams: ['alerts'|'incidents', …]` (default `['alerts']`, what old
 * clients get). A client with `incidents` receives the open incidents once subscribed, then
 * `{type:'incident', event:'open'|'update'|'close', incident}` as they open, grow (at most one update per incident
 * per `incidents.updateSeconds`, limited by the daemon) and close; `rules`, `peers` (the incident's key.peer) and
 * `minSeverity` filter them too. Incidents are not replayed by `since`: `GET /api/incidents` has the history.
 *
 * Back-pressure: each client has a bounded bus queue; when its socket's `bufferedAmount` exceeds the bound
 * the subscription pauses (the bus keeps queueing) and a client that stays over the bound for `slowMs` is closed
 * with 1013, after which it can reconnect with `since`. When the bus queue overflows, the client does not get a
 * gap: it drops its live subscription and catches up from the store like a resume. Ingestion never waits.
 */
import type { WebSocket } from 'ws';
import { isSeverity, isStreamed, severityRank, type Alert } from '../alerts/alert.js';
import type { AlertBus, Subscription } from '../alerts/bus.js';
import { UNKNOWN_PEER_NAMES, type AlertStore } from './store.js';
import type { Incident } from '../incidents/incident.js';

export interface WsHubOptions {
  readonly bus: AlertBus;
  readonly store: AlertStore;
  /** Bus queue bound per client. */
  readonly maxQueue: number;
  /** `bufferedAmount` bound in bytes. */
  readonly maxBufferBytes: number;
  /**
   * Clients connected at once (`limits.wsClients`); the next one is closed at once with 1013 and a reason naming
   * the limit (it may retry later). Default unbounded.
   */
  readonly maxClients?: number;
  /**
   * `bufferedAmount` of all clients together (`limits.wsBufferBytes`): while the sum is over it, every client with
   * unsent bytes is treated as over its own bound (paused, then closed with 1013 after `slowMs`). Default unbounded.
   */
  readonly maxTotalBufferBytes?: number;
  /** How long a client may stay over the bound before it is closed with 1013. */
  readonly slowMs: number;
  readonly heartbeatMs: number;
  /** After a 1013/1001 close, how long the closing handshake may take before the socket is destroyed. */
  readonly closeGraceMs?: number;
  /** How long after hello a client that sent no subscribe waits before it is subscribed from hello's lastSeq. Default 500 ms. */
  readonly subscribeGraceMs?: number;
  /** The open incidents, sent to a client when its subscribe chooses `incidents` (issue #19). */
  readonly openIncidents?: () => readonly Incident[];
  readonly now?: () => number;
  readonly onEvent?: (event: string, meta: Record<string, unknown>) => void;
}

export interface WsHubStats {
  readonly clients: number;
  readonly connected: number;
  readonly queued: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly slowClosed: number;
  readonly heartbeatTimeouts: number;
  readonly badMessages: number;
  readonly replayed: number;
  /** Clients whose bus queue overflowed and who caught up from the store instead. */
  readonly catchUps: number;
  /** Connections refused because `maxClients` were connected. */
  readonly refused: number;
  /** Bytes written but not yet sent, all clients together. */
  readonly bufferedBytes: number;
}

interface ClientFilter {
  readonly minRank: number;
  /** Streams the client chose in `subscribe` (`streams`, issue #19): alerts only by default, for old clients. */
  readonly alerts: boolean;
  readonly incidents: boolean;
  readonly rules?: ReadonlySet<string>;
  readonly peers?: ReadonlySet<string>;
}

/** Parsed `subscribe` message, or an error text. */
export type SubscribeRequest =
  | { readonly ok: true; readonly filter: ClientFilter; readonly since?: number }
  | { readonly ok: false; readonly error: string };

const MAX_LIST = 256;
const REPLAY_PAGE = 500;

function stringList(v: unknown, name: string): ReadonlySet<string> | string | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > MAX_LIST || !v.every((x) => typeof x === 'string' && x.length <= 200)) {
    return `${name} must be an array of at most ${MAX_LIST} strings`;
  }
  return new Set(v as string[]);
}

/** Validate a client message (pure). */
export function parseSubscribe(data: unknown): SubscribeRequest {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, error: 'message must be a JSON object' };
  const m = data as Record<string, unknown>;
  if (m.type !== 'subscribe') return { ok: false, error: `unknown message type ${JSON.stringify(m.type)}` };
  let minRank = 0;
  if (m.minSeverity !== undefined) {
    // Any case, as /api/alerts and the CLI accept it (issue #20).
    const sev = typeof m.minSeverity === 'string' ? m.minSeverity.toLowerCase() : '';
    if (!isSeverity(sev)) return { ok: false, error: 'minSeverity must be info|low|medium|high|critical' };
    minRank = severityRank(sev);
  }
  const rules = stringList(m.rules, 'rules');
  if (typeof rules === 'string') return { ok: false, error: rules };
  const peers = stringList(m.peers, 'peers');
  if (typeof peers === 'string') return { ok: false, error: peers };
  let streams: ReadonlySet<string> = new Set(['alerts']);
  if (m.streams !== undefined) {
    const list = stringList(m.streams, 'streams');
    if (typeof list === 'string') return { ok: false, error: list };
    if (!list || list.size === 0 || [...list].some((x) => x !== 'alerts' && x !== 'incidents')) {
      return { ok: false, error: 'streams must be a non-empty array of "alerts" and "incidents"' };
    }
    streams = list;
  }
  if (m.since !== undefined && m.since !== null && (typeof m.since !== 'number' || !Number.isSafeInteger(m.since) || m.since < 0)) {
    return { ok: false, error: 'since must be a non-negative integer' };
  }
  return {
    ok: true,
    filter: { minRank, alerts: streams.has('alerts'), incidents: streams.has('incidents'), ...(rules ? { rules } : {}), ...(peers ? { peers } : {}) },
    ...(typeof m.since === 'number' ? { since: m.since } : {}),
  };
}

function matches(f: ClientFilter, a: Alert): boolean {
  // Suppressed and below-threshold alerts (issue #19) are stored, never streamed: neither live nor replayed.
  if (!f.alerts || !isStreamed(a) || severityRank(a.severity) < f.minRank) return false;
  if (f.rules && !f.rules.has(a.rule)) return false;
  if (f.peers && !f.peers.has(a.network.peer ?? '') && !(a.network.peer === undefined && UNKNOWN_PEER_NAMES.some((n) => f.peers?.has(n)))) return false;
  return true;
}

function incidentMatches(f: ClientFilter, i: Incident): boolean {
  if (!f.incidents || severityRank(i.severity) < f.minRank) return false;
  if (f.rules && !f.rules.has(i.rule)) return false;
  if (f.peers && !f.peers.has(i.key.peer ?? '')) return false;
  return true;
}

class Client {
  filter: ClientFilter = { minRank: 0, alerts: true, incidents: false };
  /** True once a subscribe was answered (incident messages go only to subscribed clients). */
  subscribed = false;
  sub: Subscription | undefined;
  /** Highest seq sent (or covered by a replay); live alerts at or below it are dropped. */
  floor = 0;
  generation = 0;
  slowSince: number | undefined;
  alive = true;
  closing = false;
  /** Until the first accepted subscribe: the timer that subscribes a client that never does. */
  grace: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly remote: string,
  ) {}
}

export class WsHub {
  private readonly clients = new Set<Client>();
  private nextId = 1;
  private readonly now: () => number;
  private readonly counters = { connected: 0, slowClosed: 0, heartbeatTimeouts: 0, badMessages: 0, replayed: 0, delivered: 0, dropped: 0, catchUps: 0, refused: 0 };
  private lastAlert: Alert | undefined;
  private lastAlertBytes: Buffer = Buffer.alloc(0);
  private readonly heartbeat: NodeJS.Timeout;
  private readonly slowCheck: NodeJS.Timeout;

  constructor(private readonly opts: WsHubOptions) {
    this.now = opts.now ?? Date.now;
    this.heartbeat = setInterval(() => this.ping(), opts.heartbeatMs);
    this.heartbeat.unref();
    this.slowCheck = setInterval(() => this.checkSlow(), Math.max(20, Math.min(250, opts.slowMs / 4)));
    this.slowCheck.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  stats(): WsHubStats {
    let queued = 0;
    let delivered = this.counters.delivered;
    let dropped = this.counters.dropped;
    let bufferedBytes = 0;
    for (const c of this.clients) {
      bufferedBytes += c.ws.bufferedAmount;
      if (!c.sub) continue;
      const s = c.sub.stats();
      queued += s.queued;
      delivered += s.delivered;
      dropped += s.dropped;
    }
    return {
      clients: this.clients.size,
      connected: this.counters.connected,
      queued,
      delivered,
      dropped,
      slowClosed: this.counters.slowClosed,
      heartbeatTimeouts: this.counters.heartbeatTimeouts,
      badMessages: this.counters.badMessages,
      replayed: this.counters.replayed,
      catchUps: this.counters.catchUps,
      refused: this.counters.refused,
      bufferedBytes,
    };
  }

  /** Take over an upgraded connection. */
  attach(ws: WebSocket, remote: string): void {
    const max = this.opts.maxClients;
    if (max !== undefined && this.clients.size >= max) {
      // Refused before anything is sent or subscribed: 1013 Try Again Later (RFC 6455 §7.4.1, IANA registry).
      this.counters.refused++;
      this.opts.onEvent?.('ws-refused', { remote, clients: this.clients.size, limit: max });
      ws.on('error', () => undefined);
      ws.close(1013, `too many clients: limits.wsClients ${max} reached, try again later`);
      setTimeout(() => ws.terminate(), this.opts.closeGraceMs ?? 30_000).unref();
      return;
    }
    const c = new Client(this.nextId++, ws, remote);
    this.clients.add(c);
    this.counters.connected++;
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data, isBinary) => this.onMessage(c, data, isBinary));
    ws.on('error', () => {
      // protocol errors (oversize frames …): ws closes the socket itself; 'close' cleans up
    });
    ws.on('close', () => this.detach(c));
    // Nothing live before the client's subscribe is answered; one that never subscribes gets everything after
    // hello's lastSeq once the grace time is over.
    const lastSeq = this.opts.store.lastSeq();
    c.floor = lastSeq;
    this.send(c, { type: 'hello', v: 1, lastSeq, epoch: this.opts.store.epoch() });
    c.grace = setTimeout(() => {
      c.grace = undefined;
      if (c.closing) return;
      c.generation++;
      void this.replay(c, c.generation, c.floor);
    }, this.opts.subscribeGraceMs ?? 500);
    c.grace.unref();
  }

  /** Close every client (shutdown: 1001 going away) and resolve when they are gone or after the grace time. */
  async closeAll(code: number, reason: string): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const c of [...this.clients]) {
      waits.push(new Promise<void>((resolve) => {
        if (c.ws.readyState === c.ws.CLOSED) return resolve();
        c.ws.once('close', () => resolve());
        this.close(c, code, reason);
      }));
    }
    const grace = Math.min(2000, this.opts.closeGraceMs ?? 2000);
    await Promise.race([Promise.all(waits), new Promise<void>((r) => setTimeout(r, grace).unref())]);
    for (const c of this.clients) c.ws.terminate();
  }

  stop(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.slowCheck);
  }

  private detach(c: Client): void {
    clearTimeout(c.grace);
    this.dropSubscription(c);
    c.generation++;
    this.clients.delete(c);
  }

  private dropSubscription(c: Client): void {
    if (!c.sub) return;
    const s = c.sub.stats();
    this.counters.delivered += s.delivered;
    this.counters.dropped += s.dropped;
    c.sub.unsubscribe();
    c.sub = undefined;
  }

  private send(c: Client, msg: unknown): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    c.ws.send(JSON.stringify(msg));
  }

  /**
   * An alert message, serialised once however many clients receive it (the bus hands every sink the same alert
   * object): ten subscribers made ten JSON.stringify calls per alert.
   */
  private sendAlert(c: Client, a: Alert): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (this.lastAlert !== a) {
      this.lastAlert = a;
      // Encoded once for every client: a string would be UTF-8 encoded again in each client's write.
      this.lastAlertBytes = Buffer.from(JSON.stringify({ type: 'alert', alert: a }), 'utf8');
    }
    c.ws.send(this.lastAlertBytes, { binary: false });
  }

  /**
   * `{type:'incident', event, incident}` to every subscribed client that chose incidents and whose filter matches
   * (issue #19). The caller limits updates to one per incident per `incidents.updateSeconds`.
   */
  publishIncident(event: 'open' | 'update' | 'close', incident: Incident): void {
    let bytes: Buffer | undefined;
    for (const c of this.clients) {
      if (c.closing || !c.subscribed || !incidentMatches(c.filter, incident)) continue;
      bytes ??= Buffer.from(JSON.stringify({ type: 'incident', event, incident }), 'utf8');
      if (c.ws.readyState === c.ws.OPEN) c.ws.send(bytes, { binary: false });
    }
  }

  private sendIncident(c: Client, event: 'open' | 'update' | 'close', incident: Incident): void {
    if (incidentMatches(c.filter, incident)) this.send(c, { type: 'incident', event, incident });
  }

  private overBound(c: Client): boolean {
    const buffered = c.ws.bufferedAmount;
    if (buffered > this.opts.maxBufferBytes) return true;
    const total = this.opts.maxTotalBufferBytes;
    if (total === undefined || buffered === 0) return false;
    let sum = 0;
    for (const o of this.clients) sum += o.ws.bufferedAmount;
    return sum > total;
  }

  /** Open a live bus subscription; alerts at or below `c.floor` are dropped. */
  private goLive(c: Client): void {
    this.dropSubscription(c);
    const gen = c.generation;
    c.sub = this.opts.bus.subscribe(
      {
        name: `ws-${c.id}-${gen}`,
        filter: (a) => a.seq > c.floor && matches(c.filter, a),
        // Its queue is full: rather than a gap, catch up from the store (every queued alert is stored already).
        overflow: () => {
          if (gen !== c.generation || c.closing) return;
          this.counters.catchUps++;
          c.generation++;
          this.dropSubscription(c);
          const next = c.generation;
          setImmediate(() => void this.replay(c, next, undefined));
        },
        deliver: (a) => {
          if (c.closing || a.seq <= c.floor) return true;
          this.sendAlert(c, a);
          c.floor = a.seq;
          if (this.overBound(c)) {
            c.slowSince ??= this.now();
            return false; // pause this sink until the socket drains (checkSlow resumes it)
          }
          return true;
        },
      },
      { maxQueue: this.opts.maxQueue },
    );
  }

  private onMessage(c: Client, data: unknown, isBinary: boolean): void {
    let parsed: unknown;
    try {
      if (isBinary) throw new Error('binary');
      parsed = JSON.parse(String(data));
    } catch {
      this.counters.badMessages++;
      this.send(c, { type: 'error', code: 'BAD_MESSAGE', message: 'expected a JSON text message' });
      return;
    }
    const req = parseSubscribe(parsed);
    if (!req.ok) {
      this.counters.badMessages++;
      this.send(c, { type: 'error', code: 'BAD_SUBSCRIBE', message: req.error });
      return;
    }
    const lastSeq = this.opts.store.lastSeq();
    if (req.since !== undefined && req.since > lastSeq) {
      this.counters.badMessages++;
      const epoch = this.opts.store.epoch();
      this.send(c, {
        type: 'error',
        code: 'SINCE_AHEAD',
        message: `since ${req.since} is above the store's lastSeq ${lastSeq} (epoch ${epoch}): the store was replaced or reset; subscribe with since 0 to start again`,
        lastSeq,
        epoch,
      });
      return;
    }
    clearTimeout(c.grace);
    c.grace = undefined;
    c.subscribed = false;
    c.filter = req.filter;
    c.generation++;
    this.dropSubscription(c);
    // Without since: from what was already sent (or hello's lastSeq), with the new filter.
    if (req.since !== undefined) c.floor = req.since;
    void this.replay(c, c.generation, c.floor);
  }

  /**
   * Replay stored alerts after `c.floor`, then go live. `answer` is the `since` to confirm with a `subscribed` message
   * (undefined for a catch-up after a queue overflow, which the client did not ask for).
   */
  private async replay(c: Client, gen: number, answer: number | undefined): Promise<void> {
    const store = this.opts.store;
    let cursor = c.floor;
    for (;;) {
      if (gen !== c.generation || c.closing) return;
      const upto = store.lastSeq();
      // A client that chose incidents only has no alerts to replay.
      if (cursor >= upto || !c.filter.alerts) {
        // Caught up: nothing between the check and the subscription can be missed (see the file comment).
        c.floor = Math.max(c.floor, cursor);
        this.goLive(c);
        if (answer !== undefined) this.send(c, { type: 'subscribed', since: answer, lastSeq: upto, epoch: store.epoch() });
        if (!c.subscribed && c.filter.incidents) for (const i of this.opts.openIncidents?.() ?? []) this.sendIncident(c, 'open', i);
        c.subscribed = true;
        return;
      }
      const page = store.query({ ...this.storeFilter(c.filter), since: cursor, until: upto, limit: REPLAY_PAGE });
      for (const a of page) {
        if (!isStreamed(a)) continue;
        this.sendAlert(c, a);
        this.counters.replayed++;
      }
      cursor = page.length < REPLAY_PAGE ? upto : (page[page.length - 1]?.seq ?? upto);
      c.floor = cursor;
      if (this.overBound(c)) {
        c.slowSince ??= this.now();
        await this.drained(c, gen);
      } else {
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  }

  /** Resolves when the client's buffer is under the bound again, or it was closed / resubscribed. */
  private drained(c: Client, gen: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setInterval(() => {
        if (gen !== c.generation || c.closing || !this.overBound(c)) {
          clearInterval(t);
          resolve();
        }
      }, 20);
    });
  }

  private storeFilter(f: ClientFilter): { rule?: string[]; peer?: string[]; minSeverity?: Alert['severity'] } {
    const sev = (['info', 'low', 'medium', 'high', 'critical'] as const)[f.minRank];
    return {
      ...(f.rules ? { rule: [...f.rules] } : {}),
      ...(f.peers ? { peer: [...f.peers] } : {}),
      ...(sev !== undefined ? { minSeverity: sev } : {}),
    };
  }

  private checkSlow(): void {
    const now = this.now();
    for (const c of this.clients) {
      if (c.closing || c.slowSince === undefined) continue;
      if (!this.overBound(c)) {
        c.slowSince = undefined;
        c.sub?.resume();
      } else if (now - c.slowSince >= this.opts.slowMs) {
        this.counters.slowClosed++;
        this.opts.onEvent?.('ws-slow-closed', { client: c.id, remote: c.remote, bufferedAmount: c.ws.bufferedAmount, lastSeq: c.floor });
        this.close(c, 1013, 'slow consumer: reconnect with since');
      }
    }
  }

  private close(c: Client, code: number, reason: string): void {
    if (c.closing) return;
    c.closing = true;
    clearTimeout(c.grace);
    c.generation++;
    this.dropSubscription(c);
    // The close frame queues behind what is buffered; a client that never reads is destroyed later.
    c.ws.close(code, reason);
    setTimeout(() => c.ws.terminate(), this.opts.closeGraceMs ?? 30_000).unref();
  }

  private ping(): void {
    for (const c of this.clients) {
      // A client over its buffer bound is judged by the slow-consumer rule (1013), not by the heartbeat.
      if (c.closing || c.slowSince !== undefined) continue;
      if (!c.alive) {
        this.counters.heartbeatTimeouts++;
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        // socket already closing
      }
    }
  }
}
