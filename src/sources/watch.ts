/**
 * Watched folder of capture files (pcap, pcapng, optionally gzip-compressed). Each file is read once, also
 * across restarts: the store remembers (path, size, mtime) of every file read. A file still being written is
 * waited for: it is read only once its size and mtime were the same on two consecutive polls.
 */
import { captureAnomaly, countAnomaly } from '../anomalies.js';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openCapture } from './capture/index.js';
import { absorbIngest, newCounters, type IngestFactory, type LiveSource, type SourceCounters, type SourceStatus } from './source.js';

/** What the watcher needs from the store (AlertStore implements it). */
export interface ProcessedFiles {
  isFileProcessed(path: string, size: number, mtimeMs: number): boolean;
  markFileProcessed(f: {
    path: string;
    size: number;
    mtimeMs: number;
    frames: number;
    sipMessages: number;
    error?: string;
  }): void;
}

export interface FolderWatchOptions {
  readonly dir: string;
  readonly pollSeconds: number;
  /** The sink of each file's frames (the daemon wires it to the pipeline). */
  readonly ingest: IngestFactory;
  readonly processed: ProcessedFiles;
  readonly now?: () => number;
  /** Sub-folders are searched this deep (0 = only the folder itself). Default 3. */
  readonly maxDepth?: number;
  /** Files considered per poll (the rest wait for the next poll). Default 1000. */
  readonly maxFilesPerPoll?: number;
  readonly onFileDone?: (info: { path: string; frames: number; sipMessages: number; error?: string }) => void;
  readonly onError?: (source: string, err: Error) => void;
}

const CAPTURE_NAME = /\.(pcap|pcapng|cap)(\.gz)?$|\.gz$/i;

interface Candidate {
  size: number;
  mtimeMs: number;
  /** Consecutive polls with this size and mtime. */
  stablePolls: number;
}

export class FolderWatch implements LiveSource {
  readonly name = 'watch';
  private readonly counters: SourceCounters = newCounters();
  private readonly candidates = new Map<string, Candidate>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private current: { close(): void } | undefined;
  private closed = false;
  private lastPacketMs: number | undefined;
  private error: string | undefined;
  private up = false;
  filesRead = 0;

  constructor(private readonly opts: FolderWatchOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.up = true;
    this.schedule(0);
  }

  status(): SourceStatus {
    return {
      name: this.name,
      up: this.up,
      address: this.opts.dir,
      ...(this.lastPacketMs !== undefined ? { lastPacketMs: this.lastPacketMs } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
      counters: { ...this.counters, anomalies: { ...this.counters.anomalies } },
    };
  }

  /** Poll now (tests, and SIGHUP) instead of waiting for the timer. */
  pollNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.poll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pollNow().then(() => this.schedule(this.opts.pollSeconds * 1000));
    }, delayMs);
  }

  private async list(dir: string, depth: number, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (depth === 0) throw e;
      return; // a sub-folder vanished or is unreadable: skip it
    }
    for (const ent of entries) {
      if (out.length >= (this.opts.maxFilesPerPoll ?? 1000)) return;
      if (ent.name.startsWith('.')) continue;
      const p = join(dir, ent.name);
      if (ent.isDirectory()) {
        if (depth < (this.opts.maxDepth ?? 3)) await this.list(p, depth + 1, out);
      } else if (ent.isFile() && CAPTURE_NAME.test(ent.name)) out.push(p);
    }
  }

  private async poll(): Promise<void> {
    const files: string[] = [];
    try {
      await this.list(this.opts.dir, 0, files);
      if (this.error !== undefined) this.error = undefined;
      this.up = true;
    } catch (e) {
      const msg = `cannot read folder ${this.opts.dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
      if (this.error !== msg) this.opts.onError?.(this.name, new Error(msg));
      this.error = msg;
      this.up = false;
      return;
    }
    files.sort();
    const seen = new Set(files);
    for (const p of this.candidates.keys()) if (!seen.has(p)) this.candidates.delete(p);
    for (const path of files) {
      if (this.closed) return;
      let st;
      try {
        st = await stat(path);
      } catch {
        continue;
      }
      const mtimeMs = Math.floor(st.mtimeMs);
      const prev = this.candidates.get(path);
      if (prev && prev.stablePolls < 0) {
        if (prev.size === st.size && prev.mtimeMs === mtimeMs) continue; // already read this version
      }
      if (!prev || prev.size !== st.size || prev.mtimeMs !== mtimeMs) {
        this.candidates.set(path, { size: st.size, mtimeMs, stablePolls: 1 });
        continue;
      }
      prev.stablePolls++;
      if (prev.stablePolls < 2) continue;
      prev.stablePolls = -1; // read (or known as read): skip until it changes
      if (this.opts.processed.isFileProcessed(path, st.size, mtimeMs)) continue;
      await this.readFile(path, st.size, mtimeMs);
    }
  }

  private async readFile(path: string, size: number, mtimeMs: number): Promise<void> {
    const ingest = this.opts.ingest({ origin: path });
    const reader = openCapture(path);
    this.current = reader;
    let error: string | undefined;
    try {
      const summary = await reader.forEach((frame) => {
        this.counters.frames++;
        this.counters.bytes += frame.bytes.length;
        try {
          ingest.pushFrame(frame);
        } catch (e) {
          countAnomaly(this.counters.anomalies, 'internal.error');
          this.opts.onError?.(this.name, e instanceof Error ? e : new Error(String(e)));
        }
      });
      ingest.flush();
      if (summary.error) {
        error = summary.error.message;
        countAnomaly(this.counters.anomalies, captureAnomaly(summary.error.code));
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      countAnomaly(this.counters.anomalies, 'capture.error');
    } finally {
      this.current = undefined;
    }
    absorbIngest(this.counters, ingest);
    this.lastPacketMs = this.now();
    if (this.closed) return; // stopped mid-file: read it again next time
    this.filesRead++;
    try {
      this.opts.processed.markFileProcessed({
        path,
        size,
        mtimeMs,
        frames: reader.frames,
        sipMessages: ingest.stats.sipMessages,
        ...(error !== undefined ? { error } : {}),
      });
    } catch (e) {
      this.opts.onError?.(this.name, e instanceof Error ? e : new Error(String(e)));
    }
    this.opts.onFileDone?.({ path, frames: reader.frames, sipMessages: ingest.stats.sipMessages, ...(error !== undefined ? { error } : {}) });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up = false;
    if (this.timer) clearTimeout(this.timer);
    this.current?.close();
    await this.running;
  }
}
