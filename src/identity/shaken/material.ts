/**
 * The files STIR/SHAKEN verification needs (RULES.md §2 steps 3–4): trust anchor bundles and the certificate
 * cache folder, loaded once per config. `config check`, `analyze` and a SIGHUP reload all load them through
 * {@link loadTrustMaterial}, so a file that would hang (FIFO), exhaust memory (`/dev/zero`, a 1 GB file) or loop
 * (symlinks) is a config error naming the config path that referenced it, before anything runs on it.
 */
import { X509Certificate } from 'node:crypto';
import { SpoofwatchError } from '../../types.js';
import { CERT_FILE_LIMIT, readBoundedFile } from '../../util/bounded-read.js';
import { CertCache } from './certcache.js';

/** The part of the `stirShaken` config that names files (absolute paths once loaded). */
export interface TrustMaterialConfig {
  readonly trustAnchors: readonly string[];
  readonly certCacheDir?: string;
}

export interface TrustMaterial {
  readonly anchors: readonly X509Certificate[];
  readonly cache: CertCache;
}

export type TrustMaterialLoad = { readonly kind: 'ok'; readonly value: TrustMaterial } | { readonly kind: 'invalid'; readonly errors: string[] };

/** Trust anchors in one bundle at most (a national STI-CA list holds tens). */
export const MAX_ANCHORS_PER_FILE = 1_000;

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function loadAnchors(file: string, at: string, errors: string[]): X509Certificate[] {
  const read = readBoundedFile(file, CERT_FILE_LIMIT);
  if (read.kind === 'invalid') {
    errors.push(`${at}: ${file} ${read.reason}`);
    return [];
  }
  const blocks = read.bytes.toString('utf8').match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    errors.push(`${at}: ${file} holds no PEM CERTIFICATE block`);
    return [];
  }
  if (blocks.length > MAX_ANCHORS_PER_FILE) {
    errors.push(`${at}: ${file} holds ${blocks.length} certificates, over the limit of ${MAX_ANCHORS_PER_FILE}`);
    return [];
  }
  const out: X509Certificate[] = [];
  blocks.forEach((b, i) => {
    try {
      out.push(new X509Certificate(b));
    } catch (e) {
      errors.push(`${at}: ${file}: certificate ${i + 1} does not parse (${(e as Error).message})`);
    }
  });
  return out;
}

/**
 * Reads every trust anchor file and the certificate cache. Each problem is one line starting with the config
 * path: `stirShaken.trustAnchors[0]: /dev/zero is a character device, not a regular file`,
 * `stirShaken.certCacheDir: /certs/ab….pem is a FIFO, not a regular file`. A cache file that does not parse is
 * an error too: `config check` must show what `analyze` would silently skip.
 */
export function loadTrustMaterial(cfg: TrustMaterialConfig): TrustMaterialLoad {
  const errors: string[] = [];
  const anchors = cfg.trustAnchors.flatMap((file, i) => loadAnchors(file, `stirShaken.trustAnchors[${i}]`, errors));
  let cache: CertCache | undefined;
  try {
    cache = new CertCache(cfg.certCacheDir);
    for (const p of cache.problems) errors.push(`stirShaken.certCacheDir: ${cfg.certCacheDir ?? ''}/${p.file}: ${p.reason}`);
  } catch (e) {
    errors.push(`stirShaken.certCacheDir: ${(e as Error).message}`);
  }
  if (errors.length > 0 || cache === undefined) return { kind: 'invalid', errors };
  return { kind: 'ok', value: { anchors, cache } };
}

/** Material already loaded for a (frozen) config object, so the files are read once, as they were checked. */
const loaded = new WeakMap<TrustMaterialConfig, TrustMaterial>();

/** Keeps `material` as what {@link trustMaterialFor} returns for this very config object. */
export function rememberTrustMaterial(cfg: TrustMaterialConfig, material: TrustMaterial): void {
  loaded.set(cfg, material);
}

/**
 * The material of a config: the one loaded with it by `loadConfig`, else loaded now. Throws a
 * {@link SpoofwatchError} `SHAKEN_MATERIAL_INVALID` listing every problem (one per line).
 */
export function trustMaterialFor(cfg: TrustMaterialConfig): TrustMaterial {
  const known = loaded.get(cfg);
  if (known) return known;
  const r = loadTrustMaterial(cfg);
  if (r.kind === 'invalid') throw new SpoofwatchError('SHAKEN_MATERIAL_INVALID', r.errors.join('\n'));
  loaded.set(cfg, r.value);
  return r.value;
}
