/**
 * Issue #17 point 6: `messages` and `analyze` write into pipes as a Unix tool should. A slow reader holds
 * `messages` on a 1M-message capture below 200 MB RSS (stdout backpressure pauses reading the capture), and a
 * reader that goes away (`| head -1`) ends the command quietly with 0 (EPIPE), nothing on stderr.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { udpFrame } from '../../bench/capture.js';
import { invite, sendUdp, tempDir, waitFor } from '../daemon/helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const tmp = tempDir('spoofwatch-pipes-');
afterAll(tmp.cleanup);

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

const BLOCK = 1000;
const BLOCKS = 1000;

/**
 * A gzip'd classic pcap of BLOCK × BLOCKS = 1M SIP INVITEs over UDP: one gzip member holds BLOCK records, and the
 * same member is repeated (gzip is multi-member), so 1M messages take ~0.2 s and a few hundred KB to make.
 */
function millionMessageCapture(): string {
  const records: Buffer[] = [];
  for (let i = 0; i < BLOCK; i++) {
    const sip = Buffer.from(
      [
        'INVITE sip:+31201234567@127.0.0.1 SIP/2.0',
        `Via: SIP/2.0/UDP 127.0.0.10:5060;branch=z9hG4bK-pipe-${i}`,
        'Max-Forwards: 70',
        `From: "Caller ${i}" <sip:+3130123${String(i).padStart(4, '0')}@127.0.0.10>;tag=t${i}`,
        'To: <sip:+31201234567@127.0.0.1>',
        `Call-ID: pipe-${i}@test`,
        'CSeq: 1 INVITE',
        'Contact: <sip:caller@127.0.0.10:5060>',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      'latin1',
    );
    const frame = udpFrame('127.0.0.10', 5060, '127.0.0.1', 5060, sip, i);
    const head = Buffer.alloc(16);
    head.writeUInt32LE(1_700_000_000 + Math.floor(i / 100), 0);
    head.writeUInt32LE((i % 100) * 10_000, 4);
    head.writeUInt32LE(frame.length, 8);
    head.writeUInt32LE(frame.length, 12);
    records.push(head, frame);
  }
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(1, 20); // Ethernet
  const member = gzipSync(Buffer.concat(records), { level: 1 });
  const parts = [gzipSync(global), ...Array.from({ length: BLOCKS }, () => member)];
  const file = join(tmp.dir, '1m.pcap.gz');
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

function vmHwmKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

describe('messages and analyze in pipes', () => {
  let capture = '';
  beforeAll(() => {
    if (!existsSync(CLI) || statSync(CLI).mtimeMs < newestMtime(join(ROOT, 'src'))) {
      const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
    }
    capture = millionMessageCapture();
  }, 120_000);

  it('messages on 1M messages into a slow reader stays < 200 MB RSS; the reader leaving ends it with 0, stderr empty', async () => {
    const child = spawn(process.execPath, [CLI, 'messages', capture], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const out = child.stdout;
    out.pause();
    // The slow reader: 64 KB every 200 ms (~320 KB/s) for 5 s, while the child could write ~50 MB/s (without
    // backpressure its RSS grew by ~50 MB/s here, past 300 MB in 5 s).
    let read = 0;
    let lines = 0;
    let first = '';
    let peakKb = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 200));
      let got = 0;
      let chunk: Buffer | null;
      while (got < 64 * 1024 && (chunk = out.read() as Buffer | null) !== null) {
        if (first === '') first = chunk.toString('utf8').split('\n')[0]!;
        got += chunk.length;
        for (const b of chunk) if (b === 10) lines++;
      }
      read += got;
      peakKb = Math.max(peakKb, vmHwmKb(child.pid!));
    }
    peakKb = Math.max(peakKb, vmHwmKb(child.pid!));
    expect(child.exitCode).toBe(null); // still running: the reader, not the capture size, sets the pace
    out.destroy();
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(read).toBeGreaterThan(1024 * 1024);
    expect(lines).toBeGreaterThan(1000);
    expect(JSON.parse(first)).toMatchObject({ frame: 1, kind: 'request', method: 'INVITE', callId: 'pipe-0@test', src: '127.0.0.10:5060' });
    expect(peakKb).toBeGreaterThan(0);
    expect(peakKb).toBeLessThan(200 * 1024);
  }, 30_000);

  it('daemon --print-alerts | head -1: the reader leaving stops the printing, not the daemon', async () => {
    const cfg = join(tmp.dir, 'daemon.yaml');
    writeFileSync(cfg, 'sources:\n  sip: { host: 127.0.0.1, port: 0, udp: true, tcp: false }\n  hep: false\n  watch: false\nserver: { host: 127.0.0.1, port: 0 }\nstore: { path: store.db }\n');
    const child = spawn(process.execPath, [CLI, 'daemon', '--config', cfg, '--print-alerts'], { cwd: tmp.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      let log = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (t: string) => (log += t));
      await waitFor(() => /"ports":\{/.test(log), 20_000, 'daemon start log');
      const ports = JSON.parse(/"ports":(\{[^}]*\})/.exec(log)![1]!) as { http: number; sipUdp: number };
      let printed = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (t: string) => (printed += t));
      await sendUdp(ports.sipUdp, [invite('first@test', { srcIp: '127.0.0.71' })], '127.0.0.71');
      await waitFor(() => printed.includes('first@test'), 5000, 'the first alert line');
      child.stdout.destroy(); // `head -1` has its line and goes
      for (let i = 0; i < 3; i++) await sendUdp(ports.sipUdp, [invite(`later-${i}@test`, { srcIp: '127.0.0.71' })], '127.0.0.71');
      const api = async () => (await (await fetch(`http://127.0.0.1:${ports.http}/api/alerts`)).json()) as { alerts: { call: { callId: string } }[] };
      await waitFor(async () => (await api()).alerts.some((a) => a.call.callId === 'later-2@test'), 5000, 'alerts after stdout closed');
      expect((await fetch(`http://127.0.0.1:${ports.http}/healthz`)).status).toBe(200);
      expect(child.exitCode).toBe(null);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(log).not.toMatch(/EPIPE|Error:/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 30_000);

  it('messages FILE | head -1 and analyze --format ndjson FILE | head -1: exit 0, one line, nothing on stderr', () => {
    const cases: Array<[string[], Record<string, unknown>]> = [
      [['messages', capture], { frame: 1, callId: 'pipe-0@test' }],
      [['analyze', '--format', 'ndjson', join(ROOT, 'captures/scenario/scenario.pcapng')], { v: 1, seq: 1 }],
    ];
    for (const [args, first] of cases) {
      const quoted = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
      // bash: PIPESTATUS[0] is spoofwatch's own exit status, not head's.
      const r = spawnSync('bash', ['-c', `${quoted} 2>'${tmp.dir}/stderr' | head -1 >'${tmp.dir}/stdout'; echo "\${PIPESTATUS[0]}"`], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.stdout.trim()).toBe('0');
      expect(readFileSync(join(tmp.dir, 'stderr'), 'utf8')).toBe('');
      const out = readFileSync(join(tmp.dir, 'stdout'), 'utf8');
      expect(out.split('\n')).toHaveLength(2);
      expect(JSON.parse(out)).toMatchObject(first);
    }
  });
});
