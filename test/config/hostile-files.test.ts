/**
 * Issue #17 point 4: a config cannot hang or exhaust the daemon. Files a config names (trust anchors, certificate
 * cache entries, the config itself) that are `/dev/zero`, a FIFO, a 1 GB (sparse) file, a directory or a symlink
 * loop are config errors naming the config path — from `loadConfig`, `config check`, `analyze --config` (exit 2,
 * well under 2 s) and a SIGHUP reload (rejected; the daemon keeps serving and alerting on the old config).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { cacheKeyOf } from '../../src/identity/shaken/certcache.js';
import { invite, metricValue, sendUdp, sleep, tempDir, waitFor, WsClient } from '../daemon/helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const tmp = tempDir('spoofwatch-hostile-');
afterAll(tmp.cleanup);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Kind = 'dev-zero' | 'fifo' | 'one-gb' | 'directory' | 'symlink-loop';
const KINDS: readonly Kind[] = ['dev-zero', 'fifo', 'one-gb', 'directory', 'symlink-loop'];
const REASON: Record<Kind, string> = {
  'dev-zero': 'is a character device, not a regular file',
  fifo: 'is a FIFO, not a regular file',
  'one-gb': 'is 1024 MiB, over the limit of 1 MiB',
  directory: 'is a directory, not a regular file',
  'symlink-loop': 'is a symlink loop or too many levels of symlinks (ELOOP)',
};

/** Makes `path` into the hostile kind (the 1 GB file is sparse: truncate, no disk used). */
function makeHostile(path: string, kind: Kind): void {
  switch (kind) {
    case 'dev-zero':
      symlinkSync('/dev/zero', path);
      return;
    case 'fifo': {
      const r = spawnSync('mkfifo', [path]);
      if (r.status !== 0) throw new Error(`mkfifo failed: ${String(r.stderr)}`);
      return;
    }
    case 'one-gb':
      closeSync(openSync(path, 'w'));
      truncateSync(path, 1024 * 1024 * 1024);
      return;
    case 'directory':
      mkdirSync(path);
      return;
    case 'symlink-loop':
      symlinkSync(`${path}.other`, path);
      symlinkSync(path, `${path}.other`);
      return;
  }
}

let n = 0;
/** A config whose trust anchor is the hostile file. */
function anchorCase(kind: Kind): { file: string; target: string } {
  const dir = join(tmp.dir, `anchor-${kind}-${++n}`);
  mkdirSync(dir);
  const target = join(dir, 'anchors.pem');
  makeHostile(target, kind);
  const file = join(dir, 'spoofwatch.yaml');
  writeFileSync(file, 'stirShaken: { trustAnchors: [anchors.pem] }\n');
  return { file, target };
}

/** A config whose certificate cache holds the hostile file as `<sha256(url)>.pem`. */
function cacheCase(kind: Kind): { file: string; target: string } {
  const dir = join(tmp.dir, `cache-${kind}-${++n}`);
  mkdirSync(join(dir, 'certs'), { recursive: true });
  const target = join(dir, 'certs', `${cacheKeyOf('https://cert.example.net/sp.pem')}.pem`);
  makeHostile(target, kind);
  const file = join(dir, 'spoofwatch.yaml');
  writeFileSync(file, 'stirShaken: { certCacheDir: certs }\n');
  return { file, target };
}

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

