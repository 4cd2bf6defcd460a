/**
 * Prometheus metrics of the daemon on their own Registry (never the global one, so several daemons can run
 * in one process, as the tests do). Counts are read from the components' own counters at scrape time.
 * Labels are bounded: source names, anomaly kinds, rule ids, severities, sink kinds and configured peer
 * names — never addresses, numbers or Call-IDs.
 */
import { kernelUdpDrops, udpEndpointOf } from '../sources/udp-drops.js';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Alert } from '../alerts/alert.js';
import type { BusStats } from '../alerts/bus.js';
import type { WsHubStats } from '../sinks/websocket.js';
import { UNKNOWN_PEER } from '../sinks/store.js';
import type { SourceStatus } from '../sources/source.js';

/**
 * One bound of DESIGN.md §8.4 as `/metrics` shows it: its configured limit, its current use and how often it was
 * reached (entries evicted, refused or dropped). Units are the bound's own: calls, keys, bytes, clients.
 */
export interface BoundUse {
  /** Stable name: the `limits.*` (or `server.*`) key it comes from, e.g. `calls`, `evidenceBytes`, `wsClients`. */
  readonly bound: string;
  readonly limit: number;
  readonly used: number;
  /** Monotonic: entries evicted, expired early or refused because the bound was reached. */
  readonly evictions: number;
}

export interface MetricsSources {
  sources(): readonly SourceStatus[];
  bus(): BusStats;
  /** True while the alert store refuses writes. */
  persistFailing(): boolean;
  ws(): WsHubStats;
  store(): { sizeBytes: number; alerts: number; lastSeq: number; pruned: number };
  analyzer(): { messages: number; calls: number; errors: number };
  /** Compacting GCs run after a flood's calls expired (src/daemon/compaction.ts); absent: not counted. */
  heapCompactions?(): number;
  /** Open incidents per rule (issue #19); absent: the gauge is empty. */
  openIncidents?(): ReadonlyMap<string, number>;
  /** Every bound's limit, use and evictions (issue #18). */
  bounds?(): readonly BoundUse[];
}

/**
 * prom-client's default metrics that break the Prometheus naming rules (`promtool check metrics`: a gauge must not
 * end in `_total`); their per-type gauges without the suffix (`…_active_handles{type}`) stay.
 */
const NON_COUNTERS_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface DaemonMetrics {
  readonly registry: Registry;
  /** Count a published alert (rule, severity, peer name or `none`). */
  alert(a: Alert): void;
  /** A configuration reload: `ok` or `rejected`. */
  reload(result: 'ok' | 'rejected'): void;
  /** An HTTP or WebSocket request refused for a missing or wrong token. */
  authFailure(endpoint: 'ws' | 'api'): void;
  /** A request refused by the browser-origin defence (issue #17): foreign `Host` or `Origin`. */
  httpRefused(reason: 'host' | 'origin', endpoint: 'ws' | 'http'): void;
  text(): Promise<string>;
}

/** A counter whose value is taken from a running total at scrape time. */
function totalCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Partial<Record<L, string>>, number]>,
): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.inc(labels as Record<L, string>, v);
    },
  });
}

function gauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Partial<Record<L, string>>, number]>,
): void {
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.set(labels as Record<L, string>, v);
    },
  });
}

