import { describe, expect, it } from 'vitest';
import { CallTable } from '../../src/correlate/calls.js';
import { defaultConfig, parseConfig } from '../../src/config/index.js';
import { Analyzer } from '../../src/pipeline/analyzer.js';

describe('CallTable', () => {
  it('marks the first INVITE initial, retransmissions and re-INVITEs not; tracks the outcome', () => {
    const t = new CallTable();
    expect(t.request('c1', 'INVITE', 1, false, 1000, 1).initialInvite).toBe(true);
    expect(t.request('c1', 'INVITE', 1, false, 1500, 2).initialInvite).toBe(false); // retransmission
    t.response('c1', 180, 'INVITE', 1, 1600, 3);
    expect(t.get('c1')!.state).toBe('ringing');
    t.response('c1', 200, 'INVITE', 1, 1700, 4);
    expect(t.get('c1')!.state).toBe('answered');
    expect(t.request('c1', 'INVITE', 2, true, 5000, 5).initialInvite).toBe(false); // re-INVITE in the dialog
    t.request('c1', 'BYE', 3, true, 9000, 6);
    expect(t.get('c1')).toMatchObject({ state: 'ended', finalStatus: 200, inviteFrame: 1, messages: 6, firstFrame: 1 });
    expect(t.stats).toMatchObject({ calls: 1, retransmissions: 1, reInvites: 1, retries: 0 });
  });

  it('re-evaluates the INVITE retried after a 407 challenge (new CSeq, no To tag)', () => {
    const t = new CallTable();
    expect(t.request('c2', 'INVITE', 1, false, 0, 1).initialInvite).toBe(true);
    t.response('c2', 407, 'INVITE', 1, 10, 2);
    expect(t.get('c2')!.state).toBe('rejected');
    t.request('c2', 'ACK', 1, true, 20, 3);
    expect(t.request('c2', 'INVITE', 2, false, 30, 4).initialInvite).toBe(true);
    t.response('c2', 486, 'INVITE', 2, 40, 5);
    expect(t.get('c2')).toMatchObject({ state: 'rejected', finalStatus: 486 });
  });

  it('counts concurrent calls per CLI and releases them when calls end', () => {
    const t = new CallTable();
    const a = t.request('a', 'INVITE', 1, false, 0, 1).record;
    const b = t.request('b', 'INVITE', 1, false, 0, 2).record;
    expect(t.setCli(a, '+31201234567')).toBe(1);
    expect(t.setCli(b, '+31201234567')).toBe(2);
    t.response('a', 486, 'INVITE', 1, 5, 3);
    const c = t.request('c', 'INVITE', 1, false, 6, 4).record;
    expect(t.setCli(c, '+31201234567')).toBe(2);
    expect(t.setCli(c, '+31201234567')).toBe(2); // the same call again (a retry): counted once
    // A retry presenting another CLI moves the call to it; ending it releases the new one only.
    expect(t.setCli(c, '+31207654321')).toBe(1);
    expect(t.setCli(b, '+31201234567')).toBe(1);
    t.request('c', 'BYE', 2, true, 7, 5);
    const d = t.request('d', 'INVITE', 1, false, 8, 6).record;
    expect(t.setCli(d, '+31207654321')).toBe(1);
    expect(t.setCli(b, '+31201234567')).toBe(1);
  });

  it('first seen mid-dialog: firstFrame is that message, inviteFrame stays 0', () => {
    const t = new CallTable();
    t.response('m', 200, 'BYE', 2, 0, 7);
    t.request('m', 'ACK', 2, true, 1, 8);
    expect(t.get('m')).toMatchObject({ firstFrame: 7, inviteFrame: 0, messages: 2, raised: undefined });
  });

  it('is bounded: the least recently seen call is evicted', () => {
    const t = new CallTable({ maxCalls: 2, idleMs: 60_000, endedMs: 1_000 });
    t.request('x', 'INVITE', 1, false, 0, 1);
    t.request('y', 'INVITE', 1, false, 0, 2);
    t.request('z', 'INVITE', 1, false, 0, 3);
    expect(t.get('x')).toBeUndefined();
    expect(t.stats.evicted).toBe(1);
  });

  it('keeps recency per message: a call seen again moves behind the others, eviction and sweep take the oldest', () => {
    const t = new CallTable({ maxCalls: 3, idleMs: 60_000, endedMs: 1_000 });
    t.request('a', 'INVITE', 1, false, 0, 1);
    t.request('b', 'INVITE', 1, false, 0, 2);
    t.request('c', 'INVITE', 1, false, 0, 3);
    t.response('a', 180, 'INVITE', 1, 10, 4); // a is now the most recent: b is the oldest
    t.request('d', 'INVITE', 1, false, 20, 5);
    expect(t.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((id) => t.get(id)?.messages)).toEqual([2, 1, 1]);
    expect(t.get('a')).toMatchObject({ firstFrame: 1, messages: 2 });
    // c ends, then a and d are seen again: the list is c, a, d. The sweep (over 10 s of capture time later, run by
    // a's next message, which first moves a to the end) forgets c only: d is older than a but neither ended nor idle.
    t.request('c', 'BYE', 2, true, 30, 6);
    t.request('a', 'ACK', 1, true, 40, 7);
    t.request('d', 'ACK', 1, true, 50, 8);
    t.request('a', 'INFO', 2, true, 11_000, 9);
    expect(t.get('c')).toBeUndefined();
    expect(t.stats.expired).toBe(1);
    expect(t.size).toBe(2);
    t.request('e', 'INVITE', 1, false, 11_001, 10);
    t.request('f', 'INVITE', 1, false, 11_002, 11); // full (d, a, e): d, the least recently seen, is evicted
    expect(t.get('d')).toBeUndefined();
    expect(t.get('a')!.messages).toBe(4);
    expect(t.stats.evicted).toBe(2);
    expect(t.size).toBe(3);
  });

  it('expires ended calls after endedMs and idle ones after idleMs of capture time', () => {
    const t = new CallTable({ maxCalls: 100, idleMs: 60_000, endedMs: 1_000 });
    t.request('y', 'INVITE', 1, false, 0, 2);
    t.request('z', 'INVITE', 1, false, 0, 3);
    t.request('y', 'BYE', 2, true, 500, 4);
    t.request('w', 'OPTIONS', 1, false, 20_000, 5); // sweep: y ended > 1 s ago
    expect(t.get('y')).toBeUndefined();
    expect(t.get('z')).toBeDefined();
    t.request('v', 'OPTIONS', 1, false, 100_000, 6); // z idle > 60 s
    expect(t.get('z')).toBeUndefined();
    expect(t.stats.expired).toBe(3); // y (ended), z and w (idle)
  });

  it('expires ended calls a few per message as they come due, not all at once in the 10 s sweep', () => {
    const t = new CallTable({ maxCalls: 1000, idleMs: 60_000, endedMs: 1_000 });
    for (let i = 0; i < 100; i++) {
      t.request(`e${i}`, 'INVITE', 1, false, i, i);
      t.request(`e${i}`, 'BYE', 2, true, i + 1, i);
    }
    expect(t.size).toBe(100);
    // 2 s later (before any 10 s sweep): each message forgets at most 4 of the calls ended over 1 s ago.
    t.request('live', 'INVITE', 1, false, 2_000, 500);
    expect(t.stats.expired).toBe(4);
    for (let i = 0; i < 24; i++) t.request('live', 'INFO', 2 + i, true, 2_001 + i, 501 + i);
    expect(t.stats.expired).toBe(100);
    expect(t.size).toBe(1);
    expect(t.get('e99')).toBeUndefined();
    expect(t.get('live')!.messages).toBe(25);
  });
});

