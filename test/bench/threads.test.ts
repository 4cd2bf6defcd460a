/**
 * `analyze --threads N` (issue #5): decoding in a worker thread must not change a single result. Every committed
 * capture (scenario with its lab config, crafted link/IP/TCP cases, SIPp UDP/TCP) is analysed with 1 and 2
 * threads; reports must be equal apart from the wall-clock `ts` of each alert.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles, type AnalyzeReport } from '../../src/commands/analyze.js';
import { defaultConfig, loadConfig, type Config } from '../../src/config/index.js';
import { generateCapture } from '../../bench/capture.js';
import { BATCH_BYTES, MAX_IN_FLIGHT } from '../../src/pipeline/threaded-protocol.js';

const CAPTURES = join(import.meta.dirname, '../../captures');
/** Decoder test captures (crafted, SIPp) live under test/captures/. */
const TEST_CAPTURES = join(import.meta.dirname, '../captures');

function scenarioConfig(): Config {
  const r = loadConfig(join(CAPTURES, 'scenario/spoofwatch.yaml'));
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

/** The report without wall-clock alert times (the only field that differs between two runs). */
function stable(r: AnalyzeReport): unknown {
  return { ...r, alerts: r.alerts.map(({ ts: _ts, ...a }) => a) };
}

const crafted = readdirSync(join(TEST_CAPTURES, 'crafted'))
  .filter((f) => /\.(pcap|pcapng|gz)$/.test(f))
  .map((f) => join(TEST_CAPTURES, 'crafted', f));

const cases: [string, string[], () => Config][] = [
  ['scenario.pcapng with its lab config', [join(CAPTURES, 'scenario/scenario.pcapng')], scenarioConfig],
  ['SIPp UDP and TCP captures', [join(TEST_CAPTURES, 'sipp-udp.pcapng'), join(TEST_CAPTURES, 'sipp-tcp.pcapng')], defaultConfig],
  ['crafted captures, one run over all files', crafted, defaultConfig],
];

describe('analyze --threads 2 equals --threads 1', () => {
  it.each(cases)('%s', async (_label, files, config) => {
    const one = await analyzeFiles(files, config(), undefined, undefined, { threads: 1 });
    const two = await analyzeFiles(files, config(), undefined, undefined, { threads: 2 });
    expect(two.sipMessages).toBeGreaterThan(0);
    expect(stable(two)).toEqual(stable(one));
    // Key order too (JSON output is compared by users as text).
    expect(JSON.stringify(stable(two))).toBe(JSON.stringify(stable(one)));
  });

  it('a capture of many batches: the worker waits for this thread (flow control) and nothing changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-threads-'));
    try {
      const file = join(dir, 'lab.pcapng');
      generateCapture(file, { sipMessages: 30_000 });
      // Far more batches than may be in flight, so the worker gets ahead and has to wait.
      expect(statSync(file).size).toBeGreaterThan(8 * MAX_IN_FLIGHT * BATCH_BYTES);
      const one = await analyzeFiles([file], defaultConfig(), undefined, undefined, { threads: 1 });
      const two = await analyzeFiles([file], defaultConfig(), undefined, undefined, { threads: 2 });
      expect(one.sipMessages).toBe(30_000);
      expect(one.alerts.length).toBeGreaterThan(100);
      expect(JSON.stringify(stable(two))).toBe(JSON.stringify(stable(one)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the scenario raises alerts at all (the comparison is not vacuous)', async () => {
    const r = await analyzeFiles([join(CAPTURES, 'scenario/scenario.pcapng')], scenarioConfig(), undefined, undefined, { threads: 2 });
    expect(r.alerts.length).toBeGreaterThan(20);
  });

  it('a missing file reports the same error with a worker', async () => {
    const missing = join(CAPTURES, 'no-such-file.pcap');
    const one = await analyzeFiles([missing], defaultConfig(), undefined, undefined, { threads: 1 });
    const two = await analyzeFiles([missing], defaultConfig(), undefined, undefined, { threads: 2 });
    expect(two.files).toEqual(one.files);
  });
});
