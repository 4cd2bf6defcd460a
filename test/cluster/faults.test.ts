/**
 * Issue #22 acceptance "faults": a real 3-node JetStream cluster (nats-server 2.9.10, R3) with two sensors, a
 * correlator and a gateway as real `spoofwatch daemon` processes (test/cluster/role-process.ts). The same calls go
 * to the sensors over SIP/UDP in every test while one thing fails mid-run:
 *
 * - the JetStream meta leader is SIGKILLed;
 * - sensor 0's link to NATS (through test/cluster/tcp-proxy.ts) is cut for 10 s: it buffers, then delivers;
 * - the correlator is SIGKILLed and another one started: the windowed alerts are raised once;
 * - the gateway is SIGKILLed and a WebSocket client resumes on a second gateway with `since`.
 *
 * Each time a WebSocket client that resumes by `since` receives exactly the alerts a single daemon raises for the
 * same calls (by Call-ID, rule and severity) — none lost, none twice — with strictly increasing seqs, and the alert
 * stream holds each alert once. Needs `npm run build` and nats-server (.ci/run installs it).
 */
import { join } from 'node:path';
import { connect } from 'nats';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { ALERT_STREAM } from '../../src/cluster/contract.js';
import { invite, labConfig, quietDaemon, sendUdp, sleep, tempDir, waitFor } from '../daemon/helpers.js';
import { hasNatsServer, NATS_INSTALL_HINT, startNatsCluster, type NatsCluster } from './nats-harness.js';
import { ResumingClient, startRole, type RoleProcess } from './role-process.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** One call of the plan: its INVITE from `src` presenting `from`, sent to sensor `sensor`. */
interface PlannedCall {
  readonly callId: string;
  readonly src: string;
  readonly from: string;
  readonly sensor: 0 | 1;
}
type Step = PlannedCall | { readonly pauseMs: number };

const UNKNOWN = '127.0.0.99';
const PBX_ACME = '127.0.0.10'; // may present +312055501…: authorised, so its calls raise nothing by themselves
/** Long enough for a fact to pass the correlator's reorder hold (300 ms) before the next call of a pair. */
const PAIR_GAP = { pauseMs: 1000 };

const unknownCall = (n: number, sensor: 0 | 1): PlannedCall => ({ callId: `u${n}@faults`, src: UNKNOWN, from: `+3130${1_000_000 + n}`, sensor });
/** CLI-MULTI-PEER pairs: pbx-acme presents a number, then an unknown source presents it too (that call alerts). */
const pair = (name: string, cli: string, sensors: [0 | 1, 0 | 1]): [PlannedCall, { pauseMs: number }, PlannedCall] => [
  { callId: `${name}1@faults`, src: PBX_ACME, from: cli, sensor: sensors[0] },
  PAIR_GAP,
  { callId: `${name}2@faults`, src: UNKNOWN, from: cli, sensor: sensors[1] },
];

/** Before the fault: unknown callers on both sensors, pair A across the sensors, the first call of pair B. */
const PHASE_1: Step[] = [
  ...Array.from({ length: 8 }, (_, i) => unknownCall(i + 1, (i % 2) as 0 | 1)),
  ...pair('a', '+31205550111', [0, 1]),
  { callId: 'b1@faults', src: PBX_ACME, from: '+31205550122', sensor: 0 },
  PAIR_GAP,
];
/** After the fault: pair B completed on the other sensor, more unknown callers, pair C on sensor 0 only. */
const PHASE_2: Step[] = [
  { callId: 'b2@faults', src: UNKNOWN, from: '+31205550122', sensor: 1 },
  ...Array.from({ length: 8 }, (_, i) => unknownCall(i + 9, (i % 2) as 0 | 1)),
  ...pair('c', '+31205550133', [0, 0]),
];

async function play(steps: readonly Step[], sipPort: (sensor: 0 | 1) => number): Promise<void> {
  for (const s of steps) {
    if ('pauseMs' in s) await sleep(s.pauseMs);
    else await sendUdp(sipPort(s.sensor), [invite(s.callId, { from: s.from, srcIp: s.src })], s.src);
  }
}

const key = (a: Alert): string => `${a.call.callId} ${a.rule} ${a.severity}`;

/** What one daemon raises for the plan: the alerts the cluster must deliver, each once. */
let expected: string[] = [];

