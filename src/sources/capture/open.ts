/**
 * Capture file / stdin reader (pcap, pcapng, NetMon 2.x): the I/O edge around the pure {@link CaptureParser}.
 *
 * - `path === '-'` reads stdin (or the stream injected as `options.stdin`).
 * - gzip is detected by its magic (0x1f 0x8b) and decompressed while streaming (zlib, multi-member).
 * - Back-pressure: the next chunk is read only after the previous one was parsed and its frames were
 *   consumed (callback returned / batch iterated), so memory stays bounded by the chunk size plus one record.
 * - Errors are values: the reader ends normally, `error` holds the {@link CaptureError}, and every frame
 *   before the failing record has been delivered. Offsets count decompressed bytes.
 */
import { open } from 'node:fs/promises';
import { fstatSync } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Frame } from '../../types.js';
import { CaptureError } from './errors.js';
import { CaptureParser, type CaptureFormat } from './parser.js';

export interface OpenCaptureOptions {
  /** Stream read when path is '-'; default `process.stdin`. The injection point for tests and pipes. */
  readonly stdin?: Readable;
  /** Read size for files in bytes; default 1 MiB. */
  readonly chunkSize?: number;
}

/** Counters for a progress bar; all byte counts are exact at any time. */
export interface CaptureProgress {
  /** Bytes read from the file/stream (compressed bytes when gzip). */
  readonly bytesRead: number;
  /** Size of the file when known (regular file, or stdin redirected from one); else undefined. */
  readonly fileSize: number | undefined;
  /** Bytes handed to the parser (after decompression). */
  readonly decompressedBytes: number;
  /** Frames delivered so far. */
  readonly frames: number;
  /** True when the input is gzip-compressed (known after the first bytes). */
  readonly gzip: boolean;
}

export interface CaptureSummary extends CaptureProgress {
  readonly format: CaptureFormat | undefined;
  /** Why reading stopped early, or undefined when the whole capture was read. */
  readonly error: CaptureError | undefined;
}

/** A capture being read. Iterate it once: per frame, per batch, or with a callback (fastest). */
export interface CaptureReader extends AsyncIterable<Frame>, CaptureProgress {
  readonly path: string;
  /** Set when reading ended on an error (after iteration ends). */
  readonly error: CaptureError | undefined;
  readonly format: CaptureFormat | undefined;
  /** Frames in batches, one batch per decompressed chunk (cheaper than one await per frame). */
  batches(): AsyncIterable<readonly Frame[]>;
  /**
   * Read everything, calling `onFrame` synchronously per frame; resolves when done (never rejects on bad input).
   * `afterChunk`: awaited after each chunk's frames went through, before the next chunk is read (back-pressure
   * without holding a chunk's frames in an array as `batches()` does).
   */
  forEach(onFrame: (frame: Frame) => void, afterChunk?: () => Promise<void>): Promise<CaptureSummary>;
  /** Stop reading and release the file/stream. */
  close(): void;
}

/**
 * Open a pcap/pcapng/NetMon 2.x capture, optionally gzip-compressed, from a file or stdin ('-').
 * Nothing is read until the reader is iterated.
 */
export function openCapture(path: string, options: OpenCaptureOptions = {}): CaptureReader {
  return new FileCaptureReader(path, options);
}

/** Read a whole capture with a synchronous per-frame callback (the fastest way). */
export function readCapture(
  path: string,
  onFrame: (frame: Frame) => void,
  options: OpenCaptureOptions = {},
): Promise<CaptureSummary> {
  return openCapture(path, options).forEach(onFrame);
}

interface ErrnoLike {
  code?: unknown;
  message?: unknown;
}

function errCode(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const { code, message } = e as ErrnoLike;
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message;
  }
  return String(e);
}

class FileCaptureReader implements CaptureReader {
  readonly path: string;
  private readonly options: OpenCaptureOptions;
  private started = false;
  private closed = false;
  private source: Readable | undefined;
  private parser: CaptureParser | undefined;
  private failure: CaptureError | undefined;
  private raw = 0;
  private size: number | undefined;
  private compressed = false;

  constructor(path: string, options: OpenCaptureOptions) {
    this.path = path;
    this.options = options;
  }

  get bytesRead(): number {
    return this.raw;
  }
  get fileSize(): number | undefined {
    return this.size;
  }
  get decompressedBytes(): number {
    return this.parser?.bytesPushed ?? 0;
  }
  get frames(): number {
    return this.parser?.frames ?? 0;
  }
  get gzip(): boolean {
    return this.compressed;
  }
  get error(): CaptureError | undefined {
    return this.failure;
  }
  get format(): CaptureFormat | undefined {
    return this.parser?.format;
  }

