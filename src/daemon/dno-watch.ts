/**
 * Re-reads `lists.doNotOriginateFiles` when one of them changes (issue #21 point 4). The folders are watched,
 * not the files: editors and `mv` replace a file by renaming a new one over it, which ends a watch on the old
 * inode. Events are debounced, so a file written in several steps is read once, after the last one.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DnoList, type DnoLineError, type DnoListParts, type DnoReadOutcome } from '../identity/dno-file.js';
import { workerEntry } from '../util/worker-entry.js';

/** Reads and parses one DNO file in a worker thread (src/daemon/dno-worker.ts), off the event loop. */
export function readDnoInWorker(file: string, maxBytes: number): Promise<DnoReadOutcome> {
  return new Promise((resolve) => {
    const worker = new Worker(workerEntry('dno-worker', import.meta.url), { workerData: { file, maxBytes } });
    let done = false;
    const finish = (o: DnoReadOutcome): void => {
      if (done) return;
      done = true;
      resolve(o);
      void worker.terminate();
    };
    worker.once('message', (m: { kind: 'ok'; parts: DnoListParts; errors: DnoLineError[]; badLines: number } | { kind: 'error'; reason: string }) => {
      if (m.kind === 'error') finish({ kind: 'error', reason: m.reason });
      else finish({ kind: 'ok', result: { list: DnoList.fromParts(m.parts), errors: m.errors, badLines: m.badLines } });
    });
    worker.once('error', (e) => finish({ kind: 'error', reason: `parse thread failed: ${e.message}` }));
    worker.once('exit', (code) => finish({ kind: 'error', reason: `parse thread exited (${code})` }));
  });
}

export interface DnoWatchOptions {
  readonly files: readonly string[];
  /** Quiet time after the last event before `onChange` runs. */
  readonly debounceMs: number;
  readonly onChange: () => void;
  readonly onError: (dir: string, err: Error) => void;
}

export class DnoWatch {
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: DnoWatchOptions) {
    const byDir = new Map<string, Set<string>>();
    for (const f of opts.files) {
      const d = dirname(f);
      let names = byDir.get(d);
      if (!names) byDir.set(d, (names = new Set()));
      names.add(basename(f));
    }
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          // Some platforms give no name: then any change in the folder counts.
          if (name === null || names.has(name.toString())) this.schedule();
        });
        w.on('error', (err) => opts.onError(dir, err));
        this.watchers.push(w);
      } catch (e) {
        opts.onError(dir, e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  /** Folders watched (those that could be). */
  get watching(): number {
    return this.watchers.length;
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.opts.onChange();
    }, this.opts.debounceMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
  }
}
