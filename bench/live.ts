/**
 * Live ingest bench (issue #5): the daemon in a child process (child-daemon.ts), a paced sender of the lab traffic
 * model as plain SIP over UDP (one socket per lab peer address, so peers are recognised) or HEP v3 over UDP, and
 * WebSocket subscribers that time each alert from the send of its INVITE to its receipt.
 */
import { kernelUdpDrops as kernelUdpDropsOf } from '../src/sources/udp-drops.js';
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { encodeHep } from '../src/decode/hep.js';
import { LAUNCH_NODE_OPTIONS } from '../src/heap.js';
import type { ChildReply, DaemonCounters } from './child-daemon.js';
import type { SubscriberReply, SubscriberRequest } from './subscribers-worker.js';
import { slotMessages, type SipPacket } from './traffic.js';

export interface LiveDaemon {
  readonly ports: Record<string, number | undefined>;
  readonly ws: string;
  readonly child: ChildProcess;
  stats(): Promise<DaemonCounters>;
  stop(): Promise<void>;
}

export async function startChildDaemon(script: string, store: string, cpu?: string): Promise<LiveDaemon> {
  // BENCH_DAEMON_NODE_ARGS: extra Node options for the daemon child, for profiling by hand (e.g. --cpu-prof).
  const extra = [...LAUNCH_NODE_OPTIONS, ...(process.env['BENCH_DAEMON_NODE_ARGS'] ?? '').split(' ').filter(Boolean)];
  const child =
    cpu !== undefined
      ? fork(script, [store], { execPath: 'taskset', execArgv: ['-c', cpu, process.execPath, ...extra] })
      : fork(script, [store], { execArgv: extra });
  let next = 0;
  const waiting = new Map<number, (c: DaemonCounters) => void>();
  const ready = await new Promise<Extract<ChildReply, { type: 'ready' }>>((resolve, reject) => {
    child.on('message', (raw: unknown) => {
      const m = raw as ChildReply;
      if (m.type === 'ready') resolve(m);
      else if (m.type === 'error') reject(new Error(m.message));
      else if (m.type === 'stats') {
        waiting.get(m.id)?.(m.counters);
        waiting.delete(m.id);
      }
    });
    child.once('exit', (code) => reject(new Error(`daemon child exited with ${code}`)));
  });
  return {
    ports: ready.ports,
    ws: ready.ws,
    child,
    stats: () =>
      new Promise((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        child.send({ type: 'stats', id });
      }),
    stop: () =>
      new Promise((resolve) => {
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.send({ type: 'stop' });
      }),
  };
}

/**
 * WebSocket subscribers in a worker thread (subscribers-worker.ts) recording, per alert of a probed call, ms from its
 * INVITE's send (`sentAt`, monotonic ms) to receipt.
 */
export class Subscribers {
  readonly sentAt = new Map<string, number>();
  private readonly worker = new Worker(new URL('./subscribers-worker.js', import.meta.url));
  private next: ((m: SubscriberReply) => void) | undefined;

  constructor() {
    this.worker.on('message', (m: SubscriberReply) => {
      const f = this.next;
      this.next = undefined;
      f?.(m);
    });
  }

  private ask(m: SubscriberRequest): Promise<SubscriberReply> {
    return new Promise((resolve) => {
      this.next = resolve;
      this.worker.postMessage(m);
    });
  }

  async open(url: string, n: number): Promise<void> {
    const r = await this.ask({ type: 'open', url, n });
    if (r.type === 'error') throw new Error(`subscribers: ${r.message}`);
  }

  /** Start a new measurement window. */
  reset(): void {
    this.sentAt.clear();
    this.worker.postMessage({ type: 'reset' } satisfies SubscriberRequest);
  }

  /**
   * Alerts received since the reset, and the latency of each alert of a probed call: `latencies` of the calls
   * whose INVITE was sent at or after `fromMs` (the measured window), `all` of every probed call.
   */
  async collect(fromMs = -Infinity): Promise<{ received: number; latencies: number[]; all: number[] }> {
    const r = await this.ask({ type: 'collect' });
    if (r.type !== 'collected') throw new Error('subscribers: unexpected reply');
    const latencies: number[] = [];
    const all: number[] = [];
    r.callIds.forEach((callId, i) => {
      const t = this.sentAt.get(callId);
      if (t === undefined) return;
      all.push(r.atMs[i]! - t);
      if (t >= fromMs) latencies.push(r.atMs[i]! - t);
    });
    return { received: r.received, latencies, all };
  }

  close(): void {
    this.worker.postMessage({ type: 'close' } satisfies SubscriberRequest);
    void this.worker.terminate();
  }
}