  close(): void {
    this.closed = true;
    this.source?.destroy();
  }

  async forEach(onFrame: (frame: Frame) => void, afterChunk?: () => Promise<void>): Promise<CaptureSummary> {
    const parser = this.begin(onFrame);
    for await (const chunk of this.decompressed()) {
      parser.push(chunk);
      if (parser.done) break;
      if (afterChunk) await afterChunk();
    }
    this.finish(parser);
    return this.summary();
  }

  async *batches(): AsyncGenerator<readonly Frame[]> {
    let batch: Frame[] = [];
    const parser = this.begin((f) => batch.push(f));
    for await (const chunk of this.decompressed()) {
      parser.push(chunk);
      if (batch.length > 0) {
        const full = batch;
        batch = [];
        yield full;
      }
      if (parser.done) break;
    }
    this.finish(parser);
    // A NetMon file's frames are all delivered at the end (its frame table is the last thing in the file).
    if (batch.length > 0) yield batch;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Frame> {
    for await (const batch of this.batches()) {
      for (const frame of batch) yield frame;
    }
  }

  private summary(): CaptureSummary {
    return {
      bytesRead: this.raw,
      fileSize: this.size,
      decompressedBytes: this.decompressedBytes,
      frames: this.frames,
      gzip: this.compressed,
      format: this.format,
      error: this.failure,
    };
  }

  private begin(onFrame: (frame: Frame) => void): CaptureParser {
    if (this.started) throw new Error(`${this.path}: a capture reader can be iterated only once`);
    this.started = true;
    this.parser = new CaptureParser(onFrame, { file: this.path });
    return this.parser;
  }

  private finish(parser: CaptureParser): void {
    if (this.failure === undefined && !this.closed) {
      parser.end();
      this.failure = parser.error;
    }
    this.source?.destroy();
  }

  private fail(code: CaptureError['code'], what: string): void {
    const p = this.parser;
    const have = p?.pendingBytes ?? 0;
    this.failure = new CaptureError(
      code,
      this.path,
      p?.offset ?? 0,
      what,
      have > 0 ? p?.pendingNeed : undefined,
      have > 0 ? have : undefined,
    );
  }

  /** Decompressed chunks of the input; I/O and gzip failures end the sequence and set `failure`. */
  private async *decompressed(): AsyncGenerator<Buffer> {
    try {
      const source = await this.openSource();
      this.source = source;
      const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      // Peek at least 2 bytes for the gzip magic.
      const head: Buffer[] = [];
      let headLen = 0;
      let eof = false;
      while (headLen < 2) {
        const r = await it.next();
        if (r.done === true) {
          eof = true;
          break;
        }
        this.raw += r.value.length;
        head.push(r.value);
        headLen += r.value.length;
      }
      const first = head.length === 1 ? head[0]! : Buffer.concat(head);
      const rest = async function* (self: FileCaptureReader): AsyncGenerator<Buffer> {
        if (first.length > 0) yield first;
        if (eof) return;
        for (;;) {
          const r = await it.next();
          if (r.done === true) return;
          self.raw += r.value.length;
          yield r.value;
        }
      };
      if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
        this.compressed = true;
        const gunzip = createGunzip({ chunkSize: 256 * 1024 });
        pipeline(Readable.from(rest(this), { objectMode: false }), gunzip, () => {
          // Errors surface through the gunzip iteration below.
        });
        try {
          for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
        } catch (e) {
          const code = errCode(e);
          if (code === 'Z_BUF_ERROR') this.fail('CAPTURE_TRUNCATED', 'truncated gzip stream');
          else if (code.startsWith('Z_')) this.fail('CAPTURE_CORRUPT', `corrupt gzip data (${code}); reading stopped`);
          else this.fail('CAPTURE_IO', `cannot read (${code})`);
        }
      } else {
        yield* rest(this);
      }
    } catch (e) {
      if (!this.closed) this.fail('CAPTURE_IO', `cannot read (${errCode(e)})`);
    } finally {
      this.source?.destroy();
    }
  }

  private async openSource(): Promise<Readable> {
    const highWaterMark = this.options.chunkSize ?? 256 * 1024;
    if (this.path === '-') {
      const injected = this.options.stdin;
      if (injected !== undefined) return injected;
      try {
        const st = fstatSync(0);
        if (st.isFile()) this.size = st.size;
      } catch {
        // size stays unknown
      }
      return process.stdin;
    }
    const handle = await open(this.path, 'r');
    try {
      const st = await handle.stat();
      if (st.isFile()) this.size = st.size;
    } catch (e) {
      await handle.close();
      throw e;
    }
    return handle.createReadStream({ highWaterMark });
  }
}
