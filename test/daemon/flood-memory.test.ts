/**
 * Issue #18 point 2: memory returns after a flood. A daemon child (its own RSS, not the test runner's), launched as
 * shipped (LAUNCH_NODE_OPTIONS: no --expose-gc, nothing a test could reach into) with the default limits but
 * `callIdleSeconds: 10`, takes a 10 s flood of new Call-IDs on loopback UDP (100k a second offered: see RATE); its RSS
 * stays under the issue's ceiling (512 MB) during the flood and is back within 50 MB of its level before the flood
 * within 2 × callIdleSeconds after it, by the daemon's own doing: no call, no evidence, Buffer memory within 10 MB.
 *
 * What held RSS before: each call's evidence was a Buffer (a 4 KB slice of an 8 KB pool slab, malloc'd), and glibc
 * kept the freed slabs of a flood's calls in its heap (evidence copies are now strings in V8's heap); then V8 itself:
 * its memory reducer ran 34 s after the flood in one run, and in others before the flood's calls had expired, which
 * left RSS 96 MB above at 20 s (the test then forced two GCs through a SIGUSR2 hook and asserted 150 MB). The daemon
 * now runs one compacting GC once a flood's calls have drained (src/daemon/compaction.ts), counted in
 * spoofwatch_heap_compactions_total.
 * The cross-call windows keep a key per calling number for their window (CLI-MULTI-PEER 10 min, CLI-NEIGHBOUR 1 h of
 * capture time: by design, not callIdleSeconds), up to `limits.windowKeys` (default 100k, not lowered here): they
 * are in the heap that is measured (~30 MB for the flood's 100k numbers), and they go when their windows have passed
 * (test/pipeline/analyzer-limits.test.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCH_NODE_OPTIONS } from '../../src/heap.js';
import { sleep, tempDir, waitFor } from './helpers.js';

const ROOT = join(import.meta.dirname, '../..');
/** limits.callIdleSeconds of the test: low (the default is 900). */
const IDLE_S = 10;
/**
 * New Call-IDs per second offered: the issue's 100k/s for 10 s (one loopback sender reaches 100–150k/s here on a quiet
 * host; the daemon reads ~40k/s of it on a shared core, the kernel drops the rest and counts them). It fills the
 * call table (`limits.calls`) and the window stores (`windowKeys`) to their 100k bounds within seconds and then
 * churns them: the most a flood can leave live, and V8's garbage at its fastest. Peak RSS measured 427–442 MB
 * (before the daemon's heap growing was set, 794–1,039 MB); a 10k/s paced flood, 309–364 MB.
 */
const RATE = 100_000;
/** The warm-up burst's rate: 15k calls in 1.5 s, more than a compaction needs (src/daemon/compaction.ts). */
const WARMUP_RATE = 10_000;
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

/**
 * A new call; its caller (+3120…) never equals the callee (+3130…) nor shares its area (no CLI-CALLED-AS-CALLER, no
 * NEIGHBOUR), and every tenth presents an impossible number (+3121 and up to 5 digits, CLI-INVALID): a flood with an alert campaign
 * in it, whose alerted calls' evidence is pinned, saved, and must go too once the calls have expired.
 */
