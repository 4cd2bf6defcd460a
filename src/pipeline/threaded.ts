/**
 * `analyze --threads N` (issue #5): one capture is read and decoded, and its UDP SIP messages split, in a worker
 * thread (decode-worker.ts) while this thread frames TCP, unwraps HEP and runs the rules. The worker sends its
 * records (datagrams, split SIP messages, decode anomalies) in capture order, so the Ingest here sees exactly the
 * sequence it would see decoding itself: results are identical to one thread.
 */
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../util/worker-entry.js';
import type { Anomaly, Datagram } from '../types.js';
import type { Ingest } from './ingest.js';
import type { SipParse } from '../sip/index.js';
import { readBatch, type BatchSink, type DecodeWorkerData, type WorkerDone, type WorkerMessage } from './threaded-protocol.js';

export interface ThreadedProgress {
  (bytesRead: number, fileSize: number | undefined): void;
}

/** Decode `file` in a worker and feed its datagrams to `ingest`; resolves with the reader's summary. */
export function decodeInWorker(
  file: string,
  ingest: Ingest,
  progress?: ThreadedProgress,
  /** Awaited before a batch is acknowledged: output backpressure holds the worker (at most MAX_IN_FLIGHT batches). */
  afterBatch?: () => Promise<void>,
): Promise<WorkerDone> {
  // The worker keeps no state beyond the decoder's: a small young generation is enough and keeps its isolate's share
  // of the process RSS down (−13 MB peak on the 1M-message bench capture; V8's default is 32+ MB per isolate).
  const data: DecodeWorkerData = { file, ...(ingest.decodeLimits ? { limits: ingest.decodeLimits } : {}) };
  const worker = new Worker(workerEntry('decode-worker', import.meta.url), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 6 } });
  const sink: BatchSink = {
    datagram: (d: Datagram) => ingest.pushDatagram(d),
    sip: (d: Datagram, parsed: SipParse) => ingest.pushSip(d, parsed),
    anomaly: (a: Anomaly) => ingest.pushAnomaly(a),
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'batch') {
        try {
          readBatch(m, sink);
          ingest.countSkipped(m.skipped);
          progress?.(m.bytesRead, m.fileSize);
        } catch (e) {
          finish(() => reject(e));
          return;
        }
        if (!afterBatch) worker.postMessage('ack');
        else
          afterBatch().then(
            () => {
              if (!settled) worker.postMessage('ack');
            },
            (e: unknown) => finish(() => reject(e)),
          );
      } else if (m.type === 'done') {
        finish(() => resolve(m));
      } else {
        finish(() => reject(new Error(`decode worker: ${m.message}`)));
      }
    });
    worker.once('error', (e) => finish(() => reject(e)));
    worker.once('exit', (code) => finish(() => reject(new Error(`decode worker exited with ${code} before the end of ${file}`))));
  });
}
