/** Issue #20: a bench run on smaller inputs than a target's says so in the targets table instead of "not met". */
import { describe, expect, it } from 'vitest';
import { shortCount, TARGET_SIZES, verdictOf, type TargetRow } from '../../bench/targets.js';

const row = (pass: boolean | undefined, size?: TargetRow['size']): TargetRow => ({
  name: 'offline SIP-only, one core',
  target: '≥ 150,000 msg/s',
  measured: '21,159 msg/s',
  pass,
  ...(size ? { size } : {}),
});

describe('bench target verdicts', () => {
  it('a run on the target size: met / **not met**; not run stays not run', () => {
    expect(verdictOf(row(true, { ran: 1_000_000, target: 1_000_000 }))).toBe('met');
    expect(verdictOf(row(false, { ran: 1_000_000, target: 1_000_000 }))).toBe('**not met**');
    expect(verdictOf(row(false, { ran: 2_000_000, target: 1_000_000 }))).toBe('**not met**');
    expect(verdictOf(row(false))).toBe('**not met**');
    expect(verdictOf(row(undefined, { ran: 20_000, target: 1_000_000 }))).toBe('not run');
  });

  it('a run on smaller inputs is not comparable, whether or not the number passed, with both sizes', () => {
    expect(verdictOf(row(false, { ran: 200_000, target: 1_000_000 }))).toBe('not comparable: ran 200k, target is 1M');
    expect(verdictOf(row(true, { ran: 20_000, target: 1_000_000 }))).toBe('not comparable: ran 20k, target is 1M');
    expect(verdictOf(row(true, { ran: 5, target: 10, unit: ' s' }))).toBe('not comparable: ran 5 s, target is 10 s');
  });

  it('writes counts short, and the target sizes are the bench defaults the README states', () => {
    expect([1_000_000, 2_500_000, 200_000, 100_000, 1500, 999, 12_345].map(shortCount)).toEqual(['1M', '2.5M', '200k', '100k', '1.5k', '999', '12,345']);
    expect(TARGET_SIZES).toEqual({ messages: 1_000_000, mixedSip: 100_000, tsharkSlice: 200_000, liveSeconds: 10, dnoLines: 1_000_000, searchAlerts: 100_000, clusterRate: 5000 });
  });
});
