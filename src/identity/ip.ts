/**
 * IP address and CIDR parsing for peer matching (DESIGN.md §3 "peer lookup").
 *
 * Every address lives in one 128-bit space: IPv4 `a.b.c.d` is stored as the IPv4-mapped IPv6
 * address `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2), so an IPv4 CIDR, an IPv4 source address and an
 * IPv4-mapped IPv6 source address (what a dual-stack socket reports) all compare directly.
 * Pure functions: no I/O, no module state beyond constant tables.
 */

/** An address in the unified 128-bit space. `family` 4 also for IPv4-mapped IPv6 input. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** A network in the unified 128-bit space; `prefix` counts bits of that space (IPv4 /n is 96+n). */
export interface Cidr {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
  /** Canonical text: `10.0.0.0/8`, `2001:db8::/32` (IPv4-mapped networks are written as IPv4). */
  readonly text: string;
}

export type CidrParse = { readonly kind: 'ok'; readonly cidr: Cidr } | { readonly kind: 'invalid'; readonly reason: string };

const ALL_ONES = (1n << 128n) - 1n;
const MAPPED_PREFIX = 0xffffn << 32n;

/** MASKS[p] keeps the top p bits of a 128-bit value. */
export const MASKS: readonly bigint[] = Array.from({ length: 129 }, (_, p) => ALL_ONES ^ ((1n << BigInt(128 - p)) - 1n));

function parseIpv4Number(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const part of parts) {
    // Leading zeros are rejected: "010" is octal to some tools and decimal to others.
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

function parseIpv6Bigint(text: string): bigint | undefined {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.length === 0) return undefined;
  // Embedded dotted IPv4 in the last 32 bits (e.g. ::ffff:192.0.2.1).
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    const v4 = parseIpv4Number(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [Math.floor(v4 / 65536), v4 % 65536];
    s = s.slice(0, lastColon + 1);
    // "::" + v4 leaves "::" ; "a::b:" + v4 leaves a trailing ':' that belonged to the v4 group.
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (h: string | undefined): number[] | undefined => {
    if (h === undefined || h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]);
  const rest = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (head === undefined || rest === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest, ...tail];
  } else {
    groups = [...head, ...tail];
  }
  if (groups.length !== 8) return undefined;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

/** Parses a dotted IPv4 or textual IPv6 address (zone ids and brackets tolerated). */
export function parseIp(text: string): IpAddress | undefined {
  if (!text.includes(':')) {
    const v4 = parseIpv4Number(text);
    return v4 === undefined ? undefined : { family: 4, value: MAPPED_PREFIX | BigInt(v4) };
  }
  const v6 = parseIpv6Bigint(text);
  if (v6 === undefined) return undefined;
  return { family: (v6 & MASKS[96]!) === MAPPED_PREFIX ? 4 : 6, value: v6 };
}

function formatIpv4(value: bigint): string {
  const v = Number(value & 0xffffffffn);
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 5952 text of a 128-bit value (IPv4-mapped values are written as dotted IPv4). */
export function formatIp(addr: IpAddress): string {
  if (addr.family === 4) return formatIpv4(addr.value);
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((addr.value >> BigInt(i * 16)) & 0xffffn));
  // Longest run of >= 2 zero groups becomes "::" (first one on ties).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Parses `10.0.0.0/8`, `2001:db8::/32`, `::ffff:10.0.0.0/104` or a bare address (a host route).
 * Host bits set after the prefix are an error: `10.0.0.1/8` is almost always a typo.
 */
export function parseCidr(text: string): CidrParse {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseIp(addrText);
  if (addr === undefined) return { kind: 'invalid', reason: `not an IPv4 or IPv6 address or CIDR ("${text}")` };
  const isV4Text = !addrText.includes(':');
  const maxLen = isV4Text ? 32 : 128;
  let len = maxLen;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^(?:0|[1-9]\d{0,2})$/.test(p) || Number(p) > maxLen) {
      return { kind: 'invalid', reason: `prefix length must be 0-${maxLen} ("${text}")` };
    }
    len = Number(p);
  }
  const prefix = isV4Text ? 96 + len : len;
  const mask = MASKS[prefix]!;
  const network = addr.value & mask;
  const family: 4 | 6 = prefix >= 96 && (network & MASKS[96]!) === MAPPED_PREFIX ? 4 : 6;
  const canonical =
    family === 4 ? `${formatIpv4(network)}/${prefix - 96}` : `${formatIp({ family: 6, value: network })}/${prefix}`;
  if (network !== addr.value) {
    return { kind: 'invalid', reason: `host bits set after the prefix ("${text}"; did you mean "${canonical}"?)` };
  }
  return { kind: 'ok', cidr: { family, network, prefix, text: canonical } };
}

/** True when `addr` lies inside `cidr`. */
export function cidrContains(cidr: Cidr, addr: IpAddress): boolean {
  return (addr.value & MASKS[cidr.prefix]!) === cidr.network;
}
