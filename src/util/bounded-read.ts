/**
 * Reading a file named by configuration without trusting what it is: opened with O_NONBLOCK (a FIFO cannot
 * hang the open or the read), checked with fstat on the opened descriptor (no race between check and read),
 * refused unless it is a regular file, and read to at most `limit + 1` bytes whatever its size claims
 * (`/proc` files report 0). Synchronous: config is read once at the edge, and a SIGHUP reload must finish
 * before the next packet is judged by it.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export type BoundedRead = { readonly kind: 'ok'; readonly bytes: Buffer } | { readonly kind: 'invalid'; readonly reason: string };

/** 1 MiB: trust anchor bundles, cached certificate chains, the cache's index.json. */
export const CERT_FILE_LIMIT = 1024 * 1024;
/** 16 MiB: the config file itself. */
export const CONFIG_FILE_LIMIT = 16 * 1024 * 1024;

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a plain file';
}

function openError(code: string | undefined): string {
  switch (code) {
    case 'ENOENT':
      return 'does not exist (ENOENT)';
    case 'ELOOP':
      return 'is a symlink loop or too many levels of symlinks (ELOOP)';
    case 'EACCES':
    case 'EPERM':
      return `is not readable (${code})`;
    case 'ENXIO':
      return 'is a socket or a device without a reader, not a regular file (ENXIO)';
    case 'ENOTDIR':
      return 'has a path component that is not a folder (ENOTDIR)';
    case 'EISDIR':
      return 'is a directory, not a regular file (EISDIR)';
    default:
      return `cannot be opened (${code ?? 'error'})`;
  }
}

function sizeText(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB` : `${n} bytes`;
}

/**
 * Reads `path` if it is a regular file of at most `limit` bytes. Never throws; the reason is a phrase that
 * reads after the path (`/dev/zero is a character device, not a regular file`).
 */
export function readBoundedFile(path: string, limit: number): BoundedRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return { kind: 'invalid', reason: openError((e as NodeJS.ErrnoException).code) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'invalid', reason: `is ${kindOf(st)}, not a regular file` };
    if (st.size > limit) return { kind: 'invalid', reason: `is ${sizeText(st.size)}, over the limit of ${sizeText(limit)}` };
    // The size is a hint (files grow, /proc files say 0): read until EOF or one byte past the limit.
    let buf = Buffer.allocUnsafe(Math.min(limit + 1, Math.max(st.size + 1, 4096)));
    let used = 0;
    for (;;) {
      if (used === buf.length) {
        if (buf.length > limit) break;
        const bigger = Buffer.allocUnsafe(Math.min(limit + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, used);
        buf = bigger;
      }
      const n = readSync(fd, buf, used, buf.length - used, null);
      if (n === 0) break;
      used += n;
    }
    if (used > limit) return { kind: 'invalid', reason: `grew past the limit of ${sizeText(limit)} while being read` };
    return { kind: 'ok', bytes: buf.subarray(0, used) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { kind: 'invalid', reason: code === 'EAGAIN' ? 'would block (EAGAIN), not a regular file' : `cannot be read (${code ?? (e as Error).message})` };
  } finally {
    closeSync(fd);
  }
}
