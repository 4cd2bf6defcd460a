/**
 * Scale-out bench rows (issue #22): throughput and latency with a 3-node NATS JetStream cluster (nats-server 2.9.10,
 * every stream R3) on loopback in the path. A benchmark, not a test: it prints what it measured.
 *
 * Roles are real `spoofwatch daemon` processes (one sensor, one correlator, one gateway; test/cluster/role-process.ts)
 * with the scenario lab network. Rows:
 *
 * - **alerts/s end to end**: a burst of INVITEs from an unknown source, each with its own caller (one
 *   SRC-UNKNOWN-PEER alert and one fact each), sent to the sensor; alerts/s = alerts ÷ seconds from the first send to
 *   the last alert at a WebSocket client of the gateway.
 * - **facts/s end to end**: the same burst's facts; facts/s = facts ÷ seconds from the first send until every shard
 *   consumer of the correlator has nothing pending and nothing unacknowledged.
 * - **alert latency at 5k msg/s**: the live bench's lab traffic model (bench/traffic.ts: calls with responses,
 *   ACK, BYE; a share of spoofed INVITEs as probes) as plain SIP/UDP at 5,000 messages/s into the sensor; latency of
 *   each probe's alert from its datagram's send to its receipt by a WebSocket subscriber of the gateway (in a worker,
 *   as the single-node live rows: bench/live.ts Subscribers); p50/p99 over the measured window (after a lead-in).
 *   Target p99 < 100 ms.
 *
 * Environment (defaults in brackets): BENCH_CLUSTER_BURST [20000] INVITEs of the throughput burst;
 * BENCH_CLUSTER_BURST_RATE [5000] their send rate/s; BENCH_CLUSTER_RATE [5000] msg/s of the latency run;
 * BENCH_CLUSTER_SECONDS [10] its measured seconds; BENCH_CLUSTER_LEAD [3] lead-in seconds.
 * Alone: `npm run build && tsc -p bench/tsconfig.json && node dist-bench/bench/cluster.js` (needs nats-server; the
 * roles run dist/cli.js).
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { WebSocket } from 'ws';
import type { Alert } from '../src/alerts/alert.js';
import { FACT_STREAM } from '../src/cluster/contract.js';
import { monotonicMs, percentile, sendPaced, Subscribers } from './live.js';
import { startNatsCluster, type NatsCluster } from '../test/cluster/nats-harness.js';
import { startRole, type RoleProcess } from '../test/cluster/role-process.js';

export interface ClusterBench {
  readonly nodes: number;
  readonly replicas: number;
  readonly burst: { readonly invites: number; readonly sendRate: number; readonly analysed: number; readonly alerts: number; readonly alertSeconds: number; readonly facts: number; readonly factSeconds: number };
  readonly alertsPerSecond: number;
  readonly factsPerSecond: number;
  readonly latency: {
    readonly rate: number;
    readonly seconds: number;
    readonly sent: number;
    readonly probes: number;
    readonly samples: number;
    readonly p50Ms: number | undefined;
    readonly p99Ms: number | undefined;
    readonly maxMs: number | undefined;
  };
}

const env = (k: string, d: number): number => Number(process.env[k] ?? d);
const log = (s: string): void => void process.stderr.write(`bench cluster: ${s}\n`);
const round2 = (n: number | undefined): number | undefined => (n === undefined ? undefined : Math.round(n * 100) / 100);

/** A gateway WebSocket client that counts alerts and notes when the last one arrived (the burst rows). */
class AlertClock {
  count = 0;
  lastAtMs = 0;
  private readonly ws: WebSocket;
  readonly ready: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ready = new Promise((resolve, reject) => {
      this.ws.on('error', reject);
      this.ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as { type: string; alert?: Alert };
        if (m.type === 'hello') this.ws.send(JSON.stringify({ type: 'subscribe' }));
        else if (m.type === 'subscribed') resolve();
        else if (m.type === 'alert' && m.alert) {
          this.count++;
          this.lastAtMs = monotonicMs();
        }
      });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Pending + unacknowledged facts over every shard consumer. */
async function factsOutstanding(nc: NatsConnection): Promise<{ outstanding: number; stored: number }> {
  const jsm = await nc.jetstreamManager();
  let outstanding = 0;
  for await (const c of jsm.consumers.list(FACT_STREAM)) outstanding += c.num_pending + c.num_ack_pending;
  return { outstanding, stored: (await jsm.streams.info(FACT_STREAM)).state.messages };
}

/** SIP messages the sensor has analysed (its /metrics), once the count holds still for half a second. */
async function analysedBy(sensor: RoleProcess): Promise<number> {
  let last = -1;
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${sensor.httpPort}/metrics`)).text();
    const n = Number(/^spoofwatch_analyzer_messages_total (\S+)$/m.exec(text)?.[1] ?? 0);
    if (n === last) return n;
    last = n;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** INVITEs from 127.0.0.99, each presenting its own number, at `rate`/s (1 ms ticks). */
async function sendBurst(port: number, n: number, rate: number): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.99', () => r()));
  sock.setSendBufferSize(4 << 20);
  await new Promise<void>((r) => sock.connect(port, '127.0.0.1', () => r()));
  const t0 = performance.now();
  let sent = 0;
  while (sent < n) {
    const due = Math.min(n, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const id = `burst-${sent}@bench`;
      const from = `+3130${2_000_000 + sent}`;
      sock.send(
        `INVITE sip:+31301234500@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.99:5099;branch=z9hG4bK-b${sent}\r\n` +
          `From: <sip:${from}@unknown.example>;tag=t${sent}\r\nTo: <sip:+31301234500@127.0.0.1>\r\nCall-ID: ${id}\r\n` +
          `CSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.99:5099>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await new Promise((r) => setTimeout(r, 100));
  sock.close();
}

/** Run the cluster bench: start a 3-node cluster and the roles, measure, stop everything it started. */
export async function benchCluster(): Promise<ClusterBench> {
  const burstN = env('BENCH_CLUSTER_BURST', 20_000);
  const burstRate = env('BENCH_CLUSTER_BURST_RATE', 5000);
  const rate = env('BENCH_CLUSTER_RATE', 5000);
  const seconds = env('BENCH_CLUSTER_SECONDS', 10);
  const lead = env('BENCH_CLUSTER_LEAD', 3);
  const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-bench-cluster-'));
  let c: NatsCluster | undefined;
  const roles: RoleProcess[] = [];
  let nc: NatsConnection | undefined;
  try {
    c = await startNatsCluster(3);
    const servers = c.servers;
    roles.push(
      ...(await Promise.all([
        startRole(dir, 'sensor', servers, 'role: [sensor]\nsensorId: bench-1'),
        startRole(dir, 'correlator', servers, 'role: [correlator]'),
        startRole(dir, 'gateway', servers, 'role: [gateway]'),
      ])),
    );
    const [sensor, , gateway] = roles as [RoleProcess, RoleProcess, RoleProcess];
    nc = await connect({ servers });
    const clock = new AlertClock(gateway.ws);
    await clock.ready;

    log(`burst: ${burstN} INVITEs at ${burstRate}/s`);
    const t0 = monotonicMs();
    await sendBurst(sensor.sipPort, burstN, burstRate);
    // What the sensor read (the kernel may drop datagrams of a burst on a loaded machine): each is one alert.
    const analysed = await analysedBy(sensor);
    if (analysed < burstN) log(`burst: the sensor read ${analysed} of ${burstN} INVITEs (the rest dropped before it)`);
    await until(`${analysed} alerts at the gateway client`, () => clock.count >= analysed, 300_000);
    const alertSeconds = (clock.lastAtMs - t0) / 1000;
    let factDoneMs = 0;
    let stored = 0;
    await until(
      'every fact consumed',
      async () => {
        const f = await factsOutstanding(nc!);
        stored = f.stored;
        if (f.stored >= analysed && f.outstanding === 0) factDoneMs = monotonicMs();
        return factDoneMs > 0;
      },
      300_000,
    );
    const factSeconds = (factDoneMs - t0) / 1000;
    log(`burst: ${clock.count} alerts in ${alertSeconds.toFixed(2)} s, ${stored} facts consumed in ${factSeconds.toFixed(2)} s`);

    clock.close();
    log(`latency: lab traffic at ${rate} msg/s, ${lead} s lead-in + ${seconds} s`);
    const subs = new Subscribers();
    let sent;
    let latencies: number[];
    try {
      await subs.open(gateway.ws, 1);
      subs.reset();
      sent = await sendPaced({ proto: 'sip', port: sensor.sipPort, rate, seconds, leadSeconds: lead, run: 'k', firstCall: 1_000_000, probes: subs.sentAt });
      // Alerts still in flight at the end of sending.
      await new Promise((r) => setTimeout(r, 3000));
      latencies = (await subs.collect(sent.measuredFromMs)).latencies;
    } finally {
      subs.close();
    }
    const probes = [...subs.sentAt.values()].filter((at) => at >= sent.measuredFromMs).length;
    return {
      nodes: 3,
      replicas: 3,
      burst: { invites: burstN, sendRate: burstRate, analysed, alerts: clock.count, alertSeconds, facts: stored, factSeconds },
      alertsPerSecond: Math.round(clock.count / alertSeconds),
      factsPerSecond: Math.round(stored / factSeconds),
      latency: {
        rate,
        seconds,
        sent: sent.sent,
        probes,
        samples: latencies.length,
        p50Ms: round2(percentile(latencies, 50)),
        p99Ms: round2(percentile(latencies, 99)),
        maxMs: round2(latencies.length > 0 ? Math.max(...latencies) : undefined),
      },
    };
  } finally {
    await nc?.close().catch(() => undefined);
    for (const r of roles) await r.stop();
    await c?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rows of the bench's markdown table. */
export function clusterRows(r: ClusterBench): string[] {
  const l = r.latency;
  return [
    `| cluster alerts/s end to end (${r.nodes} NATS nodes, R${r.replicas}; sensor → stream → gateway → WebSocket) | ${r.alertsPerSecond} | ${r.burst.invites} alerting INVITEs sent at ${r.burst.sendRate}/s (${r.burst.analysed} read by the sensor), last of ${r.burst.alerts} alerts after ${r.burst.alertSeconds.toFixed(2)} s |`,
    `| cluster facts/s end to end (sensor → stream → correlator, acked) | ${r.factsPerSecond} | ${r.burst.facts} facts, all consumed after ${r.burst.factSeconds.toFixed(2)} s |`,
    `| cluster alert latency p99, datagram → WebSocket at ${l.rate} msg/s (target < 100 ms) | ${l.p99Ms ?? '-'} ms | p50 ${l.p50Ms ?? '-'} ms, max ${l.maxMs ?? '-'} ms; ${l.samples} of ${l.probes} probes in ${l.seconds} s, ${l.sent} messages sent |`,
  ];
}

if (process.argv[1]?.endsWith('bench/cluster.js')) {
  benchCluster().then(
    (r) => {
      process.stdout.write(['| row | value | detail |', '|---|---|---|', ...clusterRows(r)].join('\n') + '\n');
      process.stdout.write(JSON.stringify(r) + '\n');
    },
    (e: unknown) => {
      process.stderr.write(`bench cluster: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
