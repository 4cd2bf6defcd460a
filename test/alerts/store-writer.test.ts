/** The daemon's SQLite writes in a thread of their own: order, the stored seq, failures, the fallback, shutdown. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { AlertBus, type AlertSink } from '../../src/alerts/bus.js';
import type { EvidenceMessage } from '../../src/evidence/buffer.js';
import { EvidenceStore } from '../../src/evidence/store.js';
import { AlertStore } from '../../src/sinks/store.js';
import { StoreWriter } from '../../src/sinks/store-writer.js';
import { makeAlert } from './fixtures.js';

const open: { close(): unknown }[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(): { file: string; alerts: AlertStore; evidence: EvidenceStore; writer: StoreWriter; errors: Error[] } {
  const dir = mkdtempSync(join(tmpdir(), 'sw-writer-'));
  dirs.push(dir);
  const file = join(dir, 'store.db');
  const alerts = new AlertStore(file);
  const evidence = new EvidenceStore(file);
  const errors: Error[] = [];
  const writer = new StoreWriter(alerts, evidence, { onError: (e) => errors.push(e) });
  open.push(alerts, evidence, writer);
  return { file, alerts, evidence, writer, errors };
}

const seqs = (n: number, from = 1): Alert[] => Array.from({ length: n }, (_, i) => makeAlert({ seq: from + i, id: `id${from + i}` }));
const enqueue = (w: StoreWriter, alerts: readonly Alert[]): Promise<Error | undefined> => new Promise((r) => w.enqueue(alerts, r));

function message(frame: number, text: string): EvidenceMessage {
  return {
    frame,
    ts: { sec: 1_700_000_000 + frame, nsec: 5 },
    src: { ip: '10.0.0.1', port: 5060 },
    dst: { ip: '10.0.0.2', port: 5060 },
    transport: 'udp',
    raw: Buffer.from(text),
  };
}

describe('StoreWriter', () => {
  it('stores alert batches in order; the main store learns each stored seq before done is called', async () => {
    const { alerts, writer } = setup();
    const order: string[] = [];
    const all = await Promise.all(
      [seqs(2, 1), seqs(3, 3), seqs(1, 6)].map(
        (b) =>
          new Promise<void>((resolve) =>
            writer.enqueue(b, (err) => {
              order.push(`${b[0]!.seq}-${b[b.length - 1]!.seq} ${err ? 'failed' : 'stored'}, main lastSeq ${alerts.lastSeq()}`);
              resolve();
            }),
          ),
      ),
    );
    expect(all).toHaveLength(3);
    expect(order).toEqual(['1-2 stored, main lastSeq 2', '3-5 stored, main lastSeq 5', '6-6 stored, main lastSeq 6']);
    // Written by the thread's connection, read by the main thread's.
    expect(alerts.query({}).map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(alerts.stats()).toMatchObject({ lastSeq: 6, appended: 6 });
    expect(writer.stats).toEqual({ posted: 3, failed: 0, writtenHere: 0 });
  });

  it('a batch the store refuses fails with the store error; the batches after it are stored', async () => {
    const { alerts, writer } = setup();
    expect(await enqueue(writer, seqs(2, 1))).toBeUndefined();
    const err = await enqueue(writer, seqs(1, 2)); // seq 2 again: does not extend the sequence
    expect(err).toMatchObject({ code: 'STORE_SEQ' });
    expect(err?.message).toBe('alert seq 2 does not extend the stored sequence (last 2)');
    expect(await enqueue(writer, seqs(1, 3))).toBeUndefined();
    expect(alerts.query({}).map((a) => a.seq)).toEqual([1, 2, 3]);
    expect(alerts.lastSeq()).toBe(3);
    expect(writer.stats.failed).toBe(1);
  });

  it('saves evidence, and a merge keeps the messages stored before', async () => {
    const { evidence, writer } = setup();
    const save = (calls: Parameters<StoreWriter['saveCalls']>[0]): Promise<Error | undefined> => new Promise((r) => writer.saveCalls(calls, r));
    expect(await save([{ callId: 'c1', messages: [message(1, 'INVITE'), message(2, '200 OK')] }])).toBeUndefined();
    expect(evidence.get('c1')?.map((m) => [m.frame, m.raw.toString()])).toEqual([[1, 'INVITE'], [2, '200 OK']]);
    // Replace without merge, then a merge of late messages.
    expect(await save([{ callId: 'c2', messages: [message(7, 'BYE')], merge: true }, { callId: 'c1', messages: [message(3, 'ACK')], merge: true }])).toBeUndefined();
    expect(evidence.get('c1')?.map((m) => [m.frame, m.raw.toString()])).toEqual([[1, 'INVITE'], [2, '200 OK'], [3, 'ACK']]);
    expect(evidence.get('c2')?.map((m) => m.frame)).toEqual([7]);
    const back = evidence.get('c1')![0]!;
    expect(back).toEqual({ ...message(1, 'INVITE'), raw: Buffer.from('INVITE') });
  });

  it('when the thread is gone, what it had not answered and everything after is written on the main thread', async () => {
    const { alerts, writer, errors } = setup();
    expect(await enqueue(writer, seqs(1, 1))).toBeUndefined();
    const worker = (writer as unknown as { worker: Worker }).worker;
    const pending = enqueue(writer, seqs(1, 2)); // may or may not reach the thread before it ends
    await worker.terminate();
    expect(await pending).toBeUndefined();
    expect(await enqueue(writer, seqs(2, 3))).toBeUndefined();
    expect(alerts.query({}).map((a) => a.seq)).toEqual([1, 2, 3, 4]);
    expect(alerts.lastSeq()).toBe(4);
    expect(errors.map((e) => e.message)).toEqual(['store writer thread exited with 1']);
    expect(writer.stats.writtenHere).toBeGreaterThanOrEqual(1); // batch 3-4 at least
  });

  it('the fallback does not store twice what the thread stored without answering', async () => {
    const { file, alerts, writer } = setup();
    await (writer as unknown as { worker: Worker }).worker.terminate();
    // As if the thread had committed seq 1-2 and ended before its answer: another connection stored them.
    const other = new AlertStore(file);
    open.push(other);
    other.append(seqs(2, 1));
    expect(alerts.lastSeq()).toBe(0);
    expect(await enqueue(writer, seqs(3, 1))).toBeUndefined(); // 1-2 are skipped, 3 is appended
    expect(alerts.query({}).map((a) => a.seq)).toEqual([1, 2, 3]);
    expect(alerts.lastSeq()).toBe(3);
  });

  it('close() resolves after every write handed over is stored', async () => {
    const { file, writer } = setup();
    const done: number[] = [];
    for (let i = 0; i < 20; i++) writer.enqueue(seqs(5, 1 + i * 5), (err) => done.push(err ? -1 : i));
    await writer.close();
    expect(done).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const reopened = new AlertStore(file);
    open.push(reopened);
    expect(reopened.lastSeq()).toBe(100);
    expect(reopened.count()).toBe(100);
  });

  it('behind the alert bus: an alert reaches a sink only once the thread stored it', async () => {
    const { alerts, writer } = setup();
    const bus = new AlertBus({ store: writer });
    const seen: string[] = [];
    const sink: AlertSink = { name: 's', deliver: (a) => void seen.push(`${a.seq} stored=${alerts.query({ since: a.seq - 1, limit: 1 }).length}`) };
    bus.subscribe(sink, { maxQueue: 100 });
    for (let i = 0; i < 5; i++) bus.publish(makeAlert({ id: `x${i}` }));
    await bus.idle();
    expect(seen).toEqual(['1 stored=1', '2 stored=1', '3 stored=1', '4 stored=1', '5 stored=1']);
    expect(bus.stats()).toMatchObject({ persisted: 5, persistErrors: 0, pendingPersist: 0 });
  });
});