describe('limits.calls and limits.callIdleSeconds reach the call table (issue #18)', () => {
  const analyzerWith = (limits: string) => {
    const r = parseConfig(`limits:\n${limits}`, 'test.yaml');
    if (!r.ok) throw new Error(r.errors.join('\n'));
    return new Analyzer(r.config, () => undefined);
  };

  it('limits.callIdleSeconds: a call idle that long (capture time) is forgotten; the default keeps it', () => {
    const short = analyzerWith('  callIdleSeconds: 2\n').calls;
    const dflt = new Analyzer(defaultConfig(), () => undefined).calls;
    for (const t of [short, dflt]) {
      t.request('idle', 'INVITE', 1, false, 0, 1);
      t.response('idle', 200, 'INVITE', 1, 100, 2); // answered: active, only the idle time ends it
      t.request('other', 'OPTIONS', 1, false, 2100, 3);
      t.sweep(2100);
    }
    expect(short.get('idle')).toBeUndefined();
    expect(short.stats.expired).toBe(1);
    expect(dflt.get('idle')).toMatchObject({ state: 'answered' });
    dflt.sweep(899_000 + 100);
    expect(dflt.get('idle')).toBeDefined(); // default 900 s
    dflt.sweep(900_000 + 100);
    expect(dflt.get('idle')).toBeUndefined();
  });

  it('limits.calls: the least recently seen call is evicted beyond the bound', () => {
    const t = analyzerWith('  calls: 3\n').calls;
    for (let i = 0; i < 5; i++) t.request(`c${i}`, 'INVITE', 1, false, i, i + 1);
    expect(t.size).toBe(3);
    expect(t.stats.evicted).toBe(2);
    expect([0, 1, 2, 3, 4].map((i) => t.get(`c${i}`) !== undefined)).toEqual([false, false, true, true, true]);
  });
});
