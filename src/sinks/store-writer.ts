/**
 * The daemon's SQLite writes off the event loop. Each alert batch (~0.15 ms: one commit of a row and its five index
 * entries) and each evidence save (~0.1 ms per call) held the thread that receives datagrams and delivers alerts;
 * at 20k msg/s that was about a twentieth of its time, and every datagram behind a write waited for it. A worker
 * thread with its own connections to the same file now does them, in the order they were handed over, and reports
 * each one: the alert bus fans a batch out only once it is stored (the resume guarantee of DESIGN.md §5 is
 * unchanged), and the main thread's AlertStore learns the stored seq (`noteStored`) before that, so `lastSeq()`
 * everywhere means "stored". Reads (history, resume, evidence lookups) stay on the main thread's connections.
 *
 * If the thread fails, every batch it had not answered and every later one is written through the main thread's
 * stores instead (`onError` is told once): nothing is lost, only the event loop pays again. (A batch the thread
 * stored without answering is not stored twice: alerts above the stored seq only; evidence saves replace.)
 */
import { Worker } from 'node:worker_threads';
import type { Alert } from '../alerts/alert.js';
import type { AlertPersistence } from '../alerts/bus.js';
import type { EvidenceSave, EvidenceStore } from '../evidence/store.js';
import { SpoofwatchError } from '../types.js';
import { workerEntry } from '../util/worker-entry.js';
import type { AlertStore } from './store.js';

export interface StoreWriterData {
  readonly file: string;
}

export type StoreWriterRequest =
  | { readonly type: 'alerts'; readonly id: number; readonly alerts: readonly Alert[] }
  | { readonly type: 'evidence'; readonly id: number; readonly calls: readonly EvidenceSave[] }
  | { readonly type: 'close' };

export type StoreWriterReply =
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'failed'; readonly id: number; readonly code: string; readonly message: string }
  | { readonly type: 'closed' }
  | { readonly type: 'fatal'; readonly message: string };

/** Evidence saves that complete later (EvidenceService uses it when given one). */
export interface EvidenceWriter {
  /** Save the calls in one transaction; `done` is called once, with the error if it failed. */
  saveCalls(calls: readonly EvidenceSave[], done: (err?: Error) => void): void;
}

interface Pending {
  readonly done: (err?: Error) => void;
  /** The same write through the main thread's stores (used when the thread is gone). */
  readonly here: () => void;
}

export interface StoreWriterOptions {
  /** The thread failed; writes go through the main thread's stores from now on. */
  readonly onError?: (err: Error) => void;
}

export class StoreWriter implements AlertPersistence, EvidenceWriter {
  private readonly worker: Worker;
  private next = 0;
  /** Posted and not answered yet, in the order posted (the thread answers in that order). */
  private readonly inflight = new Map<number, Pending>();
  private gone = false;
  private closing: (() => void) | undefined;
  readonly stats = { posted: 0, failed: 0, writtenHere: 0 };

  constructor(
    private readonly alerts: AlertStore,
    private readonly evidence: EvidenceStore,
    private readonly opts: StoreWriterOptions = {},
  ) {
    const data: StoreWriterData = { file: alerts.file };
    this.worker = new Worker(workerEntry('store-writer-worker', import.meta.url), { workerData: data });
    this.worker.on('message', (m: StoreWriterReply) => this.onReply(m));
    this.worker.on('error', (e) => this.lost(e));
    this.worker.on('exit', (code) => {
      if (this.closing) this.closing();
      else this.lost(new Error(`store writer thread exited with ${code}`));
    });
  }

  lastSeq(): number {
    return this.alerts.lastSeq();
  }

  /** Synchronous append on the main thread's store (the bus's `sync` mode). */
  append(alerts: readonly Alert[]): void {
    this.alerts.append(alerts);
  }

  enqueue(alerts: readonly Alert[], done: (err?: Error) => void): void {
    const last = alerts[alerts.length - 1]?.seq;
    this.post(
      { type: 'alerts', id: ++this.next, alerts },
      (err) => {
        if (!err && last !== undefined) this.alerts.noteStored(last, alerts.length);
        done(err);
      },
      () => {
        // The thread may have stored the batch and ended before it said so: append only what is not stored.
        const stored = this.alerts.resync();
        this.alerts.append(alerts.filter((a) => a.seq > stored));
      },
    );
  }

  saveCalls(calls: readonly EvidenceSave[], done: (err?: Error) => void): void {
    this.post({ type: 'evidence', id: ++this.next, calls }, done, () => this.evidence.saveMany(calls));
  }

  /** Resolves when every write handed over is done and the thread's connections are closed. */
  close(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        // The thread does not answer: what it had not answered is written here, and it is terminated.
        this.closing = undefined;
        this.lost(new Error('store writer thread did not close within 5 s'));
        void this.worker.terminate();
        resolve();
      }, 5000);
      this.closing = () => {
        clearTimeout(t);
        this.gone = true;
        resolve();
      };
      this.worker.postMessage({ type: 'close' } satisfies StoreWriterRequest);
    });
  }

  private post(req: Exclude<StoreWriterRequest, { type: 'close' }>, done: (err?: Error) => void, here: () => void): void {
    if (this.gone) {
      this.writeHere({ done, here });
      return;
    }
    this.inflight.set(req.id, { done, here });
    this.stats.posted++;
    this.worker.postMessage(req);
  }

  private onReply(m: StoreWriterReply): void {
    if (m.type === 'closed') {
      void this.worker.terminate();
      return;
    }
    if (m.type === 'fatal') {
      this.lost(new Error(`store writer thread: ${m.message}`));
      return;
    }
    const p = this.inflight.get(m.id);
    if (!p) return;
    this.inflight.delete(m.id);
    if (m.type === 'done') p.done();
    else {
      this.stats.failed++;
      p.done(new SpoofwatchError(m.code, m.message));
    }
  }

  /** The thread is gone (or failed to start): write what it had not answered here, in order, and all that follows. */
  private lost(err: Error): void {
    if (this.gone) return;
    this.gone = true;
    this.opts.onError?.(err);
    const left = [...this.inflight.values()];
    this.inflight.clear();
    for (const p of left) this.writeHere(p);
  }

  private writeHere(p: Pending): void {
    this.stats.writtenHere++;
    try {
      p.here();
    } catch (e) {
      p.done(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    p.done();
  }
}
