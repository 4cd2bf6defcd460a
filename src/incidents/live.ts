/**
 * Incidents in the daemon (issue #19): committed alerts go through an {@link IncidentGrouper}; each incident is
 * published (WebSocket) and saved (store) when it opens, at most once per `updateSeconds` of wall time while it grows
 * (the last growth is sent when the period is over, so the final count always goes out), and when it closes.
 *
 * Live traffic stops without a last packet to move the capture clock, so a timer moves it: the capture time of the
 * newest alert plus the wall time since it arrived. Quiet incidents then close without further traffic.
 */
import type { Alert } from '../alerts/alert.js';
import type { IncidentsConfig } from '../config/types.js';
import { IncidentGrouper, type Incident, type IncidentEventKind } from './incident.js';

export interface LiveIncidentsOptions {
  readonly config: IncidentsConfig;
  /** First incident id (after the stored ones). */
  readonly firstId: number;
  /** Sends one incident change (WebSocket, console); `first` is the alert that opened it (on `open` only). */
  readonly publish: (event: IncidentEventKind, incident: Incident, first?: Alert) => void;
  /** Keeps the latest copy (store); failures are reported to `onError` and the incident still goes out. */
  readonly save: (incident: Incident) => void;
  readonly onError?: (err: unknown) => void;
  /** Wall clock, ms; injected for tests. */
  readonly now?: () => number;
  /** How often pending updates and quiet periods are checked; default 250 ms. */
  readonly tickMs?: number;
}

interface Pending {
  lastSentMs: number;
  get: (() => Incident) | undefined;
}

export class LiveIncidents {
  readonly grouper: IncidentGrouper;
  private readonly pending = new Map<number, Pending>();
  private readonly now: () => number;
  private updateMs: number;
  private captureMs: number | undefined;
  private wallAtCaptureMs = 0;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;
  /** The alert being grouped (the one that opens an incident, when one opens). */
  private current: Alert | undefined;
  private readonly counters = { published: 0, saveErrors: 0 };

  constructor(private readonly opts: LiveIncidentsOptions) {
    this.now = opts.now ?? Date.now;
    this.updateMs = opts.config.updateSeconds * 1000;
    this.grouper = new IncidentGrouper(opts.config, { firstId: opts.firstId, onEvent: (kind, id, get) => this.onEvent(kind, id, get) });
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? 250);
    this.timer.unref();
  }

  /** A committed alert (with its store seq). */
  onAlert(alert: Alert): void {
    if (this.stopped) return;
    const t = Date.parse(alert.captureTs);
    if (Number.isFinite(t) && (this.captureMs === undefined || t >= this.captureMs)) {
      this.captureMs = t;
      this.wallAtCaptureMs = this.now();
    }
    this.current = alert;
    this.grouper.observe(alert);
    this.current = undefined;
  }

  /** New quiet periods, keys and update period (SIGHUP); open incidents keep their quiet period. */
  reconfigure(config: IncidentsConfig): void {
    this.updateMs = config.updateSeconds * 1000;
    this.grouper.reconfigure(config);
  }

  /** Sends due updates and closes quiet incidents; the timer calls it, tests may too. */
  tick(): void {
    const now = this.now();
    if (this.captureMs !== undefined) this.grouper.advance(this.captureMs + (now - this.wallAtCaptureMs), true);
    for (const p of this.pending.values()) {
      if (p.get && now - p.lastSentMs >= this.updateMs) {
        const inc = p.get();
        p.get = undefined;
        p.lastSentMs = now;
        this.send('update', inc);
      }
    }
  }

  stats(): { readonly published: number; readonly saveErrors: number } {
    return { ...this.counters };
  }

  /** Stops the timer; alerts after this are not grouped (shutdown: the store is closing). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private onEvent(kind: IncidentEventKind, id: number, get: () => Incident): void {
    const now = this.now();
    if (kind === 'open') {
      this.pending.set(id, { lastSentMs: now, get: undefined });
      this.send('open', get(), this.current);
    } else if (kind === 'close') {
      this.pending.delete(id);
      this.send('close', get());
    } else {
      const p = this.pending.get(id);
      if (!p) return;
      if (now - p.lastSentMs >= this.updateMs) {
        p.lastSentMs = now;
        p.get = undefined;
        this.send('update', get());
      } else p.get = get;
    }
  }

  private send(kind: IncidentEventKind, inc: Incident, first?: Alert): void {
    try {
      this.opts.save(inc);
    } catch (e) {
      this.counters.saveErrors++;
      this.opts.onError?.(e);
    }
    this.counters.published++;
    this.opts.publish(kind, inc, first);
  }
}
