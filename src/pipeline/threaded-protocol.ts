/** Messages between `analyze --threads N` and its decode worker (decode-worker.ts). */

/** Payload bytes per batch (one capture read chunk): 1 MB batches left ~12 MB more waiting for the GC at the peak. */
export const BATCH_BYTES = 1 << 18;
/** Batches the worker may have posted but the main thread not yet processed: bounds memory. */
export const MAX_IN_FLIGHT = 4;

export type WorkerRecord =
  | {
      readonly k: 'd';
      readonly sec: number;
      readonly nsec: number;
      readonly srcIp: string;
      readonly srcPort: number;
      readonly dstIp: string;
      readonly dstPort: number;
      readonly transport: 'udp' | 'tcp' | 'tls' | 'ws';
      readonly frame: number;
      /** Offset and length of the payload in the batch buffer. */
      readonly at: number;
      readonly len: number;
      readonly flow?: string;
      readonly gap?: boolean;
      readonly frames?: readonly number[];
    }
  | { readonly k: 'a'; readonly kind: string; readonly detail: string; readonly frame?: number };

export interface WorkerBatch {
  readonly type: 'batch';
  readonly records: WorkerRecord[];
  readonly payload: ArrayBuffer;
  /** UDP payloads that were neither HEP nor SIP since the previous batch (counted, not sent). */
  readonly skipped: number;
  readonly bytesRead: number;
  readonly fileSize: number | undefined;
}

export interface WorkerDone {
  readonly type: 'done';
  readonly frames: number;
  readonly bytesRead: number;
  readonly fileSize: number | undefined;
  readonly format?: string;
  readonly error?: { readonly code: string; readonly offset: number; readonly message: string };
}

export type WorkerMessage = WorkerBatch | WorkerDone | { readonly type: 'failed'; readonly message: string };
