/**
 * The live daemon (DESIGN.md §2.2): sources → one Ingest each → one shared Analyzer → AlertBus (seq, persist
 * in SQLite before delivery) → WebSocket clients, with /api/alerts, /healthz and /metrics on the same HTTP
 * port. `startDaemon` is what the CLI runs and what the tests start in-process on ephemeral ports.
 */
import { Analyzer } from '../pipeline/analyzer.js';
import { Ingest, ingestLimitsOf, type HepRejection, type SipEvent } from '../pipeline/ingest.js';
import type { IngestFactory } from '../sources/source.js';
import { AlertBus, type AlertSink } from '../alerts/bus.js';
import { isStreamed, type Alert } from '../alerts/alert.js';
import type { Config } from '../config/index.js';
import { parseIp } from '../identity/ip.js';
import { startHttpServer, type HealthReport, type HttpServerHandle, type StaticHandler } from '../http/server.js';
import { AlertStore } from '../sinks/store.js';
import { EvidenceService } from '../evidence/service.js';
import { Checkpointer } from '../sinks/checkpointer.js';
import { DEFAULT_EVIDENCE_RETENTION, EvidenceStore } from '../evidence/store.js';
import { closeWeb } from '../web/routes.js';
import { WsHub } from '../sinks/websocket.js';
import { InterfaceCapture } from '../sources/interface.js';
import { startListenerPair } from '../sources/listeners.js';
import { SipWsListener } from '../sources/sip-ws.js';
import { SIP_WS_DEFAULTS } from '../config/index.js';
import type { LiveSource, SourceStatus } from '../sources/source.js';
import { FolderWatch } from '../sources/watch.js';
import { SpoofwatchError } from '../types.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type DaemonMetrics } from './metrics.js';
import { DnoWatch, readDnoInWorker } from './dno-watch.js';
import { INCIDENTS_DEFAULTS, type Incident } from '../incidents/incident.js';
import { LiveIncidents } from '../incidents/live.js';
import { AlertGate } from '../incidents/gate.js';
import { DaemonParts } from './parts.js';
import { FloodCompaction, heldBytes } from './compaction.js';
import { ClusterNode } from '../cluster/node.js';
import { streamSeqPersistence } from '../cluster/gateway.js';

/** Command-line overrides of config values (DESIGN.md §5 "Defaults": each default has a flag). */
export interface DaemonFlags {
  readonly httpPort?: number;
  readonly sipPort?: number;
  readonly hepPort?: number;
  /** Turns the SIP-over-WebSocket listener on (it is off by default) on this port. */
  readonly sipWsPort?: number;
  readonly watch?: string;
  readonly store?: string;
}

/** The config with the flags applied (a new frozen-shape object; the input is not modified). */
export function applyFlags(config: Config, flags: DaemonFlags): Config {
  const s = config.sources;
  return {
    ...config,
    server: { ...config.server, ...(flags.httpPort !== undefined ? { port: flags.httpPort } : {}) },
    store: { ...config.store, ...(flags.store !== undefined ? { path: flags.store } : {}) },
    sources: {
      ...s,
      ...(s.sip && flags.sipPort !== undefined ? { sip: { ...s.sip, port: flags.sipPort } } : {}),
      ...(s.hep && flags.hepPort !== undefined ? { hep: { ...s.hep, port: flags.hepPort } } : {}),
      ...(flags.sipWsPort !== undefined ? { sipWs: { ...SIP_WS_DEFAULTS, ...s.sipWs, port: flags.sipWsPort } } : {}),
      ...(flags.watch !== undefined ? { watch: { dir: flags.watch, pollSeconds: s.watch?.pollSeconds ?? 2 } } : {}),
    },
  };
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const addr = parseIp(host);
  if (addr === undefined) return false;
  if (addr.family === 4) return ((addr.value >> 24n) & 0xffn) === 127n;
  return addr.value === 1n;
}

