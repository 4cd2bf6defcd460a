/**
 * IP address text <-> bytes, shared by every decoder that prints addresses (IPv4, IPv6, HEP).
 * Pure functions: no I/O, no module state. Formatting follows RFC 5952 so that the same address
 * always has exactly one textual form (peers are matched and alerts are compared on this text).
 */
import { ipv4Text, ipv6Text } from './address-text.js';

/**
 * Dotted-quad text of the 4 bytes at `off`, or `undefined` rather than reading past the end.
 * (The per-packet formatter lives in address-text.ts; this is its bounds-checked entry point.)
 */
export function formatIPv4(buf: Buffer, off = 0): string | undefined {
  if (off < 0 || off + 4 > buf.length) return undefined;
  return ipv4Text(buf, off);
}

/**
 * RFC 5952 text of the 16 bytes at `off` (lowercase, first longest zero run as `::`, IPv4-mapped as
 * `::ffff:a.b.c.d`), or `undefined` when fewer than 16 bytes remain.
 */
export function formatIPv6(buf: Buffer, off = 0): string | undefined {
  if (off < 0 || off + 16 > buf.length) return undefined;
  return ipv6Text(buf, off);
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
