/**
 * Socket sources of the daemon: plain SIP over UDP and TCP (a mirror or a proxy's copy) and HEP v3 over UDP
 * and TCP (what Kamailio, OpenSIPS, FreeSWITCH, Asterisk and heplify emit). Each listener owns one Ingest
 * (frame numbers are per source); every TCP connection is one flow, framed by Content-Length (SIP, RFC 3261
 * §18.3) or by the HEP length (HepStreamFramer). Hostile input — garbage, oversize datagrams, lying HEP
 * lengths, half-open connections — is counted as an anomaly and dropped; nothing here throws into the
 * event loop.
 */
import { countAnomaly, type AnomalyKind } from '../anomalies.js';
import { timingSafeEqual } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { AddressTextCache } from '../decode/address-text.js';
import { decodeHep, HepStreamFramer, HEP_MAX_LEN, type HepPacket } from '../decode/hep.js';
import type { LimitsConfig } from '../config/index.js';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../identity/ip.js';
import type { Datagram, Endpoint } from '../types.js';
import { mergeIngest, newCounters, wallTimestamp, type HepRejection, type IngestFactory, type IngestSink, type LiveSource, type SourceCounters, type SourceStatus } from './source.js';

export type ListenerProtocol = 'sip' | 'hep';

export interface ListenerDeps {
  /** The sink of this listener's datagrams (the daemon wires it to the pipeline). */
  readonly ingest: IngestFactory;
  readonly limits: LimitsConfig;
  /** Wall clock in ms. */
  readonly now?: () => number;
  /** Socket-level failures worth an operational log line (never per packet). */
  readonly onError?: (source: string, err: Error) => void;
  /** The first HEP packet of each agent that does not decode (one log line per agent, never per packet). */
  readonly onHepRejected?: (source: string, r: HepRejection) => void;
}

/** An agent is reported degraded after this many rejected packets and none decoded … */
const HEP_DEGRADED_MIN_REJECTED = 3;
/** … while its last rejection is this recent (a sender that stopped, or one spoofed burst, clears by itself). */
const HEP_DEGRADED_WINDOW_MS = 10 * 60_000;

/** A TCP connection that sends this many bytes of HEP garbage without one valid packet is closed. */
const HEP_GARBAGE_CLOSE_BYTES = 4 * HEP_MAX_LEN;

/** Who may send to a listener (config `sources.<sip|hep>.allowFrom`, `authKey`, `captureIds`). */
export interface ListenerAccess {
  /** CIDRs allowed to send; absent: anyone who can reach the (loopback) socket. */
  readonly allowFrom?: readonly string[];
  /** HEP only: chunk 14 every packet must carry. */
  readonly authKey?: string;
  /** HEP only: capture agent ids (chunk 12) accepted. */
  readonly captureIds?: readonly number[];
}

/** Source address allow-list; remembers the last address it judged (live peers send in runs). */
class SourceFilter {
  private lastIp = '';
  private lastOk = false;
  constructor(private readonly cidrs: readonly Cidr[]) {}

  static of(texts: readonly string[] | undefined): SourceFilter | undefined {
    if (texts === undefined) return undefined;
    const cidrs: Cidr[] = [];
    for (const t of texts) {
      const c = parseCidr(t);
      if (c.kind === 'invalid') throw new Error(`allowFrom: ${c.reason}`);
      cidrs.push(c.cidr);
    }
    return new SourceFilter(cidrs);
  }

  allows(ip: string): boolean {
    if (ip === this.lastIp) return this.lastOk;
    const addr = parseIp(ip);
    // IPv4 lives in the IPv4-mapped part of the 128-bit space, so an IPv6 CIDR such as ::/0 covers it too.
    const ok = addr !== undefined && this.cidrs.some((c) => cidrContains(c, addr));
    this.lastIp = ip;
    this.lastOk = ok;
    return ok;
  }
}

/** HEP agent checks: the anomaly a packet is refused with, or undefined when it passes. */
class HepAgentFilter {
  private readonly key: Buffer | undefined;
  private readonly ids: ReadonlySet<number> | undefined;
  constructor(access: ListenerAccess) {
    this.key = access.authKey !== undefined ? Buffer.from(access.authKey, 'utf8') : undefined;
    this.ids = access.captureIds !== undefined ? new Set(access.captureIds) : undefined;
  }

  static of(access: ListenerAccess): HepAgentFilter | undefined {
    return access.authKey !== undefined || access.captureIds !== undefined ? new HepAgentFilter(access) : undefined;
  }