/** Monotonic ms, comparable across the threads of this process. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

const LAB_IPS = ['127.0.0.1', '127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14', '127.0.0.99'];

/**
 * A UDP socket bound to `ip` and connected to 127.0.0.1:port: each send then skips the address lookup (a resolve per
 * datagram in Node) and the kernel's route lookup. Send errors are counted through `onError` (no completion
 * callback per datagram either: the sender is the load generator on the same two cores as the daemon under test).
 */
function connectFrom(ip: string, port: number, onError: () => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, ip, () => {
      try {
        s.setSendBufferSize(4 << 20);
      } catch {
        // keep the default
      }
      s.connect(port, '127.0.0.1', () => {
        s.off('error', reject);
        s.on('error', onError);
        resolve(s);
      });
    });
  });
}

export interface SendResult {
  readonly sent: number;
  readonly sendErrors: number;
  /** Seconds of sending, lead-in included. */
  readonly seconds: number;
  readonly probes: number;
  /** Monotonic ms (monotonicMs) at the end of the lead-in: the start of the measured window. */
  readonly measuredFromMs: number;
}

/**
 * Send the traffic model at `rate` messages/s for `leadSeconds` + `seconds` to 127.0.0.1:port, as plain SIP (from
 * each message's own lab address) or as HEP v3 (addresses inside the HEP header). Spoofed INVITEs are registered as
 * latency probes (with their send time: the caller tells the lead-in from the measured window by `measuredFromMs`).
 *
 * The lead-in: a phase starts with new calls only, so its first seconds carry nothing but INVITEs and their first
 * responses — up to 3.5× the call rate of the steady mix at the same message rate, until the first BYEs are due
 * (6,600 slots ≈ 2.3 s at 20k msg/s). A few seconds at the same rate first make the measured window the steady mix
 * that "20k msg/s of this traffic" means.
 */
export async function sendPaced(o: {
  readonly proto: 'sip' | 'hep';
  readonly port: number;
  readonly rate: number;
  readonly seconds: number;
  /** Seconds sent at the same rate before the measured window (default 0). */
  readonly leadSeconds?: number;
  readonly run: string;
  /** First call index (and slot) of this phase. */
  readonly firstCall?: number;
  readonly probes?: Map<string, number>;
}): Promise<SendResult> {
  let errors = 0;
  const onError = (): void => void errors++;
  const sockets = new Map<string, Socket>();
  if (o.proto === 'sip') for (const ip of LAB_IPS) sockets.set(ip, await connectFrom(ip, o.port, onError));
  else sockets.set('hep', await connectFrom('127.0.0.1', o.port, onError));
  let sent = 0;
  let probes = 0;
  let queue: SipPacket[] = [];
  let qi = 0;
  const first = o.firstCall ?? 0;
  let slot = first;
  const lead = o.leadSeconds ?? 0;
  const total = Math.round(o.rate * (lead + o.seconds));
  const t0 = performance.now();
  const measuredFromMs = monotonicMs() + lead * 1000;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * o.rate));
    while (sent < due) {
      if (qi >= queue.length) {
        queue = slotMessages(slot++, Number.MAX_SAFE_INTEGER, o.run, first);
        qi = 0;
        continue;
      }
      const m = queue[qi++]!;
      const text = Buffer.from(m.text, 'latin1');
      if (m.spoofInvite && o.probes) {
        o.probes.set(m.callId, monotonicMs());
        probes++;
      }
      if (o.proto === 'sip') {
        sockets.get(m.srcIp)!.send(text);
      } else {
        const ms = Date.now();
        const hep = encodeHep({
          ipFamily: 4,
          ipProtocol: 17,
          src: { ip: m.srcIp, port: m.srcPort },
          dst: { ip: m.dstIp, port: m.dstPort },
          ts: { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 },
          payloadType: 1,
          captureId: 2001,
          payload: text,
        });
        sockets.get('hep')!.send(hep);
      }
      sent++;
    }
    // Sleep until the next timer tick (~1 ms: a burst of rate/1000 datagrams per tick). Yielding with setImmediate
    // instead kept this process spinning at 100% of a core, which on a two-core machine took the core the daemon
    // under test, its GC threads and the kernel's loopback delivery need.
    await new Promise<void>((r) => setTimeout(r, 1));
  }
  const seconds = (performance.now() - t0) / 1000;
  // Let queued sends leave before closing.
  await new Promise<void>((r) => setTimeout(r, 200));
  for (const s of sockets.values()) s.close();
  return { sent, sendErrors: errors, seconds, probes, measuredFromMs };
}

/** Kernel receive-queue drops of the UDP socket bound to 127.0.0.1:port, if readable. */
export function kernelUdpDrops(port: number): number | undefined {
  return kernelUdpDropsOf('127.0.0.1', port);
}
