/**
 * The live page (issue #6): alert feed over the WebSocket `/alerts` (DESIGN.md §5: hello, then subscribe with
 * `since` for the backlog and resume), filters, pause, counters per rule and peer, and for the chosen alert its
 * reasons, evidence, the call's ladder, the raw messages with the evidence headers marked, and the pcap link.
 *
 * It leads with incidents (issue #19): one row per incident (rule, key, rate sparkline, count, distinct numbers,
 * span, state) from `GET /api/incidents?order=newest`, kept live by the WebSocket's `incident` messages
 * (`subscribe.streams`); an incident opens on its rate, its alerts (paged) and the ladder of a sample call. The
 * counters start from `GET /api/counts` (every stored alert) so they are filled on first paint (issue #20).
 * Everything from alert and incident data is inserted as text: it comes from SIP headers.
 *
 * Runs in the browser as an ES module compiled by `npm run build` (dist/web/client/app.js). Imports from outside
 * this folder are type-only: the browser loads nothing but web/client/*.js.
 */
import type { Alert, Severity } from '../../alerts/alert.js';
import type { Incident } from '../../incidents/incident.js';
import type { AlertCountsJson, AlertDetailJson, EvidenceMessageJson, IncidentDetailJson, IncidentListJson, IncidentRateJson } from '../api-types.js';
import { highlightLines } from './highlight.js';
import { distinctText, durationText, isNewer, keyText, renderSparkline, spanText } from './incidents.js';
import { ladderModel, renderLadder } from './ladder.js';

const SEVERITY_ORDER: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
/** Alerts replayed on first connect (the newest ones). */
const BACKLOG = 500;
/** Rows kept in the feed; the oldest leave first. */
const MAX_ROWS = 5000;
/** While a freshly raised alert is shown, its call may still be running: refetch its messages this often. */
const LIVE_REFRESH_MS = 2000;
const LIVE_REFRESH_TIMES = 10;
/** Incidents listed (newest first); older ones leave the list. */
const MAX_INCIDENTS = 1000;
/** Alerts of an incident per page of its detail. */
const INCIDENT_ALERTS_PAGE = 50;
/** Sparkline buckets, row and detail. */
const SPARK_BUCKETS = 30;
/** At most this many rate requests in flight; a growing incident's sparkline is refetched at most this often. */
const RATE_CONCURRENCY = 4;
const RATE_REFRESH_MS = 3000;
const UNKNOWN_PEER = '(unknown)';

type ServerMessage =
  | { readonly type: 'hello'; readonly v: number; readonly lastSeq: number; readonly epoch?: string }
  | { readonly type: 'alert'; readonly alert: Alert }
  | { readonly type: 'incident'; readonly event: 'open' | 'update' | 'close'; readonly incident: Incident }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

