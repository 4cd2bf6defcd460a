/**
 * Local certificate cache for offline STIR/SHAKEN verification (RULES.md §2 step 3). The folder layout is
 * described in README.md beside this file. Loaded once by the constructor; lookups are in memory.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { SpoofwatchError } from '../../types.js';
import { CERT_FILE_LIMIT, readBoundedFile } from '../../util/bounded-read.js';
import type { ChainVerdict } from './chain.js';

export interface CacheProblem {
  readonly file: string;
  readonly reason: string;
}

const HASH_FILE_RE = /^([0-9a-f]{64})\.pem$/;
/** Chains read from one folder at most; more is a misconfigured folder, reported once as a problem. */
export const MAX_CACHE_FILES = 10_000;
/** Bytes read from one folder at most (10,000 files of 1 MiB would otherwise be 10 GB). */
export const MAX_CACHE_BYTES = 64 * 1024 * 1024;
/** Certificates in one chain file at most: a leaf, its intermediates and perhaps a root. */
export const MAX_CHAIN_CERTS = 16;
const PEM_RE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** Cache key of an x5u URL: lower-case hex SHA-256 of the URL exactly as it appears in the PASSporT. */
export function cacheKeyOf(url: string): string {
  return createHash('sha256').update(url, 'utf8').digest('hex');
}

/** Splits a PEM bundle into certificates, in file order (leaf first, then intermediates). */
export function parsePemChain(pem: string): { kind: 'ok'; value: X509Certificate[] } | { kind: 'invalid'; reason: string } {
  const certs: X509Certificate[] = [];
  for (const m of pem.matchAll(PEM_RE)) {
    if (certs.length === MAX_CHAIN_CERTS) return { kind: 'invalid', reason: `more than ${MAX_CHAIN_CERTS} certificates: not a chain` };
    try {
      certs.push(new X509Certificate(m[0]));
    } catch (e) {
      return { kind: 'invalid', reason: `certificate ${certs.length + 1} does not parse: ${(e as Error).message}` };
    }
  }
  if (certs.length === 0) return { kind: 'invalid', reason: 'no PEM CERTIFICATE block' };
  return { kind: 'ok', value: certs };
}

/**
 * x5u URL → certificate chain, read once from a folder:
 * - `index.json`: `{ "<x5u url>": "<file name relative to the folder>" }`, and/or
 * - `<sha256(url) hex>.pem` files.
 * An `index.json` entry wins over a hash-named file for the same URL. Unreadable folder or a malformed
 * `index.json` throw a {@link SpoofwatchError} (a configuration error, code `SHAKEN_CACHE_UNREADABLE` /
 * `SHAKEN_CACHE_INDEX_INVALID`); a bad individual file is skipped and listed in {@link problems}. Every file is
 * read as a regular file of at most 1 MiB ({@link readBoundedFile}): a FIFO, `/dev/zero`, a folder or a symlink
 * loop named `….pem` is a problem, never a hang or an unbounded read.
 */
export class CertCache {
  readonly dir: string;
  readonly problems: readonly CacheProblem[];
  private readonly chains = new Map<string, readonly X509Certificate[]>();
  /** Verified-chain verdicts per anchor set (by identity of the anchors array) and x5u. */
  private readonly verdicts = new WeakMap<readonly X509Certificate[], Map<string, ChainVerdict>>();
  private bytesRead = 0;

  /** @param dir the cache folder; without one the cache is empty and every lookup is 436 (unverifiable). */
  constructor(dir?: string) {
    this.dir = dir === undefined ? '' : resolve(dir);
    const problems: CacheProblem[] = [];
    let names: string[];
    try {
      names = dir === undefined ? [] : readdirSync(this.dir);
    } catch (e) {
      throw new SpoofwatchError('SHAKEN_CACHE_UNREADABLE', `certificate cache folder ${this.dir}: ${(e as Error).message}`);
    }
    let files = 0;
    const budget = (file: string): boolean => {
      if (++files <= MAX_CACHE_FILES) return true;
      if (files === MAX_CACHE_FILES + 1) problems.push({ file, reason: `more than ${MAX_CACHE_FILES} certificate files; this one and the rest were not read` });
      return false;
    };
    for (const name of names.sort()) {
      const m = HASH_FILE_RE.exec(name);
      if (!m || !m[1]) continue;
      if (budget(name)) this.load(m[1], name, problems);
    }
    if (names.includes('index.json')) {
      let index: unknown;
      const indexFile = join(this.dir, 'index.json');
      const read = readBoundedFile(indexFile, CERT_FILE_LIMIT);
      if (read.kind === 'invalid') throw new SpoofwatchError('SHAKEN_CACHE_INDEX_INVALID', `${indexFile} ${read.reason}`);
      try {
        index = JSON.parse(read.bytes.toString('utf8'));
      } catch (e) {
        throw new SpoofwatchError('SHAKEN_CACHE_INDEX_INVALID', `index.json in ${this.dir}: ${(e as Error).message}`);
      }
      if (typeof index !== 'object' || index === null || Array.isArray(index)) {
        throw new SpoofwatchError('SHAKEN_CACHE_INDEX_INVALID', `index.json in ${this.dir} is not an object of url → file`);
      }
      for (const [url, file] of Object.entries(index)) {
        if (typeof file !== 'string') {
          problems.push({ file: 'index.json', reason: `entry for ${url} is not a file name` });
          continue;
        }
        const rel = relative(this.dir, resolve(this.dir, file));
        if (rel.startsWith('..') || isAbsolute(rel)) {
          problems.push({ file, reason: 'outside the cache folder' });
          continue;
        }
        if (budget(file)) this.load(cacheKeyOf(url), file, problems);
      }
    }
    this.problems = problems;
  }

  /** The chain for an x5u URL (leaf first), or undefined when not cached. */
  get(x5u: string): readonly X509Certificate[] | undefined {
    return this.chains.get(cacheKeyOf(x5u));
  }

  /** Number of cached chains. */
  get size(): number {
    return this.chains.size;
  }

  /** @internal memo of verified chains, used by verifyIdentity. */
  verdictsFor(anchors: readonly X509Certificate[]): Map<string, ChainVerdict> {
    let m = this.verdicts.get(anchors);
    if (!m) {
      m = new Map();
      this.verdicts.set(anchors, m);
    }
    return m;
  }

  private load(key: string, file: string, problems: CacheProblem[]): void {
    if (this.bytesRead > MAX_CACHE_BYTES) return;
    const read = readBoundedFile(join(this.dir, file), CERT_FILE_LIMIT);
    if (read.kind === 'invalid') {
      problems.push({ file, reason: read.reason });
      return;
    }
    this.bytesRead += read.bytes.length;
    if (this.bytesRead > MAX_CACHE_BYTES) {
      problems.push({ file, reason: `the folder holds more than ${MAX_CACHE_BYTES / (1024 * 1024)} MiB of certificates; this file and the rest were not read` });
      return;
    }
    const chain = parsePemChain(read.bytes.toString('utf8'));
    if (chain.kind === 'invalid') {
      problems.push({ file, reason: chain.reason });
      return;
    }
    this.chains.set(key, chain.value);
  }
}