describe('loadConfig refuses hostile files, naming the config path', () => {
  for (const kind of KINDS) {
    it(`trust anchor that is ${kind}`, () => {
      const c = anchorCase(kind);
      const t0 = Date.now();
      const r = loadConfig(c.file);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(r).toEqual({ ok: false, errors: [`stirShaken.trustAnchors[0]: ${c.target} ${REASON[kind]}`] });
    });
    it(`certificate cache entry that is ${kind}`, () => {
      const c = cacheCase(kind);
      const t0 = Date.now();
      const r = loadConfig(c.file);
      expect(Date.now() - t0).toBeLessThan(2000);
      const name = c.target.slice(c.target.lastIndexOf('/') + 1);
      expect(r).toEqual({ ok: false, errors: [`stirShaken.certCacheDir: ${join(c.file, '..', 'certs')}/${name}: ${REASON[kind]}`] });
    });
  }

  it('a FIFO as index.json, a cache folder that is a symlink loop, the config file itself as /dev/zero or a FIFO', () => {
    const dir = join(tmp.dir, 'misc');
    mkdirSync(join(dir, 'certs'), { recursive: true });
    makeHostile(join(dir, 'certs', 'index.json'), 'fifo');
    writeFileSync(join(dir, 'a.yaml'), 'stirShaken: { certCacheDir: certs }\n');
    expect(loadConfig(join(dir, 'a.yaml'))).toEqual({
      ok: false,
      errors: [`stirShaken.certCacheDir: ${join(dir, 'certs', 'index.json')} is a FIFO, not a regular file`],
    });
    makeHostile(join(dir, 'loop'), 'symlink-loop');
    writeFileSync(join(dir, 'b.yaml'), 'stirShaken: { certCacheDir: loop }\n');
    const b = loadConfig(join(dir, 'b.yaml'));
    expect(b.ok).toBe(false);
    expect(!b.ok && b.errors).toEqual([expect.stringMatching(/^stirShaken\.certCacheDir: certificate cache folder .*\/loop: ELOOP/)]);
    expect(loadConfig('/dev/zero')).toEqual({ ok: false, errors: ['/dev/zero: the config file is a character device, not a regular file'] });
    makeHostile(join(dir, 'config-fifo.yaml'), 'fifo');
    expect(loadConfig(join(dir, 'config-fifo.yaml'))).toEqual({
      ok: false,
      errors: [`${join(dir, 'config-fifo.yaml')}: the config file is a FIFO, not a regular file`],
    });
    const big = join(dir, 'big.yaml');
    makeHostile(big, 'one-gb');
    expect(loadConfig(big)).toEqual({ ok: false, errors: [`${big}: the config file is 1024 MiB, over the limit of 16 MiB`] });
  });
});

/** Build dist/ when it is older than src/ (these tests run the real CLI). */
function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

