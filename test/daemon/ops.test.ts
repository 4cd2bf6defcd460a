/**
 * Operations: hostile input on every socket is counted and dropped (the daemon stays up and keeps
 * detecting), and — in a child process — SIGHUP reloads peers/lists/rules keeping call state (an invalid
 * config is rejected and logged), SIGTERM closes WebSocket clients with 1001 and exits 0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeHep } from '../../src/decode/hep.js';
import { invite, labConfig, metricValue, quietDaemon, sendTcp, sendUdp, sleep, tempDir, waitFor, WsClient } from './helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Deterministic pseudo-random bytes (xorshift), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

describe('hostile input', () => {
  it('10k random datagrams to SIP and HEP UDP, truncated HEP and garbage over TCP: counted, daemon up', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const base = labConfig({ store: join(tmp.dir, 'store.db') });
    const config = { ...base, limits: { ...base.limits, flowIdleSeconds: 0.5, messageBytes: 16_384 } };
    const d = await quietDaemon(config);
    cleanups.push(() => d.stop());
    const rand = rng(42);
    const valid = encodeHep({
      ipFamily: 4, ipProtocol: 17, src: { ip: '127.0.0.99', port: 5099 }, dst: { ip: '127.0.0.1', port: 5060 },
      ts: { sec: 1_700_000_000, nsec: 0 }, payloadType: 1, payload: invite('hep-valid@test'),
    });
    const datagram = (i: number): Buffer => {
      const kind = i % 5;
      const len = 1 + Math.floor(rand() * 1400);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
      if (kind === 1) return Buffer.concat([Buffer.from('INVITE sip:x SIP/2.0\r\nCall-ID: '), b]);
      if (kind === 2) {
        // HEP with a lying total length or chunk length.
        const h = Buffer.from(valid);
        h.writeUInt16BE(Math.floor(rand() * 0xffff), 4 + (i % 2 === 0 ? 0 : 6 + 4));
        return h.subarray(0, Math.max(6, Math.floor(rand() * h.length)));
      }
      if (kind === 3) return Buffer.concat([Buffer.from('HEP3'), b]);
      return b;
    };
    const sip: Buffer[] = [];
    const hep: Buffer[] = [];
    for (let i = 0; i < 10_000; i++) (i % 2 === 0 ? sip : hep).push(datagram(i));
    await sendUdp(d.ports.sipUdp!, sip);
    await sendUdp(d.ports.hepUdp!, hep);
    // Oversize datagram.
    await sendUdp(d.ports.sipUdp!, [Buffer.alloc(20_000, 0x41)]);
    // TCP: truncated HEP left half-open (idle timeout), garbage, an endless SIP header section.
    const half = await sendTcp(d.ports.hepTcp!, [valid.subarray(0, 40)], { keepOpen: true });
    const closedByServer = new Promise<void>((r) => half.once('close', () => r()));
    const junk = Buffer.alloc(300_000);
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rand() * 256);
    await sendTcp(d.ports.hepTcp!, [junk]);
    await sendTcp(d.ports.sipTcp!, [junk]);
    await sendTcp(d.ports.sipTcp!, [Buffer.from('INVITE sip:a@b SIP/2.0\r\nX: '), Buffer.alloc(100_000, 0x61)]);
    await sendTcp(d.ports.hepTcp!, [Buffer.concat([valid.subarray(0, 4), Buffer.from([0xff, 0xff]), junk.subarray(0, 500)])]);
    await closedByServer;

    await waitFor(() => (d.sources().find((s) => s.name === 'hep-udp')?.counters.frames ?? 0) >= 5000, 10_000, 'HEP datagrams read');
    await sleep(200);
    // Still detecting: a valid call over each transport raises its alert.
    const ws = new WsClient(d.urls.ws);
    cleanups.push(() => void ws.ws.terminate());
    await ws.hello();
    await sendUdp(d.ports.sipUdp!, [invite('after-fuzz-udp@test')], '127.0.0.99');
    await sendUdp(d.ports.hepUdp!, [valid]);
    await sendTcp(d.ports.sipTcp!, [invite('after-fuzz-tcp@test', { transport: 'TCP' })], { srcIp: '127.0.0.99' });
    await waitFor(() => ['after-fuzz-udp@test', 'hep-valid@test', 'after-fuzz-tcp@test'].every((id) => ws.alerts.some((a) => a.call.callId === id)), 5000, 'alerts after the fuzzing');

    const h = await fetch(d.urls.health);
    expect(h.status).toBe(200);
    const m = await (await fetch(d.urls.metrics)).text();
    const anomalies = (source: string) => metricValue(m, 'spoofwatch_anomalies_total', { source });
    expect(anomalies('sip-udp')).toBeGreaterThan(0);
    expect(anomalies('hep-udp')).toBeGreaterThan(1000);
    expect(anomalies('hep-tcp')).toBeGreaterThan(0);
    expect(anomalies('sip-tcp')).toBeGreaterThan(0);
    expect(metricValue(m, 'spoofwatch_anomalies_total', { source: 'sip-udp', kind: 'udp.oversize' })).toBe(1);
    expect(metricValue(m, 'spoofwatch_anomalies_total', { source: 'hep-tcp', kind: 'tcp.idle-timeout' })).toBe(1);
    expect(metricValue(m, 'spoofwatch_source_frames_total', { source: 'sip-udp' })).toBeGreaterThanOrEqual(5000);
    expect(metricValue(m, 'spoofwatch_analyzer_errors_total')).toBe(0);
  });
});

/** Build dist/ when it is older than src/ (the child test runs the real CLI). */
function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

