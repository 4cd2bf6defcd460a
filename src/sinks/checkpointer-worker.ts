/**
 * Worker thread of the Checkpointer (checkpointer.ts): its own connection to the store's database file runs a
 * PASSIVE WAL checkpoint every `intervalMs`, so that the daemon's connections (wal_autocheckpoint off) never copy
 * the WAL into the database inside a commit on the event loop.
 * Messages in: 'checkpoint' (one now), 'close'. Out: {type:'checkpoint', log, checkpointed} after each one,
 * {type:'error', message}, {type:'closed'}.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { CheckpointerData, CheckpointerReply } from './checkpointer.js';

const port = parentPort;
if (!port) throw new Error('checkpointer-worker runs as a worker thread');
const { file, intervalMs } = workerData as CheckpointerData;
const reply = (m: CheckpointerReply): void => port.postMessage(m);

let db: Database.Database;
try {
  db = new Database(file, { fileMustExist: true });
  db.pragma('busy_timeout = 1000');
} catch (e) {
  reply({ type: 'error', message: `cannot open ${file}: ${e instanceof Error ? e.message : String(e)}` });
  process.exit(1);
}

function checkpoint(): void {
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    const row = r[0];
    if (row) reply({ type: 'checkpoint', log: row.log, checkpointed: row.checkpointed });
  } catch (e) {
    reply({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

const timer = setInterval(checkpoint, intervalMs);
port.on('message', (m: unknown) => {
  if (m === 'checkpoint') {
    checkpoint();
    return;
  }
  if (m !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  reply({ type: 'closed' });
});
