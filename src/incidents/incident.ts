/**
 * Incidents (issue #19, DESIGN.md §3 "After alerts: incidents"): alerts grouped by rule and a per-rule key into
 * the campaigns an operator acts on. Pure state over alerts and an injected capture clock: no I/O, no timers.
 *
 * Key: the configured peer the alert came from, else the source address (without port) for an unknown source;
 * a rule configured with `key: numberPrefix` (CLI-NEIGHBOUR by default, the first 6 digits of the presented
 * E.164 number, FCC neighbour-spoofing guidance: NPA-NXX / NL area code + 2) is keyed by that prefix instead.
 * An incident closes after a quiet period of capture time (per rule) and the next alert of its key opens a new one.
 */
import { severityRank, type Alert, type Severity } from '../alerts/alert.js';
import type { IncidentRuleConfig, IncidentsConfig } from '../config/types.js';
import { DistinctCounter } from './distinct.js';

export type { IncidentKeyMode, IncidentRuleConfig, IncidentsConfig } from '../config/types.js';

/** What an incident groups on; exactly one of `peer`/`src`, or `numberPrefix`. */
export interface IncidentKey {
  readonly peer?: string;
  readonly src?: string;
  readonly numberPrefix?: string;
}

export type IncidentState = 'open' | 'closed';

/** The published incident (issue #19): field names are a contract of `analyze --format json`, the API and the WebSocket. */
export interface Incident {
  readonly id: number;
  readonly rule: string;
  /** The highest severity of its alerts. */
  readonly severity: Severity;
  readonly key: IncidentKey;
  readonly state: IncidentState;
  readonly count: number;
  /** Capture time of the first and last alert (ISO 8601). */
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** Distinct presented (calling) numbers: exact up to 64, a HyperLogLog estimate (~3%) beyond. */
  readonly distinctPresented: number;
  /** Distinct called numbers (To user): exact up to 64, estimated beyond. */
  readonly distinctCalled: number;
  readonly firstAlertSeq: number;
  readonly lastAlertSeq: number;
  /** Up to 5 alert seqs: the first ones of the incident. */
  readonly sampleAlertSeqs: readonly number[];
}

export const SAMPLE_SEQS = 5;
export const DEFAULT_PREFIX_DIGITS = 6;

/** Rule defaults that apply when the config says nothing about a rule. */
export const DEFAULT_INCIDENT_RULES: Readonly<Record<string, IncidentRuleConfig>> = {
  'CLI-NEIGHBOUR': { key: 'numberPrefix', prefixDigits: DEFAULT_PREFIX_DIGITS },
};

export const INCIDENTS_DEFAULTS: IncidentsConfig = { quietSeconds: 600, updateSeconds: 5, maxOpen: 10_000, rules: {} };

export type IncidentEventKind = 'open' | 'update' | 'close';

export interface IncidentGrouperOptions {
  /** First id to give (the daemon continues after the stored ones); default 1. */
  readonly firstId?: number;
  /**
   * Every change, in order: `open` for the first alert, `update` for each further one, `close`. `get` makes the
   * published copy: call it only when the incident is sent (it costs more than the grouping).
   */
  readonly onEvent?: (kind: IncidentEventKind, id: number, get: () => Incident) => void;
  /** Closed incidents kept for {@link IncidentGrouper.all} (analyze); older ones are dropped and counted. Default 100,000. */
  readonly maxClosedKept?: number;
}

interface Live {
  id: number;
  rule: string;
  severity: Severity;
  key: IncidentKey;
  mapKey: string;
  state: IncidentState;
  count: number;
  firstMs: number;
  lastMs: number;
  firstSeen: string;
  lastSeen: string;
  presented: DistinctCounter;
  called: DistinctCounter;
  firstAlertSeq: number;
  lastAlertSeq: number;
  samples: number[];
  quietMs: number;
}

/** `10.0.0.1` from `10.0.0.1:5060`, `2001:db8::1` from `2001:db8::1:5060` or `[2001:db8::1]:5060`. */
export function addressOf(src: string): string {
  const bracket = /^\[([^\]]*)\](?::\d+)?$/.exec(src);
  if (bracket) return bracket[1]!;
  const i = src.lastIndexOf(':');
  return i > 0 && /^\d+$/.test(src.slice(i + 1)) ? src.slice(0, i) : src;
}

/** The user part of a To header value (`"Bob" <sip:+3120…@host>;tag=x` → `+3120…`); the raw value when none. */
function calledOf(to: string): string {
  const m = /(?:sips?|tel):([^@;>\s]*)/i.exec(to);
  return m ? m[1]! : to;
}