export interface DaemonOptions {
  readonly config: Config;
  readonly logger?: Logger;
  /** Serves the web page at `/` (a later addition); without it `/` lists the endpoints. */
  readonly staticHandler?: StaticHandler;
  /** Retention run interval; default 60 s. */
  readonly retentionIntervalMs?: number;
  /** How often idle call state is expired by wall time while no message comes (default 1 s; tests). */
  readonly idleTickMs?: number;
  /** How long closing WebSocket handshakes may take (1013, 1001) before sockets are destroyed. */
  readonly closeGraceMs?: number;
  /** tcpdump binary for the interface source. */
  readonly tcpdump?: string;
  /** Sinks subscribed before any source starts (e.g. the console printer), so no alert is missed. */
  readonly sinks?: readonly AlertSink[];
  /**
   * Told each incident change as it is sent on the WebSocket (the console's incident lines, issue #19); `first` is the
   * alert that opened it, on `open`.
   */
  readonly onIncident?: (event: 'open' | 'update' | 'close', incident: Incident, first?: Alert) => void;
  /** Quiet time after a change to a do-not-originate file before it is re-read; default 500 ms. */
  readonly dnoDebounceMs?: number;
}

export interface DaemonPorts {
  readonly http: number;
  readonly sipUdp?: number;
  readonly sipTcp?: number;
  readonly hepUdp?: number;
  readonly hepTcp?: number;
  readonly sipWs?: number;
}