  refusal(p: HepPacket): AnomalyKind | undefined {
    if (this.key !== undefined) {
      const got = p.authKey !== undefined ? Buffer.from(p.authKey, 'utf8') : undefined;
      if (got === undefined || got.length !== this.key.length || !timingSafeEqual(got, this.key)) return 'hep.refused-auth-key';
    }
    if (this.ids !== undefined && (p.captureId === undefined || !this.ids.has(p.captureId))) return 'hep.refused-capture-id';
    return undefined;
  }
}

const endpointKey = (e: Endpoint): string => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);

/** `::ffff:127.0.0.1` → `127.0.0.1`, so peers configured by IPv4 CIDR match on dual-stack sockets. */
function plainAddress(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

abstract class ListenerBase implements LiveSource {
  readonly counters: SourceCounters = newCounters();
  protected readonly ingest: IngestSink;
  protected readonly now: () => number;
  protected frame = 0;
  protected lastPacketMs: number | undefined;
  protected error: string | undefined;
  protected up = false;
  protected address = '';
  protected readonly sources: SourceFilter | undefined;
  protected readonly agents: HepAgentFilter | undefined;

  constructor(
    readonly name: string,
    protected readonly deps: ListenerDeps,
    origin: string,
    access: ListenerAccess = {},
  ) {
    this.now = deps.now ?? Date.now;
    this.sources = SourceFilter.of(access.allowFrom);
    this.agents = name.startsWith('hep') ? HepAgentFilter.of(access) : undefined;
    this.ingest = deps.ingest({
      origin,
      maxStreams: deps.limits.flows,
      now: () => wallTimestamp(this.now()),
      ...(deps.onHepRejected ? { onHepRejected: (r: HepRejection) => deps.onHepRejected?.(this.name, r) } : {}),
    });
  }

  status(): SourceStatus {
    return {
      name: this.name,
      up: this.up,
      address: this.address,
      ...(this.lastPacketMs !== undefined ? { lastPacketMs: this.lastPacketMs } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
      counters: mergeIngest(this.counters, [this.ingest]),
      ...this.hepStatus(),
      ...this.extraStatus(),
    };
  }

  protected extraStatus(): Partial<SourceStatus> {
    return {};
  }

  /**
   * HEP sources: agents whose every packet was rejected, and non-SIP HEP packets by payload type. (A SIP listener also
   * unwraps HEP it is sent, but HEP-looking garbage there says nothing about a feed: it never degrades a SIP source.)
   */
  private hepStatus(): Partial<SourceStatus> {
    const st = this.ingest.stats;
    const rejected = this.name.startsWith('hep-') ? this.ingest.hepAgentsAllRejected(HEP_DEGRADED_MIN_REJECTED, this.now() - HEP_DEGRADED_WINDOW_MS) : [];
    return {
      ...(rejected.length > 0 ? { hepAgentsRejected: rejected } : {}),
      ...(Object.keys(st.hepNotSip).length > 0 ? { hepNotSip: { ...st.hepNotSip } } : {}),
    };
  }

  /** Run one unit of ingestion; a bug in a later stage is counted and logged, never crashes the daemon. */
  protected guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      countAnomaly(this.counters.anomalies, 'internal.error');
      this.deps.onError?.(this.name, e instanceof Error ? e : new Error(String(e)));
    }
  }

  abstract close(): Promise<void>;
}

/** One UDP socket carrying SIP or HEP datagrams. */
export class UdpListener extends ListenerBase {
  private socket: UdpSocket | undefined;
  private local: Endpoint = { ip: '', port: 0 };
  private readonly hepAddrs = new AddressTextCache();

  constructor(
    readonly protocol: ListenerProtocol,
    deps: ListenerDeps,
    access: ListenerAccess = {},
  ) {
    super(`${protocol}-udp`, deps, `${protocol}-udp`, access);
  }

  get port(): number {
    return this.local.port;
  }

