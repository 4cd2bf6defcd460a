/**
 * Worker thread of the StoreWriter (store-writer.ts): its own connections to the store's database file take the
 * daemon's alert appends and evidence saves in the order they were posted, and answer each with done or failed.
 * Messages in: {type:'alerts', id, alerts}, {type:'evidence', id, calls}, {type:'close'}.
 * Out: {type:'done', id}, {type:'failed', id, code, message}, {type:'closed'}; {type:'fatal', message} when the
 * file cannot be opened (the thread then ends).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Alert } from '../alerts/alert.js';
import type { EvidenceMessage } from '../evidence/buffer.js';
import { EvidenceStore, type EvidenceSave } from '../evidence/store.js';
import { AlertStore } from './store.js';
import type { StoreWriterData, StoreWriterReply, StoreWriterRequest } from './store-writer.js';

const port = parentPort;
if (!port) throw new Error('store-writer-worker runs as a worker thread');
const { file } = workerData as StoreWriterData;
const reply = (m: StoreWriterReply): void => port.postMessage(m);

let alerts: AlertStore;
let evidence: EvidenceStore;
try {
  alerts = new AlertStore(file);
  evidence = new EvidenceStore(file);
} catch (e) {
  reply({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}

/** A structured clone turns each Buffer into a plain Uint8Array: make them Buffers again (no copy). */
function asBuffers(messages: readonly EvidenceMessage[]): EvidenceMessage[] {
  return messages.map((m) => {
    const raw = m.raw as Uint8Array;
    return Buffer.isBuffer(raw) ? m : { ...m, raw: Buffer.from(raw.buffer, raw.byteOffset, raw.length) };
  });
}

// A merge (a call rebuilt after its early messages left the buffer) reads what was stored before in the same
// transaction, after every earlier save of this thread: no save still in flight is missed.
const saveEvidence = (calls: readonly EvidenceSave[]): void => evidence.saveMany(calls.map((c) => ({ ...c, messages: asBuffers(c.messages) })));

port.on('message', (m: StoreWriterRequest) => {
  if (m.type === 'close') {
    alerts.close();
    evidence.close();
    reply({ type: 'closed' });
    return;
  }
  try {
    if (m.type === 'alerts') alerts.append(m.alerts as Alert[]);
    else saveEvidence(m.calls);
    reply({ type: 'done', id: m.id });
  } catch (e) {
    const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'STORE_WRITE';
    reply({ type: 'failed', id: m.id, code, message: e instanceof Error ? e.message : String(e) });
  }
});