export interface DaemonHandle {
  readonly ports: DaemonPorts;
  readonly urls: { readonly ws: string; readonly api: string; readonly metrics: string; readonly health: string };
  readonly bus: AlertBus;
  readonly store: AlertStore;
  readonly analyzer: Analyzer;
  readonly metrics: DaemonMetrics;
  readonly hub: WsHub;
  /** Alert grouping (issue #19). */
  readonly incidents: LiveIncidents;
  /** Suppression and thresholds (issue #19): marks alerts before they are stored. */
  readonly gate: AlertGate;
  /** The scale-out roles (issue #22), when the config has a `cluster` section. */
  readonly cluster: ClusterNode | undefined;
  config(): Config;
  /** Swap peers, lists and rules keeping call state; an invalid config is rejected and the old one kept. */
  reload(config: Config): { ok: true } | { ok: false; error: string };
  health(): HealthReport;
  sources(): SourceStatus[];
  /** Poll the watched folder now (tests). */
  pollWatch(): Promise<void>;
  /**
   * Stop every part in the reverse of the order they started (sources, then the alert queues drained, WebSocket
   * clients closed with 1001, the HTTP server, … the store last).
   */
  stop(): Promise<void>;
  /** The parts' start order, and their stop order once stopped (its reverse). */
  readonly parts: { readonly startOrder: readonly string[]; readonly stopOrder: readonly string[] };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startDaemon(opts: DaemonOptions): Promise<DaemonHandle> {
  let config = opts.config;
  const log = opts.logger ?? createLogger();
  const { server: srv, limits } = config;
  if (!isLoopbackHost(srv.host) && srv.tokens.length === 0) {
    throw new SpoofwatchError(
      'DAEMON_INSECURE_BIND',
      `refusing to listen on ${srv.host} without server.tokens: configure tokens or use a loopback address`,
    );
  }

  const store = new AlertStore(config.store.path);
  // Evidence of alerted calls (issue #6): same database file, own tables and connection.
  const evidenceStore = new EvidenceStore(store.file);
  // A full disk fails every pending call's save on every retry: one line per 10 s with a count, not one per call
  // (the 2 MB tmpfs run logged 992 lines in 10 s).
  let evidenceErrors = 0;
  let evidenceErrorsLogged = 0;
  let lastEvidenceErrorLog = 0;
  const evidence = new EvidenceService({
    store: evidenceStore,
    onError: (err, callId) => {
      evidenceErrors++;
      const now = Date.now();
      if (now - lastEvidenceErrorLog < 10_000) return;
      lastEvidenceErrorLog = now;
      log.error('evidence save failed (retried)', { callId, error: err.message, failuresSinceLastLine: evidenceErrors - evidenceErrorsLogged, total: evidenceErrors });
      evidenceErrorsLogged = evidenceErrors;
    },
  });
  // WAL checkpoints in a thread of their own, not inside a commit on the event loop (see Checkpointer).
  let checkpointer: Checkpointer | undefined;
  if (store.file !== ':memory:' && store.file !== '') {
    store.autoCheckpoint(false);
    evidenceStore.autoCheckpoint(false);
    checkpointer = new Checkpointer(store.file, {
      onError: (err) => {
        log.warn('WAL checkpoint thread failed: the stores checkpoint in their own commits again', { error: err.message });
        store.autoCheckpoint(true);
        evidenceStore.autoCheckpoint(true);
      },
      onRecovered: () => {
        log.info('WAL checkpoint thread works again: the stores leave checkpoints to it again');
        store.autoCheckpoint(false);
        evidenceStore.autoCheckpoint(false);
      },
    });
  }
  // One start order, its reverse the one stop order (also when starting fails half-way).
  const parts = new DaemonParts();
  parts.started('alert store', () => store.close());
  parts.started('evidence', async () => {
    evidence.close(); // saves the alerted calls still pending
    await checkpointer?.close();
    evidenceStore.close();
    closeWeb(store);
  });
  const stopParts = (): Promise<void> =>
    parts.stopAll((part, err) => log.error('stopping a part failed', { part, error: err instanceof Error ? err.message : String(err) }));
  const fail = async (e: unknown): Promise<never> => {
    await stopParts();
    throw e;
  };

  let metrics: DaemonMetrics | undefined;
  const compaction = new FloodCompaction();
  // Fed with each committed alert (it has its seq then); made once the hub exists (it publishes there).
  let incidents: LiveIncidents | undefined;
  let groupQueue: Alert[] = [];
  const groupQueued = (): void => {
    const batch = groupQueue;
    groupQueue = [];
    for (const a of batch) incidents?.onAlert(a);
  };
  // The store numbers alerts in the write that stores them; nothing is announced before that (issue #17). While it
  // refuses writes, alerts spill (bounded), the write is retried, /healthz says 503 and the log says so once.
  // Cluster gateway (issue #22): the store is a projection of the alert stream and keeps the stream's sequence as seq.
  const gatewayRole = config.cluster?.role.includes('gateway') === true;
  const bus = new AlertBus({
    store: gatewayRole ? streamSeqPersistence(store) : store,
    maxSpill: limits.alertSpill,
    onCommitted: (a) => {
      metrics?.alert(a);
      // Grouped after the sinks had their first turn with this commit (their drains are scheduled right after this
      // call, in the same setImmediate phase; the nested setImmediate runs in the next one): the incident's work
      // (its store write, its message) never delays the alert, and an incident's open message never precedes its
      // first alert on a WebSocket. Suppressed and below-threshold alerts are not grouped.
      if (incidents && isStreamed(a)) {
        if (groupQueue.length === 0) setImmediate(() => setImmediate(groupQueued));
        groupQueue.push(a);
      }
    },
    onStateChange: (state, info) => {
      if (state.ok) log.warn('alert store writable again: spilled alerts stored and delivered', { store: store.file, lastSeq: store.lastSeq(), spillDropped: info.spillDropped });
      else log.error('alert store refuses writes: alerts are held (not delivered) and retried', { store: store.file, reason: state.reason, spilled: info.spilled, maxSpill: limits.alertSpill });
    },
  });
  // Live consumers never see suppressed or below-threshold alerts (they are stored all the same).
  for (const sink of opts.sinks ?? []) bus.subscribe({ ...sink, filter: (a) => isStreamed(a) && (sink.filter?.(a) ?? true) }, { maxQueue: 10_000 });
  const gate = new AlertGate(config, limits.windowKeys);
  let analyzerErrors = 0;
  let lastAnalyzerErrorLog = 0;
  const sources: LiveSource[] = [];
  // Scale-out roles (issue #22), only with a `cluster` section: a sensor publishes its alerts (and facts) to NATS
  // JetStream instead of this bus; a gateway fills this bus from the alert stream.
  const cluster = config.cluster
    ? new ClusterNode({
        config,
        log,
        bus,
        store,
        evidenceOf: (callId) => evidence.messages(callId),
        saveEvidence: (callId, messages) => evidenceStore.saveMany([{ callId, messages }]),
        // Suppression and thresholds are the gateway's: sensors and correlators publish alerts unmarked.
        mark: (a) => gate.mark(a),
      })
    : undefined;
  if (cluster) parts.started('cluster', () => cluster.stop());
  const analyzer = new Analyzer(
    config,
    cluster ? (alert) => cluster.onSensorAlert(alert) : (alert) => void bus.publish(gate.mark(alert)),
    undefined,
    evidence.buffer,
    cluster?.analyzerHooks,
  );
  // Do-not-originate files: loaded with the policy; reported here at start, on SIGHUP and when they change.
  const logDno = (when: string): void => {
    for (const r of analyzer.dnoFiles.report) {
      if (r.readError !== undefined) {
        log.error(`do-not-originate file not read (${when}); ${r.entries > 0 ? 'its previous entries stay in use' : 'CLI-DNO has no entries from it'}`, {
          file: r.file,
          error: r.readError,
          entries: r.entries,
        });
        continue;
      }
      log.info(`do-not-originate file loaded (${when})`, { file: r.file, entries: r.entries, badLines: r.badLines });
      for (const line of r.errors) log.warn('do-not-originate file: bad line skipped', { line });
      if (r.badLines > r.errors.length) log.warn('do-not-originate file: more bad lines skipped', { file: r.file, notShown: r.badLines - r.errors.length });
    }
  };
  logDno('start');
  // One reload at a time, parsed in a worker thread (a million-line file must not stall ingestion); a change seen
  // while one runs reloads again after it, so the last version always wins.
  let dnoLoading = false;
  let dnoAgain = false;
  const reloadDnoFiles = (when = 'file changed'): void => {
    if (dnoLoading) {
      dnoAgain = true;
      return;
    }
    dnoLoading = true;
    const files = analyzer.dnoFiles;
    files
      .loadWith(readDnoInWorker)
      .then(
        () => {
          if (files === analyzer.dnoFiles) logDno(when);
        },
        (e: unknown) => log.error('do-not-originate reload failed; keeping the previous entries', { error: e instanceof Error ? e.message : String(e) }),
      )
      .finally(() => {
        dnoLoading = false;
        if (dnoAgain) {
          dnoAgain = false;
          reloadDnoFiles(when);
        }
      });
  };
  const watchDno = (files: readonly string[]): DnoWatch | undefined =>
    files.length === 0
      ? undefined
      : new DnoWatch({
          files,
          debounceMs: opts.dnoDebounceMs ?? 500,
          onChange: () => reloadDnoFiles(),
          onError: (dir, err) => log.error('cannot watch a do-not-originate folder; changes are read on SIGHUP only', { dir, error: err.message }),
        });
  let dnoWatch = watchDno(config.lists.doNotOriginateFiles);
  parts.started('do-not-originate watch', () => dnoWatch?.close());
  const onMessage = (e: SipEvent): void => {
    try {
      analyzer.handle(e);
    } catch (err) {
      analyzerErrors++;
      const now = Date.now();
      if (now - lastAnalyzerErrorLog > 10_000) {
        lastAnalyzerErrorLog = now;
        log.error('analyzer failed on a message (dropped, counted)', { origin: e.meta.origin, frame: e.meta.frame, error: err instanceof Error ? err.message : String(err), total: analyzerErrors });
      }
    }
  };
  const onSourceError = (source: string, err: Error): void => {
    log.error('source error', { source, error: err.message, ...('code' in err ? { code: (err as { code: unknown }).code } : {}) });
  };

  const hub = new WsHub({
    bus,
    store,
    maxQueue: limits.sinkQueue,
    maxBufferBytes: srv.maxClientBufferBytes,
    maxClients: limits.wsClients,
    maxTotalBufferBytes: limits.wsBufferBytes,
    slowMs: srv.slowClientSeconds * 1000,
    heartbeatMs: srv.heartbeatSeconds * 1000,
    ...(opts.closeGraceMs !== undefined ? { closeGraceMs: opts.closeGraceMs } : {}),
    onEvent: (event, meta) => log.warn(event, meta),
    openIncidents: () => incidents?.grouper.openIncidents() ?? [],
  });
  parts.started('websocket hub', () => hub.stop());

  // Incidents a previous run left open cannot grow any more (their grouping state is gone): closed as they were.
  for (let page = store.queryIncidents({ state: 'open', limit: 1000 }); page.length > 0; page = store.queryIncidents({ state: 'open', limit: 1000 })) {
    for (const inc of page) store.saveIncident({ ...inc, state: 'closed' });
  }
  let incidentSaveErrors = 0;
  let lastIncidentErrorLog = 0;
  const live = new LiveIncidents({
    config: config.incidents ?? INCIDENTS_DEFAULTS,
    firstId: store.lastIncidentId() + 1,
    publish: (event, inc, first) => {
      hub.publishIncident(event, inc);
      opts.onIncident?.(event, inc, first);
    },
    save: (inc) => store.saveIncident(inc),
    onError: (err) => {
      incidentSaveErrors++;
      const now = Date.now();
      if (now - lastIncidentErrorLog < 10_000) return;
      lastIncidentErrorLog = now;
      log.error('incident save failed (still streamed)', { error: err instanceof Error ? err.message : String(err), total: incidentSaveErrors });
    },
  });
  incidents = live;
  parts.started('incidents', () => live.stop());

  let httpDropped = 0;
  let httpConnections: () => number = () => 0;
  metrics = createMetrics({
    sources: () => sources.map((s) => s.status()),
    bus: () => bus.stats(),
    persistFailing: () => !bus.persistState().ok,
    ws: () => hub.stats(),
    store: () => ({ sizeBytes: store.sizeBytes(), alerts: store.count(), lastSeq: store.lastSeq(), pruned: store.stats().pruned }),
    analyzer: () => ({ messages: analyzer.stats.messages, calls: analyzer.calls.size, errors: analyzerErrors }),
    heapCompactions: () => compaction.count,
    openIncidents: () => live.grouper.openByRule(),
    bounds: () => {
      const eb = evidence.buffer;
      const bytes = eb.bytes;
      const bus$ = bus.stats();
      const ws = hub.stats();
      const win = analyzer.windowUse();
      return [
        { bound: 'calls', limit: analyzer.calls.bounds.maxCalls, used: analyzer.calls.size, evictions: analyzer.calls.stats.evicted },
        { bound: 'evidenceBytes', limit: eb.limits.maxBytes, used: bytes.open, evictions: eb.stats.evictedCalls },
        { bound: 'evidencePinnedBytes', limit: eb.limits.maxPinnedBytes, used: bytes.pinned, evictions: eb.stats.droppedPinnedCalls },
        { bound: 'alertSpill', limit: bus$.maxSpill, used: bus$.pendingPersist, evictions: bus$.spillDropped },
        { bound: 'windowKeys', limit: limits.windowKeys, used: win.keys, evictions: win.evicted },
        { bound: 'peerCache', limit: limits.peerCache, used: analyzer.peers.cachedAddresses, evictions: analyzer.peers.cacheEvictions },
        { bound: 'numberCache', limit: analyzer.numbers.maxSize, used: analyzer.numbers.size, evictions: analyzer.numbers.evictions },
        { bound: 'sinkQueue', limit: limits.sinkQueue, used: ws.queued, evictions: ws.dropped },
        { bound: 'wsClients', limit: limits.wsClients, used: ws.clients, evictions: ws.refused },
        { bound: 'wsBufferBytes', limit: limits.wsBufferBytes, used: ws.bufferedBytes, evictions: ws.slowClosed },
        { bound: 'httpConnections', limit: limits.httpConnections, used: httpConnections(), evictions: httpDropped },
      ];
    },
  });
  const m = metrics;
  // Scale-out (issue #22): publish latency, buffer, drops, connection and shard lag beside the daemon's metrics.
  cluster?.attachMetrics(m.registry);

  const health = (): HealthReport => {
    const persist = bus.persistState();
    // While alerts spill, the store is known to fail: no probe write on every health check of a full disk.
    const writable = persist.ok && store.writable();
    const list = sources.map((s) => s.status());
    // A HEP source whose agents' packets are all rejected (wrong version, broken sender) hears nothing: not healthy.
    const clusterHealth = cluster?.health();
    const ok = writable && list.every((s) => s.up && !s.hepAgentsRejected) && clusterHealth?.ok !== false;
    const spill = bus.stats();
    return {
      ok,
      status: ok ? 'ok' : 'degraded',
      ...(clusterHealth ? { cluster: clusterHealth } : {}),
      ...(persist.ok
        ? {}
        : {
            reason: `alert store refuses writes since ${new Date(persist.sinceMs).toISOString()}: ${persist.reason}`,
            alertsHeld: spill.pendingPersist,
            alertsDropped: spill.spillDropped,
          }),
      ...(persist.ok && !writable ? { reason: 'alert store refuses writes (health probe)' } : {}),
      sources: list.map((s) => ({
        name: s.name,
        up: s.up,
        address: s.address,
        lastPacket: s.lastPacketMs !== undefined ? new Date(s.lastPacketMs).toISOString() : null,
        ...(s.error !== undefined ? { error: s.error } : {}),
        ...(s.hepAgentsRejected ? { degraded: `every HEP packet rejected from ${s.hepAgentsRejected.join(', ')}` } : {}),
      })),
      store: { writable, path: store.file, lastSeq: store.lastSeq(), epoch: store.epoch() },
      wsClients: hub.size,
    };
  };

  let http: HttpServerHandle;
  try {
    http = await startHttpServer({
      host: srv.host,
      port: srv.port,
      tokens: srv.tokens,
      store,
      hub,
      metrics: () => m.text(),
      metricsContentType: m.registry.contentType,
      health,
      ...(opts.staticHandler ? { staticHandler: opts.staticHandler } : {}),
      web: { store, evidence, liveIncident: (id) => live.grouper.get(id) },
      onAuthFailure: (endpoint) => m.authFailure(endpoint),
      ...(srv.hostnames ? { hostnames: srv.hostnames } : {}),
      ...(srv.allowedOrigins ? { allowedOrigins: srv.allowedOrigins } : {}),
      onRefused: (reason, endpoint) => m.httpRefused(reason, endpoint),
      maxConnections: limits.httpConnections,
      onConnectionDropped: () => httpDropped++,
    });
  } catch (e) {
    return fail(new SpoofwatchError('DAEMON_LISTEN', `cannot listen on ${srv.host}:${srv.port} (HTTP): ${(e as Error).message}`));
  }
  parts.started('http server', () => http.close());
  // Stopped before the server: clients get a 1001 close frame, not a cut connection.
  parts.started('websocket clients', () => hub.closeAll(1001, 'server shutting down'));
  // Stopped once the sources are (no new alerts): what is queued is stored and sent before the clients go.
  parts.started('alert delivery', async () => {
    bus.flush();
    await Promise.race([bus.idle(), new Promise<void>((r) => setTimeout(r, 2000).unref())]);
    while (bus.stats().pendingPersist > 0 && bus.flush()); // a backlog longer than one batch
    const unstored = bus.close();
    if (unstored > 0) log.error('alert store still refuses writes at shutdown: alerts lost', { store: store.file, lost: unstored });
  });
  httpConnections = () => http.connections();

  // Sources push what they read into an Ingest made here: they import nothing from the pipeline (DESIGN.md §3).
  // Every Ingest gets the decoder and stream bounds of \`limits\` (issue #18).
  const ingest: IngestFactory = (o) => new Ingest({ ...ingestLimitsOf(limits), ...o, onMessage });
  const deps = {
    ingest,
    limits,
    onError: onSourceError,
    // Once per agent: the first packet it sent that does not decode (a HEP version or format we cannot read).
    onHepRejected: (source: string, r: HepRejection) =>
      log.warn('HEP packet rejected (first from this agent; later ones are only counted as hep.invalid)', { source, agent: r.agent, reason: r.reason, firstBytes: r.head, frame: r.frame }),
  };
  const ports: { -readonly [K in keyof DaemonPorts]: DaemonPorts[K] } = { http: http.port };
  const sourceStarted = (name: string, source: LiveSource): void => {
    sources.push(source);
    parts.started(name, () => source.close().catch(() => undefined));
  };
  for (const proto of ['sip', 'hep'] as const) {
    const cfg = config.sources[proto];
    if (!cfg) continue;
    try {
      const pair = await startListenerPair(proto, cfg, deps);
      if (pair.udp) {
        sourceStarted(`${proto} udp`, pair.udp);
        ports[`${proto}Udp`] = pair.udp.port;
      }
      if (pair.tcp) {
        sourceStarted(`${proto} tcp`, pair.tcp);
        ports[`${proto}Tcp`] = pair.tcp.port;
      }
    } catch (e) {
      return fail(new SpoofwatchError('DAEMON_LISTEN', `cannot listen on ${cfg.host}:${cfg.port} (${proto.toUpperCase()}): ${(e as Error).message}`));
    }
  }
  if (config.sources.sipWs) {
    const wsCfg = config.sources.sipWs;
    const listener = new SipWsListener(wsCfg, deps);
    try {
      await listener.listen();
    } catch (e) {
      return fail(new SpoofwatchError('DAEMON_LISTEN', `cannot listen on ${wsCfg.host}:${wsCfg.port} (SIP over WebSocket): ${(e as Error).message}`));
    }
    sourceStarted('sip over websocket', listener);
    ports.sipWs = listener.port;
  }
  let watch: FolderWatch | undefined;
  if (config.sources.watch) {
    const w = config.sources.watch;
    watch = new FolderWatch({
      dir: w.dir,
      pollSeconds: w.pollSeconds,
      ingest,
      processed: store,
      onError: onSourceError,
      onFileDone: (f) => log.info('capture file read', f),
    });
    watch.start();
    sourceStarted('folder watch', watch);
  }
  if (config.sources.interface) {
    const i = config.sources.interface;
    const cap = new InterfaceCapture({
      iface: i.name,
      ...(i.filter ? { filter: i.filter } : {}),
      ingest,
      onError: onSourceError,
      ...(opts.tcpdump ? { tcpdump: opts.tcpdump } : {}),
    });
    sourceStarted('interface capture', cap);
    try {
      await cap.start();
      log.info('capturing on interface', { iface: i.name, filter: i.filter });
    } catch (e) {
      // Logged by onError; the daemon keeps running with this source down (visible in /healthz).
      void e;
    }
  }

  // Call and window state expire by the capture clock, which only moves with messages: once traffic stops (after a
  // flood), let it run on by wall time so idle calls and their evidence go within limits.callIdleSeconds, and window
  // keys once their windows have passed (issue #18).
  let seenMessages = -1;
  let quietSinceMs = 0;
  // Once a flood's calls and what they held have gone, give their memory back (src/daemon/compaction.ts).
  let compactionUnavailableLogged = false;
  const mb = (n: number): number => Math.round(n / 1048576);
  const idleTimer = setInterval(() => {
    const n = analyzer.stats.messages;
    const now = Date.now();
    if (n !== seenMessages) {
      seenMessages = n;
      quietSinceMs = now;
    } else analyzer.advance(now - quietSinceMs);
    const eb = evidence.buffer.bytes;
    const c = compaction.observe(heldBytes(analyzer.calls.size, eb.open + eb.pinned, bus.stats().pendingPersist));
    if (c !== undefined) log.info('heap compacted after a flood\'s state was released', { calls: analyzer.calls.size, heldMb: [mb(c.peakHeld), mb(c.held)], heapUsedMb: [mb(c.heapUsedBefore), mb(c.heapUsedAfter)], pauseMs: Math.round(c.pauseMs) });
    else if (compaction.unavailable && !compactionUnavailableLogged) {
      compactionUnavailableLogged = true;
      log.warn('cannot ask V8 for a compacting GC: memory after a flood returns on V8\'s own schedule');
    }
  }, opts.idleTickMs ?? 1000);
  idleTimer.unref();
  parts.started('idle clock', () => clearInterval(idleTimer));
  // Retention by age and count, in bounded steps so one run never blocks ingestion for long.
  const retentionMs = opts.retentionIntervalMs ?? 60_000;
  let retentionTimer: NodeJS.Timeout | undefined;
  const runRetention = (): void => {
    retentionTimer = undefined;
    try {
      const r = store.prune({ maxAgeDays: config.store.retentionDays, maxCount: config.store.maxAlerts, maxDeletes: 5000 });
      if (r.byAge + r.byCount > 0) log.info('retention pruned alerts', { byAge: r.byAge, byCount: r.byCount });
      const e = evidenceStore.prune({ maxAgeDays: config.store.retentionDays, ...DEFAULT_EVIDENCE_RETENTION });
      if (e.byAge + e.byCount + e.byBytes > 0) log.info('retention pruned call evidence', e);
      retentionTimer = setTimeout(runRetention, r.more ? 50 : retentionMs);
    } catch (e) {
      log.error('retention failed', { error: (e as Error).message });
      retentionTimer = setTimeout(runRetention, retentionMs);
    }
    retentionTimer.unref();
  };
  retentionTimer = setTimeout(runRetention, Math.min(1000, retentionMs));
  retentionTimer.unref();
  parts.started('retention', () => {
    if (retentionTimer) clearTimeout(retentionTimer);
  });

  const base = `${hostForUrl(srv.host)}:${http.port}`;
  const urls = { ws: `ws://${base}/alerts`, api: `http://${base}/api/alerts`, metrics: `http://${base}/metrics`, health: `http://${base}/healthz` };
  log.info(`alerts: ${urls.ws} (WebSocket), ${urls.api} (history); metrics ${urls.metrics}`, {
    ports,
    watch: config.sources.watch?.dir,
    store: store.file,
    lastSeq: store.lastSeq(),
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopParts();
      log.info('stopped', { lastSeq: store.lastSeq() });
    })();
    return stopping;
  };

