/**
 * Scale-out roles as real `spoofwatch daemon` processes for the fault tests (issue #22): each on its own loopback
 * ports (HTTP, SIP, HEP), its own store and watched folder, with the scenario lab's network and a `cluster` section.
 * A process can be SIGKILLed (a crash, not a graceful stop) and is always stopped by its pid. Needs `npm run build`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WebSocket } from 'ws';
import type { Alert } from '../../src/alerts/alert.js';
import { freePort } from './nats-harness.js';

/** The repository (the folder with package.json above this file): also right when the bench runs a compiled copy. */
function repoRoot(): string {
  let d = import.meta.dirname;
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}
const ROOT = repoRoot();
const CLI = join(ROOT, 'dist/cli.js');
const SCENARIO_CONFIG = join(ROOT, 'captures/scenario/spoofwatch.yaml');

export interface RoleProcess {
  readonly name: string;
  readonly httpPort: number;
  readonly sipPort: number;
  readonly ws: string;
  readonly log: string[];
  proc: ChildProcess;
  /** `/healthz` status code and body (undefined while it does not answer). */
  health(): Promise<{ status: number; body: { status?: string; cluster?: { connected?: boolean; server?: string; buffered?: { alerts: number; facts: number } } } } | undefined>;
  /** SIGKILL: the process dies without a goodbye. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Ports handed out in this test process: roles started side by side must not draw the same free port. */
const handedOut = new Set<number>();
async function uniquePort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (!handedOut.has(p)) {
      handedOut.add(p);
      return p;
    }
  }
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

async function end(p: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (exited(p)) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill(signal);
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

/**
 * Start `spoofwatch daemon` with the scenario network and `clusterYaml` (the lines under `cluster:`, without
 * `nats:`), and wait until `/healthz` says ok (connected to NATS, roles running).
 */
export async function startRole(dir: string, name: string, servers: readonly string[], clusterYaml: string, timeoutMs = 30_000): Promise<RoleProcess> {
  const home = join(dir, name);
  mkdirSync(join(home, 'watch'), { recursive: true });
  const cluster = [`nats: { servers: [${servers.map((s) => JSON.stringify(s)).join(', ')}] }`, ...clusterYaml.split('\n')].map((l) => `  ${l}`).join('\n');
  const config = join(home, 'spoofwatch.yaml');
  writeFileSync(config, `${readFileSync(SCENARIO_CONFIG, 'utf8')}\ncluster:\n${cluster}\n`);
  const [httpPort, sipPort, hepPort] = [await uniquePort(), await uniquePort(), await uniquePort()];
  const args = [
    CLI, 'daemon', '--config', config, '--http-port', String(httpPort), '--sip-port', String(sipPort), '--hep-port', String(hepPort),
    '--store', join(home, 'store.db'), '--watch', join(home, 'watch'), '--no-print-alerts', '--log-level', 'warn',
  ];
  const log: string[] = [];
  const keep = (d: Buffer): void => {
    log.push(String(d));
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  const role: RoleProcess = {
    name,
    httpPort,
    sipPort,
    ws: `ws://127.0.0.1:${httpPort}/alerts`,
    log,
    proc: spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }),
    async health() {
      try {
        const r = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(2000) });
        return { status: r.status, body: (await r.json()) as never };
      } catch {
        return undefined;
      }
    },
    kill: () => end(role.proc, 'SIGKILL'),
    stop: () => end(role.proc, 'SIGTERM'),
  };
  role.proc.stdout!.on('data', keep);
  role.proc.stderr!.on('data', keep);
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (exited(role.proc)) throw new Error(`${name} exited (${role.proc.exitCode ?? role.proc.signalCode}):\n${log.join('').slice(-2000)}`);
    const h = await role.health();
    if (h?.status === 200) return role;
    if (Date.now() > until) {
      await role.kill();
      throw new Error(`${name} not healthy within ${timeoutMs} ms (${JSON.stringify(h?.body)}):\n${log.join('').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A WebSocket client of the alert stream that follows the gateways: it subscribes with `since` = the last seq it
 * received, and whenever its connection ends it reconnects — to the gateway `target()` names then — resuming the
 * same way. It keeps every alert it was sent, in order, so a test can count losses and repeats.
 */
export class ResumingClient {
  readonly alerts: Alert[] = [];
  connections = 0;
  private ws: WebSocket | undefined;
  private stopped = false;
  private lastSeq = 0;

  constructor(private readonly target: () => string) {
    this.open();
  }

  private open(): void {
    if (this.stopped) return;
    const ws = (this.ws = new WebSocket(this.target()));
    let subscribed = false;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; alert?: Alert; code?: string };
      if (m.type === 'hello' && !subscribed) {
        subscribed = true;
        this.connections++;
        ws.send(JSON.stringify({ type: 'subscribe', since: this.lastSeq }));
      } else if (m.type === 'alert' && m.alert) {
        this.alerts.push(m.alert);
        this.lastSeq = m.alert.seq;
      } else if (m.type === 'error') {
        // SINCE_AHEAD: this gateway's projection has not reached our seq yet; ask again shortly.
        ws.terminate();
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (!this.stopped) setTimeout(() => this.open(), 200);
    });
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }
}
