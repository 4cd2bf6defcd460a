/**
 * Worker thread that reads and parses one do-not-originate file (src/identity/dno-file.ts) for the daemon's reload
 * on change: a million-line file costs ~0.7 s of CPU, which on the event loop would stall ingestion (and overflow
 * socket buffers) for that long. The typed arrays come back as transferred buffers (no copy).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseDnoFile } from '../identity/dno-file.js';
import { readBoundedFile } from '../util/bounded-read.js';

const { file, maxBytes } = workerData as { file: string; maxBytes: number };
const port = parentPort;
if (!port) throw new Error('dno-worker must run as a worker thread');
const r = readBoundedFile(file, maxBytes);
if (r.kind === 'invalid') port.postMessage({ kind: 'error', reason: r.reason });
else {
  const parsed = parseDnoFile(file, r.bytes);
  const parts = parsed.list.parts();
  const buffers = [parts.lo.buffer, parts.hi.buffer, parts.lines.buffer, parts.ownerIdx.buffer].filter((b, i, all) => all.indexOf(b) === i);
  port.postMessage({ kind: 'ok', parts, errors: parsed.errors, badLines: parsed.badLines }, buffers as ArrayBuffer[]);
}
