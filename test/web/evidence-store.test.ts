/** Issue #6: evidence of alerted calls persisted beside the alert history, bounded, and merged with the live buffer. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EvidenceMessage } from '../../src/evidence/buffer.js';
import { EvidenceService, mergeMessages } from '../../src/evidence/service.js';
import { EvidenceStore } from '../../src/evidence/store.js';
import { AlertStore } from '../../src/sinks/store.js';

const msg = (n: number, size = 100, port = 5060): EvidenceMessage => ({
  frame: n,
  ts: { sec: 1_800_000_000 + n, nsec: 123_456_789 },
  src: { ip: '192.0.2.1', port },
  dst: { ip: '2001:db8::2', port: 5080 },
  transport: n % 2 ? 'udp' : 'tcp',
  raw: Buffer.concat([Buffer.from(`INVITE sip:${n}@x SIP/2.0\r\n`), Buffer.alloc(size, 0xe9)]),
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dbFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'sw-evstore-'));
  dirs.push(d);
  return join(d, 'spoofwatch.db');
}

describe('EvidenceStore', () => {
  it('keeps exact bytes, times and addresses in the alert store file, replaces on save, survives reopening', () => {
    const file = dbFile();
    const alerts = new AlertStore(file);
    const s = new EvidenceStore(alerts.file);
    expect(s.get('a')).toBeUndefined();
    s.save('a', [msg(1), msg(2)]);
    s.save('a', [msg(1), msg(2), msg(3)]);
    s.close();
    alerts.close();
    const again = new EvidenceStore(file);
    const got = again.get('a')!;
    expect(got).toEqual([msg(1), msg(2), msg(3)]);
    expect(Buffer.isBuffer(got[0]!.raw)).toBe(true);
    expect(again.stats()).toMatchObject({ calls: 1, bytes: 3 * msg(1).raw.length });
    // the alert tables are still there and untouched
    const reopened = new AlertStore(file);
    expect(reopened.count()).toBe(0);
    reopened.close();
    again.close();
  });

  it('prunes by age, by call count and by bytes, oldest saves first', () => {
    let now = 1_000 * 86_400_000;
    const s = new EvidenceStore(':memory:', { now: () => now });
    s.save('old', [msg(1)]);
    now += 10 * 86_400_000;
    for (const id of ['b', 'c', 'd', 'e']) {
      now += 1000;
      s.save(id, [msg(2, 1000)]);
    }
    expect(s.prune({ maxAgeDays: 5 })).toEqual({ byAge: 1, byCount: 0, byBytes: 0 });
    expect(s.get('old')).toBeUndefined();
    expect(s.prune({ maxCalls: 3 })).toEqual({ byAge: 0, byCount: 1, byBytes: 0 });
    expect(s.has('b')).toBe(false);
    const per = msg(2, 1000).raw.length;
    expect(s.prune({ maxBytes: per + 1 })).toEqual({ byAge: 0, byCount: 0, byBytes: 2 });
    expect(s.has('c') || s.has('d')).toBe(false);
    expect(s.get('e')).toHaveLength(1);
    expect(s.stats().pruned).toBe(4);
    s.close();
  });

  it('caps the messages stored per call', () => {
    const s = new EvidenceStore(':memory:', { maxMessagesPerCall: 2 });
    s.save('a', [msg(1), msg(2), msg(3)]);
    expect(s.get('a')!.map((m) => m.frame)).toEqual([1, 2]);
    s.close();
  });
});

describe('EvidenceService', () => {
  it('saves an alerted call when pinned and again, debounced, as more of its messages arrive; unalerted calls are never saved', async () => {
    const store = new EvidenceStore(':memory:');
    const svc = new EvidenceService({ store, debounceMs: 30 });
    svc.buffer.add('quiet', msg(1));
    svc.buffer.add('call', msg(2));
    svc.buffer.pin('call'); // what the Analyzer does on an alert
    expect(svc.stats().pending).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(store.get('call')).toHaveLength(1);
    svc.buffer.add('call', msg(3));
    svc.buffer.add('call', msg(4));
    expect(store.get('call')).toHaveLength(1); // not yet: debounced
    await new Promise((r) => setTimeout(r, 80));
    expect(store.get('call')!.map((m) => m.frame)).toEqual([2, 3, 4]);
    expect(store.has('quiet')).toBe(false);
    svc.buffer.add('call', msg(5));
    svc.close(); // shutdown flushes what is pending
    expect(store.get('call')).toHaveLength(4);
    expect(svc.messages('call')!.map((m) => m.frame)).toEqual([2, 3, 4, 5]);
    expect(svc.messages('quiet')!.map((m) => m.frame)).toEqual([1]);
    expect(svc.messages('nobody')).toBeUndefined();
    store.close();
  });

  it('a call evicted from the buffer is served from the store, and its late messages are merged, not lost', () => {
    const store = new EvidenceStore(':memory:');
    const svc = new EvidenceService({
      store,
      limits: { maxBytes: 10_000, maxPinnedBytes: 500, maxMessagesPerCall: 50 },
      debounceMs: 10_000,
    });
    svc.buffer.add('a', msg(1, 200));
    svc.buffer.add('a', msg(2, 200));
    svc.buffer.pin('a');
    svc.flush();
    svc.buffer.add('b', msg(3, 200));
    svc.buffer.add('b', msg(4, 200));
    svc.buffer.pin('b'); // over maxPinnedBytes: 'a' leaves the buffer
    expect(svc.buffer.get('a')).toBeUndefined();
    expect(svc.messages('a')!.map((m) => m.frame)).toEqual([1, 2]);
    svc.buffer.add('a', msg(9, 10)); // a late BYE
    expect(svc.stats().repinned).toBe(1);
    expect(svc.messages('a')!.map((m) => m.frame)).toEqual([1, 2, 9]);
    svc.flush();
    expect(store.get('a')!.map((m) => m.frame)).toEqual([1, 2, 9]);
    svc.close();
    store.close();
  });

  it('an alerted call the call table forgets leaves the buffer once saved; its late messages still merge (issue #18)', () => {
    const store = new EvidenceStore(':memory:');
    const svc = new EvidenceService({ store, debounceMs: 60_000 });
    // Saved already when forgotten: let go of at once.
    svc.buffer.add('saved', msg(1));
    svc.buffer.pin('saved');
    svc.flush();
    svc.buffer.releaseOpen('saved'); // what the call table does when the call goes idle
    expect(svc.buffer.get('saved')).toBeUndefined();
    expect(svc.buffer.calls).toEqual({ open: 0, pinned: 0 });
    expect(svc.messages('saved')!.map((m) => m.frame)).toEqual([1]);
    // A save pending when forgotten: kept until it is saved, then let go of.
    svc.buffer.add('pending', msg(2));
    svc.buffer.add('pending', msg(3));
    svc.buffer.pin('pending');
    svc.buffer.releaseOpen('pending');
    expect(svc.buffer.get('pending')!.map((m) => m.frame)).toEqual([2, 3]);
    expect(store.has('pending')).toBe(false);
    svc.flush();
    expect(store.get('pending')!.map((m) => m.frame)).toEqual([2, 3]);
    expect(svc.buffer.get('pending')).toBeUndefined();
    expect(svc.buffer.bytes).toEqual({ open: 0, pinned: 0 });
    // A late message (a BYE after the idle time) starts a new entry, saved merged with the earlier ones.
    svc.buffer.add('pending', msg(9));
    svc.flush();
    expect(store.get('pending')!.map((m) => m.frame)).toEqual([2, 3, 9]);
    // Unalerted calls are dropped as before, never saved.
    svc.buffer.add('quiet', msg(4));
    svc.buffer.releaseOpen('quiet');
    expect(svc.buffer.get('quiet')).toBeUndefined();
    expect(store.has('quiet')).toBe(false);
    svc.close();
    store.close();
  });

  it('10,000 alerted calls saved and forgotten leave no place in the buffer\'s order rings behind', () => {
    const store = new EvidenceStore(':memory:');
    const svc = new EvidenceService({ store, debounceMs: 60_000 });
    for (let i = 0; i < 10_000; i++) {
      svc.buffer.add(`c${i}`, msg(i, 10));
      svc.buffer.pin(`c${i}`);
    }
    svc.flush();
    expect(svc.buffer.orderPlaces).toBeGreaterThanOrEqual(10_000); // each call's place in the pinned ring (and stale ones in the open ring)
    for (let i = 0; i < 10_000; i++) svc.buffer.releaseOpen(`c${i}`);
    expect(svc.buffer.calls).toEqual({ open: 0, pinned: 0 });
    expect(svc.buffer.orderPlaces).toBeLessThanOrEqual(2 * 1024);
    expect(store.get('c9999')!.map((m) => m.frame)).toEqual([9999]);
    svc.close();
    store.close();
  });

  it('analyze keeps an alerted call\'s messages after the call table forgot it (they are written at the end)', async () => {
    const { EvidenceBuffer } = await import('../../src/evidence/buffer.js');
    const b = new EvidenceBuffer();
    b.add('alerted', msg(1));
    b.pin('alerted');
    b.add('quiet', msg(2));
    b.releaseOpen('alerted');
    b.releaseOpen('quiet');
    expect(b.get('alerted')!.map((m) => m.frame)).toEqual([1]);
    expect(b.get('quiet')).toBeUndefined();
  });

  it('the debounced flush saves many alerted calls a batch per event-loop turn, every one of them', async () => {
    const store = new EvidenceStore(':memory:');
    const batches: number[] = [];
    const saveMany = store.saveMany.bind(store);
    store.saveMany = (calls) => {
      batches.push(calls.length);
      saveMany(calls);
    };
    const svc = new EvidenceService({ store, debounceMs: 5 });
    for (let i = 0; i < 100; i++) {
      svc.buffer.add(`c${i}`, msg(i));
      svc.buffer.pin(`c${i}`);
    }
    for (let i = 0; i < 500 && svc.stats().saves < 100; i++) await new Promise((r) => setTimeout(r, 10));
    expect(batches).toEqual([32, 32, 32, 4]);
    expect(svc.stats()).toMatchObject({ saves: 100, pending: 0, saveErrors: 0 });
    for (let i = 0; i < 100; i++) expect(store.get(`c${i}`)!.map((m) => m.frame)).toEqual([i]);
    svc.close();
    store.close();
  });

  it('a failing store during the debounced flush waits for the next timer instead of retrying every turn', async () => {
    const store = new EvidenceStore(':memory:');
    let attempts = 0;
    store.saveMany = () => {
      attempts++;
      throw new Error('disk full');
    };
    const svc = new EvidenceService({ store, debounceMs: 60_000 });
    for (let i = 0; i < 100; i++) {
      svc.buffer.add(`c${i}`, msg(i));
      svc.buffer.pin(`c${i}`);
    }
    // What the debounce timer runs (called here so that no wall-clock timing is involved), then many turns.
    (svc as unknown as { flushSome(): void }).flushSome();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(attempts).toBe(1);
    expect(svc.stats()).toMatchObject({ saves: 0, saveErrors: 32, pending: 100 });
    svc.close();
    store.close();
  });

  it('a failed save is reported per call and retried on the next flush, nothing lost', () => {
    const store = new EvidenceStore(':memory:');
    const errors: string[] = [];
    let fail = true;
    const saveMany = store.saveMany.bind(store);
    store.saveMany = (calls) => {
      if (fail) throw new Error('disk full');
      saveMany(calls);
    };
    const svc = new EvidenceService({ store, debounceMs: 60_000, onError: (e, callId) => errors.push(`${callId}: ${e.message}`) });
    for (const id of ['a', 'b']) {
      svc.buffer.add(id, msg(1));
      svc.buffer.pin(id);
    }
    svc.flush();
    expect(errors).toEqual(['a: disk full', 'b: disk full']);
    expect(svc.stats()).toMatchObject({ saves: 0, saveErrors: 2, pending: 2 });
    fail = false;
    svc.flush();
    expect(svc.stats()).toMatchObject({ saves: 2, saveErrors: 2, pending: 0 });
    expect(store.get('a')).toHaveLength(1);
    expect(store.get('b')).toHaveLength(1);
    svc.close();
    store.close();
  });

  it('mergeMessages orders by capture time and drops duplicates', () => {
    expect(mergeMessages([msg(3), msg(1)], [msg(2), msg(3)])!.map((m) => m.frame)).toEqual([1, 2, 3]);
    expect(mergeMessages(undefined, undefined)).toBeUndefined();
    expect(mergeMessages([], undefined)).toEqual([]);
  });
});
