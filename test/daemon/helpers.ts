/** Shared helpers of the daemon tests: in-process daemons on ephemeral loopback ports, a WS client, senders. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { connect as tcpConnect } from 'node:net';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import type { Alert } from '../../src/alerts/alert.js';
import type { Incident } from '../../src/incidents/incident.js';
import { loadConfig, parseConfig, type Config } from '../../src/config/index.js';
import { startDaemon, type DaemonHandle, type DaemonOptions } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/daemon/logger.js';
import { PacketDecoder } from '../../src/decode/packet-decoder.js';
import { readCapture } from '../../src/sources/capture/index.js';
import type { Datagram } from '../../src/types.js';

export const SCENARIO_DIR = join(import.meta.dirname, '../../captures/scenario');
export const SCENARIO_PCAP = join(SCENARIO_DIR, 'scenario.pcapng');
export const SCENARIO_CONFIG = join(SCENARIO_DIR, 'spoofwatch.yaml');

export function tempDir(prefix = 'spoofwatch-daemon-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** The scenario lab config (or, while it is missing, the embedded default) on ephemeral ports. */
export function labConfig(opts: { store: string; watch?: string; over?: Partial<Config> } & Partial<Pick<Config['server'], 'tokens'>>): Config {
  let base: Config;
  const r = loadConfig(SCENARIO_CONFIG);
  if (r.ok) base = r.config;
  else {
    const d = parseConfig('', 'empty');
    if (!d.ok) throw new Error(d.errors.join('\n'));
    base = d.config;
  }
  const listener = { host: '127.0.0.1', port: 0, udp: true, tcp: true };
  return {
    ...base,
    sources: { sip: listener, hep: listener, ...(opts.watch ? { watch: { dir: opts.watch, pollSeconds: 0.1 } } : {}) },
    server: { ...base.server, host: '127.0.0.1', port: 0, tokens: opts.tokens ?? [] },
    store: { ...base.store, path: opts.store },
    ...opts.over,
  };
}

export function quietDaemon(config: Config, extra: Partial<DaemonOptions> = {}): Promise<DaemonHandle> {
  return startDaemon({ config, logger: createLogger({ silent: true }), closeGraceMs: 500, ...extra });
}

export interface WsMessage {
  readonly type: string;
  readonly alert?: Alert;
  readonly lastSeq?: number;
  readonly [k: string]: unknown;
}

/** A WebSocket `{type:'incident'}` message (issue #19). */
export interface IncidentMessage extends WsMessage {
  readonly event: 'open' | 'update' | 'close';
  readonly incident: Incident;
}

export class WsClient {
  readonly messages: WsMessage[] = [];
  /** Binary frames received (the protocol is JSON in text frames only). */
  binaryFrames = 0;
  readonly ws: WebSocket;
  closeCode: number | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on('message', (d, isBinary) => {
      if (isBinary) this.binaryFrames++;
      this.messages.push(JSON.parse(String(d)) as WsMessage);
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve((this.closeCode = code))));
  }

  get alerts(): Alert[] {
    return this.messages.filter((m) => m.type === 'alert' && m.alert).map((m) => m.alert!);
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  async hello(): Promise<WsMessage> {
    await waitFor(() => this.messages.some((m) => m.type === 'hello'), 5000, 'hello');
    return this.messages.find((m) => m.type === 'hello')!;
  }

  close(): Promise<number> {
    this.ws.close();
    return this.closed;
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Send UDP datagrams to 127.0.0.1:port from `srcIp` (any 127.0.0.x works on Linux loopback). */
export async function sendUdp(port: number, payloads: readonly Buffer[], srcIp = '127.0.0.1'): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, srcIp, () => r()));
  for (const p of payloads) {
    await new Promise<void>((resolve, reject) => sock.send(p, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }
  await new Promise<void>((r) => sock.close(() => r()));
}

/** Open a TCP connection to 127.0.0.1:port from `srcIp`, write chunks, optionally keep it open. */
export async function sendTcp(port: number, chunks: readonly Buffer[], opts: { srcIp?: string; keepOpen?: boolean } = {}) {
  const sock = tcpConnect({ host: '127.0.0.1', port, localAddress: opts.srcIp ?? '127.0.0.1' });
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  for (const c of chunks) await new Promise<void>((r) => sock.write(c, () => r()));
  if (!opts.keepOpen) await new Promise<void>((r) => sock.end(() => r()));
  return sock;
}

/** Every transport payload of a capture, as the decoder sees them (for replaying a capture as HEP). */
export async function captureDatagrams(file: string): Promise<Datagram[]> {
  const out: Datagram[] = [];
  const dec = new PacketDecoder({ onDatagram: (d) => void out.push({ ...d, payload: Buffer.from(d.payload) }), onAnomaly: () => undefined });
  await readCapture(file, (f) => dec.push(f));
  dec.flush();
  return out;
}

export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const lbl = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => lbl.includes(`${k}="${v}"`))) {
      sum += Number(m[3]);
      found = true;
    }
  }
  return found ? sum : NaN;
}

/** `rule callId` keys, sorted: the shape the acceptance tests compare. */
export function ruleCallSet(alerts: readonly Alert[]): string[] {
  return alerts.map((a) => `${a.rule} ${a.call.callId}`).sort();
}

/** A minimal INVITE (no SDP). `display` pads the From display name to make alerts bigger. */
export function invite(callId: string, opts: { from?: string; srcIp?: string; cseq?: number; display?: string; transport?: 'UDP' | 'TCP' } = {}): Buffer {
  const from = opts.from ?? '+31301234567';
  const src = opts.srcIp ?? '127.0.0.99';
  const disp = opts.display !== undefined ? `"${opts.display}" ` : '';
  return Buffer.from(
    [
      'INVITE sip:+31301234500@127.0.0.1 SIP/2.0',
      `Via: SIP/2.0/${opts.transport ?? 'UDP'} ${src}:5099;branch=z9hG4bK-${callId.replace(/[^A-Za-z0-9]/g, '')}-${opts.cseq ?? 1}`,
      `From: ${disp}<sip:${from}@unknown.example>;tag=t-${callId.replace(/[^A-Za-z0-9]/g, '')}`,
      'To: <sip:+31301234500@127.0.0.1>',
      `Call-ID: ${callId}`,
      `CSeq: ${opts.cseq ?? 1} INVITE`,
      `Contact: <sip:caller@${src}:5099>`,
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}
