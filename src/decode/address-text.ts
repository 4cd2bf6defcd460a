/**
 * Address text for the per-packet path (RFC 5952; addr.ts adds bounds checks on top), written without
 * intermediate arrays, plus a bounded per-decoder cache: a capture talks to few addresses, so most
 * packets turn into one Map lookup.
 *
 * The callers (the packet decoder) have checked that 4 / 16 bytes are present at `off`.
 */

/** Dotted-quad text of the 4 bytes at `off` (caller checked the length). */
export function ipv4Text(b: Buffer, off: number): string {
  return `${b[off] ?? 0}.${b[off + 1] ?? 0}.${b[off + 2] ?? 0}.${b[off + 3] ?? 0}`;
}

function group(b: Buffer, off: number, i: number): number {
  return ((b[off + 2 * i] ?? 0) << 8) | (b[off + 2 * i + 1] ?? 0);
}

/**
 * RFC 5952 text of the 16 bytes at `off` (caller checked the length): lowercase, no leading zeros,
 * the first longest run of ≥ 2 zero groups as `::` (§4.2), IPv4-mapped as `::ffff:a.b.c.d` (§5).
 */
export function ipv6Text(b: Buffer, off: number): string {
  let bestStart = -1;
  let bestLen = 1; // a run must be longer than 1 (§4.2.2)
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (group(b, off, i) === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestLen = i - runStart + 1;
        bestStart = runStart;
      }
    } else {
      runStart = -1;
    }
  }
  if (bestStart === 0 && bestLen === 5 && group(b, off, 5) === 0xffff) {
    return `::ffff:${ipv4Text(b, off + 12)}`;
  }
  let s = '';
  let colon = false;
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      colon = false;
      continue;
    }
    if (colon) s += ':';
    s += group(b, off, i).toString(16);
    colon = true;
  }
  return s;
}

/**
 * Bounded memo of address text, owned by one decoder (no module state). When full it is cleared
 * rather than maintained as an LRU: cheaper per hit, and a re-fill costs one format per address.
 */
export class AddressTextCache {
  private readonly v4 = new Map<number, string>();
  private readonly v6 = new Map<string, string>();

  constructor(private readonly maxEntries = 8192) {}

  ipv4(b: Buffer, off: number): string {
    const key =
      (((b[off] ?? 0) << 24) | ((b[off + 1] ?? 0) << 16) | ((b[off + 2] ?? 0) << 8) | (b[off + 3] ?? 0)) >>> 0;
    let s = this.v4.get(key);
    if (s === undefined) {
      if (this.v4.size >= this.maxEntries) this.v4.clear();
      s = ipv4Text(b, off);
      this.v4.set(key, s);
    }
    return s;
  }

  ipv6(b: Buffer, off: number): string {
    const key = b.toString('latin1', off, off + 16);
    let s = this.v6.get(key);
    if (s === undefined) {
      if (this.v6.size >= this.maxEntries) this.v6.clear();
      s = ipv6Text(b, off);
      this.v6.set(key, s);
    }
    return s;
  }
}
