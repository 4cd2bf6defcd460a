/** Test-side helpers over scripts/lib/pki.ts: throw-away PKI, PASSporTs and temporary cache folders. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCertCacheFolder } from '../../scripts/lib/pki.js';

export * from '../../scripts/lib/pki.js';

const created: string[] = [];

/** Writes a cache folder (see writeCertCacheFolder) into a fresh temp directory and returns its path. */
export function writeCacheFolder(opts: Parameters<typeof writeCertCacheFolder>[1]): string {
  const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-shaken-'));
  created.push(dir);
  writeCertCacheFolder(dir, opts);
  return dir;
}

/** Removes every folder made by writeCacheFolder in this test file (call from afterAll). */
export function removeCacheFolders(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}