/** Copy of an incident as published (no counters, no internal fields). */
function snapshot(l: Live): Incident {
  return {
    id: l.id,
    rule: l.rule,
    severity: l.severity,
    key: { ...l.key },
    state: l.state,
    count: l.count,
    firstSeen: l.firstSeen,
    lastSeen: l.lastSeen,
    distinctPresented: l.presented.count(),
    distinctCalled: l.called.count(),
    firstAlertSeq: l.firstAlertSeq,
    lastAlertSeq: l.lastAlertSeq,
    sampleAlertSeqs: [...l.samples],
  };
}

export interface IncidentStats {
  readonly open: number;
  readonly opened: number;
  readonly closed: number;
  /** Closed before their quiet period because `maxOpen` was reached. */
  readonly evicted: number;
  /** Closed incidents no longer kept for {@link IncidentGrouper.all}. */
  readonly closedDropped: number;
}

/**
 * Groups alerts into incidents. Feed alerts in seq order with {@link observe}; capture time drives closing (the
 * largest capture time seen, or {@link advance} with a live clock). Bounds: `maxOpen` open incidents (LRU, the
 * least recently grown closes early, counted in `evicted`), distinct counters of 1 KiB each, and `maxClosedKept`.
 */
export class IncidentGrouper {
  private readonly open = new Map<string, Live>();
  private readonly closedList: Incident[] = [];
  private nextId: number;
  private nowMs = -Infinity;
  private lastSweepMs = -Infinity;
  private minQuietMs: number;
  private readonly counters = { opened: 0, closed: 0, evicted: 0, closedDropped: 0 };
  private readonly maxClosedKept: number;
  /** Each rule's incident settings under the current config (built once per rule, not per alert). */
  private readonly ruleConfigs = new Map<string, IncidentRuleConfig>();
  /**
   * The last capture time read and its milliseconds: the alerts of one message share the string (an alert storm
   * raises two per call), and Date.parse of a 9-digit fraction is most of what grouping an alert costs.
   */
  private lastTs = '';
  private lastTsMs = NaN;
  /** The last source address and its host part (addressOf runs two regular expressions). */
  private lastSrc = '';
  private lastSrcHost = '';

  constructor(
    private cfg: IncidentsConfig,
    private readonly opts: IncidentGrouperOptions = {},
  ) {
    this.nextId = opts.firstId ?? 1;
    this.maxClosedKept = opts.maxClosedKept ?? 100_000;
    this.minQuietMs = this.computeMinQuiet();
  }

  /** New quiet periods and keys apply to incidents opened from now on (open ones keep theirs). */
  reconfigure(cfg: IncidentsConfig): void {
    this.cfg = cfg;
    this.ruleConfigs.clear();
    this.minQuietMs = this.computeMinQuiet();
  }

  private computeMinQuiet(): number {
    let min = this.cfg.quietSeconds;
    for (const r of Object.values(this.cfg.rules)) if (r.quietSeconds !== undefined) min = Math.min(min, r.quietSeconds);
    return min * 1000;
  }

  private ruleConfig(rule: string): IncidentRuleConfig {
    let rc = this.ruleConfigs.get(rule);
    if (rc === undefined) {
      const own = this.cfg.rules[rule];
      const def = DEFAULT_INCIDENT_RULES[rule];
      rc = own && def ? { ...def, ...own } : (own ?? def ?? {});
      this.ruleConfigs.set(rule, rc);
    }
    return rc;
  }

  private sourceHost(src: string): string {
    if (src !== this.lastSrc) {
      this.lastSrcHost = addressOf(src);
      this.lastSrc = src;
    }
    return this.lastSrcHost;
  }

  /** The key an alert groups on under the current config. */
  keyOf(alert: Alert): IncidentKey {
    const rc = this.ruleConfig(alert.rule);
    if (rc.key === 'numberPrefix') {
      const n = alert.presented.number;
      if (n !== undefined && /^\+\d/.test(n)) return { numberPrefix: '+' + n.slice(1).replace(/\D/g, '').slice(0, rc.prefixDigits ?? DEFAULT_PREFIX_DIGITS) };
    }
    return alert.network.peer !== undefined ? { peer: alert.network.peer } : { src: this.sourceHost(alert.network.src) };
  }