export function createMetrics(m: MetricsSources): DaemonMetrics {
  const registry = new Registry();
  // `spoofwatch_` + prom-client's own `process_…` / `nodejs_…` names (the former `spoofwatch_process_` prefix made
  // `spoofwatch_process_process_cpu_seconds_total`).
  collectDefaultMetrics({ register: registry, prefix: 'spoofwatch_' });
  for (const name of NON_COUNTERS_NAMED_TOTAL) registry.removeSingleMetric(`spoofwatch_${name}`);

  const perSource = (pick: (s: SourceStatus) => number) =>
    function* (): Iterable<[{ source: string }, number]> {
      for (const s of m.sources()) yield [{ source: s.name }, pick(s)];
    };
  totalCounter(registry, 'spoofwatch_source_frames_total', 'Reads per source: UDP datagrams, TCP reads, capture frames', ['source'], perSource((s) => s.counters.frames));
  totalCounter(registry, 'spoofwatch_source_bytes_total', 'Bytes read per source', ['source'], perSource((s) => s.counters.bytes));
  totalCounter(registry, 'spoofwatch_source_datagrams_total', 'Transport payloads handed to SIP per source', ['source'], perSource((s) => s.counters.datagrams));
  totalCounter(registry, 'spoofwatch_source_hep_packets_total', 'HEP packets decoded per source', ['source'], perSource((s) => s.counters.hepPackets));
  totalCounter(registry, 'spoofwatch_source_sip_messages_total', 'SIP messages parsed per source', ['source'], perSource((s) => s.counters.sipMessages));
  gauge(registry, 'spoofwatch_source_up', '1 when the source is running', ['source'], perSource((s) => (s.up ? 1 : 0)));
  gauge(registry, 'spoofwatch_source_last_packet_timestamp_seconds', 'Wall-clock time of the last packet per source', ['source'], function* () {
    for (const s of m.sources()) if (s.lastPacketMs !== undefined) yield [{ source: s.name }, s.lastPacketMs / 1000];
  });
  gauge(registry, 'spoofwatch_source_connections', 'Open TCP connections per listener', ['source'], function* () {
    for (const s of m.sources()) if (s.connections !== undefined) yield [{ source: s.name }, s.connections];
  });
  gauge(registry, 'spoofwatch_source_kernel_drops', 'Datagrams the kernel dropped before the UDP listener read them (/proc/net/udp drops)', ['source'], function* () {
    for (const s of m.sources()) {
      const ep = udpEndpointOf(s.address);
      const drops = ep ? kernelUdpDrops(ep.ip, ep.port) : undefined;
      if (drops !== undefined) yield [{ source: s.name }, drops];
    }
  });
  totalCounter(registry, 'spoofwatch_hep_not_sip_total', 'HEP packets that carry no SIP (5 RTCP, 100 log …) by source and HEP payload type: counted, not anomalies', ['source', 'payload_type'], function* () {
    for (const s of m.sources()) for (const [t, v] of Object.entries(s.hepNotSip ?? {})) yield [{ source: s.name, payload_type: t }, v];
  });
  gauge(registry, 'spoofwatch_hep_agents_rejected', 'HEP agents whose every packet was rejected (the source is degraded in /healthz)', ['source'], function* () {
    for (const s of m.sources()) if (s.hepAgentsRejected !== undefined) yield [{ source: s.name }, s.hepAgentsRejected.length];
  });
  totalCounter(registry, 'spoofwatch_anomalies_total', 'Malformed, hostile or dropped input by source and kind', ['source', 'kind'], function* () {
    for (const s of m.sources()) for (const [kind, v] of Object.entries(s.counters.anomalies)) yield [{ source: s.name, kind }, v];
  });
  // The reasons are a bounded set (32 per decoder, then "other"): DecodeStats.notDecoded.
  totalCounter(
    registry,
    'spoofwatch_frames_not_decoded_total',
    'Captured frames that carry nothing decoded (not IP, or an IP protocol other than UDP/TCP/tunnels) by source and reason',
    ['source', 'reason'],
    function* () {
      for (const s of m.sources()) for (const [reason, v] of Object.entries(s.counters.notDecoded ?? {})) yield [{ source: s.name, reason }, v];
    },
  );

  const alerts = new Counter({ name: 'spoofwatch_alerts_total', help: 'Alerts published by rule and severity', labelNames: ['rule', 'severity'], registers: [registry] });
  const notStreamed = new Counter({
    name: 'spoofwatch_alerts_not_streamed_total',
    help: 'Alerts stored but not streamed nor grouped into incidents (issue #19): reason suppressed or below_threshold, by rule',
    labelNames: ['rule', 'reason'],
    registers: [registry],
  });
  const alertsByPeer = new Counter({ name: 'spoofwatch_alerts_by_peer_total', help: 'Alerts published by configured peer name (unknown: no peer matched, as the API\'s peer=unknown)', labelNames: ['peer'], registers: [registry] });
  const reloads = new Counter({ name: 'spoofwatch_config_reloads_total', help: 'SIGHUP config reloads by result', labelNames: ['result'], registers: [registry] });
  const authFailures = new Counter({ name: 'spoofwatch_auth_failures_total', help: 'Requests refused for a missing or wrong token', labelNames: ['endpoint'], registers: [registry] });
  const httpRefused = new Counter({
    name: 'spoofwatch_http_refused_total',
    help: 'HTTP and WebSocket requests refused with 403: a Host that does not name this server (DNS rebinding) or a foreign Origin',
    labelNames: ['reason', 'endpoint'],
    registers: [registry],
  });

  gauge(registry, 'spoofwatch_sink_queue_depth', 'Alerts queued per sink kind (websocket: all clients)', ['sink'], function* () {
    yield [{ sink: 'websocket' }, m.ws().queued];
  });
  totalCounter(registry, 'spoofwatch_sink_dropped_total', 'Alerts dropped for a sink whose queue was full', ['sink'], function* () {
    yield [{ sink: 'websocket' }, m.ws().dropped];
  });
  totalCounter(registry, 'spoofwatch_sink_delivered_total', 'Alerts delivered per sink kind', ['sink'], function* () {
    yield [{ sink: 'websocket' }, m.ws().delivered];
  });
  gauge(registry, 'spoofwatch_ws_clients', 'Connected WebSocket clients', [], function* () {
    yield [{}, m.ws().clients];
  });
  totalCounter(registry, 'spoofwatch_ws_connections_total', 'WebSocket connections accepted', [], function* () {
    yield [{}, m.ws().connected];
  });
  totalCounter(registry, 'spoofwatch_ws_slow_closed_total', 'WebSocket clients closed with 1013 for staying over the buffer bound', [], function* () {
    yield [{}, m.ws().slowClosed];
  });
  totalCounter(registry, 'spoofwatch_ws_heartbeat_timeouts_total', 'WebSocket clients dropped for not answering a ping', [], function* () {
    yield [{}, m.ws().heartbeatTimeouts];
  });
  totalCounter(registry, 'spoofwatch_ws_bad_messages_total', 'Client messages that were not a valid subscribe', [], function* () {
    yield [{}, m.ws().badMessages];
  });
  totalCounter(registry, 'spoofwatch_ws_catch_ups_total', 'WebSocket clients whose queue overflowed and who caught up from the store', [], function* () {
    yield [{}, m.ws().catchUps];
  });
  totalCounter(registry, 'spoofwatch_ws_replayed_total', 'Stored alerts replayed to resuming clients', [], function* () {
    yield [{}, m.ws().replayed];
  });
  gauge(registry, 'spoofwatch_bus_last_seq', 'Seq of the last stored (and announced) alert', [], function* () {
    yield [{}, m.bus().lastSeq];
  });
  gauge(registry, 'spoofwatch_bus_pending_persist', 'Alerts waiting for a store write (the spill queue while the store fails)', [], function* () {
    yield [{}, m.bus().pendingPersist];
  });
  gauge(registry, 'spoofwatch_bus_spill_max', 'Bound of the spill queue (limits.alertSpill)', [], function* () {
    yield [{}, m.bus().maxSpill];
  });
  totalCounter(registry, 'spoofwatch_bus_spill_dropped_total', 'Alerts dropped because the spill queue was full (never stored or delivered)', [], function* () {
    yield [{}, m.bus().spillDropped];
  });
  totalCounter(registry, 'spoofwatch_store_persist_errors_total', 'Failed alert store writes (each is retried)', [], function* () {
    yield [{}, m.bus().persistErrors];
  });
  gauge(registry, 'spoofwatch_store_failing', '1 while the alert store refuses writes', [], function* () {
    yield [{}, m.persistFailing() ? 1 : 0];
  });
  gauge(registry, 'spoofwatch_store_size_bytes', 'Alert store size on disk (database + WAL)', [], function* () {
    yield [{}, m.store().sizeBytes];
  });
  gauge(registry, 'spoofwatch_store_alerts', 'Alerts held in the store', [], function* () {
    yield [{}, m.store().alerts];
  });
  totalCounter(registry, 'spoofwatch_store_pruned_total', 'Alerts deleted by retention', [], function* () {
    yield [{}, m.store().pruned];
  });
  totalCounter(registry, 'spoofwatch_analyzer_messages_total', 'SIP messages analysed', [], function* () {
    yield [{}, m.analyzer().messages];
  });
  totalCounter(registry, 'spoofwatch_analyzer_errors_total', 'Messages the analyzer failed on (counted, dropped)', [], function* () {
    yield [{}, m.analyzer().errors];
  });
  gauge(registry, 'spoofwatch_calls_active', 'Calls in the call table', [], function* () {
    yield [{}, m.analyzer().calls];
  });
  totalCounter(registry, 'spoofwatch_heap_compactions_total', 'Compacting full GCs run once a flood of calls had expired (memory given back)', [], function* () {
    if (m.heapCompactions) yield [{}, m.heapCompactions()];
  });
  gauge(registry, 'spoofwatch_incidents_open', 'Open incidents per rule (issue #19)', ['rule'], function* () {
    for (const [rule, n] of m.openIncidents?.() ?? []) yield [{ rule }, n];
  });

  const bounds = function* <K extends keyof BoundUse>(key: K): Iterable<[{ bound: string }, number]> {
    for (const b of m.bounds?.() ?? []) yield [{ bound: b.bound }, b[key] as number];
  };
  gauge(registry, 'spoofwatch_limit', 'Configured bound (limits.* / server.*): calls, keys, bytes or clients', ['bound'], () => bounds('limit'));
  gauge(registry, 'spoofwatch_limit_used', 'Current use of each bound, in the bound\'s unit', ['bound'], () => bounds('used'));
  totalCounter(registry, 'spoofwatch_limit_evictions_total', 'Entries evicted, expired early or refused because a bound was reached', ['bound'], () => bounds('evictions'));

  return {
    registry,
    alert(a) {
      alerts.inc({ rule: a.rule, severity: a.severity });
      alertsByPeer.inc({ peer: a.network.peer ?? UNKNOWN_PEER });
      if (a.suppressed) notStreamed.inc({ rule: a.rule, reason: 'suppressed' });
      else if (a.belowThreshold) notStreamed.inc({ rule: a.rule, reason: 'below_threshold' });
    },
    reload(result) {
      reloads.inc({ result });
    },
    authFailure(endpoint) {
      authFailures.inc({ endpoint });
    },
    httpRefused(reason, endpoint) {
      httpRefused.inc({ reason, endpoint });
    },
    text: () => registry.metrics(),
  };
}
