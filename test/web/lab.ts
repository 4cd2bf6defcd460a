/**
 * A small daemon for the web tests, from the real parts: AlertStore + EvidenceStore in one SQLite file, AlertBus,
 * WsHub, the real HTTP server (src/http/server.ts) with the web routes wired in front of it exactly as the report
 * asks the daemon to do (the server's `web` option: web routes behind its Host/Origin and token checks), Ingest → Analyzer with the
 * EvidenceService's buffer. Plus a UDP relay that puts a real SIPp call (UAC → relay → SIPp UAS) through Ingest,
 * both directions, as a SIP mirror would.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '../../src/alerts/alert.js';
import { AlertBus } from '../../src/alerts/bus.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { EvidenceService } from '../../src/evidence/service.js';
import { EvidenceStore } from '../../src/evidence/store.js';
import { startHttpServer, type HttpServerHandle } from '../../src/http/server.js';
import { Analyzer } from '../../src/pipeline/analyzer.js';
import { Ingest } from '../../src/pipeline/ingest.js';
import { AlertStore } from '../../src/sinks/store.js';
import { WsHub } from '../../src/sinks/websocket.js';
import { openCapture } from '../../src/sources/capture/index.js';
import { wallTimestamp } from '../../src/sources/source.js';
import type { Endpoint } from '../../src/types.js';
import { closeWeb, type WebContext } from '../../src/web/routes.js';

export const ROOT = join(import.meta.dirname, '../..');
export const SCENARIO_PCAP = join(ROOT, 'captures/scenario/scenario.pcapng');
export const SCENARIO_CONFIG = join(ROOT, 'captures/scenario/spoofwatch.yaml');
export const ARTIFACTS = join(ROOT, 'test-artifacts');

export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export function labConfig(): Config {
  const r = loadConfig(SCENARIO_CONFIG);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

/** dist/web/client/*.js must be current: build once when a client source is newer than its output. */
export function ensureClientBuilt(): void {
  const src = join(ROOT, 'src/web/client');
  const out = join(ROOT, 'dist/web/client');
  const stale = readdirSync(src)
    .filter((f) => f.endsWith('.ts'))
    .some((f) => {
      const js = join(out, f.replace(/\.ts$/, '.js'));
      return !existsSync(js) || statSync(js).mtimeMs < statSync(join(src, f)).mtimeMs;
    });
  if (!stale) return;
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}

export interface WebLab {
  readonly base: string;
  readonly port: number;
  readonly store: AlertStore;
  readonly evidence: EvidenceService;
  readonly evidenceStore: EvidenceStore;
  readonly published: Alert[];
  /** Requests the browser-origin defence refused, as `ws origin`, `http host` … in arrival order. */
  readonly refused: string[];
  readonly ctx: WebContext;
  /** A new Ingest (one per source, as in the daemon) feeding the analyzer. */
  ingest(origin: string): Ingest;
  /** Read a capture file through its own Ingest into the analyzer. */
  feedCapture(file: string): Promise<void>;
  /** Resolves once the bus has persisted and delivered everything published so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebLab(
  opts: { tokens?: readonly string[]; debounceMs?: number; hostnames?: readonly string[]; allowedOrigins?: readonly string[] } = {},
): Promise<WebLab> {
  const refused: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sw-web-'));
  const config = labConfig();
  const store = new AlertStore(join(dir, 'spoofwatch.db'));
  const evidenceStore = new EvidenceStore(store.file);
  const evidence = new EvidenceService({ store: evidenceStore, debounceMs: opts.debounceMs ?? 200 });
  const published: Alert[] = [];
  const bus = new AlertBus({ store, onCommitted: (a) => void published.push(a) });
  const analyzer = new Analyzer(config, (a) => void bus.publish(a), undefined, evidence.buffer);
  const hub = new WsHub({ bus, store, maxQueue: 10_000, maxBufferBytes: 4 << 20, slowMs: 10_000, heartbeatMs: 30_000, closeGraceMs: 200 });
  const ctx: WebContext = { store, evidence };
  const tokens = opts.tokens ?? [];
  const http: HttpServerHandle = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    tokens,
    store,
    hub,
    metrics: () => Promise.resolve(''),
    metricsContentType: 'text/plain',
    health: () => ({ ok: true, status: 'ok', store: { path: store.file } }),
    // The wiring the daemon has: web routes inside the server, behind its Host/Origin and token checks.
    web: ctx,
    ...(opts.hostnames ? { hostnames: opts.hostnames } : {}),
    ...(opts.allowedOrigins ? { allowedOrigins: opts.allowedOrigins } : {}),
    onRefused: (reason, endpoint) => refused.push(`${endpoint} ${reason}`),
  });

  const newIngest = (origin: string): Ingest => new Ingest({ origin, onMessage: (e) => analyzer.handle(e) });
  const feedCapture = async (file: string): Promise<void> => {
    const ingest = newIngest(file);
    await openCapture(file).forEach((f) => ingest.pushFrame(f));
    ingest.flush();
  };
  const settle = async (): Promise<void> => {
    bus.flush();
    await bus.idle();
  };
  return {
    base: `http://127.0.0.1:${http.port}/`,
    port: http.port,
    store,
    evidence,
    evidenceStore,
    published,
    refused,
    ctx,
    ingest: newIngest,
    feedCapture,
    settle,
    async close() {
      bus.flush();
      await hub.closeAll(1001, 'test over');
      hub.stop();
      await http.close();
      evidence.close();
      evidenceStore.close();
      closeWeb(store);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A SIP mirror for a SIPp call on loopback: the UAC sends to the relay, the relay forwards to the UAS from its own
 * socket and returns the answers; every datagram of the UAC ↔ relay leg goes into `ingest` as the daemon's UDP
 * listener would see a mirrored call.
 */
export class UdpRelay {
  private front: Socket | undefined;
  private readonly upstreams = new Map<string, Socket>();
  private frame = 0;
  /** When each datagram passed, by direction, for latency checks. */
  readonly seen: { readonly at: number; readonly fromClient: boolean; readonly firstLine: string }[] = [];
  local: Endpoint = { ip: '127.0.0.1', port: 0 };