  /** Adds one alert (with its final seq) to its incident, opening one if needed. */
  observe(alert: Alert): void {
    if (alert.captureTs !== this.lastTs) {
      this.lastTsMs = Date.parse(alert.captureTs);
      this.lastTs = alert.captureTs;
    }
    const parsed = this.lastTsMs;
    // A capture time no Date holds: the alert belongs at the current capture clock.
    const t = Number.isFinite(parsed) ? parsed : Number.isFinite(this.nowMs) ? this.nowMs : 0;
    const iso = Number.isFinite(parsed) ? alert.captureTs : new Date(t).toISOString();
    this.advance(t);
    const key = this.keyOf(alert);
    const mapKey = `${alert.rule}\u0000${key.peer ?? ''}\u0000${key.src ?? ''}\u0000${key.numberPrefix ?? ''}`;
    let l = this.open.get(mapKey);
    if (l) {
      // Least recently grown last: the Map's order is the eviction order.
      this.open.delete(mapKey);
      this.open.set(mapKey, l);
      l.count++;
      if (severityRank(alert.severity) > severityRank(l.severity)) l.severity = alert.severity;
      if (t >= l.lastMs) {
        l.lastMs = t;
        l.lastSeen = iso;
      }
      if (t < l.firstMs) {
        l.firstMs = t;
        l.firstSeen = iso;
      }
      l.lastAlertSeq = alert.seq;
      if (l.samples.length < SAMPLE_SEQS) l.samples.push(alert.seq);
    } else {
      if (this.open.size >= this.cfg.maxOpen) {
        const oldest = this.open.values().next().value;
        if (oldest) {
          this.counters.evicted++;
          this.close(oldest);
        }
      }
      const rc = this.ruleConfig(alert.rule);
      l = {
        id: this.nextId++,
        rule: alert.rule,
        severity: alert.severity,
        key,
        mapKey,
        state: 'open',
        count: 1,
        firstMs: t,
        lastMs: t,
        firstSeen: iso,
        lastSeen: iso,
        presented: new DistinctCounter(),
        called: new DistinctCounter(),
        firstAlertSeq: alert.seq,
        lastAlertSeq: alert.seq,
        samples: [alert.seq],
        quietMs: (rc.quietSeconds ?? this.cfg.quietSeconds) * 1000,
      };
      this.open.set(mapKey, l);
      this.counters.opened++;
    }
    if (alert.presented.number !== undefined) l.presented.add(alert.presented.number);
    l.called.add(calledOf(alert.call.to));
    if (this.opts.onEvent) {
      const live = l;
      this.opts.onEvent(l.count === 1 ? 'open' : 'update', l.id, () => snapshot(live));
    }
  }

  /**
   * Moves the capture clock to `nowMs` (never backwards) and closes incidents quiet for longer than their period.
   * Sweeps at most once per second of capture time unless `force`.
   */
  advance(nowMs: number, force = false): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    if (!force && this.nowMs - this.lastSweepMs < 1000) return;
    this.lastSweepMs = this.nowMs;
    const horizon = this.nowMs - this.minQuietMs;
    // Deleting the visited entry while iterating a Map is safe (ECMA-262 §24.1.3.5).
    for (const l of this.open.values()) {
      // Map order is by last growth; capture time mostly follows it, so stop at the first one too recent for any rule.
      if (l.lastMs > horizon) break;
      if (this.nowMs - l.lastMs > l.quietMs) this.close(l);
    }
  }

  private close(l: Live): void {
    this.open.delete(l.mapKey);
    l.state = 'closed';
    this.counters.closed++;
    const snap = snapshot(l);
    this.closedList.push(snap);
    if (this.closedList.length > this.maxClosedKept) {
      this.closedList.shift();
      this.counters.closedDropped++;
    }
    this.opts.onEvent?.('close', snap.id, () => snap);
  }

  /** The open incidents, oldest first by id. */
  openIncidents(): Incident[] {
    return [...this.open.values()].map(snapshot).sort((a, b) => a.id - b.id);
  }

  /** The open incident of an id, when it is open. */
  get(id: number): Incident | undefined {
    for (const l of this.open.values()) if (l.id === id) return snapshot(l);
    return undefined;
  }

  /** Kept closed incidents and the open ones, by id. */
  all(): Incident[] {
    return [...this.closedList, ...this.openIncidents()].sort((a, b) => a.id - b.id);
  }

  /** Open incidents per rule (for `/metrics`). */
  openByRule(): Map<string, number> {
    const m = new Map<string, number>();
    for (const l of this.open.values()) m.set(l.rule, (m.get(l.rule) ?? 0) + 1);
    return m;
  }

  stats(): IncidentStats {
    return { open: this.open.size, ...this.counters };
  }
}
