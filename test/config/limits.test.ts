/**
 * Issue #17 point 8: 100k peers took 12 s and 1.6 GB to load with no warning. Peers and lists have documented
 * limits (README "Config limits", CONFIG_LIMITS); beyond them the config is refused at once, one line per limit.
 */
import { describe, expect, it } from 'vitest';
import { CONFIG_LIMITS, parseConfig } from '../../src/config/index.js';

function peer(i: number, numbers: string[] = [`+3120${String(i).padStart(6, '0')}`]) {
  return {
    name: `p${i}`,
    match: { cidrs: [`10.${(i >> 8) & 255}.${i & 255}.1/32`] },
    trust: 'trusted',
    class: 'enterprise',
    allowedNumbers: numbers,
  };
}

const json = (v: unknown) => parseConfig(JSON.stringify(v), 'limits.json');

describe('config size limits', () => {
  it('the documented values', () => {
    expect(CONFIG_LIMITS).toEqual({
      peers: 2000,
      cidrsPerPeer: 1000,
      numbers: 50_000,
      protected: 10_000,
      doNotOriginate: 10_000,
      brands: 1000,
      displayNamesPerBrand: 100,
      listenerList: 1000,
      trustAnchorFiles: 100,
    });
  });

  it('2,000 peers load; 2,001 and 100,000 are refused naming the limit, before the schema runs', () => {
    const at = json({ peers: Array.from({ length: 2000 }, (_, i) => peer(i)) });
    expect(at.ok && at.config.peers.length).toBe(2000);
    expect(json({ peers: Array.from({ length: 2001 }, (_, i) => peer(i)) })).toEqual({
      ok: false,
      errors: ['peers: 2001 entries, over the limit of 2000 (README "Config limits")'],
    });
    // Entries that would each be schema errors are not even looked at: one line, at once.
    const t0 = Date.now();
    const huge = json({ peers: Array.from({ length: 100_000 }, () => ({ name: 'x' })) });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(huge).toEqual({ ok: false, errors: ['peers: 100000 entries, over the limit of 2000 (README "Config limits")'] });
  });

  it('number entries are counted across peers, lists and brands', () => {
    const numbers = (n: number, base: number) => Array.from({ length: n }, (_, i) => `+31${base}${String(i).padStart(6, '0')}`);
    const ok = json({
      peers: [peer(1, numbers(20_000, 20)), peer(2, numbers(10_000, 30))],
      lists: {
        doNotOriginate: numbers(10_000, 40).map((number) => ({ number })),
        brands: [{ name: 'b', displayNames: ['B'], numbers: numbers(10_000, 50) }],
      },
    });
    expect(ok.ok).toBe(true);
    const over = json({
      peers: [peer(1, numbers(20_001, 20)), peer(2, numbers(10_000, 30))],
      lists: {
        doNotOriginate: numbers(10_000, 40).map((number) => ({ number })),
        brands: [{ name: 'b', displayNames: ['B'], numbers: numbers(10_000, 50) }],
      },
    });
    expect(over).toEqual({
      ok: false,
      errors: [
        `(root): 50001 number entries (peers' allowedNumbers and presentationNumbers, lists, brands), over the limit of 50000 (README "Config limits"): use prefixes or ranges`,
      ],
    });
  });

  it('lists, brands, CIDRs and listener lists have their own limits', () => {
    const r = json({
      peers: [{ ...peer(1), match: { cidrs: Array.from({ length: 1001 }, (_, i) => `10.0.${i >> 8}.${i & 255}`) } }],
      lists: {
        protected: Array.from({ length: 10_001 }, (_, i) => ({ number: `+3170${String(i).padStart(6, '0')}`, owner: 'o' })),
        doNotOriginate: [],
        brands: [{ name: 'b', displayNames: Array.from({ length: 101 }, (_, i) => `B${i}`) }],
      },
      sources: { sip: { allowFrom: Array.from({ length: 1001 }, () => '10.0.0.0/8') }, hep: { captureIds: Array.from({ length: 1001 }, (_, i) => i) } },
      server: { tokens: Array.from({ length: 1001 }, (_, i) => `t${i}`) },
      stirShaken: { trustAnchors: Array.from({ length: 101 }, (_, i) => `a${i}.pem`) },
    });
    expect(r).toEqual({
      ok: false,
      errors: [
        'peers[0].match.cidrs: 1001 entries, over the limit of 1000 (README "Config limits")',
        'lists.protected: 10001 entries, over the limit of 10000 (README "Config limits")',
        'lists.brands[0].displayNames: 101 entries, over the limit of 100 (README "Config limits")',
        'sources.sip.allowFrom: 1001 entries, over the limit of 1000 (README "Config limits")',
        'sources.hep.captureIds: 1001 entries, over the limit of 1000 (README "Config limits")',
        'server.tokens: 1001 entries, over the limit of 1000 (README "Config limits")',
        'stirShaken.trustAnchors: 101 entries, over the limit of 100 (README "Config limits")',
      ],
    });
  });
});
