/**
 * IP address text <-> bytes, shared by every decoder that prints addresses (IPv4, IPv6, HEP).
 * Pure functions: no I/O, no module state. Formatting follows RFC 5952 so that the same address
 * always has exactly one textual form (peers are matched and alerts are compared on this text).
 */

/**
 * Dotted-quad text of the 4 bytes at `off`. The caller has checked `off + 4 <= buf.length`;
 * if it has not, `undefined` is returned rather than reading past the end.
 */
export function formatIPv4(buf: Buffer, off = 0): string | undefined {
  if (off < 0 || off + 4 > buf.length) return undefined;
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/**
 * RFC 5952 text of the 16 bytes at `off`: lowercase hex, no leading zeros, the longest run of two
 * or more zero groups (the first one on a tie) replaced by `::` (§4.2), and IPv4-mapped addresses
 * (::ffff:0:0/96) written with a dotted quad tail (§5). `undefined` when fewer than 16 bytes remain.
 */
export function formatIPv6(buf: Buffer, off = 0): string | undefined {
  if (off < 0 || off + 16 > buf.length) return undefined;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(off + i * 2));

  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad, which is how operators read them.
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(buf, off + 12) ?? ''}`;
  }

  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && groups[i] === 0) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      const len = i - runStart;
      // §4.2.3: strictly longer wins, so the first of equal runs is kept.
      if (len > bestLen) {
        bestStart = runStart;
        bestLen = len;
      }
      runStart = -1;
    }
  }
  // §4.2.2: a single zero group is never shortened to "::".
  if (bestLen < 2) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** 4 bytes of a dotted-quad address, or `undefined` when the text is not exactly one. */
export function parseIPv4(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/**
 * 16 bytes of an IPv6 address in any RFC 4291 §2.2 text form (full, `::`-compressed, dotted
 * IPv4 tail; no zone id), or `undefined` when the text is not one.
 */
export function parseIPv6(text: string): Buffer | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  let s = text;
  let v4: Buffer | undefined;
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.indexOf('.', lastColon) > lastColon) {
    v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    // Replace the dotted tail by two placeholder groups so the group count below is uniform.
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(s);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  if (v4) v4.copy(out, 12);
  return out;
}
