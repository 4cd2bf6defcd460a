/**
 * Bench row "DNO file" (issue #21 point 4: 1,000,000 entries load in < 2 s and < 100 MB). Generates a CSV
 * DNO file (`number,owner`, distinct numbers in scattered order, 1,000 owners, a range every 100 lines), then loads it in a fresh
 * child process so the RSS delta is the loader's alone. Run by hand without the rest of the bench:
 *
 *   npx tsc -p bench/tsconfig.json && node dist-bench/bench/dno.js [LINES]
 *
 * The child mode (`node dist-bench/bench/dno.js --load FILE`) prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DnoFiles } from '../src/identity/dno-file.js';

export interface DnoBenchRun {
  readonly lines: number;
  readonly bytes: number;
  readonly entries: number;
  readonly loadMs: number;
  /** CPU time of the load (user + system): what it costs on a machine that is not shared. */
  readonly loadCpuMs: number;
  /** RSS after the load minus before it (MB). */
  readonly rssDeltaMb: number;
  /** Peak RSS of the child minus its RSS before the load (MB). */
  readonly peakRssDeltaMb: number;
  /** Heap in use after the load and a GC, minus before (MB): what the loaded lists keep. */
  readonly keptHeapMb: number;
  readonly lookupNs: number;
}

/** Writes a generated DNO file of `lines` entries; returns its size and one listed number. */
export function generateDnoFile(path: string, lines: number): { bytes: number; sample: string } {
  const parts: string[] = ['number,owner'];
  let sample = '';
  for (let i = 0; i < lines; i++) {
    // Distinct Amsterdam numbers (+31 20 xxx xxxx) in scattered order (i × a number coprime to the block size,
    // modulo it); every 100th line a 100-number range. Up to 10 million lines stay distinct.
    const n = 200_000_000 + ((i * 7_919_993) % 10_000_000);
    const owner = `Bank ${i % 1000}`;
    if (i % 100 === 99) parts.push(`+31${n - (n % 100)}-+31${n - (n % 100) + 99},${owner}`);
    else parts.push(`+31${n},${owner}`);
    if (i === lines >> 1) sample = `+31${n}`;
  }
  const text = parts.join('\n') + '\n';
  writeFileSync(path, text);
  return { bytes: Buffer.byteLength(text), sample };
}

function loadInChild(file: string, sample: string): Omit<DnoBenchRun, 'lines' | 'bytes'> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage.rss();
  const peak0 = process.resourceUsage().maxRSS * 1024;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const files = new DnoFiles([file]);
  const report = files.load();
  const cpu = process.cpuUsage(cpu0);
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const rss1 = process.memoryUsage.rss();
  const peak1 = process.resourceUsage().maxRSS * 1024;
  gc?.();
  const heap1 = process.memoryUsage().heapUsed;
  const t1 = process.hrtime.bigint();
  const N = 100_000;
  let hits = 0;
  for (let i = 0; i < N; i++) if (files.lookup(i & 1 ? sample : '+31100000000')) hits++;
  const lookupNs = Number(process.hrtime.bigint() - t1) / N;
  if (hits !== N / 2 || report[0]?.badLines !== 0) throw new Error(`DNO bench: ${hits} hits, report ${JSON.stringify(report[0])}`);
  const mb = (b: number): number => Math.round((b / 1e6) * 10) / 10;
  return {
    entries: files.size,
    loadMs: Math.round(loadMs),
    loadCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    rssDeltaMb: mb(rss1 - rss0),
    peakRssDeltaMb: mb(Math.max(0, peak1 - Math.max(peak0, rss0))),
    keptHeapMb: mb(heap1 - heap0),
    lookupNs: Math.round(lookupNs),
  };
}

/** Generates the file in `dir`, loads it in a child process, removes the file. */
export function benchDnoLoad(dir: string, lines = 1_000_000): DnoBenchRun {
  const file = join(dir, 'dno.csv');
  const { bytes, sample } = generateDnoFile(file, lines);
  try {
    const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--load', file, sample], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`DNO bench child failed: ${r.stderr}`);
    return { lines, bytes, ...(JSON.parse(r.stdout) as Omit<DnoBenchRun, 'lines' | 'bytes'>) };
  } finally {
    rmSync(file, { force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--load') {
    process.stdout.write(JSON.stringify(loadInChild(process.argv[3] ?? '', process.argv[4] ?? '')) + '\n');
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-dno-bench-'));
    try {
      process.stdout.write(JSON.stringify(benchDnoLoad(dir, Number(process.argv[2] ?? '1000000'))) + '\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
