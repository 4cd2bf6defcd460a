import { closeSync, openSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheKeyOf, CertCache } from '../../src/identity/shaken/certcache.js';
import { SpoofwatchError } from '../../src/types.js';
import { makePki, writeCacheFolder, removeCacheFolders } from './pki.js';

afterAll(removeCacheFolders);

const pki = makePki({ now: new Date('2025-03-01T12:00:00Z') });
const A = 'https://cert.example.net/a.pem';
const B = 'https://cert.example.net/b.pem';

describe('CertCache folder layout', () => {
  it('loads chains named in index.json, leaf first', () => {
    const cache = new CertCache(writeCacheFolder({ index: { [A]: pki.chainPem } }));
    expect(cache.size).toBe(1);
    expect(cache.get(A)?.map((c) => c.fingerprint256)).toEqual([pki.leaf.cert.x509.fingerprint256, pki.intermediate.cert.x509.fingerprint256]);
    expect(cache.get(B)).toBeUndefined();
    expect(cache.problems).toEqual([]);
  });

  it('loads <sha256(url)>.pem files without an index', () => {
    // sha256sum of the URL's bytes, computed with coreutils: `printf %s URL | sha256sum`
    expect(cacheKeyOf(A)).toBe('e6d7e09b9b8499422e0c4a2c0429369e9587f8cfccf478f268df23b5e655b279');
    const cache = new CertCache(writeCacheFolder({ hashed: { [B]: pki.leaf.cert.pem } }));
    expect(cache.get(B)?.map((c) => c.subject)).toEqual([pki.leaf.cert.x509.subject]);
    expect(cache.get(A)).toBeUndefined();
  });

  it('combines both layouts; index.json wins for the same URL', () => {
    const cache = new CertCache(writeCacheFolder({ index: { [A]: pki.chainPem }, hashed: { [A]: pki.root.cert.pem, [B]: pki.chainPem } }));
    expect(cache.size).toBe(2);
    expect(cache.get(A)?.length).toBe(2);
    expect(cache.get(B)?.length).toBe(2);
  });

  it('lists bad files as problems and skips them', () => {
    const dir = writeCacheFolder({
      extraFiles: {
        'index.json': JSON.stringify({ [A]: 'missing.pem', [B]: 'junk.pem', 'https://c': '../escape.pem', 'https://d': 3 }),
        'junk.pem': 'not a certificate',
        [`${cacheKeyOf('https://e')}.pem`]: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      },
    });
    const cache = new CertCache(dir);
    expect(cache.size).toBe(0);
    expect(cache.problems.map((p) => p.file)).toEqual([`${cacheKeyOf('https://e')}.pem`, 'missing.pem', 'junk.pem', '../escape.pem', 'index.json']);
    expect(cache.problems[2]).toEqual({ file: 'junk.pem', reason: 'no PEM CERTIFICATE block' });
    expect(cache.problems[3]).toEqual({ file: '../escape.pem', reason: 'outside the cache folder' });
  });

  it('bounds what one folder costs: 16 certificates per chain file, 64 MiB in all', () => {
    const seventeen = Array.from({ length: 17 }, () => pki.root.cert.pem).join('');
    const chains = new CertCache(writeCacheFolder({ hashed: { [A]: seventeen, [B]: pki.chainPem } }));
    expect(chains.size).toBe(1);
    expect(chains.get(B)?.length).toBe(2);
    expect(chains.problems).toEqual([{ file: `${cacheKeyOf(A)}.pem`, reason: 'more than 16 certificates: not a chain' }]);
    // 65 sparse files of exactly 1 MiB (the per-file limit): 64 are read (64 MiB), the 65th passes the budget.
    const dir = writeCacheFolder({});
    const names = Array.from({ length: 65 }, (_, i) => `${cacheKeyOf(`https://big/${i}`)}.pem`).sort();
    for (const name of names) {
      closeSync(openSync(join(dir, name), 'w'));
      truncateSync(join(dir, name), 1024 * 1024);
    }
    const big = new CertCache(dir);
    expect(big.size).toBe(0);
    expect(big.problems.slice(0, 64)).toEqual(names.slice(0, 64).map((file) => ({ file, reason: 'no PEM CERTIFICATE block' })));
    expect(big.problems.slice(64)).toEqual([{ file: names[64], reason: 'the folder holds more than 64 MiB of certificates; this file and the rest were not read' }]);
  });

  it('throws a coded error for a missing folder or a malformed index.json', () => {
    const missing = (): CertCache => new CertCache('/nonexistent/spoofwatch-cache');
    expect(missing).toThrow(SpoofwatchError);
    expect(() => missing()).toThrowError(expect.objectContaining({ code: 'SHAKEN_CACHE_UNREADABLE' }) as Error);
    const dir = writeCacheFolder({ extraFiles: { 'index.json': '[1,2]' } });
    expect(() => new CertCache(dir)).toThrowError(expect.objectContaining({ code: 'SHAKEN_CACHE_INDEX_INVALID' }) as Error);
  });
});
