/**
 * Live SIP over WebSocket (RFC 7118): the listener browser softphones built on SIP.js or JsSIP connect to. The
 * opening handshake must offer the `sip` subprotocol (§4; others get 400), each text or binary message is one SIP
 * message (§5) with transport `ws` and the TCP peer as source address. Connections and message sizes are bounded
 * (503 beyond the connection limit, close 1009 beyond the message size), idle connections are closed, and every
 * refusal is counted; nothing here throws into the event loop. The daemon only listens: it never answers SIP.
 */
import { countAnomaly, type AnomalyKind } from '../anomalies.js';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { LimitsConfig, SipWsConfig } from '../config/index.js';
import type { Endpoint } from '../types.js';
import { mergeIngest, newCounters, wallTimestamp, type IngestFactory, type IngestSink, type LiveSource, type SourceCounters, type SourceStatus } from './source.js';

export interface SipWsDeps {
  /** The sink of this listener's messages (the daemon wires it to the pipeline). */
  readonly ingest: IngestFactory;
  readonly limits: LimitsConfig;
  readonly now?: () => number;
  /** Socket-level failures worth an operational log line (never per message). */
  readonly onError?: (source: string, err: Error) => void;
}

const endpointKey = (e: Endpoint): string => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);

/** `::ffff:127.0.0.1` → `127.0.0.1`, so peers configured by IPv4 CIDR match on dual-stack sockets. */
function plainAddress(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** RFC 6455 §4.1: the subprotocols a client offers, lower-cased. */
function offeredProtocols(req: IncomingMessage): string[] {
  const v = req.headers['sec-websocket-protocol'];
  if (v === undefined) return [];
  return v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

/** Time a client has to send its whole opening handshake. */
const HANDSHAKE_MS = 5000;
/** TCP connections beyond `maxConnections` allowed to be in their handshake (so the 503 can be sent). */
const HANDSHAKE_MARGIN = 64;

function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export class SipWsListener implements LiveSource {
  readonly name = 'sip-ws';
  readonly counters: SourceCounters = newCounters();
  private readonly ingest: IngestSink;
  private readonly now: () => number;
  private readonly wss: WebSocketServer;
  private server: Server | undefined;
  private readonly sockets = new Set<WebSocket>();
  private frame = 0;
  private lastPacketMs: number | undefined;
  private error: string | undefined;
  private up = false;
  private address = '';
  private localPort = 0;

  constructor(
    private readonly cfg: SipWsConfig,
    private readonly deps: SipWsDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.ingest = deps.ingest({ origin: 'sip-ws', maxStreams: deps.limits.flows });
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: cfg.maxMessageBytes,
      perMessageDeflate: false,
      handleProtocols: (protocols) => [...protocols].find((p) => p.toLowerCase() === 'sip') ?? false,
    });
  }

  get port(): number {
    return this.localPort;
  }

  status(): SourceStatus {
    return {
      name: this.name,
      up: this.up,
      address: this.address,
      ...(this.lastPacketMs !== undefined ? { lastPacketMs: this.lastPacketMs } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
      counters: mergeIngest(this.counters, [this.ingest]),
      connections: this.sockets.size,
    };
  }

  /** Bind; rejects with the socket error (EADDRINUSE, EACCES …). */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      // A handshake must arrive within HANDSHAKE_MS (checked every second, not Node's default 30 s), and sockets still
      // in their handshake count against the TCP limit too: a slow-handshake flood cannot pile up.
      const server = createServer({ headersTimeout: HANDSHAKE_MS, requestTimeout: HANDSHAKE_MS, connectionsCheckingInterval: 1000 }, (_req, res) => {
        // Plain HTTP: this port only speaks WebSocket (RFC 6455 §4.2.2 "426 Upgrade Required").
        countAnomaly(this.counters.anomalies, 'ws.not-upgrade');
        res.writeHead(426, { Upgrade: 'websocket', Connection: 'close', 'Content-Length': '0' }).end();
      });
      server.maxConnections = this.cfg.maxConnections + HANDSHAKE_MARGIN;
      server.on('drop', () => countAnomaly(this.counters.anomalies, 'tcp.connection-limit'));
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
      server.on('clientError', (_e, socket: Duplex) => {
        countAnomaly(this.counters.anomalies, 'ws.bad-handshake');
        socket.destroy();
      });
      const onListenError = (e: Error): void => {
        server.close();
        reject(e);
      };
      server.once('error', onListenError);
      server.listen({ host: this.cfg.host, port: this.cfg.port }, () => {
        server.off('error', onListenError);
        server.on('error', (e) => {
          this.error = e.message;
          this.deps.onError?.(this.name, e);
        });
        const a = server.address();
        this.localPort = typeof a === 'object' && a !== null ? a.port : this.cfg.port;
        this.address = `ws:${endpointKey({ ip: this.cfg.host, port: this.localPort })}${this.cfg.path ?? ''}`;
        this.server = server;
        this.up = true;
        resolve();
      });
    });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => countAnomaly(this.counters.anomalies, 'tcp.reset'));
    const path = (req.url ?? '/').split('?')[0];
    if (this.cfg.path !== undefined && path !== this.cfg.path) {
      countAnomaly(this.counters.anomalies, 'ws.wrong-path');
      refuse(socket, '404 Not Found');
      return;
    }
    if (!offeredProtocols(req).includes('sip')) {
      // RFC 7118 §4: the client MUST offer "sip"; without it this is some other application's WebSocket.
      countAnomaly(this.counters.anomalies, 'ws.no-sip-subprotocol');
      refuse(socket, '400 Bad Request');
      return;
    }
    if (this.sockets.size >= this.cfg.maxConnections) {
      countAnomaly(this.counters.anomalies, 'ws.connection-limit');
      refuse(socket, '503 Service Unavailable');
      return;
    }
    try {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
    } catch (e) {
      countAnomaly(this.counters.anomalies, 'ws.bad-handshake');
      this.deps.onError?.(this.name, e instanceof Error ? e : new Error(String(e)));
      socket.destroy();
    }
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const s = req.socket;
    const src: Endpoint = { ip: plainAddress(s.remoteAddress ?? '0.0.0.0'), port: s.remotePort ?? 0 };
    const dst: Endpoint = { ip: plainAddress(s.localAddress ?? '0.0.0.0'), port: s.localPort ?? 0 };
    this.sockets.add(ws);
    // Half-open or silent connections must not hold a slot forever.
    s.setTimeout(this.deps.limits.flowIdleSeconds * 1000, () => {
      countAnomaly(this.counters.anomalies, 'ws.idle-timeout');
      ws.terminate();
    });
    ws.on('message', (data: RawData) => this.onMessage(data, src, dst));
    ws.on('error', (e: Error & { code?: string }) => {
      // ws closes the connection itself (1009 too big, 1002 protocol error) after reporting it here.
      countAnomaly(this.counters.anomalies, e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'ws.message-too-large' : 'ws.protocol-error');
    });
    ws.on('close', () => this.sockets.delete(ws));
  }

  private onMessage(data: RawData, src: Endpoint, dst: Endpoint): void {
    const payload = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    this.counters.frames++;
    this.counters.bytes += payload.length;
    this.lastPacketMs = this.now();
    const frame = ++this.frame;
    try {
      this.ingest.pushDatagram({ ts: wallTimestamp(this.lastPacketMs), src, dst, transport: 'ws', payload, frame });
    } catch (e) {
      countAnomaly(this.counters.anomalies, 'internal.error');
      this.deps.onError?.(this.name, e instanceof Error ? e : new Error(String(e)));
    }
  }

  close(): Promise<void> {
    this.up = false;
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    const s = this.server;
    this.server = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  }
}
