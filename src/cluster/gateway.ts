/**
 * The gateway role (issue #22): a local SQLite projection of the alert stream, served by the existing WebSocket,
 * HTTP API, metrics and page.
 *
 * **The stream sequence is the alert `seq`.** The gateway reads SW_ALERTS with an ordered consumer from its
 * projection's last seq + 1 and hands each alert, its seq set to the JetStream stream sequence, to the daemon's
 * AlertBus, whose persistence here is {@link streamSeqPersistence}: it stores alerts with the seq they carry instead
 * of numbering them. Seqs keep increasing (with gaps where the stream holds something else), so `since` resumes
 * across gateways: every gateway gives an alert the same seq. A projection whose file is lost starts empty (last seq
 * 0) and is rebuilt from the stream. A gateway needs its own store file (not one a single-node daemon numbered).
 *
 * **Sightings.** Sensors put `<alertId>.<sensorId>` into the sightings bucket for every alert they raise, also when
 * the stream already had it. The gateway watches the bucket (all of it at start, before it reads alerts) and sets
 * `network.sensors` of each alert it projects to the sensors known then; a sighting that arrives after its alert was
 * projected rewrites the stored alert, so `/api/alerts` lists every sensor, while a WebSocket client has the list as
 * it was when the alert was first delivered.
 */
import { DeliverPolicy, type ConsumerMessages, type JetStreamManager, type KV, type NatsConnection, type QueuedIterator, type KvEntry } from 'nats';
import type { AlertPersistence, AlertBus } from '../alerts/bus.js';
import type { Alert } from '../alerts/alert.js';
import type { AlertStore } from '../sinks/store.js';
import { ALERT_STREAM } from './contract.js';

/** Alerts waiting for the store past which the gateway stops reading the stream until they are committed. */
const BACKLOG = 4096;

/** AlertBus persistence that keeps the seq each alert carries (the stream sequence) instead of numbering. */
export function streamSeqPersistence(store: AlertStore): AlertPersistence {
  return {
    lastSeq: () => store.lastSeq(),
    commit(alerts) {
      store.append(alerts);
      return [...alerts];
    },
  };
}

export interface GatewayStats {
  readonly projected: number;
  readonly lastSeq: number;
  readonly badAlerts: number;
  readonly duplicates: number;
  readonly sightings: number;
  readonly updated: number;
  /** Times the watchdog read the stream again after the projection stalled behind it. */
  readonly feedRestarts: number;
}

export interface GatewayOptions {
  readonly store: AlertStore;
  readonly bus: AlertBus;
  readonly onError: (what: string, err: Error) => void;
  /** Told about each alert handed to the bus. */
  readonly onProjected?: (alert: Alert) => void;
  /**
   * Suppression and thresholds (issue #19) of this gateway's config, applied to every projected alert: sensors and
   * correlators publish unmarked alerts, so a suppression covers the windowed rules too and a SIGHUP on the gateway
   * changes what it streams (every gateway reads the stream in one order: the same config marks alike).
   */
  readonly mark?: (alert: Alert) => Alert;
  /** Alerts remembered for merging late sightings and for dropping a repeated alert id; default 100 000. */
  readonly remember?: number;
}

/** A bounded insertion-ordered map (oldest evicted). */
class Recent<V> {
  private readonly m = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    return this.m.get(k);
  }
  set(k: string, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as string);
  }
}

export class Gateway {
  private readonly sensorsOf: Recent<Set<string>>;
  private readonly projectedAlerts: Recent<Alert>;
  private messages: ConsumerMessages | undefined;
  private watch: QueuedIterator<KvEntry> | undefined;
  private counters = { projected: 0, badAlerts: 0, duplicates: 0, sightings: 0, updated: 0, feedRestarts: 0 };
  private lastSeq = 0;
  private stopped = false;
  /** The feed's generation: a restarted feed's predecessor projects nothing more. */
  private feedGen = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private jsm: { readonly nc: NatsConnection; readonly jsm: JetStreamManager } | undefined;

  constructor(private readonly opts: GatewayOptions) {
    const n = opts.remember ?? 100_000;
    this.sensorsOf = new Recent(n);
    this.projectedAlerts = new Recent(n);
  }

  async start(nc: NatsConnection, sightings: KV): Promise<void> {
    let initialized!: () => void;
    const ready = new Promise<void>((r) => (initialized = r));
    this.watch = await sightings.watch({ initializedFn: () => initialized(), ignoreDeletes: true });
    void (async () => {
      try {
        for await (const e of this.watch!) this.sighting(e.key);
      } catch (err) {
        if (!this.stopped) this.opts.onError('sightings watch', err as Error);
      }
    })();
    await ready;
    this.lastSeq = this.opts.store.lastSeq();
    await this.feed(nc);
    this.startWatchdog(nc);
  }

