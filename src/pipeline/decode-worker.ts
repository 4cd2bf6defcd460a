/**
 * Worker thread of `analyze --threads N` (issue #5): reads one capture, runs the decode stage (link, IP, fragments,
 * UDP, TCP reassembly) and splits the SIP messages of UDP datagrams (parseSipMessage) off the main thread. Records go
 * to the main thread in capture order as batches (threaded-protocol.ts: numbers, header offsets and payloads in
 * transferred buffers; payloads copied once). UDP payloads that can be neither HEP nor SIP (RTP, DNS …) are only
 * counted here — Ingest's own `datagramKind` — so a 90%-RTP capture costs the main thread nothing for them.
 * HEP packets and TCP segments go over as datagrams: their framing and parsing stay with the main thread's Ingest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PacketDecoder } from '../decode/packet-decoder.js';
import { parseSipMessage, SipParseScratch } from '../sip/index.js';
import { openCapture } from '../sources/capture/index.js';
import type { Datagram } from '../types.js';
import { datagramKind, mediaFilter } from './ingest.js';
import { BatchWriter, MAX_IN_FLIGHT, type DecodeWorkerData, type WorkerDone } from './threaded-protocol.js';

async function run({ file, limits }: DecodeWorkerData): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('decode-worker must run as a worker thread');
  let inFlight = 0;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    inFlight--;
    wake?.();
    wake = undefined;
  });

  const batch = new BatchWriter();
  const scratch = new SipParseScratch();
  const reader = openCapture(file);

  const post = (): void => {
    if (batch.empty) return;
    const { batch: msg, transfer } = batch.take(reader.bytesRead, reader.fileSize);
    port.postMessage(msg, transfer);
    inFlight++;
  };

  const onDatagram = (d: Datagram): void => {
    // Ingest's own choice for the datagram: SIP is split here, neither is only counted, HEP and streams go over.
    const kind = datagramKind(d);
    if (kind === 'other') {
      batch.skipped++;
      return;
    }
    if (!batch.fits(d.payload.length)) post();
    if (kind === 'sip') batch.sip(d, parseSipMessage(d.payload, d.frame, scratch));
    else batch.datagram(d);
  };
  const decoder = new PacketDecoder({
    onDatagram,
    onAnomaly: (a) => batch.anomaly(a),
    // RTP and the like are only counted, as datagramKind 'other' would be, before a Datagram is built (issue #18).
    dropUdp: mediaFilter(),
    onUdpDropped: () => batch.skipped++,
    // The bounds of the Ingest it decodes for (the config's limits.*, issue #18).
    ...(limits ? { limits } : {}),
  });

  for await (const frames of reader.batches()) {
    for (const f of frames) decoder.push(f);
    post();
    while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (wake = r));
  }
  decoder.flush();
  post();
  const err = reader.error;
  const done: WorkerDone = {
    type: 'done',
    frames: reader.frames,
    bytesRead: reader.bytesRead,
    fileSize: reader.fileSize,
    notDecoded: decoder.stats.notDecoded,
    ...(reader.format !== undefined ? { format: reader.format } : {}),
    ...(err ? { error: { code: err.code, offset: err.offset, message: err.message } } : {}),
  };
  port.postMessage(done);
}

run(workerData as DecodeWorkerData).catch((e: unknown) => {
  parentPort?.postMessage({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
});
