/**
 * Live capture from a network interface through `tcpdump -i IF -U -w -` (DESIGN.md §6: no native addon to
 * build). tcpdump writes a pcap stream on stdout, packet-buffered (-U), which the streaming capture parser
 * reads like any other capture. A missing binary or missing privileges is a clear error on the source
 * (visible in /healthz and the log), not a crash.
 */
import { captureAnomaly, countAnomaly } from '../anomalies.js';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { SpoofwatchError } from '../types.js';
import { openCapture } from './capture/index.js';
import { mergeIngest, newCounters, type IngestFactory, type IngestSink, type LiveSource, type SourceCounters, type SourceStatus } from './source.js';

export interface InterfaceCaptureOptions {
  readonly iface: string;
  /** A pcap filter expression, passed to tcpdump as one argument. */
  readonly filter?: string;
  /** The sink of the captured frames (the daemon wires it to the pipeline). */
  readonly ingest: IngestFactory;
  /** The tcpdump binary; default `tcpdump` from PATH. */
  readonly tcpdump?: string;
  readonly now?: () => number;
  readonly onError?: (source: string, err: Error) => void;
}

export class InterfaceCapture implements LiveSource {
  readonly name = 'interface';
  private readonly counters: SourceCounters = newCounters();
  private readonly ingest: IngestSink;
  private readonly now: () => number;
  private child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  private up = false;
  private error: string | undefined;
  private lastPacketMs: number | undefined;
  private stderr = '';
  private closed = false;
  private reading: Promise<void> | undefined;

  constructor(private readonly opts: InterfaceCaptureOptions) {
    this.now = opts.now ?? Date.now;
    this.ingest = opts.ingest({ origin: `interface:${opts.iface}` });
  }

  status(): SourceStatus {
    return {
      name: this.name,
      up: this.up,
      address: `interface:${this.opts.iface}`,
      ...(this.lastPacketMs !== undefined ? { lastPacketMs: this.lastPacketMs } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
      counters: mergeIngest(this.counters, [this.ingest]),
    };
  }

  /**
   * Start tcpdump; resolves once it reports that it is listening, rejects with a `SpoofwatchError`
   * (`IFACE_NO_TCPDUMP`, `IFACE_DENIED`, `IFACE_FAILED`) when it cannot capture.
   */
  start(): Promise<void> {
    const bin = this.opts.tcpdump ?? 'tcpdump';
    const args = ['-i', this.opts.iface, '-U', '-n', '-s', '0', '-w', '-', ...(this.opts.filter ? [this.opts.filter] : [])];
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err?: SpoofwatchError) => {
        if (settled) return;
        settled = true;
        if (err) {
          this.error = err.message;
          this.up = false;
          reject(err);
        } else {
          this.up = true;
          resolve();
        }
      };
      const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (child.pid === undefined) this.child = undefined; // never started: nothing to stop
        const err =
          e.code === 'ENOENT'
            ? new SpoofwatchError('IFACE_NO_TCPDUMP', `${bin} not found: install it (apt-get install -y tcpdump) to capture on ${this.opts.iface}`)
            : new SpoofwatchError('IFACE_FAILED', `cannot run ${bin}: ${e.message}`);
        settle(err);
        this.opts.onError?.(this.name, err);
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (s: string) => {
        if (this.stderr.length < 4096) this.stderr += s;
        if (/listening on/i.test(this.stderr)) settle();
      });
      child.on('exit', (code, signal) => {
        this.up = false;
        this.child = undefined;
        if (this.closed) return;
        const text = this.stderr.trim().split('\n').filter((l) => !/listening on/i.test(l)).join(' ').slice(0, 500);
        const denied = /permission|not permitted|operation not permitted|privilege/i.test(text);
        const err = new SpoofwatchError(
          denied ? 'IFACE_DENIED' : 'IFACE_FAILED',
          denied
            ? `tcpdump may not capture on ${this.opts.iface} (${text}); run as root or give tcpdump CAP_NET_RAW`
            : `tcpdump on ${this.opts.iface} exited (${signal ?? `code ${code}`})${text ? `: ${text}` : ''}`,
        );
        this.error = err.message;
        settle(err);
        this.opts.onError?.(this.name, err);
      });
      const reader = openCapture('-', { stdin: child.stdout });
      this.reading = reader
        .forEach((frame) => {
          this.counters.frames++;
          this.counters.bytes += frame.bytes.length;
          this.lastPacketMs = this.now();
          try {
            this.ingest.pushFrame(frame);
          } catch (e) {
            countAnomaly(this.counters.anomalies, 'internal.error');
            this.opts.onError?.(this.name, e instanceof Error ? e : new Error(String(e)));
          }
        })
        .then((summary) => {
          if (summary.error && !this.closed) countAnomaly(this.counters.anomalies, captureAnomaly(summary.error.code));
        });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up = false;
    const child = this.child;
    if (child && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    }
    // The reader ends with the pipe; bound the wait in case the stream never started.
    await Promise.race([this.reading, new Promise<void>((r) => setTimeout(r, 1000).unref())]);
  }
}