describe('the CLI and the daemon on hostile files', () => {
  beforeAll(() => {
    if (!existsSync(CLI) || statSync(CLI).mtimeMs < newestMtime(join(ROOT, 'src'))) {
      const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
    }
  }, 120_000);

  // The kinds that hung or grew without bound (a directory or a loop only gave a poor message: covered above).
  const cases: Array<[string, () => { file: string; target: string }, string]> = [
    ['anchor dev-zero', () => anchorCase('dev-zero'), 'stirShaken.trustAnchors[0]: '],
    ['anchor fifo', () => anchorCase('fifo'), 'stirShaken.trustAnchors[0]: '],
    ['anchor one-gb', () => anchorCase('one-gb'), 'stirShaken.trustAnchors[0]: '],
    ['cache entry dev-zero', () => cacheCase('dev-zero'), 'stirShaken.certCacheDir: '],
  ];
  for (const [name, make, path] of cases) {
    it(`${name}: config check and analyze --config exit 2 in < 2 s, naming ${path.trim()}`, () => {
      const c = make();
      // Node's own start-up is ~0.35 s idle but several seconds when 7 test runs share 2 cores: the bound is 2 s or
      // twice a valid config's check, measured now (a FIFO hung forever; /dev/zero read for minutes).
      const control = cli('config', 'check', join(ROOT, 'captures/scenario/spoofwatch.yaml'));
      expect(control.code).toBe(0);
      const bound = Math.max(2000, 2 * control.ms);
      const check = cli('config', 'check', c.file);
      expect([check.code, check.stdout]).toEqual([2, '']);
      expect(check.stderr.split('\n').slice(0, 2)).toEqual([`spoofwatch: ${c.file}: invalid config`, expect.stringContaining(`  ${path}`)]);
      expect(check.stderr).toContain(c.target.slice(c.target.lastIndexOf('/')));
      expect(check.ms).toBeLessThan(bound);
      const analyze = cli('analyze', '--config', c.file, join(ROOT, 'test/captures/sipp-udp.pcapng'));
      expect([analyze.code, analyze.stdout, analyze.stderr]).toEqual([2, '', check.stderr]);
      expect(analyze.ms).toBeLessThan(bound);
    });
  }

  it('SIGHUP with /dev/zero, a FIFO, a 1 GB file, a symlink loop as anchor and /dev/zero as cache entry: each rejected; the daemon keeps serving on the old config', async () => {
    const dir = join(tmp.dir, 'daemon');
    mkdirSync(dir);
    const cfgFile = join(dir, 'spoofwatch.yaml');
    const common = `
sources:
  sip: { host: 127.0.0.1, port: 0, udp: true, tcp: false }
  hep: false
  watch: false
server: { host: 127.0.0.1, port: 0 }
store: { path: store.db }
peers:
  - name: carrier
    match: { cidrs: [127.0.0.60] }
    trust: trusted
    class: national
    any: true
`;
    writeFileSync(cfgFile, common);
    const child: ChildProcess = spawn(process.execPath, [CLI, 'daemon', '--config', cfgFile], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    cleanups.push(() => void (child.exitCode === null && child.kill('SIGKILL')));
    let log = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (log += s));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(() => /"ports":\{/.test(log), 20_000, 'daemon start log');
    const ports = JSON.parse(/"ports":(\{[^}]*\})/.exec(log)![1]!) as { http: number; sipUdp: number };
    const ws = new WsClient(`ws://127.0.0.1:${ports.http}/alerts`);
    await ws.hello();
    const rulesOf = (callId: string) => ws.alerts.filter((a) => a.call.callId === callId).map((a) => a.rule);

    const kinds: Kind[] = ['dev-zero', 'fifo', 'one-gb', 'symlink-loop'];
    for (const [i, kind] of kinds.entries()) {
      const target = join(dir, `anchor-${kind}.pem`);
      makeHostile(target, kind);
      // The new config would also make 127.0.0.61 a known carrier: it must not take effect.
      writeFileSync(cfgFile, `${common}  - name: other\n    match: { cidrs: [127.0.0.61] }\n    trust: trusted\n    class: national\n    any: true\nstirShaken: { trustAnchors: [anchor-${kind}.pem] }\n`);
      const rejections = (log.match(/SIGHUP: config rejected/g) ?? []).length;
      const t0 = Date.now();
      child.kill('SIGHUP');
      await waitFor(() => (log.match(/SIGHUP: config rejected/g) ?? []).length > rejections, 2000, `rejection of ${kind}`);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(log).toContain(`stirShaken.trustAnchors[0]: ${target} ${REASON[kind]}`);
      // Still serving: /healthz answers, and the old config (127.0.0.61 unknown) still raises alerts.
      const health = await fetch(`http://127.0.0.1:${ports.http}/healthz`);
      expect(health.status).toBe(200);
      const callId = `after-${kind}@test`;
      await sendUdp(ports.sipUdp, [invite(callId, { srcIp: '127.0.0.61' })], '127.0.0.61');
      await waitFor(() => rulesOf(callId).includes('SRC-UNKNOWN-PEER'), 5000, `alert after ${kind}`);
      const m = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`)).text();
      expect(metricValue(m, 'spoofwatch_config_reloads_total', { result: 'rejected' })).toBe(i + 1);
    }
    // A cache entry symlinked to /dev/zero aborted the daemon too.
    mkdirSync(join(dir, 'certs'));
    const entry = join(dir, 'certs', `${cacheKeyOf('https://cert.example.net/sp.pem')}.pem`);
    makeHostile(entry, 'dev-zero');
    writeFileSync(cfgFile, `${common}stirShaken: { certCacheDir: certs }\n`);
    const before = (log.match(/SIGHUP: config rejected/g) ?? []).length;
    child.kill('SIGHUP');
    await waitFor(() => (log.match(/SIGHUP: config rejected/g) ?? []).length > before, 2000, 'rejection of the cache entry');
    expect(log).toContain(`stirShaken.certCacheDir: ${join(dir, 'certs')}/${entry.slice(entry.lastIndexOf('/') + 1)}: is a character device, not a regular file`);
    expect((await fetch(`http://127.0.0.1:${ports.http}/healthz`)).status).toBe(200);
    await sendUdp(ports.sipUdp, [invite('after-cache@test', { srcIp: '127.0.0.61' })], '127.0.0.61');
    await waitFor(() => rulesOf('after-cache@test').includes('SRC-UNKNOWN-PEER'), 5000, 'alert after the cache entry');
    await sleep(50);
    expect(log).not.toMatch(/config reloaded/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