function inviteText(n: number): Buffer {
  const id = `flood-${n}`;
  const from = n % 10 === 0 ? `+3121${n % 100_000}` : `+3120${String(1_000_000 + (n % 9_000_000)).padStart(7, '0')}`;
  return Buffer.from(
    `INVITE sip:+31301234500@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-${id}\r\n` +
      `From: <sip:${from}@127.0.0.1>;tag=t${n}\r\nTo: <sip:+31301234500@127.0.0.1>\r\nCall-ID: ${id}@flood.test\r\n` +
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

  it('RSS stays under the ceiling during the flood and is back within 50 MB of before within 2 × callIdleSeconds', async () => {
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
    const child: ChildProcess = spawn(process.execPath, [...LAUNCH_NODE_OPTIONS, join(ROOT, 'dist/cli.js'), 'daemon', '--config', cfgFile], {
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
    const compactions = () => metric(ports.http, 'spoofwatch_heap_compactions_total');

    // Warm up (JIT, pools) with a burst of more than 10k calls, so that the baseline is taken where the flood's end
    // will be measured: after the daemon's compaction of a drained burst.
    await flood(ports.sipUdp, 1500, WARMUP_RATE, () => undefined);
    for (const end = Date.now() + (IDLE_S + 10) * 1000; (await compactions()) !== 1; await sleep(250)) {
      if (Date.now() > end) throw new Error(`no compaction after the warm-up burst:\n${log}`);
    }
    await sleep(1000);
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
    // RSS every 250 ms up to 2 × callIdleSeconds after the flood: when it was first back within 50 MB, and where it is then.
    let backAfterMs: number | undefined;
    let after = NaN;
    while (Date.now() - floodEnd < 2 * IDLE_S * 1000) {
      await sleep(250);
      after = rssMb(pid);
      peak = Math.max(peak, after);
      if (after - before < 50) backAfterMs ??= Date.now() - floodEnd;
      else backAfterMs = undefined;
    }
    const heapAfter = await metric(ports.http, 'spoofwatch_nodejs_heap_size_used_bytes');
    const externalAfter = await metric(ports.http, 'spoofwatch_nodejs_external_memory_bytes');
    const callsBound = await metric(ports.http, 'spoofwatch_limit_used', '{bound="calls"}');
    const windowKeys = await metric(ports.http, 'spoofwatch_limit_used', '{bound="windowKeys"}');
    const callsAfter = await metric(ports.http, 'spoofwatch_calls_active');
    const evidenceAfter = await metric(ports.http, 'spoofwatch_limit_used', '{bound="evidenceBytes"}');
    // One call in ten alerted (CLI-INVALID), each alert stored and its call's evidence pinned and saved; once the
    // calls expired, that evidence left memory too (it is in the store).
    const alerts = await metric(ports.http, 'spoofwatch_alerts_total', '{rule="CLI-INVALID",severity="high"}');
    expect(await metric(ports.http, 'spoofwatch_bus_last_seq')).toBe(alerts);
    expect(alerts).toBeGreaterThan(analysed / 20);
    const pinnedAfter = await metric(ports.http, 'spoofwatch_limit_used', '{bound="evidencePinnedBytes"}');
    expect(pinnedAfter).toBe(0);
    const mb = (n: number) => Math.round(n / 1048576);
    console.log(JSON.stringify({ sent, analysed, alerts, callsAtEnd, callsAfter, evidenceAfter, windowKeys, before: Math.round(before), peak: Math.round(peak), after: Math.round(after), backAfterMs, heapMb: [mb(heapBefore), mb(heapAfter)], externalMb: [mb(externalBefore), mb(externalAfter)] }));
    expect(callsBound).toBe(0);
    expect(analysed).toBeGreaterThan(5_000); // the flood reached the analyzer (the rest: kernel drops, counted)
    expect(callsAfter).toBe(0);
    expect(evidenceAfter).toBe(0);
    expect(peak).toBeLessThan(512); // the ceiling issue #18 sets for the default config
    // One compaction for the flood, once its calls had expired, and none while they were live.
    expect(await compactions()).toBe(2);
    const compacted = log.split('\n').filter((l) => l.includes('"message":"heap compacted after a flood\'s state was released"')).map((l) => JSON.parse(l) as { calls: number; heldMb: [number, number]; pauseMs: number });
    console.log(JSON.stringify(compacted));
    expect(compacted).toHaveLength(2);
    // At the flood's peak: 100k calls (~195 MB of held state at 2 KB a call, with their evidence); at the compaction,
    // the calls, their evidence and the alerts waiting for the store are all gone.
    expect(compacted[1]!.heldMb[0]).toBeGreaterThan((callsAtEnd * 2048) / 1048576);
    expect(compacted[1]!.heldMb[1]).toBe(0);
    expect(compacted[1]!.calls).toBe(0);
    // Issue #18: RSS back within 50 MB of before within 2 × callIdleSeconds, and still there at the end of it.
    expect(after - before).toBeLessThan(50);
    expect(backAfterMs).toBeLessThan(2 * IDLE_S * 1000);
    // What the process holds: Buffer memory is back; the heap holds what it held plus the window keys of the flood's
    // calling numbers (kept for their windows, by design; ~310 bytes a key over the store they share), and nothing
    // of the calls or their evidence.
    expect(externalAfter - externalBefore).toBeLessThan(10 * 1048576);
    expect(heapAfter - heapBefore).toBeLessThan(10 * 1048576 + 400 * windowKeys);
  }, 120_000);
});
