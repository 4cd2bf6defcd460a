/**
 * A call's evidence as a pcapng that opens in Wireshark: each SIP message becomes one raw-IP packet (LINKTYPE_RAW)
 * with its original capture time, addresses and ports; TCP messages get consecutive sequence numbers per direction
 * so Wireshark's TCP analysis stays quiet. The offending frames carry a packet comment naming the rule.
 */
import { PcapngWriter } from '../sources/capture/writer.js';
import { parseIPv4, parseIPv6 } from '../decode/addr.js';
import { LinkType } from '../types.js';
import { routeText, type EvidenceMessage } from './buffer.js';

function sum16(buf: Buffer, start: number, end: number, acc: number): number {
  for (let i = start; i + 1 < end; i += 2) acc += buf.readUInt16BE(i);
  if ((end - start) & 1) acc += buf[end - 1]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

/** IP header + transport header + payload, with correct checksums. */
function packet(m: EvidenceMessage, seq: number): Buffer {
  const v6 = m.src.ip.includes(':');
  const src = v6 ? parseIPv6(m.src.ip) : parseIPv4(m.src.ip);
  const dst = v6 ? parseIPv6(m.dst.ip) : parseIPv4(m.dst.ip);
  if (!src || !dst || src.length !== dst.length) throw new Error(`cannot encode addresses ${m.src.ip} > ${m.dst.ip}`);
  const tcp = m.transport !== 'udp';
  const l4len = (tcp ? 20 : 8) + m.raw.length;
  const iplen = v6 ? 40 : 20;
  const b = Buffer.alloc(iplen + l4len);
  const proto = tcp ? 6 : 17;
  if (v6) {
    b.writeUInt32BE(0x60000000, 0);
    b.writeUInt16BE(l4len, 4);
    b[6] = proto;
    b[7] = 64;
    src.copy(b, 8);
    dst.copy(b, 24);
  } else {
    b[0] = 0x45;
    b.writeUInt16BE(Math.min(iplen + l4len, 0xffff), 2);
    b[8] = 64;
    b[9] = proto;
    src.copy(b, 12);
    dst.copy(b, 16);
    b.writeUInt16BE(fold(sum16(b, 0, 20, 0)), 10);
  }
  const o = iplen;
  b.writeUInt16BE(m.src.port, o);
  b.writeUInt16BE(m.dst.port, o + 2);
  if (tcp) {
    b.writeUInt32BE(seq >>> 0, o + 4);
    b[o + 12] = 5 << 4;
    b[o + 13] = 0x18; // PSH|ACK
    b.writeUInt16BE(65535, o + 14);
  } else {
    b.writeUInt16BE(l4len, o + 4);
  }
  m.raw.copy(b, o + (tcp ? 20 : 8));
  // pseudo-header checksum
  let acc = sum16(src, 0, src.length, 0);
  acc = sum16(dst, 0, dst.length, acc);
  acc += proto + l4len;
  acc = sum16(b, o, b.length, acc);
  const ck = fold(acc) || 0xffff;
  b.writeUInt16BE(ck, o + (tcp ? 16 : 6));
  return b;
}

/**
 * pcapng of the messages in capture order, one packet per row (a message that arrived by several routes is kept
 * once: its comment lists the routes); `comments` maps a frame number to its packet comment.
 */
export function evidencePcapng(messages: readonly EvidenceMessage[], comments: ReadonlyMap<number, string>): Buffer {
  const w = new PcapngWriter({ application: 'spoofwatch evidence' });
  const seqs = new Map<string, number>();
  for (const m of messages) {
    const dir = `${m.src.ip}:${m.src.port}>${m.dst.ip}:${m.dst.port}`;
    const seq = seqs.get(dir) ?? 1;
    seqs.set(dir, seq + m.raw.length);
    const comment = comments.get(m.frame);
    const via = m.routes && m.routes.length > 1 ? `; arrived by ${m.routes.map(routeText).join(', ')}` : '';
    w.add({
      ts: m.ts,
      bytes: packet(m, seq),
      linkType: LinkType.RAW,
      tsresol: 9,
      comment: comment !== undefined ? `${comment} (original frame ${m.frame}${via})` : `original frame ${m.frame}${via}`,
    });
  }
  return w.toBuffer();
}