/** A `<dl class="facts">` and the function that adds one fact to it (skipping empty values), all as text. */
function factList(): { facts: HTMLDListElement; fact: (k: string, v: string | undefined) => void } {
  const facts = h('dl', { class: 'facts' });
  return {
    facts,
    fact: (k, v) => {
      if (v !== undefined && v !== '') facts.append(h('dt', { text: k }), h('dd', { text: v }));
    },
  };
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} missing`);
  return el as T;
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: { class?: string; text?: string; attrs?: Record<string, string> } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

const rank = (s: Severity): number => SEVERITY_ORDER.indexOf(s);

/** `14:59:11` of an ISO capture time (UTC, as captured); the full time is in the detail. */
function shortTime(iso: string): string {
  const m = /T(\d\d:\d\d:\d\d)/.exec(iso);
  return m?.[1] ?? iso;
}

const params = new URLSearchParams(location.search);
const token = params.get('token') ?? undefined;

function apiUrl(path: string, withToken: boolean): string {
  const u = new URL(path, location.href);
  if (withToken && token) u.searchParams.set('token', token);
  return u.toString();
}

/** The alert stream's subprotocol, and the one carrying the token (src/http/server.ts; values repeated: this
 * module may import types only). */
const WS_PROTOCOL = 'spoofwatch.v1';
const WS_TOKEN_PROTOCOL_PREFIX = 'spoofwatch.token.';
const TCHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const authHeaders = (): HeadersInit => (token ? { authorization: `Bearer ${token}` } : {});

/** GET a JSON API path with the token; undefined (and `onError` told why) when it fails. */
async function getJson<T>(path: string, onError?: (why: string) => void): Promise<T | undefined> {
  try {
    const res = await fetch(apiUrl(path, false), { headers: authHeaders(), cache: 'no-store' });
    if (res.ok) return (await res.json()) as T;
    onError?.(`HTTP ${res.status}`);
  } catch (e) {
    onError?.(e instanceof Error ? e.message : String(e));
  }
  return undefined;
}

const peerName = (a: Alert): string => a.network.peer ?? UNKNOWN_PEER;

class Page {
  private readonly feed = byId<HTMLDivElement>('feed');
  private readonly conn = byId<HTMLParagraphElement>('conn');
  private readonly count = byId<HTMLSpanElement>('feed-count');
  private readonly fSeverity = byId<HTMLSelectElement>('f-severity');
  private readonly fRule = byId<HTMLSelectElement>('f-rule');
  private readonly fPeer = byId<HTMLSelectElement>('f-peer');
  private readonly pauseBtn = byId<HTMLButtonElement>('pause');
  private readonly newBtn = byId<HTMLButtonElement>('new-alerts');
  private readonly detailTitle = byId<HTMLHeadingElement>('d-title');
  private readonly detailBody = byId<HTMLDivElement>('d-body');
  private readonly tabIncidents = byId<HTMLButtonElement>('tab-incidents');
  private readonly tabAlerts = byId<HTMLButtonElement>('tab-alerts');
  private readonly incidentList = byId<HTMLDivElement>('incidents');
  private readonly incidentCount = byId<HTMLSpanElement>('incident-count');
  private readonly incidentsEmpty = byId<HTMLParagraphElement>('incidents-empty');
  private readonly iState = byId<HTMLSelectElement>('i-state');
  /** Stored alerts per rule and peer up to `baseSeq` (`GET /api/counts`); alerts above it are counted as they come. */
  private baseCounts: AlertCountsJson | undefined;
  private readonly ruleCounts = new Map<string, number>();
  private readonly peerCounts = new Map<string, number>();

  private readonly incidents = new Map<number, Incident>();
  private readonly incidentRows = new Map<number, HTMLDivElement>();
  private selectedIncident: number | undefined;
  /** Rate fetches: queued ids, in flight, and when each incident's sparkline was last asked for. */
  private readonly rateQueue = new Set<number>();
  private ratesInFlight = 0;
  private readonly rateAskedAt = new Map<number, number>();
  private readonly rateTimers = new Map<number, number>();
  private readonly rates = new Map<number, IncidentRateJson>();
  /** The incident shown in the detail pane, and how to bring it up to date when it grows. */
  private incidentView: { readonly id: number; update(inc: Incident): void } | undefined;

  private readonly alerts = new Map<number, Alert>();
  private readonly rows = new Map<number, HTMLDivElement>();
  private lastSeq = 0;
  private paused = false;
  private held: Alert[] = [];
  /** Alerts appended below the visible part of the feed since the user last looked at the bottom. */
  private unseen = 0;
  private selected: number | undefined;
  private detailToken = 0;
  private refreshTimer: number | undefined;

  private ws: WebSocket | undefined;
  private retryMs = 500;
  private counterTimer: number | undefined;
  private serverSeq = 0;
  /** Store epoch of the alerts shown: seqs from another epoch (a replaced or reset store) are other alerts. */
  private epoch: string | undefined;

  start(): void {
    this.tabIncidents.addEventListener('click', () => this.showTab('incidents'));
    this.tabAlerts.addEventListener('click', () => this.showTab('alerts'));
    for (const t of [this.tabIncidents, this.tabAlerts]) {
      t.addEventListener('keydown', (e) => {
        if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
        const other = t === this.tabIncidents ? this.tabAlerts : this.tabIncidents;
        this.showTab(other === this.tabIncidents ? 'incidents' : 'alerts');
        other.focus();
        e.preventDefault();
      });
    }
    this.iState.addEventListener('change', () => this.applyIncidentFilter());
    this.incidentList.addEventListener('keydown', (e) => this.onIncidentKey(e));
    void this.loadCounts();
    void this.loadIncidents();
    this.fSeverity.addEventListener('change', () => this.applyFilters());
    this.fRule.addEventListener('change', () => this.applyFilters());
    this.fPeer.addEventListener('change', () => this.applyFilters());
    this.pauseBtn.addEventListener('click', () => this.setPaused(!this.paused));
    this.newBtn.addEventListener('click', () => {
      if (this.paused) this.setPaused(false);
      this.scrollToEnd();
    });
    this.feed.addEventListener('keydown', (e) => this.onFeedKey(e));
    this.feed.addEventListener('scroll', () => {
      if (this.atBottom()) this.setUnseen(0);
    });
    this.connect();
  }

  // ── WebSocket ──────────────────────────────────────────────────────────────────────────────────────────────

  private connect(): void {
    const u = new URL('alerts', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // The token travels as a subprotocol, not in the URL (issue #17); one that is not an HTTP token (RFC 9110
    // §5.6.2) cannot, and falls back to ?token=.
    const protocols = [WS_PROTOCOL];
    if (token && TCHARS.test(token)) protocols.push(`${WS_TOKEN_PROTOCOL_PREFIX}${token}`);
    else if (token) u.searchParams.set('token', token);
    const ws = new WebSocket(u.toString(), protocols);
    this.ws = ws;
    this.setConn('connecting…', false);
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg: ServerMessage;
      try {
        msg = JSON.parse(ev.data) as ServerMessage;
      } catch {
        return;
      }
      this.onServerMessage(ws, msg);
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      const wait = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
      const why = ev.code === 1013 ? 'too slow, dropped' : ev.code === 1001 ? 'server restarting' : `closed (${ev.code})`;
      this.setConn(`disconnected: ${why}; retrying in ${(wait / 1000).toFixed(1)} s`, false);
      window.setTimeout(() => this.connect(), wait);
    });
  }

  private onServerMessage(ws: WebSocket, msg: ServerMessage): void {
    if (msg.type === 'hello') {
      // Another store (replaced or reset): the rows shown are from it, and its seqs say nothing here. Start over.
      const replaced =
        (this.epoch !== undefined && msg.epoch !== undefined && msg.epoch !== this.epoch) || (this.lastSeq > 0 && msg.lastSeq < this.lastSeq);
      if (replaced) this.resetFeed();
      this.epoch = msg.epoch ?? this.epoch;
      // First connect: the newest BACKLOG alerts; reconnect: exactly what was missed (no gap, no duplicate).
      const since = this.lastSeq > 0 ? this.lastSeq : Math.max(0, msg.lastSeq - BACKLOG);
      ws.send(JSON.stringify({ type: 'subscribe', since, streams: ['alerts', 'incidents'] }));
      this.retryMs = 500;
      this.serverSeq = msg.lastSeq;
      this.setConn(replaced ? `live · the alert store was replaced or reset: feed restarted from 0` : `live · last alert ${msg.lastSeq}`, true);
    } else if (msg.type === 'alert') {
      this.receive(msg.alert);
    } else if (msg.type === 'incident') {
      if (msg.incident && typeof msg.incident.id === 'number') this.upsertIncident(msg.incident);
    } else if (msg.type === 'error') {
      this.setConn(`server error ${msg.code}: ${msg.message}`, false);
    }
  }

  private setConn(text: string, ok: boolean): void {
    this.conn.textContent = text;
    this.conn.title = text;
    this.conn.className = `conn ${ok ? 'ok' : 'down'}`;
  }

  // ── feed ───────────────────────────────────────────────────────────────────────────────────────────────────

  private receive(a: Alert): void {
    if (a.seq <= this.lastSeq) return;
    this.lastSeq = a.seq;
    if (a.seq > this.serverSeq) {
      this.serverSeq = a.seq;
      this.setConn(`live · last alert ${a.seq}`, true);
    }
    if (this.paused) {
      this.held.push(a);
      this.setUnseen(this.unseen + 1);
      return;
    }
    this.append([a]);
  }

  private append(list: readonly Alert[]): void {
    const follow = this.atBottom() && this.selected === undefined;
    const frag = document.createDocumentFragment();
    let added = 0;
    for (const a of list) {
      this.alerts.set(a.seq, a);
      this.count1(a);
      const row = this.row(a);
      this.rows.set(a.seq, row);
      frag.append(row);
      if (!row.hidden) added++;
    }
    // Appended at the end: rows already on screen (and the selected one) never move.
    this.feed.append(frag);
    this.trim();
    this.ensureTabStop();
    this.count.textContent = String(this.alerts.size);
    this.scheduleCounters();
    if (follow) this.scrollToEnd();
    else if (added > 0 && !this.atBottom()) this.setUnseen(this.unseen + added);
  }

  /** Forget every alert shown (the server's store was replaced): the feed starts again from its history. */
  private resetFeed(): void {
    this.alerts.clear();
    for (const row of this.rows.values()) row.remove();
    this.rows.clear();
    this.ruleCounts.clear();
    this.peerCounts.clear();
    this.baseCounts = undefined;
    for (const row of this.incidentRows.values()) row.remove();
    this.incidentRows.clear();
    this.incidents.clear();
    this.selectedIncident = undefined;
    this.renderIncidentCount();
    this.held = [];
    this.lastSeq = 0;
    this.serverSeq = 0;
    this.selected = undefined;
    this.count.textContent = '0';
    this.setUnseen(0);
    this.scheduleCounters();
    void this.loadCounts();
    void this.loadIncidents();
  }

  /** Drop the oldest rows beyond MAX_ROWS, keeping the view where it is (rows have a fixed height). */
  private trim(): void {
    const excess = this.rows.size - MAX_ROWS;
    if (excess <= 0) return;
    let removedHeight = 0;
    let n = 0;
    for (const [seq, row] of this.rows) {
      if (n >= excess) break;
      if (seq === this.selected) continue;
      if (!row.hidden) removedHeight += row.offsetHeight;
      row.remove();
      this.rows.delete(seq);
      this.alerts.delete(seq);
      n++;
    }
    this.feed.scrollTop -= removedHeight;
  }

  private row(a: Alert): HTMLDivElement {
    const row = h('div', {
      class: `row sev-${a.severity}`,
      attrs: { role: 'option', id: `alert-${a.seq}`, tabindex: '-1', 'aria-selected': 'false', 'data-seq': String(a.seq) },
    });
    row.append(
      h('span', { class: 'seq', text: String(a.seq) }),
      h('span', { class: 'time', text: shortTime(a.captureTs) }),
      h('span', {}, h('span', { class: `badge sev-${a.severity}`, text: a.severity })),
      h('span', { class: 'rule', text: a.rule }),
      h('span', { class: 'peer', text: peerName(a) }),
      h('span', { class: 'summary', text: a.summary }),
    );
    row.title = `${a.title}\n${a.summary}`;
    row.hidden = !this.matches(a);
    row.addEventListener('click', () => {
      this.focusRow(row);
      this.select(a.seq);
    });
    return row;
  }

  private matches(a: Alert): boolean {
    const min = this.fSeverity.value as Severity;
    if (rank(a.severity) < rank(min)) return false;
    if (this.fRule.value !== '' && a.rule !== this.fRule.value) return false;
    if (this.fPeer.value !== '' && peerName(a) !== this.fPeer.value) return false;
    return true;
  }

  private applyFilters(): void {
    for (const [seq, row] of this.rows) {
      const a = this.alerts.get(seq);
      if (a) row.hidden = !this.matches(a);
    }
    const sel = this.selected !== undefined ? this.rows.get(this.selected) : undefined;
    if (sel && !sel.hidden) sel.scrollIntoView({ block: 'nearest' });
    this.ensureTabStop();
  }

  /** Keep one visible row in the tab order (the selected one when it is visible), so Tab reaches the feed. */
  private ensureTabStop(): void {
    const stop = this.feed.querySelector<HTMLDivElement>('.row[tabindex="0"]');
    if (stop && !stop.hidden) return;
    if (stop) stop.tabIndex = -1;
    const sel = this.selected !== undefined ? this.rows.get(this.selected) : undefined;
    const next = sel && !sel.hidden ? sel : this.visibleRows()[0];
    if (next) next.tabIndex = 0;
  }

  private visibleRows(): HTMLDivElement[] {
    return [...this.rows.values()].filter((r) => !r.hidden);
  }

  private onFeedKey(e: KeyboardEvent): void {
    const rows = this.visibleRows();
    if (rows.length === 0) return;
    const current = document.activeElement instanceof HTMLDivElement ? rows.indexOf(document.activeElement) : -1;
    let next: number | undefined;
    switch (e.key) {
      case 'ArrowDown':
        next = current < 0 ? 0 : Math.min(rows.length - 1, current + 1);
        break;
      case 'ArrowUp':
        next = current < 0 ? rows.length - 1 : Math.max(0, current - 1);
        break;
      case 'PageDown':
        next = Math.min(rows.length - 1, Math.max(0, current) + 10);
        break;
      case 'PageUp':
        next = Math.max(0, current - 10);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = rows.length - 1;
        break;
      case 'Enter': {
        const r = rows[current];
        if (r) this.select(Number(r.dataset['seq']));
        e.preventDefault();
        return;
      }
      case ' ':
        this.setPaused(!this.paused);
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    const target = rows[next];
    if (target) this.focusRow(target);
  }

  /** Roving tabindex: exactly one row is in the tab order. */
  private focusRow(row: HTMLDivElement): void {
    this.feed.querySelectorAll<HTMLDivElement>('.row[tabindex="0"]').forEach((r) => {
      if (r !== row) r.tabIndex = -1;
    });
    row.tabIndex = 0;
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
  }

  private atBottom(): boolean {
    return this.feed.scrollHeight - this.feed.scrollTop - this.feed.clientHeight < 40;
  }

  private scrollToEnd(): void {
    this.feed.scrollTop = this.feed.scrollHeight;
    this.setUnseen(0);
  }

  private setUnseen(n: number): void {
    this.unseen = n;
    // Space stays reserved (visibility, not display): the indicator appearing never moves the toolbar.
    this.newBtn.classList.toggle('idle', n === 0);
    this.newBtn.setAttribute('aria-hidden', String(n === 0));
    this.newBtn.tabIndex = n === 0 ? -1 : 0;
    this.newBtn.textContent = this.paused ? `${n} new (paused) — resume` : `${n} new ↓`;
  }

  private setPaused(p: boolean): void {
    this.paused = p;
    this.pauseBtn.setAttribute('aria-pressed', String(p));
    this.pauseBtn.textContent = p ? 'Resume' : 'Pause';
    if (!p && this.held.length > 0) {
      const held = this.held;
      this.held = [];
      this.unseen = 0;
      this.append(held);
    }
    this.setUnseen(p ? this.held.length : this.unseen);
  }

  // ── incidents ──────────────────────────────────────────────────────────────────────────────────────────────

  private showTab(tab: 'incidents' | 'alerts'): void {
    const incidents = tab === 'incidents';
    this.tabIncidents.setAttribute('aria-selected', String(incidents));
    this.tabAlerts.setAttribute('aria-selected', String(!incidents));
    this.tabIncidents.tabIndex = incidents ? 0 : -1;
    this.tabAlerts.tabIndex = incidents ? -1 : 0;
    byId('incidents-panel').hidden = !incidents;
    byId('alerts-panel').hidden = incidents;
  }

  /** The newest stored incidents, at first paint; the WebSocket keeps them (and new ones) up to date. */
  private async loadIncidents(): Promise<void> {
    const list = await getJson<IncidentListJson>(`api/incidents?order=newest&limit=${Math.min(MAX_INCIDENTS, 1000)}`);
    if (!list || !Array.isArray(list.incidents)) return;
    for (const inc of list.incidents) this.upsertIncident(inc);
  }

  private upsertIncident(inc: Incident): void {
    if (!isNewer(this.incidents.get(inc.id), inc)) return;
    this.incidents.set(inc.id, inc);
    const row = this.incidentRows.get(inc.id);
    if (row) this.fillIncidentRow(row, inc);
    else this.insertIncidentRow(inc);
    this.renderIncidentCount();
    this.scheduleRate(inc.id);
    if (this.incidentView?.id === inc.id) this.incidentView.update(inc);
  }

  /** Newest (highest id) first; a row is inserted where its id belongs, so known rows never reorder. */
  private insertIncidentRow(inc: Incident): void {
    const row = h('div', { attrs: { role: 'option', id: `incident-${inc.id}`, tabindex: '-1', 'aria-selected': 'false', 'data-id': String(inc.id) } });
    row.addEventListener('click', () => {
      this.focusIncidentRow(row);
      this.selectIncident(inc.id);
    });
    this.fillIncidentRow(row, inc);
    let before: Element | null = null;
    for (const el of Array.from(this.incidentList.children)) {
      if (Number((el as HTMLElement).dataset['id']) < inc.id) {
        before = el;
        break;
      }
    }
    this.incidentList.insertBefore(row, before);
    this.incidentRows.set(inc.id, row);
    if (this.incidentRows.size > MAX_INCIDENTS) {
      const oldest = Math.min(...[...this.incidentRows.keys()].filter((id) => id !== this.selectedIncident));
      this.incidentRows.get(oldest)?.remove();
      this.incidentRows.delete(oldest);
      this.incidents.delete(oldest);
      this.rates.delete(oldest);
    }
    this.ensureIncidentTabStop();
  }

  private fillIncidentRow(row: HTMLDivElement, inc: Incident): void {
    const spark = row.querySelector('.i-spark') ?? h('span', { class: 'i-spark' });
    row.className = `inc-row sev-${inc.severity} state-${inc.state}`;
    row.replaceChildren(
      h(
        'div',
        { class: 'i-line i-head' },
        h('span', { class: 'i-sev' }, h('span', { class: `badge sev-${inc.severity}`, text: inc.severity })),
        h('span', { class: 'i-rule', text: inc.rule }),
        h('span', { class: 'i-key', text: keyText(inc.key) }),
        h('span', { class: `i-state ${inc.state}`, text: inc.state }),
      ),
      h(
        'div',
        { class: 'i-line i-facts' },
        spark,
        h('span', { class: 'i-count', text: `${inc.count} alert${inc.count === 1 ? '' : 's'}` }),
        h('span', { class: 'i-distinct', text: distinctText(inc) }),
        h('span', { class: 'i-span', text: spanText(inc.firstSeen, inc.lastSeen) }),
      ),
    );
    row.title = `${inc.rule} · ${keyText(inc.key)}\n${inc.count} alerts, ${distinctText(inc)}\n${spanText(inc.firstSeen, inc.lastSeen)}, ${inc.state}`;
    row.hidden = this.iState.value !== '' && inc.state !== this.iState.value;
  }

  private renderIncidentCount(): void {
    const open = [...this.incidents.values()].filter((i) => i.state === 'open').length;
    this.incidentCount.textContent = String(this.incidents.size);
    this.incidentCount.title = `${this.incidents.size} listed, ${open} open`;
    this.incidentsEmpty.hidden = this.incidents.size > 0;
  }

  private applyIncidentFilter(): void {
    for (const [id, row] of this.incidentRows) {
      const inc = this.incidents.get(id);
      if (inc) row.hidden = this.iState.value !== '' && inc.state !== this.iState.value;
    }
    this.ensureIncidentTabStop();
  }

  private ensureIncidentTabStop(): void {
    const stop = this.incidentList.querySelector<HTMLDivElement>('.inc-row[tabindex="0"]');
    if (stop && !stop.hidden) return;
    if (stop) stop.tabIndex = -1;
    const next = [...this.incidentRows.values()].find((r) => !r.hidden);
    if (next) next.tabIndex = 0;
  }

  private focusIncidentRow(row: HTMLDivElement): void {
    this.incidentList.querySelectorAll<HTMLDivElement>('.inc-row[tabindex="0"]').forEach((r) => {
      if (r !== row) r.tabIndex = -1;
    });
    row.tabIndex = 0;
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
  }

  private onIncidentKey(e: KeyboardEvent): void {
    const rows = Array.from(this.incidentList.querySelectorAll<HTMLDivElement>('.inc-row')).filter((r) => !r.hidden);
    if (rows.length === 0) return;
    const current = document.activeElement instanceof HTMLDivElement ? rows.indexOf(document.activeElement) : -1;
    const moves: Record<string, number> = { ArrowDown: current + 1, ArrowUp: current < 0 ? rows.length - 1 : current - 1, Home: 0, End: rows.length - 1 };
    if (e.key === 'Enter' && rows[current]) {
      this.selectIncident(Number(rows[current].dataset['id']));
      e.preventDefault();
      return;
    }
    const to = moves[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const target = rows[Math.max(0, Math.min(rows.length - 1, to))];
    if (target) this.focusIncidentRow(target);
  }

  /** Sparklines come from the store (`/rate`); a growing incident's is asked for again at most every RATE_REFRESH_MS. */
  private scheduleRate(id: number): void {
    if (this.rateTimers.has(id) || this.rateQueue.has(id)) return;
    const asked = this.rateAskedAt.get(id);
    const wait = asked === undefined ? 0 : asked + RATE_REFRESH_MS - Date.now();
    if (wait <= 0) {
      this.rateQueue.add(id);
      this.pumpRates();
      return;
    }
    this.rateTimers.set(
      id,
      window.setTimeout(() => {
        this.rateTimers.delete(id);
        this.rateQueue.add(id);
        this.pumpRates();
      }, wait),
    );
  }

  private pumpRates(): void {
    while (this.ratesInFlight < RATE_CONCURRENCY && this.rateQueue.size > 0) {
      const id = this.rateQueue.values().next().value as number;
      this.rateQueue.delete(id);
      this.rateAskedAt.set(id, Date.now());
      this.ratesInFlight++;
      void getJson<IncidentRateJson>(`api/incidents/${id}/rate?buckets=${SPARK_BUCKETS}`).then((r) => {
        this.ratesInFlight--;
        if (r && Array.isArray(r.counts) && this.incidents.has(id)) {
          this.rates.set(id, r);
          this.drawRate(id);
        }
        this.pumpRates();
      });
    }
  }

  private drawRate(id: number): void {
    const r = this.rates.get(id);
    if (!r) return;
    this.incidentRows.get(id)?.querySelector('.i-spark')?.replaceChildren(renderSparkline(r.counts, r.bucketMs, 120, 22));
    if (this.incidentView?.id !== id) return;
    const wrap = document.getElementById('incident-rate');
    wrap?.replaceChildren(
      renderSparkline(r.counts, r.bucketMs, 480, 72, 'spark spark-large'),
      h('p', { class: 'legend', text: `${r.counts.length} buckets of ${durationText(r.bucketMs)} from first to last alert (capture time); peak ${Math.max(0, ...r.counts)} per bucket` }),
    );
  }

  private selectIncident(id: number): void {
    const inc = this.incidents.get(id);
    if (!inc) return;
    this.clearSelection();
    this.selectedIncident = id;
    this.incidentRows.get(id)?.setAttribute('aria-selected', 'true');
    this.showIncident(inc);
  }

  /** The incident: what it is, its rate, its alerts (paged) and the ladder of a sample call (its first alert). */
  private showIncident(inc: Incident): void {
    const alive = this.newDetail();
    this.detailTitle.replaceChildren(h('span', { class: `badge sev-${inc.severity}`, text: inc.severity }), ` ${inc.rule} · ${keyText(inc.key)}`);
    const [summary, factsList] = this.incidentFacts(inc);
    const facts = h('div', { attrs: { id: 'incident-facts' } }, factsList);
    const summaryBox = h('div', {}, summary);
    const rate = h('div', { class: 'spark-wrap', attrs: { id: 'incident-rate' } }, h('p', { class: 'loading', text: 'loading the rate…' }));
    const tbody = h('tbody');
    const table = h(
      'table',
      { class: 'evidence inc-alerts', attrs: { id: 'incident-alerts' } },
      h('thead', {}, h('tr', {}, ...['Seq', 'Time', 'Presented', 'Source', 'Summary'].map((t) => h('th', { text: t })))),
      tbody,
    );
    const more = h('button', { text: 'Load more alerts', attrs: { type: 'button', id: 'incident-more' } });
    more.hidden = true;
    const shown = h('span', { class: 'legend', attrs: { id: 'incident-shown' } });
    const sample = h('div', { attrs: { id: 'incident-sample' } });
    this.detailBody.replaceChildren(
      summaryBox,
      h('h3', { text: 'Rate' }),
      rate,
      h('h3', { text: 'Alerts' }),
      table,
      h('div', { class: 'downloads' }, more, shown),
      h('h3', { text: 'Sample call', attrs: { id: 'incident-sample-title' } }),
      sample,
      h('h3', { text: 'Incident' }),
      facts,
    );
    let loaded = 0;
    let after = 0;
    let more_ = true;
    let sampleToken = 0;
    let current = inc;
    const showSample = (seq: number): void => {
      const t = ++sampleToken;
      for (const tr of Array.from(tbody.children)) tr.setAttribute('aria-selected', String((tr as HTMLElement).dataset['seq'] === String(seq)));
      if (this.refreshTimer !== undefined) window.clearTimeout(this.refreshTimer);
      sample.replaceChildren(h('p', { class: 'loading', text: 'loading the call’s messages…' }));
      void this.loadDetail(seq, sample, () => alive() && t === sampleToken, undefined, LIVE_REFRESH_TIMES);
    };
    const setShown = (): void => {
      shown.textContent = `${loaded} of ${current.count} alerts shown`;
      more.hidden = !more_ && loaded >= current.count;
    };
    const loadPage = async (): Promise<void> => {
      more.disabled = true;
      let error: string | undefined;
      const d = await getJson<IncidentDetailJson>(`api/incidents/${inc.id}?limit=${INCIDENT_ALERTS_PAGE}&after=${after}`, (why) => (error = why));
      if (!alive()) return;
      more.disabled = false;
      if (!d || !Array.isArray(d.alerts)) {
        shown.textContent = `could not load the alerts: ${error ?? 'bad answer'}`;
        return;
      }
      const first = loaded === 0;
      for (const a of d.alerts) tbody.append(this.incidentAlertRow(a, showSample));
      loaded += d.alerts.length;
      const last = d.alerts[d.alerts.length - 1];
      if (last) after = last.seq;
      more_ = d.next !== undefined;
      setShown();
      if (first) {
        const seq = current.sampleAlertSeqs[0] ?? d.alerts[0]?.seq;
        if (seq !== undefined) showSample(seq);
        else sample.replaceChildren(h('p', { class: 'missing', text: 'its alerts are no longer stored (retention)' }));
      }
    };
    more.addEventListener('click', () => void loadPage());
    this.incidentView = {
      id: inc.id,
      update: (next) => {
        current = next;
        const [s2, f2] = this.incidentFacts(next);
        summaryBox.replaceChildren(s2);
        facts.replaceChildren(f2);
        this.detailTitle.replaceChildren(h('span', { class: `badge sev-${next.severity}`, text: next.severity }), ` ${next.rule} · ${keyText(next.key)}`);
        setShown();
      },
    };
    this.drawRate(inc.id);
    void loadPage();
  }

  /** The incident's one-line summary and its facts. */
  private incidentFacts(inc: Incident): [HTMLElement, HTMLElement] {
    const { facts, fact } = factList();
    fact('State', inc.state === 'open' ? 'open (still growing)' : 'closed (its quiet period passed)');
    fact('Alerts', String(inc.count));
    fact('Numbers', distinctText(inc));
    fact('First seen', inc.firstSeen);
    fact('Last seen', inc.lastSeen);
    fact('Span', durationText(Date.parse(inc.lastSeen) - Date.parse(inc.firstSeen)));
    fact('Key', keyText(inc.key));
    fact('Alert seqs', `${inc.firstAlertSeq} … ${inc.lastAlertSeq}; first ones ${inc.sampleAlertSeqs.join(', ')}`);
    fact('Incident', `id ${inc.id}`);
    const summary = `${inc.count} ${inc.rule} alert${inc.count === 1 ? '' : 's'} from ${keyText(inc.key)}, ${spanText(inc.firstSeen, inc.lastSeen)}, ${inc.state}`;
    return [h('p', { class: 'summary', attrs: { id: 'incident-summary' }, text: summary }), facts];
  }

  private incidentAlertRow(a: Alert, open: (seq: number) => void): HTMLTableRowElement {
    const tr = h(
      'tr',
      { class: 'inc-alert', attrs: { tabindex: '0', 'data-seq': String(a.seq), 'aria-selected': 'false', title: `${a.title}\n${a.summary}` } },
      h('td', { text: String(a.seq) }),
      h('td', { text: shortTime(a.captureTs) }),
      h('td', { class: 'value', text: a.presented.number ?? '(no number)' }),
      h('td', { class: 'value', text: a.network.src }),
      h('td', { text: a.summary }),
    );
    tr.addEventListener('click', () => open(a.seq));
    tr.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      open(a.seq);
      e.preventDefault();
    });
    return tr;
  }

  // ── counters ───────────────────────────────────────────────────────────────────────────────────────────────

  /** Count an alert received, unless the stored counts already include it. */
  private count1(a: Alert): void {
    if (this.baseCounts && a.seq <= this.baseCounts.lastSeq) return;
    this.ruleCounts.set(a.rule, (this.ruleCounts.get(a.rule) ?? 0) + 1);
    this.peerCounts.set(peerName(a), (this.peerCounts.get(peerName(a)) ?? 0) + 1);
  }

  /**
   * The stored counts, on first paint (issue #20: the counters were empty until the feed's backlog arrived), then
   * whatever the feed received after them. Without the API (an error), the counters count the feed as before.
   */
  private async loadCounts(): Promise<void> {
    const c = await getJson<AlertCountsJson>('api/counts');
    if (!c || !Array.isArray(c.rules) || !Array.isArray(c.peers)) return;
    this.baseCounts = c;
    this.ruleCounts.clear();
    this.peerCounts.clear();
    for (const r of c.rules) this.ruleCounts.set(r.rule, r.count);
    for (const p of c.peers) {
      const name = p.peer ?? UNKNOWN_PEER;
      this.peerCounts.set(name, (this.peerCounts.get(name) ?? 0) + p.count);
    }
    for (const a of this.alerts.values()) this.count1(a);
    this.renderAllCounters();
  }

  private renderAllCounters(): void {
    if (this.counterTimer !== undefined) window.clearTimeout(this.counterTimer);
    this.counterTimer = undefined;
    this.renderCounters('c-rule', this.ruleCounts, this.fRule);
    this.renderCounters('c-peer', this.peerCounts, this.fPeer);
  }

  private scheduleCounters(): void {
    this.counterTimer ??= window.setTimeout(() => this.renderAllCounters(), 150);
  }

  private renderCounters(listId: string, counts: ReadonlyMap<string, number>, select: HTMLSelectElement): void {
    const list = byId<HTMLUListElement>(listId);
    const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    list.replaceChildren(
      ...sorted.map(([name, n]) => {
        const b = h('button', { text: name, attrs: { type: 'button', title: `show only ${name}` } });
        b.addEventListener('click', () => {
          select.value = select.value === name ? '' : name;
          this.applyFilters();
          this.showTab('alerts');
        });
        return h('li', {}, b, h('span', { class: 'n', text: String(n) }));
      }),
    );
    // Keep the filter options in step with what has been seen, keeping the current choice.
    const current = select.value;
    const names = sorted.map(([name]) => name).sort();
    select.replaceChildren(h('option', { text: 'all', attrs: { value: '' } }), ...names.map((n) => h('option', { text: n, attrs: { value: n } })));
    select.value = names.includes(current) ? current : '';
  }

  // ── detail ─────────────────────────────────────────────────────────────────────────────────────────────────

  private select(seq: number): void {
    const a = this.alerts.get(seq);
    if (!a) return;
    this.clearSelection();
    this.selected = seq;
    this.rows.get(seq)?.setAttribute('aria-selected', 'true');
    this.showAlert(a);
  }

  /** Neither an alert nor an incident is selected (one detail pane for both). */
  private clearSelection(): void {
    if (this.selected !== undefined) this.rows.get(this.selected)?.setAttribute('aria-selected', 'false');
    if (this.selectedIncident !== undefined) this.incidentRows.get(this.selectedIncident)?.setAttribute('aria-selected', 'false');
    this.selected = undefined;
    this.selectedIncident = undefined;
    this.incidentView = undefined;
  }

  /** A new detail: earlier loads and refreshes stop; returns whether a load is still for the shown detail. */
  private newDetail(): () => boolean {
    const myToken = ++this.detailToken;
    if (this.refreshTimer !== undefined) window.clearTimeout(this.refreshTimer);
    this.detailBody.className = '';
    return () => myToken === this.detailToken;
  }

  private showAlert(a: Alert): void {
    const alive = this.newDetail();
    this.detailTitle.replaceChildren(h('span', { class: `badge sev-${a.severity}`, text: a.severity }), ` ${a.title}`);
    this.detailBody.replaceChildren(...this.alertFacts(a), h('p', { class: 'loading', text: 'loading the call’s messages…' }));
    void this.loadDetail(a.seq, this.detailBody, alive, undefined, LIVE_REFRESH_TIMES);
  }

  /** The alert with its call's messages into `container` (the detail pane, or an incident's sample call). */
  private async loadDetail(seq: number, container: HTMLElement, alive: () => boolean, shownMessages: number | undefined, refreshesLeft: number): Promise<void> {
    let error: string | undefined;
    const detail = await getJson<AlertDetailJson>(`api/alerts/${seq}`, (why) => (error = why));
    if (!alive()) return;
    if (detail && detail.messages.length !== shownMessages) this.renderDetail(detail, container);
    else if (!detail) container.querySelector('.loading')?.replaceWith(h('p', { class: 'missing', text: `could not load the call’s messages: ${error ?? 'unknown error'}` }));
    // A call that is still running gets more messages (180, 200, ACK, BYE): look again for a while.
    if (refreshesLeft > 0 && detail && Date.now() - Date.parse(detail.alert.ts) < 60_000) {
      this.refreshTimer = window.setTimeout(() => void this.loadDetail(seq, container, alive, detail.messages.length, refreshesLeft - 1), LIVE_REFRESH_MS);
    }
  }

  private alertFacts(a: Alert): HTMLElement[] {
    const { facts, fact } = factList();
    fact('Rule', a.rule);
    fact('Presented', `${a.presented.number ?? '(no number)'} in ${a.presented.header}${a.presented.displayName ? ` ("${a.presented.displayName}")` : ''}`);
    fact('Source', `${a.network.src} → ${a.network.dst} over ${a.network.transport}`);
    fact('Peer', a.network.peer ? `${a.network.peer}${a.network.trust ? ` (${a.network.trust})` : ''}` : '(not a configured peer)');
    fact('Call-ID', a.call.callId);
    fact('From', a.call.from);
    fact('To', a.call.to);
    if (a.call.pai.length > 0) fact('P-Asserted-Identity', a.call.pai.join(', '));
    if (a.call.diversion && a.call.diversion.length > 0) fact('Diversion', a.call.diversion.join(', '));
    if (a.call.identity) {
      const i = a.call.identity;
      fact('Identity', `attest ${i.attest ?? '?'}, orig ${i.origTn ?? '?'}, ${i.verified ? 'verified' : 'not verified'}${i.reason ? `: ${i.reason}` : ''}`);
    }
    fact('Captured', `${a.captureTs} (from ${a.network.origin})`);
    fact('Alert', `seq ${a.seq}, id ${a.id}, raised ${a.ts}`);

    const reasons = h('ul', { class: 'reasons' }, ...a.reasons.map((r) => h('li', { text: r })));
    const ev = h('table', { class: 'evidence' });
    ev.append(h('thead', {}, h('tr', {}, h('th', { text: 'Header' }), h('th', { text: 'Value' }), h('th', { text: 'Frame' }))));
    ev.append(
      h(
        'tbody',
        {},
        ...a.evidence.map((e) => h('tr', {}, h('td', { text: e.header }), h('td', { class: 'value', text: e.value }), h('td', { text: e.frame !== undefined ? String(e.frame) : '' }))),
      ),
    );
    return [h('p', { class: 'summary', text: a.summary }), h('h3', { text: 'Why' }), reasons, h('h3', { text: 'Evidence' }), ev, h('h3', { text: 'Network and identity' }), facts];
  }

  /**
   * Summary, reasons and evidence first, then (after the ladder) the network and identity facts; `ladderFirst` (an
   * incident's sample call) keeps only the summary before the ladder.
   */
  private splitFacts(a: Alert, ladderFirst: boolean): { head: HTMLElement[]; tail: HTMLElement[] } {
    const all = this.alertFacts(a);
    const n = ladderFirst ? 1 : 5;
    return { head: all.slice(0, n), tail: all.slice(n) };
  }

  private renderDetail(d: AlertDetailJson, container: HTMLElement): void {
    const a = d.alert;
    const { head, tail } = this.splitFacts(a, container !== this.detailBody);
    const parts: HTMLElement[] = [...head];
    const pcap = h('a', { text: 'Download pcap of this call', attrs: { href: apiUrl(d.pcap, true), download: '', id: 'pcap-link' } });
    parts.push(h('div', { class: 'downloads' }, pcap, h('span', { class: 'legend', text: `${d.messages.length} SIP message${d.messages.length === 1 ? '' : 's'}` })));
    parts.push(h('h3', { text: 'Call ladder' }));
    if (d.messages.length === 0) {
      pcap.remove();
      parts.push(h('p', { class: 'missing', text: d.missing ?? 'no messages kept for this call' }), ...tail);
      container.replaceChildren(...parts);
      return;
    }
    const ladderWrap = h('div', { class: 'ladder-wrap', attrs: { id: 'ladder' } });
    const rawTitle = h('h3', { class: 'raw-title' });
    const raw = h('pre', { class: 'raw', attrs: { id: 'raw', tabindex: '0', 'aria-labelledby': 'raw-caption' } });
    const headers = a.evidence.map((e) => e.header);
    const model = ladderModel(a, d.messages);
    const show = (index: number): void => {
      const m = d.messages[index];
      if (!m) return;
      ladderWrap.replaceChildren(renderLadder(model, index, { onSelect: (i) => show(i) }, `Ladder of call ${a.call.callId}`));
      rawTitle.replaceChildren(
        h('span', { text: 'Message', attrs: { id: 'raw-caption' } }),
        h('span', { class: 'legend', text: `${m.label} · frame ${m.frame} · ${m.time} · ${m.src} → ${m.dst} (${m.transport}) · ${m.bytes} bytes` }),
      );
      this.renderRaw(raw, m, headers);
      const focused = ladderWrap.querySelector<SVGGElement>(`g.arrow[data-index="${index}"]`);
      if (document.activeElement?.closest('#ladder')) focused?.focus();
    };
    parts.push(ladderWrap, rawTitle, raw);
    parts.push(h('p', { class: 'legend' }, h('mark', { text: 'marked' }), ' lines are the headers this rule looked at: ', headers.join(', ') || '(none)'));
    parts.push(...tail);
    container.replaceChildren(...parts);
    const firstOffending = d.messages.find((m) => m.offending) ?? d.messages[0];
    show(firstOffending?.index ?? 0);
  }

  private renderRaw(pre: HTMLPreElement, m: EvidenceMessageJson, headers: readonly string[]): void {
    const lines = highlightLines(m.raw, headers);
    pre.replaceChildren(
      ...lines.map((l) =>
        l.highlight !== undefined ? h('mark', { class: 'line', text: l.text, attrs: { title: `evidence: ${l.highlight}` } }) : h('span', { class: 'line', text: l.text || ' ' }),
      ),
    );
  }
}

new Page().start();