  /** Read the alert stream from the projection's last seq + 1 with an ordered consumer. */
  private async feed(nc: NatsConnection): Promise<void> {
    const gen = ++this.feedGen;
    this.messages?.stop();
    const consumer = await nc.jetstream().consumers.get(ALERT_STREAM, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 });
    const messages = (this.messages = await consumer.consume({ max_messages: 1024 }));
    void (async () => {
      try {
        for await (const m of messages) {
          // Rebuilding from the stream outpaces the store's commits: wait for them rather than overflow the bus's
          // spill queue (which would leave a gap in the projection).
          if (this.opts.bus.stats().pendingPersist >= BACKLOG) await this.opts.bus.idle();
          if (gen !== this.feedGen) return;
          this.project(m.seq, m.data);
        }
      } catch (err) {
        if (!this.stopped && gen === this.feedGen) this.opts.onError('alert consumer', err as Error);
      }
    })();
  }

  /**
   * The ordered consumer recovers from most server losses by itself, but not always: when the NATS node it was
   * served by died, the projection was seen to stop for minutes while the stream went on (issue #22 fault test).
   * Every 2 s: if the stream holds alerts past the projection and the projection did not move since the last look,
   * read again from the projection's last seq + 1 (a repeated seq is skipped by project()).
   */
  private startWatchdog(nc: NatsConnection): void {
    let seenSeq = this.lastSeq;
    let lagging = false;
    const tick = async (): Promise<void> => {
      if (this.stopped || nc.isClosed()) return;
      const lag = await this.lag(nc).catch(() => 0);
      const stuck = lag > 0 && this.lastSeq === seenSeq && this.opts.bus.stats().pendingPersist < BACKLOG;
      seenSeq = this.lastSeq;
      if (stuck && lagging) {
        this.counters.feedRestarts++;
        await this.feed(nc).catch((err: Error) => this.opts.onError('alert consumer restart', err));
        lagging = false;
      } else lagging = stuck;
    };
    this.watchdog = setInterval(() => void tick(), 2000);
    this.watchdog.unref();
  }

  /** Alerts in the stream not yet projected here. */
  async lag(nc: NatsConnection): Promise<number> {
    // (One manager per connection: each jetstreamManager() call asks the server for the account first, and the
    // watchdog asks every 2 s.)
    if (this.jsm?.nc !== nc) this.jsm = { nc, jsm: await nc.jetstreamManager() };
    const info = await this.jsm.jsm.streams.info(ALERT_STREAM);
    return Math.max(0, info.state.last_seq - this.lastSeq);
  }

  stats(): GatewayStats {
    return { ...this.counters, lastSeq: this.lastSeq };
  }

  /** Stop reading (for good, or `final` false: to start again after a failed start). */
  stop(final = true): void {
    if (final) this.stopped = true;
    this.feedGen++;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.messages?.stop();
    this.watch?.stop();
    this.messages = undefined;
    this.watch = undefined;
  }

  private project(seq: number, data: Uint8Array): void {
    if (this.stopped) return;
    if (seq <= this.lastSeq) return; // an ordered consumer re-created after a reconnect may repeat a sequence
    this.lastSeq = seq;
    let a: Alert;
    try {
      a = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as Alert;
    } catch {
      this.counters.badAlerts++;
      return;
    }
    if (typeof a !== 'object' || a === null || typeof a.id !== 'string' || typeof a.network !== 'object' || a.network === null) {
      this.counters.badAlerts++;
      return;
    }
    // The duplicate window dropped repeats of an id; one older than the window is dropped here (while remembered).
    if (this.projectedAlerts.get(a.id)) {
      this.counters.duplicates++;
      return;
    }
    const sensors = new Set(this.sensorsOf.get(a.id) ?? []);
    if (a.network.sensor !== undefined) sensors.add(a.network.sensor);
    const projected: Alert = { ...a, seq, network: { ...a.network, ...(sensors.size > 0 ? { sensors: [...sensors].sort() } : {}) } };
    const alert = this.opts.mark ? this.opts.mark(projected) : projected;
    this.projectedAlerts.set(a.id, alert);
    this.counters.projected++;
    this.opts.bus.publish(alert);
    this.opts.onProjected?.(alert);
  }

  private sighting(key: string): void {
    if (this.stopped) return;
    const dot = key.indexOf('.');
    if (dot <= 0) return;
    const id = key.slice(0, dot);
    const sensor = key.slice(dot + 1);
    this.counters.sightings++;
    let set = this.sensorsOf.get(id);
    if (!set) this.sensorsOf.set(id, (set = new Set()));
    if (set.has(sensor)) return;
    set.add(sensor);
    const projected = this.projectedAlerts.get(id);
    if (!projected || projected.network.sensors?.includes(sensor)) return;
    const updated: Alert = { ...projected, network: { ...projected.network, sensors: [...(projected.network.sensors ?? []), sensor].sort() } };
    this.projectedAlerts.set(id, updated);
    // Stored already (committed on the bus's next turn): rewrite it; otherwise the next try after the commit.
    const write = (tries: number): void => {
      if (this.stopped) return;
      if (this.opts.store.updateAlert(updated)) this.counters.updated++;
      else if (tries > 0) setTimeout(() => write(tries - 1), 50).unref();
    };
    write(20);
  }
}