  return {
    ports,
    urls,
    bus,
    store,
    analyzer,
    metrics: m,
    hub,
    incidents: live,
    gate,
    cluster,
    config: () => config,
    reload(next) {
      try {
        analyzer.reload(next);
      } catch (e) {
        m.reload('rejected');
        const error = e instanceof Error ? e.message : String(e);
        log.error('config reload rejected; keeping the running config', { error });
        return { ok: false, error };
      }
      if (next.lists.doNotOriginateFiles.join('\n') !== config.lists.doNotOriginateFiles.join('\n')) {
        // New files were read with the new policy; watch them instead of the old ones.
        logDno('reload');
        dnoWatch?.close();
        dnoWatch = watchDno(next.lists.doNotOriginateFiles);
      } else if (next.lists.doNotOriginateFiles.length > 0) reloadDnoFiles('reload');
      live.reconfigure(next.incidents ?? INCIDENTS_DEFAULTS);
      gate.reconfigure(next);
      if (JSON.stringify(next.cluster) !== JSON.stringify(config.cluster)) log.warn('config reload: the cluster section changes on restart');
      if (cluster?.correlator) log.warn('config reload: the correlator keeps the peers and rule settings it started with until restart');
      config = { ...next, sources: config.sources, server: config.server, store: { ...config.store, retentionDays: next.store.retentionDays, maxAlerts: next.store.maxAlerts } };
      m.reload('ok');
      log.info('config reloaded: peers, lists, rules, incidents, suppress and threshold (sources, server and store path change on restart)', {
        peers: next.peers.length,
        suppress: next.suppress?.length ?? 0,
        threshold: next.threshold?.length ?? 0,
        calls: analyzer.calls.size,
      });
      return { ok: true };
    },
    health,
    sources: () => sources.map((s) => s.status()),
    pollWatch: () => watch?.pollNow() ?? Promise.resolve(),
    stop,
    parts,
  };
}