interface Run {
  readonly c: NatsCluster;
  readonly dir: string;
  readonly servers: string[];
  sensors: [RoleProcess, RoleProcess];
  correlator: RoleProcess;
  gateway: RoleProcess;
  readonly client: ResumingClient;
  readonly proxy: TcpProxy | undefined;
  readonly extra: RoleProcess[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** Cluster, roles and a resuming client; sensor 0 reaches NATS through a proxy when `proxied`. */
async function setUp(proxied: boolean): Promise<Run> {
  const t = tempDir('spoofwatch-faults-');
  cleanups.push(t.cleanup);
  const c = await startNatsCluster(3, 20_000, { noAdvertise: proxied });
  cleanups.push(() => c.stop());
  const proxy = proxied ? await startTcpProxy(c.nodes[0]!.clientPort) : undefined;
  if (proxy) cleanups.push(() => proxy.stop());
  const roles: RoleProcess[] = [];
  cleanups.push(async () => {
    for (const r of roles) await r.stop();
  });
  const start = async (name: string, servers: string[], yaml: string): Promise<RoleProcess> => {
    const r = await startRole(t.dir, name, servers, yaml);
    roles.push(r);
    return r;
  };
  const [s0, s1, correlator, gateway] = await Promise.all([
    start('s0', proxy ? [`nats://127.0.0.1:${proxy.port}`] : c.servers, 'role: [sensor]\nsensorId: s0'),
    start('s1', c.servers, 'role: [sensor]\nsensorId: s1'),
    start('corr1', c.servers, 'role: [correlator]\nreorderMs: 300'),
    start('gw1', c.servers, 'role: [gateway]'),
  ]);
  const run: Run = { c, dir: t.dir, servers: c.servers, sensors: [s0, s1], correlator, gateway, proxy, extra: roles, client: undefined! };
  const client = new ResumingClient(() => run.gateway.ws);
  cleanups.push(() => client.stop());
  return Object.assign(run, { client });
}

const sipPortOf = (r: Run) => (sensor: 0 | 1): number => r.sensors[sensor].sipPort;

/** Wait for every expected alert at the client, give repeats a moment to show, then check: none lost, none twice. */
async function expectExactlyOnce(r: Run): Promise<void> {
  const have = (): string[] => [...new Set(r.client.alerts.map(key))];
  await waitFor(() => have().length >= expected.length, 60_000, 'every alert at the client').catch(async (e: Error) => {
    const got = new Set(have());
    const stream = await alertStreamMessages(r.servers).catch((err: Error) => err.message);
    const health = await Promise.all(r.extra.map(async (x) => `${x.name}: ${JSON.stringify((await x.health())?.body ?? 'no answer')}`));
    throw new Error(
      `${e.message}: missing ${expected.filter((k) => !got.has(k)).join(', ')}; ${ALERT_STREAM} holds ${stream}\n${health.join('\n')}\n` +
        r.extra.map((x) => `--- ${x.name}\n${x.log.join('').slice(-1500)}`).join('\n'),
    );
  });
  await sleep(2000);
  const got = r.client.alerts;
  expect(got.map(key).sort()).toEqual(expected);
  expect(new Set(got.map((a) => a.id)).size).toBe(got.length);
  expect(got.every((a, i) => i === 0 || a.seq > got[i - 1]!.seq)).toBe(true);
  expect(await alertStreamMessages(r.servers)).toBe(expected.length);
}

async function alertStreamMessages(servers: string[]): Promise<number> {
  const nc = await connect({ servers, timeout: 3000 });
  try {
    return (await (await nc.jetstreamManager()).streams.info(ALERT_STREAM)).state.messages;
  } finally {
    await nc.close();
  }
}

/** The expected alerts of the calls in `steps`. */
const expectedOf = (steps: readonly Step[]): string[] => {
  const calls = new Set(steps.flatMap((s) => ('callId' in s ? [s.callId] : [])));
  return expected.filter((k) => calls.has(k.split(' ')[0]!));
};

/**
 * Set up, play phase 1 and wait until all of it is through (sensors, correlator, gateway, client): the fault then
 * hits a running system.
 */
async function runningPhaseOne(proxied: boolean): Promise<Run> {
  const r = await setUp(proxied);
  await play(PHASE_1, sipPortOf(r));
  const want = expectedOf(PHASE_1);
  await waitFor(() => want.every((k) => r.client.alerts.some((a) => key(a) === k)), 30_000, `phase 1's ${want.length} alerts at the client`);
  return r;
}

/** A new process in the place of a killed one (stopped with the others at the end). */
async function replacement(r: Run, name: string, yaml: string): Promise<RoleProcess> {
  const p = await startRole(r.dir, name, r.servers, yaml);
  r.extra.push(p);
  return p;
}

describe.runIf(hasNatsServer())('cluster faults: zero lost, zero duplicated alerts at a resuming WebSocket client', () => {
  beforeAll(async () => {
    const t = tempDir('spoofwatch-faults-oracle-');
    const d = await quietDaemon(labConfig({ store: join(t.dir, 'store.db') }));
    try {
      await play([...PHASE_1, ...PHASE_2], () => d.ports.sipUdp!);
      await waitFor(() => d.analyzer.stats.messages >= 22, 10_000, 'the oracle to read every INVITE');
      await sleep(500);
      expected = d.store.query({ limit: 1000 }).map(key).sort();
    } finally {
      await d.stop();
      t.cleanup();
    }
    // The plan raises what the faults are about: three cross-sensor or cross-fault CLI-MULTI-PEER alerts, and the
    // unknown callers' per-call alerts.
    expect(expected.filter((k) => k.includes('CLI-MULTI-PEER'))).toEqual(['a2@faults CLI-MULTI-PEER high', 'b2@faults CLI-MULTI-PEER high', 'c2@faults CLI-MULTI-PEER high']);
    expect(expected.filter((k) => k.includes('SRC-UNKNOWN-PEER'))).toHaveLength(19);
  }, 60_000);

  it('the JetStream meta leader is killed mid-run', async () => {
    const r = await runningPhaseOne(false);
    const leader = await r.c.metaLeader();
    await r.c.kill(leader);
    await play(PHASE_2, sipPortOf(r));
    expect(await r.c.metaLeader()).not.toBe(leader);
    await expectExactlyOnce(r);
  }, 180_000);

  it("the NATS node the gateway is connected to is killed (its consumer of the alert stream must come back)", async () => {
    const r = await runningPhaseOne(false);
    const server = (await r.gateway.health())!.body.cluster!.server!;
    const node = r.c.nodes.find((n) => server.endsWith(`:${n.clientPort}`))!;
    await r.c.kill(node.name);
    await play(PHASE_2, sipPortOf(r));
    await expectExactlyOnce(r);
  }, 180_000);

  it("a sensor's NATS connection is cut for 10 s: it buffers, then delivers", async () => {
    const r = await runningPhaseOne(true);
    r.proxy!.cut();
    const cutAt = Date.now();
    await play(PHASE_2, sipPortOf(r));
    // Sensor 0 keeps analysing and holds its alerts and facts; /healthz says degraded.
    await waitFor(async () => (await r.sensors[0].health())?.status === 503, 10_000, 'sensor 0 degraded');
    const during = await r.sensors[0].health();
    expect(during!.body.cluster!.connected).toBe(false);
    expect(during!.body.cluster!.buffered!.alerts).toBeGreaterThan(0);
    await sleep(Math.max(0, 10_000 - (Date.now() - cutAt)));
    r.proxy!.restore();
    await waitFor(async () => (await r.sensors[0].health())?.status === 200, 20_000, 'sensor 0 reconnected');
    await expectExactlyOnce(r);
    expect((await r.sensors[0].health())!.body.cluster!.buffered).toEqual({ alerts: 0, facts: 0 });
  }, 180_000);

  it('the correlator is killed and another one started: windowed alerts still raised once', async () => {
    const r = await runningPhaseOne(false);
    // Pair A's alert came from the first correlator before it died.
    await r.correlator.kill();
    await play(PHASE_2.slice(0, 1), sipPortOf(r)); // b2 while no correlator runs
    r.correlator = await replacement(r, 'corr2', 'role: [correlator]\nreorderMs: 300');
    await play(PHASE_2.slice(1), sipPortOf(r));
    await expectExactlyOnce(r);
  }, 180_000);

  it('the gateway is killed and the client resumes on a second gateway with since', async () => {
    const r = await runningPhaseOne(false);
    const before = r.client.alerts.length;
    await r.gateway.kill();
    await play(PHASE_2.slice(0, 5), sipPortOf(r));
    r.gateway = await replacement(r, 'gw2', 'role: [gateway]');
    await play(PHASE_2.slice(5), sipPortOf(r));
    await expectExactlyOnce(r);
    expect(r.client.connections).toBeGreaterThanOrEqual(2);
    expect(r.client.alerts.length).toBeGreaterThan(before);
  }, 180_000);
});

if (!hasNatsServer()) console.warn(`${NATS_INSTALL_HINT}: cluster fault tests skipped`);
