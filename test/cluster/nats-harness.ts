/**
 * A real NATS JetStream cluster for the scale-out tests (issue #22): `nats-server` processes (Debian package
 * `nats-server`, 2.9.10) on loopback ports, each with its own JetStream store in a temporary folder, routed to one
 * another. Started by the test, bounded in time, stopped by process id. `.ci/run` installs `nats-server`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_INSTALL_HINT = 'nats-server is not installed: apt-get install nats-server (Debian, 2.9.10); .ci/run installs it';

export function hasNatsServer(): boolean {
  return spawnSync('sh', ['-c', 'command -v nats-server']).status === 0;
}

/** A free loopback TCP port (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface NatsNode {
  readonly name: string;
  readonly clientPort: number;
  readonly clusterPort: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  /** `nats://127.0.0.1:<clientPort>` */
  readonly url: string;
  proc: ChildProcess | undefined;
  readonly log: string[];
}

export interface NatsCluster {
  readonly nodes: NatsNode[];
  /** Every node's client URL, for a client's `servers`. */
  readonly servers: string[];
  readonly dir: string;
  /** The name of the node that is the JetStream meta leader now. */
  metaLeader(): Promise<string>;
  /** SIGKILL one node (by process id). */
  kill(name: string): Promise<void>;
  /** Start a stopped node again with the same store and ports. */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

async function getJson(url: string): Promise<unknown> {
  const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return r.json();
}

export interface NatsClusterOptions {
  /**
   * `--no_advertise`: servers do not tell clients the other nodes' client URLs, so a client given one URL (a test's
   * TCP proxy in front of a node) reconnects only there instead of around the proxy.
   */
  readonly noAdvertise?: boolean;
}

/**
 * Every nats-server this process started and that still runs: killed by pid when the test process exits, so a test
 * that timed out (its finally never reached) leaves no server behind.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

function startNode(n: NatsNode, routes: string[], clusterName: string, opts: NatsClusterOptions): void {
  const args = [
    '-a', '127.0.0.1', '-p', String(n.clientPort), '-n', n.name, '-js', '-sd', n.storeDir,
    '-m', String(n.monitorPort), '--cluster_name', clusterName,
    '--cluster', `nats://127.0.0.1:${n.clusterPort}`, '--routes', routes.join(','),
    ...(opts.noAdvertise ? ['--no_advertise'] : []),
  ];
  const p = spawn('nats-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(p);
  p.once('exit', () => running.delete(p));
  const keep = (d: Buffer) => {
    n.log.push(String(d));
    if (n.log.length > 200) n.log.splice(0, n.log.length - 200);
  };
  p.stdout!.on('data', keep);
  p.stderr!.on('data', keep);
  n.proc = p;
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/**
 * Start `size` routed nodes with JetStream and wait until every node reports the same JetStream meta leader
 * (the cluster can then create R3 streams).
 */
export async function startNatsCluster(size = 3, timeoutMs = 20_000, opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-nats-'));
  const clusterName = `sw${process.pid}`;
  const nodes: NatsNode[] = [];
  for (let i = 0; i < size; i++) {
    const [clientPort, clusterPort, monitorPort] = [await freePort(), await freePort(), await freePort()];
    nodes.push({
      name: `n${i + 1}`, clientPort, clusterPort, monitorPort, storeDir: join(dir, `n${i + 1}`),
      url: `nats://127.0.0.1:${clientPort}`, proc: undefined, log: [],
    });
  }
  const routes = nodes.map((n) => `nats://127.0.0.1:${n.clusterPort}`);
  for (const n of nodes) startNode(n, routes, clusterName, opts);

  const byName = (name: string): NatsNode => {
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no NATS node ${name}`);
    return n;
  };
  const leaderOf = async (n: NatsNode): Promise<string | undefined> => {
    const j = (await getJson(`http://127.0.0.1:${n.monitorPort}/jsz`)) as { meta_cluster?: { leader?: string; cluster_size?: number } };
    const m = j.meta_cluster;
    // (After every node was restarted, 2.9.10 followers report a meta cluster_size below the routes' count for a
    // while: the leader every live node names is the test, not the size.)
    return m?.leader || undefined;
  };
  const stopNode = async (n: NatsNode, signal: NodeJS.Signals): Promise<void> => {
    const p = n.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  };
  const cluster: NatsCluster = {
    nodes,
    servers: nodes.map((n) => n.url),
    dir,
    async metaLeader() {
      const live = nodes.filter((n) => n.proc && n.proc.exitCode === null && n.proc.signalCode === null);
      return waitFor('a JetStream meta leader', async () => {
        const names = await Promise.all(live.map((n) => leaderOf(n).catch(() => undefined)));
        const first = names[0];
        return first !== undefined && names.every((x) => x === first) && live.some((n) => n.name === first) ? first : undefined;
      }, timeoutMs);
    },
    async kill(name) {
      await stopNode(byName(name), 'SIGKILL');
    },
    async restart(name) {
      const n = byName(name);
      // A node that exits during its start (seen once in a full CI run: its monitor port never answered) is started
      // again, up to three times; a timeout's error carries its log.
      const end = Date.now() + timeoutMs;
      let attempt = 1;
      startNode(n, routes, clusterName, opts);
      for (;;) {
        const p = n.proc!;
        if (p.exitCode !== null || p.signalCode !== null) {
          if (attempt >= 3 || Date.now() >= end) throw new Error(`${name} exited (${p.exitCode ?? p.signalCode}) ${attempt} times\n--- ${name} log\n${n.log.join('').slice(-2000)}`);
          attempt++;
          await new Promise((r) => setTimeout(r, 500));
          startNode(n, routes, clusterName, opts);
          continue;
        }
        const ok = await getJson(`http://127.0.0.1:${n.monitorPort}/healthz`).then((j) => (j as { status?: string }).status === 'ok', () => false);
        if (ok) return;
        if (Date.now() >= end) throw new Error(`timed out waiting for ${name} to serve\n--- ${name} log\n${n.log.join('').slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => stopNode(n, 'SIGTERM')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.metaLeader();
  } catch (e) {
    const logs = nodes.map((n) => `--- ${n.name}\n${n.log.join('').slice(-2000)}`).join('\n');
    await cluster.stop();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
  return cluster;
}
