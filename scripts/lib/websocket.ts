/**
 * WebSocket frame writer for crafted captures and tests (RFC 6455 §5.2): any opcode, FIN, masking (§5.3) and a
 * forced length encoding (16 or 64 bits even for short payloads, to exercise non-minimal lengths).
 */

export interface FrameSpec {
  readonly opcode: number;
  readonly payload: Buffer;
  readonly fin?: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 4). */
  readonly rsv?: number;
  /** Client frames are masked with this 4-byte key. */
  readonly mask?: Buffer;
  /** Force a length encoding: 64 writes even a small length in 8 bytes. */
  readonly len?: 16 | 64;
}

export function wsFrame(f: FrameSpec): Buffer {
  const n = f.payload.length;
  const mode = f.len ?? (n < 126 ? 7 : n <= 0xffff ? 16 : 64);
  const ext = mode === 7 ? 0 : mode === 16 ? 2 : 8;
  const h = Buffer.alloc(2 + ext + (f.mask ? 4 : 0));
  h[0] = (f.fin === false ? 0 : 0x80) | ((f.rsv ?? 0) << 4) | f.opcode;
  h[1] = (f.mask ? 0x80 : 0) | (mode === 7 ? n : mode === 16 ? 126 : 127);
  if (mode === 16) h.writeUInt16BE(n, 2);
  if (mode === 64) h.writeBigUInt64BE(BigInt(n), 2);
  let body = f.payload;
  if (f.mask) {
    f.mask.copy(h, 2 + ext);
    body = Buffer.from(f.payload);
    for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (f.mask[i & 3] as number);
  }
  return Buffer.concat([h, body]);
}