  /** Bind; rejects with the socket error (EADDRINUSE, EACCES …). */
  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
      const onBindError = (e: Error) => {
        socket.close();
        reject(e);
      };
      socket.once('error', onBindError);
      socket.bind(port, host, () => {
        socket.off('error', onBindError);
        const a = socket.address();
        this.local = { ip: plainAddress(a.address), port: a.port };
        this.address = `udp:${endpointKey(this.local)}`;
        // Bursts of 20k msg/s must not overflow the kernel's default ~200 KB buffer.
        try {
          socket.setRecvBufferSize(8 * 1024 * 1024);
        } catch {
          // not permitted: the default stays, drops show up as kernel UDP errors
        }
        socket.on('error', (e) => {
          this.error = e.message;
          this.deps.onError?.(this.name, e);
        });
        socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
        this.socket = socket;
        this.up = true;
        resolve();
      });
    });
  }

  private onMessage(msg: Buffer, ip: string, port: number): void {
    this.counters.frames++;
    this.counters.bytes += msg.length;
    this.lastPacketMs = this.now();
    const frame = ++this.frame;
    if (this.sources !== undefined && !this.sources.allows(plainAddress(ip))) {
      countAnomaly(this.counters.anomalies, 'listener.refused-source');
      return;
    }
    if (msg.length > this.deps.limits.messageBytes) {
      countAnomaly(this.counters.anomalies, 'udp.oversize');
      return;
    }
    this.guard(() => {
      if (this.protocol === 'hep') {
        // Agent checks need the chunks: decoded here only when configured (the Ingest decodes again; invalid
        // packets go on to be counted there as before).
        if (this.agents !== undefined) {
          const r = decodeHep(msg, this.hepAddrs);
          const refused = r.kind === 'ok' ? this.agents.refusal(r.value) : undefined;
          if (refused !== undefined) {
            countAnomaly(this.counters.anomalies, refused);
            return;
          }
        }
        this.ingest.pushHep(msg, frame, { ip: plainAddress(ip), port });
        return;
      }
      const d: Datagram = {
        ts: wallTimestamp(this.lastPacketMs),
        src: { ip: plainAddress(ip), port },
        dst: this.local,
        transport: 'udp',
        payload: msg,
        frame,
      };
      this.ingest.pushDatagram(d);
    });
  }

  close(): Promise<void> {
    this.up = false;
    const s = this.socket;
    this.socket = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

interface Connection {
  readonly socket: Socket;
  readonly flow: string;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly hep?: HepStreamFramer;
  /** HEP: garbage bytes already counted, to report only what is new. */
  seenGarbage: number;
  seenInvalid: number;
}

/** One TCP listener; each accepted connection is one flow. */
export class TcpListener extends ListenerBase {
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private localPort = 0;

  constructor(
    readonly protocol: ListenerProtocol,
    deps: ListenerDeps,
    access: ListenerAccess = {},
  ) {
    super(`${protocol}-tcp`, deps, `${protocol}-tcp`, access);
  }

  get port(): number {
    return this.localPort;
  }

  protected override extraStatus(): Partial<SourceStatus> {
    return { connections: this.connections.size };
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => this.accept(sock));
      server.maxConnections = this.deps.limits.flows;
      const onListenError = (e: Error) => {
        server.close();
        reject(e);
      };
      server.once('error', onListenError);
      server.on('drop', () => countAnomaly(this.counters.anomalies, 'tcp.connection-limit'));
      server.listen({ host, port }, () => {
        server.off('error', onListenError);
        server.on('error', (e) => {
          this.error = e.message;
          this.deps.onError?.(this.name, e);
        });
        const a = server.address();
        this.localPort = typeof a === 'object' && a !== null ? a.port : port;
        this.address = `tcp:${endpointKey({ ip: host, port: this.localPort })}`;
        this.server = server;
        this.up = true;
        resolve();
      });
    });
  }

  private accept(sock: Socket): void {
    const src: Endpoint = { ip: plainAddress(sock.remoteAddress ?? '0.0.0.0'), port: sock.remotePort ?? 0 };
    if (this.sources !== undefined && !this.sources.allows(src.ip)) {
      countAnomaly(this.counters.anomalies, 'listener.refused-source');
      sock.on('error', () => undefined);
      sock.destroy();
      return;
    }
    const dst: Endpoint = { ip: plainAddress(sock.localAddress ?? '0.0.0.0'), port: sock.localPort ?? 0 };
    const conn: Connection = {
      socket: sock,
      flow: `${endpointKey(src)}>${endpointKey(dst)}`,
      src,
      dst,
      ...(this.protocol === 'hep' ? { hep: new HepStreamFramer() } : {}),
      seenGarbage: 0,
      seenInvalid: 0,
    };
    this.connections.add(conn);
    sock.setNoDelay(true);
    // Half-open or silent connections must not hold a flow (and its buffers) forever.
    sock.setTimeout(this.deps.limits.flowIdleSeconds * 1000, () => {
      countAnomaly(this.counters.anomalies, 'tcp.idle-timeout');
      sock.destroy();
    });
    sock.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    sock.on('error', () => countAnomaly(this.counters.anomalies, 'tcp.reset'));
    sock.on('close', () => {
      this.connections.delete(conn);
      this.guard(() => this.ingest.closeFlow(conn.flow));
    });
  }

  private onData(conn: Connection, chunk: Buffer): void {
    this.counters.frames++;
    this.counters.bytes += chunk.length;
    this.lastPacketMs = this.now();
    if (conn.hep) {
      const hep = conn.hep;
      this.guard(() => this.onHep(conn, hep, chunk));
      return;
    }
    const frame = ++this.frame;
    this.guard(() => {
      this.ingest.pushDatagram({
        ts: wallTimestamp(this.lastPacketMs),
        src: conn.src,
        dst: conn.dst,
        transport: 'tcp',
        payload: chunk,
        frame,
        flow: conn.flow,
      });
    });
  }

  /**
   * HEP over TCP: each HEP packet is a frame of this listener, numbered as the HEP UDP listener numbers datagrams —
   * the messages of one read chunk (a sender writing fast fills one chunk with dozens) used to share its number, so
   * a replayed call's messages all carried frame 2 and the evidence marked every one of them as the offending frame.
   */
  private onHep(conn: Connection, framer: HepStreamFramer, chunk: Buffer): void {
    const packets = framer.push(chunk);
    const st = framer.stats;
    if (st.garbageBytes > conn.seenGarbage) {
      countAnomaly(this.counters.anomalies, 'hep.tcp-garbage-bytes', st.garbageBytes - conn.seenGarbage);
      conn.seenGarbage = st.garbageBytes;
    }
    if (st.invalid > conn.seenInvalid) {
      const n = st.invalid - conn.seenInvalid;
      conn.seenInvalid = st.invalid;
      for (let i = 0; i < n; i++) this.ingest.rejectHep(st.lastInvalidReason ?? 'invalid HEP packet', ++this.frame, conn.src, chunk);
    }
    if (st.packets === 0 && st.garbageBytes > HEP_GARBAGE_CLOSE_BYTES) {
      countAnomaly(this.counters.anomalies, 'hep.tcp-garbage-closed');
      conn.socket.destroy();
      return;
    }
    // HEP carries whole SIP messages, also when the original transport was TCP: no stream framing.
    for (const p of packets) {
      const frame = ++this.frame;
      const refused = this.agents?.refusal(p);
      if (refused !== undefined) {
        countAnomaly(this.counters.anomalies, refused);
        continue;
      }
      this.ingest.pushHepPacket(p, frame, conn.src);
    }
  }

  close(): Promise<void> {
    this.up = false;
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
    const s = this.server;
    this.server = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}