describe('signals (child process)', () => {
  beforeAll(() => {
    const cli = join(ROOT, 'dist/cli.js');
    if (!existsSync(cli) || statSync(cli).mtimeMs < newestMtime(join(ROOT, 'src'))) {
      const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
    }
  }, 120_000);

  it('SIGHUP reloads peers keeping call state, rejects an invalid config; SIGTERM closes clients with 1001, exit 0', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const cfgFile = join(tmp.dir, 'spoofwatch.yaml');
    const common = `
sources:
  sip: { host: 127.0.0.1, port: 0, udp: true, tcp: false }
  hep: false
  watch: false
server: { host: 127.0.0.1, port: 0 }
store: { path: store.db }
`;
    const carrier = (cidr: string) => `peers:\n  - name: carrier\n    match: { cidrs: [${cidr}] }\n    trust: trusted\n    class: national\n    any: true\n`;
    writeFileSync(cfgFile, carrier('127.0.0.60') + common);
    const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), 'daemon', '--config', cfgFile], { cwd: tmp.dir, stdio: ['ignore', 'ignore', 'pipe'] });
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

    // Before: .50 and .51 are unknown.
    await sendUdp(ports.sipUdp, [invite('x@test', { srcIp: '127.0.0.51' })], '127.0.0.51');
    await sendUdp(ports.sipUdp, [invite('p@test', { srcIp: '127.0.0.50' })], '127.0.0.50');
    await waitFor(() => rulesOf('x@test').includes('SRC-UNKNOWN-PEER') && rulesOf('p@test').includes('SRC-UNKNOWN-PEER'), 5000, 'alerts before reload');

    // Valid reload: .50 becomes a known carrier.
    writeFileSync(cfgFile, carrier('127.0.0.50') + common);
    child.kill('SIGHUP');
    await waitFor(() => /config reloaded/.test(log), 5000, 'reload log');
    const n = ws.alerts.length;
    await sendUdp(ports.sipUdp, [invite('x@test', { srcIp: '127.0.0.51' })], '127.0.0.51'); // retransmission: call state kept
    await sendUdp(ports.sipUdp, [invite('z@test', { srcIp: '127.0.0.50' })], '127.0.0.50'); // new peer applies
    await sendUdp(ports.sipUdp, [invite('y@test', { srcIp: '127.0.0.51' })], '127.0.0.51'); // still unknown
    await waitFor(() => rulesOf('y@test').includes('SRC-UNKNOWN-PEER'), 5000, 'alert after reload');
    await sleep(200);
    expect(ws.alerts.slice(n).map((a) => a.call.callId).filter((id) => id !== 'y@test')).toEqual([]);

    // Invalid reload: rejected, logged, the running config stays.
    writeFileSync(cfgFile, 'peers: [ { name: broken, match: { cidrs: [not-an-ip] } } ]\n' + common);
    child.kill('SIGHUP');
    await waitFor(() => /config rejected/.test(log), 5000, 'rejection log');
    expect(log).toMatch(/"level":"error","message":"SIGHUP: config rejected/);
    await sendUdp(ports.sipUdp, [invite('w@test', { srcIp: '127.0.0.50' })], '127.0.0.50');
    await sendUdp(ports.sipUdp, [invite('v@test', { srcIp: '127.0.0.51' })], '127.0.0.51');
    await waitFor(() => rulesOf('v@test').includes('SRC-UNKNOWN-PEER'), 5000, 'alert after rejected reload');
    await sleep(200);
    expect(rulesOf('w@test')).toEqual([]);
    const m = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`)).text();
    expect(metricValue(m, 'spoofwatch_config_reloads_total', { result: 'ok' })).toBe(1);
    expect(metricValue(m, 'spoofwatch_config_reloads_total', { result: 'rejected' })).toBe(1);

    // SIGTERM: clients closed with 1001, exit 0, the store holds every alert.
    const before = ws.alerts.length;
    child.kill('SIGTERM');
    expect(await ws.closed).toBe(1001);
    expect(await exited).toBe(0);
    expect(log).toMatch(/"message":"stopped"/);
    expect(before).toBeGreaterThan(0);
    // A restart reads the (now invalid) config file again: refused with a clear error.
    const again = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), 'daemon', '--config', cfgFile, '--http-port', '0'], { cwd: tmp.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    cleanups.push(() => void (again.exitCode === null && again.kill('SIGKILL')));
    let log2 = '';
    again.stderr!.setEncoding('utf8');
    again.stderr!.on('data', (s: string) => (log2 += s));
    const exited2 = new Promise<number | null>((r) => again.once('exit', (code) => r(code)));
    await waitFor(() => /"ports":\{/.test(log2) || /invalid config/.test(log2), 20_000, 'restart');
    // The config file is still the invalid one: a clear error and exit 2.
    expect(await exited2).toBe(2);
    expect(log2).toMatch(/invalid config/);
  });
});
