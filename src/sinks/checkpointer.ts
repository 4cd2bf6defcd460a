/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that crosses 1000 WAL
 * pages: about one commit in a hundred of the daemon's alert and evidence writes took 8–11 ms instead of 0.1 ms
 * (measured on this machine's disk), a stall every datagram and alert behind it waited for. The daemon turns the
 * automatic checkpoint off on its connections and this thread checkpoints the file once a second from its own
 * connection (PASSIVE: it never blocks a writer). If the thread fails, the owner turns the automatic checkpoint
 * back on (`onError`); when a checkpoint of the still running thread succeeds again (a full disk was freed), it is
 * told so (`onRecovered`) and may turn it off again, instead of paying those stalls for the rest of the run.
 */
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../util/worker-entry.js';

export interface CheckpointerData {
  readonly file: string;
  readonly intervalMs: number;
}

export type CheckpointerReply =
  | { readonly type: 'checkpoint'; readonly log: number; readonly checkpointed: number }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'closed' };

export interface CheckpointerOptions {
  readonly intervalMs?: number;
  /** The thread failed (it is gone, or a checkpoint threw): the caller should checkpoint by itself again. */
  readonly onError?: (err: Error) => void;
  /** The thread checkpointed again after `onError` (a checkpoint had failed, e.g. SQLITE_FULL); told once per recovery. */
  readonly onRecovered?: () => void;
  /** After each checkpoint: WAL frames, and how many of them are now in the database. */
  readonly onCheckpoint?: (log: number, checkpointed: number) => void;
}

export class Checkpointer {
  private readonly worker: Worker;
  private closing: (() => void) | undefined;
  private gone = false;
  private told = false;
  private readonly waiting: ((r: { log: number; checkpointed: number }) => void)[] = [];
  readonly stats = { checkpoints: 0, errors: 0 };

  constructor(
    readonly file: string,
    opts: CheckpointerOptions = {},
  ) {
    const data: CheckpointerData = { file, intervalMs: opts.intervalMs ?? 1000 };
    // The owner falls back to checkpointing by itself at the first failure: tell it once.
    const fail = (e: unknown): void => {
      this.stats.errors++;
      if (this.told) return;
      this.told = true;
      opts.onError?.(e instanceof Error && typeof e.message === 'string' ? e : new Error(String(e)));
    };
    this.worker = new Worker(workerEntry('checkpointer-worker', import.meta.url), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    this.worker.unref(); // a timer thread must not keep the process alive
    this.worker.on('message', (m: CheckpointerReply) => {
      if (m.type === 'checkpoint') {
        this.stats.checkpoints++;
        if (this.told && !this.gone) {
          this.told = false;
          opts.onRecovered?.();
        }
        opts.onCheckpoint?.(m.log, m.checkpointed);
        this.waiting.shift()?.({ log: m.log, checkpointed: m.checkpointed });
      } else if (m.type === 'error') fail(new Error(`WAL checkpoint failed: ${m.message}`));
      else this.closing?.();
    });
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      this.gone = true;
      if (this.closing) this.closing();
      else fail(new Error(`WAL checkpoint thread exited with ${code}`));
    });
  }

  /**
   * A checkpoint now (besides the timer's); resolves with the first checkpoint reported after the request (WAL
   * frames, and how many are in the database).
   */
  checkpointNow(): Promise<{ log: number; checkpointed: number }> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.worker.postMessage('checkpoint');
    });
  }

  /** A last checkpoint, then the thread ends (before the owner closes its own connections). */
  close(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise((resolve) => {
      const worker = this.worker;
      const t = setTimeout(done, 2000); // a thread that does not answer is terminated anyway
      function done(): void {
        clearTimeout(t);
        void worker.terminate().then(() => resolve());
      }
      this.closing = done;
      worker.postMessage('close');
    });
  }
}