export interface ListenerPair {
  readonly udp?: UdpListener;
  readonly tcp?: TcpListener;
}

function isLoopbackAddress(host: string): boolean {
  if (host === 'localhost') return true;
  const a = parseIp(host);
  if (a === undefined) return false;
  return a.family === 4 ? ((a.value >> 24n) & 0xffn) === 127n : a.value === 1n;
}

/**
 * Bind the UDP and/or TCP listener of one protocol. With port 0 both get the same ephemeral port when
 * possible (UDP first, then TCP on that port; a few retries when TCP finds it taken). A non-loopback `host`
 * without `allowFrom` is refused (the config check says the same): anyone who reaches the socket could write
 * the alert record.
 */
export async function startListenerPair(
  protocol: ListenerProtocol,
  cfg: { readonly host: string; readonly port: number; readonly udp: boolean; readonly tcp: boolean } & ListenerAccess,
  deps: ListenerDeps,
): Promise<ListenerPair> {
  if (!isLoopbackAddress(cfg.host) && cfg.allowFrom === undefined) {
    throw new Error(`refusing to listen on ${cfg.host} without sources.${protocol}.allowFrom (the CIDRs that may send)`);
  }
  for (let attempt = 0; ; attempt++) {
    const udp = cfg.udp ? new UdpListener(protocol, deps, cfg) : undefined;
    if (udp) await udp.listen(cfg.host, cfg.port);
    if (!cfg.tcp) return udp ? { udp } : {};
    const tcp = new TcpListener(protocol, deps, cfg);
    try {
      await tcp.listen(cfg.host, udp ? udp.port : cfg.port);
      return udp ? { udp, tcp } : { tcp };
    } catch (e) {
      await udp?.close();
      const code = (e as NodeJS.ErrnoException).code;
      if (cfg.port !== 0 || code !== 'EADDRINUSE' || attempt >= 5) throw e;
    }
  }
}
