/**
 * Datagrams the kernel dropped before our UDP socket read them (receive queue full): the `drops` column of
 * /proc/net/udp and /proc/net/udp6 for the socket's local address and port. These are losses the process cannot
 * count itself, so /metrics exports them per source. Linux only; elsewhere `undefined`.
 */
import { readFileSync } from 'node:fs';

/** /proc/net/udp encodes an IPv4 address as the 32-bit value in host (little-endian) byte order, in hex. */
function ipv4Hex(ip: string): string | undefined {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
  return p
    .reverse()
    .map((x) => x.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

/** Kernel drops of the UDP socket bound to ip:port, or undefined when it cannot be read. */
export function kernelUdpDrops(ip: string, port: number): number | undefined {
  const v6 = ip.includes(':');
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const addrHex = v6 ? undefined : ipv4Hex(ip);
  let text: string;
  try {
    text = readFileSync(v6 ? '/proc/net/udp6' : '/proc/net/udp', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    if (!local || !local.endsWith(`:${portHex}`)) continue;
    if (addrHex !== undefined && local !== `${addrHex}:${portHex}`) continue;
    const drops = Number(f[f.length - 1]);
    return Number.isFinite(drops) ? drops : undefined;
  }
  return undefined;
}

/** The ip and port of a source address written `udp:IP:PORT` (IPv6 in brackets), else undefined. */
export function udpEndpointOf(address: string): { ip: string; port: number } | undefined {
  const m = /^udp:\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return m ? { ip: m[1]!, port: Number(m[2]) } : undefined;
}