  constructor(
    private readonly target: Endpoint,
    private readonly ingest: Ingest,
  ) {}

  async start(): Promise<number> {
    const front = createSocket('udp4');
    await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
    this.local = { ip: '127.0.0.1', port: front.address().port };
    front.on('message', (msg, rinfo) => this.fromClient(msg, rinfo));
    this.front = front;
    return this.local.port;
  }

  private mirror(src: Endpoint, dst: Endpoint, payload: Buffer): void {
    const nl = payload.indexOf('\r\n');
    this.seen.push({ at: Date.now(), fromClient: dst === this.local, firstLine: payload.subarray(0, nl < 0 ? 80 : nl).toString('latin1') });
    this.ingest.pushDatagram({ ts: wallTimestamp(), src, dst, transport: 'udp', payload, frame: ++this.frame });
  }

  private fromClient(msg: Buffer, rinfo: RemoteInfo): void {
    const client = { ip: rinfo.address, port: rinfo.port };
    this.mirror(client, this.local, msg);
    const key = `${client.ip}:${client.port}`;
    let up = this.upstreams.get(key);
    if (!up) {
      const sock = createSocket('udp4');
      sock.bind(0, '127.0.0.1');
      sock.on('message', (answer) => {
        this.mirror(this.local, client, answer);
        this.front?.send(answer, client.port, client.ip);
      });
      this.upstreams.set(key, sock);
      up = sock;
    }
    up.send(msg, this.target.port, this.target.ip);
  }

  close(): void {
    for (const s of this.upstreams.values()) s.close();
    this.upstreams.clear();
    this.front?.close();
    this.front = undefined;
  }
}

/** A UDP port that is free on `ip` right now (for SIPp, which needs explicit ports). */
export async function freeUdpPort(ip = '127.0.0.1'): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, ip, () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A SIPp UAS (its built-in scenario) on 127.0.0.1:port, in the foreground of a child process. */
export function startSippUas(port: number): ChildProcess {
  return spawn('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-t', 'u1', '-nostdin', '-timeout', '60s'], {
    stdio: 'ignore',
  });
}

/** Play one scenario call (captures/scenario/xml/<id>.xml) from `srcIp` against `target`; resolves with sipp's exit code. */
export async function playSippCall(id: string, srcIp: string, target: Endpoint, callId: string): Promise<number | null> {
  const port = await freeUdpPort(srcIp);
  const child = spawn(
    'sipp',
    [
      '-sf',
      join(ROOT, `captures/scenario/xml/${id}.xml`),
      `${target.ip}:${target.port}`,
      '-i',
      srcIp,
      '-p',
      String(port),
      '-t',
      'u1',
      '-m',
      '1',
      '-nostdin',
      '-timeout',
      '20s',
      '-cid_str',
      callId,
    ],
    { stdio: 'ignore' },
  );
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
