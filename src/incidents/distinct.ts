/**
 * Bounded count of distinct strings: exact up to {@link EXACT_LIMIT} values, then a HyperLogLog estimate
 * (Flajolet et al. 2007, 2^10 registers of one byte: ~3% standard error, 1 KiB whatever the cardinality).
 * Incidents count the distinct presented and called numbers of a campaign that may span millions of calls, so
 * the set must not grow with it.
 */

/** Values kept exactly before switching to the estimate. */
export const EXACT_LIMIT = 64;
const P = 10;
const M = 1 << P;
/** α_m for m = 1024 (Flajolet et al., fig. 3). */
const ALPHA = 0.7213 / (1 + 1.079 / M);

/** 32-bit FNV-1a then a murmur3 finaliser (FNV alone mixes the high bits poorly for short numbers). */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class DistinctCounter {
  private exact: Set<string> | undefined = new Set();
  private registers: Uint8Array | undefined;
  /** The estimate, kept until a register changes (most adds to a large set change none). */
  private cached = -1;

  add(value: string): void {
    if (this.exact) {
      if (this.exact.has(value)) return;
      this.exact.add(value);
      if (this.exact.size <= EXACT_LIMIT) return;
      this.registers = new Uint8Array(M);
      for (const v of this.exact) this.addHashed(v);
      this.exact = undefined;
      return;
    }
    this.addHashed(value);
  }

  /** True while {@link count} is exact. */
  get isExact(): boolean {
    return this.exact !== undefined;
  }

  /** The number of distinct values added: exact up to {@link EXACT_LIMIT}, estimated (rounded) beyond. */
  count(): number {
    if (this.exact) return this.exact.size;
    if (this.cached >= 0) return this.cached;
    const r = this.registers!;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < M; i++) {
      sum += 2 ** -r[i]!;
      if (r[i] === 0) zeros++;
    }
    const raw = (ALPHA * M * M) / sum;
    // Small range: linear counting (Flajolet et al. §4), accurate while registers are still empty.
    const est = raw <= 2.5 * M && zeros > 0 ? M * Math.log(M / zeros) : raw;
    // Never report fewer than the exact values seen before switching.
    this.cached = Math.max(EXACT_LIMIT + 1, Math.round(est));
    return this.cached;
  }

  private addHashed(value: string): void {
    const h = hash32(value);
    const idx = h >>> (32 - P);
    const rest = (h << P) >>> 0;
    // Rank: position of the first 1 bit in the remaining 22 bits (1-based); all zero gives 23.
    const rank = rest === 0 ? 32 - P + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers![idx]!) {
      this.registers![idx] = rank;
      this.cached = -1;
    }
  }
}
