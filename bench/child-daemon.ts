/**
 * Child process of the bench: the real daemon (`startDaemon`, as `spoofwatch daemon` runs it) with the default lab
 * config on ephemeral loopback ports, a throw-away store and no watched folder. Talks to the bench over IPC:
 * sends `{type:'ready', ports, ws}`, answers `{type:'stats'}` with the daemon's own counters, exits on `{type:'stop'}`.
 * Usage (forked): node dist-bench/bench/child-daemon.js STORE_FILE
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { defaultConfig, type Config } from '../src/config/index.js';
import { startDaemon } from '../src/daemon/daemon.js';
import { createLogger } from '../src/daemon/logger.js';

export interface DaemonCounters {
  readonly sources: Record<string, { frames: number; datagrams: number; sipMessages: number; hepPackets: number; anomalies: Record<string, number> }>;
  readonly analyzerMessages: number;
  readonly alerts: number;
  readonly persisted: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  readonly maxRssKb: number;
  /** The daemon's event-loop delay since the previous stats request (a stall here delays every alert behind it). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

export type ChildRequest = { readonly type: 'stats'; readonly id: number } | { readonly type: 'stop' };
export type ChildReply =
  | { readonly type: 'ready'; readonly ports: Record<string, number | undefined>; readonly ws: string }
  | { readonly type: 'stats'; readonly id: number; readonly counters: DaemonCounters }
  | { readonly type: 'error'; readonly message: string };

async function main(): Promise<void> {
  const store = process.argv[2];
  if (store === undefined || !process.send) throw new Error('fork me with a store path');
  const base = defaultConfig();
  const listener = { host: '127.0.0.1', port: 0, udp: true, tcp: false };
  const config: Config = {
    ...base,
    sources: { sip: listener, hep: listener },
    server: { ...base.server, host: '127.0.0.1', port: 0, tokens: [] },
    store: { ...base.store, path: store },
  };
  const daemon = await startDaemon({ config, logger: createLogger({ level: 'warn' }), closeGraceMs: 500 });
  const send = (m: ChildReply): void => {
    process.send?.(m);
  };
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  send({ type: 'ready', ports: { ...daemon.ports }, ws: daemon.urls.ws });
  process.on('message', (raw: unknown) => {
    const m = raw as ChildRequest;
    if (m.type === 'stats') {
      const sources: DaemonCounters['sources'] = {};
      for (const s of daemon.sources()) {
        const c = s.counters;
        sources[s.name] = { frames: c.frames, datagrams: c.datagrams, sipMessages: c.sipMessages, hepPackets: c.hepPackets, anomalies: c.anomalies };
      }
      const ru = process.resourceUsage();
      const bus = daemon.bus.stats();
      send({
        type: 'stats',
        id: m.id,
        counters: {
          sources,
          analyzerMessages: daemon.analyzer.stats.messages,
          alerts: bus.published,
          persisted: bus.persisted,
          cpuUserMs: ru.userCPUTime / 1000,
          cpuSystemMs: ru.systemCPUTime / 1000,
          maxRssKb: ru.maxRSS,
          loopDelayP99Ms: loop.percentile(99) / 1e6,
          loopDelayMaxMs: loop.max / 1e6,
        },
      });
      loop.reset();
    } else if (m.type === 'stop') {
      void daemon.stop().then(() => process.exit(0));
    }
  });
}

main().catch((e: unknown) => {
  process.send?.({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  process.stderr.write(`child-daemon: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});
