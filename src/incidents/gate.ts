/**
 * Suppression and thresholds (issue #19, in Suricata's terms: `suppress`, `threshold`). Marks an alert before it is
 * stored: `suppressed: true` when a `suppress` entry matches it, `belowThreshold: true` while its rule's threshold
 * count is not reached. Marked alerts are stored like any other but not streamed (WebSocket, console) and not
 * grouped into incidents ({@link isStreamed}). Pure state over alerts and their capture time: no I/O, no timers.
 *
 * Threshold windows follow Suricata's `threshold` type: per track key a window of `seconds` of capture time opens
 * at the key's first alert; in it the `count`-th and every later alert pass. The first alert after the window
 * opens the next one (and is counted as its first).
 */
import { addressOf } from './incident.js';
import type { Alert } from '../alerts/alert.js';
import type { Config, SuppressConfig, ThresholdConfig } from '../config/types.js';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../identity/ip.js';
import { parseNumberPattern } from '../identity/number-set.js';

/** Threshold keys kept at once (over all rules); the least recently seen is dropped and counted. */
export const DEFAULT_THRESHOLD_KEYS = 100_000;

interface Suppression {
  readonly rule: string;
  readonly peer?: string;
  readonly src?: Cidr;
  readonly number?: (n: string) => boolean;
  readonly expiresMs: number;
}

interface Window {
  startMs: number;
  n: number;
}

export interface GateStats {
  readonly suppressed: number;
  readonly belowThreshold: number;
  /** Threshold keys dropped because {@link DEFAULT_THRESHOLD_KEYS} were held (their window starts again). */
  readonly keysEvicted: number;
}

/** A matcher of the presented number: glob (`*`, `?`), or an E.164 prefix or range as in the rest of the config. */
export function numberMatcher(pattern: string): (n: string) => boolean {
  if (/[*?]/.test(pattern)) {
    const re = new RegExp(`^${pattern.replace(/[+]/g, '\\+').replace(/\*/g, '\\d*').replace(/\?/g, '\\d')}$`);
    return (n) => re.test(n);
  }
  const p = parseNumberPattern(pattern);
  if (p.kind === 'invalid') return () => false;
  const pat = p.pattern;
  if (pat.kind === 'prefix') return (n) => n.startsWith(pat.prefix);
  return (n) => n.length === pat.lo.length && n >= pat.lo && n <= pat.hi;
}

function compileSuppression(e: SuppressConfig): Suppression {
  const cidr = e.src !== undefined ? parseCidr(e.src) : undefined;
  return {
    rule: e.rule,
    ...(e.peer !== undefined ? { peer: e.peer } : {}),
    ...(cidr?.kind === 'ok' ? { src: cidr.cidr } : {}),
    ...(e.number !== undefined ? { number: numberMatcher(e.number) } : {}),
    expiresMs: e.expires !== undefined ? Date.parse(e.expires) : Infinity,
  };
}

/** The threshold track key of an alert: the peer (all unknown sources share one key), the source address, or the number. */
function trackKey(t: ThresholdConfig, a: Alert): string {
  if (t.track === 'by_peer') return a.network.peer !== undefined ? `p:${a.network.peer}` : 'p';
  if (t.track === 'by_src') return `s:${addressOf(a.network.src)}`;
  return `n:${a.presented.number ?? ''}`;
}

export class AlertGate {
  private suppressions = new Map<string, Suppression[]>();
  private thresholds = new Map<string, ThresholdConfig>();
  private readonly windows = new Map<string, Window>();
  private nowMs = 0;
  private readonly counters = { suppressed: 0, belowThreshold: 0, keysEvicted: 0 };

  constructor(
    config: Pick<Config, 'suppress' | 'threshold'>,
    private readonly maxKeys = DEFAULT_THRESHOLD_KEYS,
  ) {
    this.reconfigure(config);
  }

  /** Whether any entry is configured (without one, {@link mark} returns every alert as it is). */
  get active(): boolean {
    return this.suppressions.size > 0 || this.thresholds.size > 0;
  }

  /**
   * New entries apply from the next alert (SIGHUP). Windows of a threshold whose rule, track, count and seconds
   * stay the same keep counting; the others start again.
   */
  reconfigure(config: Pick<Config, 'suppress' | 'threshold'>): void {
    const sup = new Map<string, Suppression[]>();
    for (const e of config.suppress ?? []) {
      const list = sup.get(e.rule) ?? [];
      list.push(compileSuppression(e));
      sup.set(e.rule, list);
    }
    this.suppressions = sup;
    const next = new Map<string, ThresholdConfig>();
    for (const t of config.threshold ?? []) if (!next.has(t.rule)) next.set(t.rule, t);
    for (const [rule, old] of this.thresholds) {
      const t = next.get(rule);
      if (t && t.track === old.track && t.count === old.count && t.seconds === old.seconds) continue;
      const prefix = `${rule}\u0000`;
      for (const k of this.windows.keys()) if (k.startsWith(prefix)) this.windows.delete(k);
    }
    this.thresholds = next;
  }

  /** The alert as it is stored: the same object when nothing applies, else a copy with its mark. */
  mark(a: Alert): Alert {
    if (!this.active) return a;
    const parsed = Date.parse(a.captureTs);
    // A capture time no Date holds counts at the latest one seen.
    const t = Number.isFinite(parsed) ? parsed : this.nowMs;
    if (t > this.nowMs) this.nowMs = t;
    if (this.isSuppressed(a, t)) {
      this.counters.suppressed++;
      return { ...a, suppressed: true };
    }
    const th = this.thresholds.get(a.rule);
    if (th && !this.reached(th, a, t)) {
      this.counters.belowThreshold++;
      return { ...a, belowThreshold: true };
    }
    return a;
  }

  stats(): GateStats {
    return { ...this.counters };
  }

  private isSuppressed(a: Alert, t: number): boolean {
    const list = this.suppressions.get(a.rule);
    if (!list) return false;
    for (const s of list) {
      if (t >= s.expiresMs) continue;
      if (s.peer !== undefined && a.network.peer !== s.peer) continue;
      if (s.src !== undefined) {
        const ip = parseIp(addressOf(a.network.src));
        if (ip === undefined || !cidrContains(s.src, ip)) continue;
      }
      if (s.number !== undefined && (a.presented.number === undefined || !s.number(a.presented.number))) continue;
      return true;
    }
    return false;
  }

  private reached(th: ThresholdConfig, a: Alert, t: number): boolean {
    const key = `${th.rule}\u0000${trackKey(th, a)}`;
    let w = this.windows.get(key);
    if (w && t - w.startMs < th.seconds * 1000) {
      w.n++;
      // Most recently seen last: the Map's order is the eviction order.
      this.windows.delete(key);
    } else {
      w = { startMs: t, n: 1 };
      if (!this.windows.has(key) && this.windows.size >= this.maxKeys) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) {
          this.windows.delete(oldest);
          this.counters.keysEvicted++;
        }
      }
      this.windows.delete(key);
    }
    this.windows.set(key, w);
    return w.n >= th.count;
  }
}
