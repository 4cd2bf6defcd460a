/**
 * Issue #18: `limits.windowKeys`, `limits.peerCache` and `limits.numberCache` reach the window stores, the peer
 * lookup cache and the number normaliser's cache of the Analyzer (analyze and the daemon build it the same way), and
 * change what is kept. The daemon shows each as a bound in /metrics (test/daemon/metrics-lint.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { configOf, DEFAULT_TEST_CONFIG, invite, sipNum, SipSession, testConfigYaml } from '../rules/harness.js';

function fiveCallers(s: SipSession, srcIps: readonly string[] = ['127.0.0.1']): void {
  for (let i = 0; i < 5; i++) {
    const text = invite({ from: sipNum(`+3130123456${i}`), to: sipNum('+31301234500'), callId: `w${i}@test` });
    s.feed({ text, src: `${srcIps[i % srcIps.length]!}:5060` });
  }
}

describe('limits.windowKeys', () => {
  it('2: the windowed rules keep 2 calling numbers and evict the 3 oldest from each store; the default keeps all 5', () => {
    const small = new SipSession(`${DEFAULT_TEST_CONFIG}limits:\n  windowKeys: 2\n`);
    const dflt = new SipSession();
    fiveCallers(small);
    fiveCallers(dflt);
    // Two stores hold a key per caller (the CLI-MULTI-PEER + CLI-VELOCITY pair, CLI-NEIGHBOUR): 3 evicted from each.
    expect(small.analyzer.windowUse()).toEqual({ keys: 2, evicted: 6 });
    expect(dflt.analyzer.windowUse()).toEqual({ keys: 5, evicted: 0 });
    expect(configOf(DEFAULT_TEST_CONFIG).limits.windowKeys).toBe(100_000);
  });
});

describe('limits.peerCache', () => {
  it('2: the peer lookup caches 2 source addresses; the default (4096) caches all 5', () => {
    const ips = ['127.0.0.1', '127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.0.13'];
    const small = new SipSession(`${DEFAULT_TEST_CONFIG}limits:\n  peerCache: 2\n`);
    const dflt = new SipSession();
    fiveCallers(small, ips);
    fiveCallers(dflt, ips);
    expect(small.analyzer.peers.cachedAddresses).toBe(2);
    expect(dflt.analyzer.peers.cachedAddresses).toBe(5);
    expect(small.analyzer.peers.cacheEvictions).toBe(3);
    expect(dflt.analyzer.peers.cacheEvictions).toBe(0);
  });
});

describe('limits.numberCache', () => {
  it('2: the normaliser keeps at most 2 parsed numbers and counts the ones it drops; the default keeps all', () => {
    const small = new SipSession(`${DEFAULT_TEST_CONFIG}limits:\n  numberCache: 2\n`);
    const dflt = new SipSession();
    fiveCallers(small);
    fiveCallers(dflt);
    // The 5 calling numbers are parsed (From of an initial INVITE, in full); the callee, plain E.164, is parsed only if a
    // rule reads its validity, and none does here.
    expect({ size: dflt.analyzer.numbers.size, evictions: dflt.analyzer.numbers.evictions, max: dflt.analyzer.numbers.maxSize }).toEqual({ size: 5, evictions: 0, max: 10_000 });
    // Two generations of 1: each new number pushes the older generation out; every number parsed is cached or evicted.
    expect({ size: small.analyzer.numbers.size, evictions: small.analyzer.numbers.evictions, max: small.analyzer.numbers.maxSize }).toEqual({ size: 2, evictions: 3, max: 2 });
    // Same alerts either way: the cache only saves work.
    const again = (s: SipSession) => {
      const text = invite({ from: sipNum('+31301234560'), to: sipNum('+31301234500'), callId: 'again@test' });
      return s.feed({ text, src: '127.0.0.1:5060' }).map((a) => a.rule);
    };
    expect(again(small)).toEqual(again(dflt));
  });
});

describe('window keys expire when the clock runs on with no traffic (Analyzer.advance, the daemon once a second)', () => {
  const session = (rules: string) => {
    const s = new SipSession(testConfigYaml({ rules }));
    fiveCallers(s);
    expect(s.analyzer.windowUse()).toEqual({ keys: 5, evicted: 0 });
    return s;
  };

  it('CLI-NEIGHBOUR alone (window 10 s): its 5 keys stay 9 s on and are gone 11 s on', () => {
    const s = session('  CLI-MULTI-PEER: { enabled: false }\n  CLI-VELOCITY: { enabled: false }\n  CLI-NEIGHBOUR: { windowSeconds: 10 }');
    s.analyzer.advance(9_000);
    expect(s.analyzer.windowUse().keys).toBe(5);
    s.analyzer.advance(11_000);
    expect(s.analyzer.windowUse()).toEqual({ keys: 0, evicted: 0 });
  });

  it('CLI-MULTI-PEER (10 s) sharing its store with CLI-VELOCITY (60 s): a key goes once both windows have passed', () => {
    const s = session('  CLI-NEIGHBOUR: { enabled: false }\n  CLI-MULTI-PEER: { windowSeconds: 10 }');
    s.analyzer.advance(11_000);
    expect(s.analyzer.windowUse().keys).toBe(5);
    s.analyzer.advance(61_000);
    expect(s.analyzer.windowUse()).toEqual({ keys: 0, evicted: 0 });
  });
});
