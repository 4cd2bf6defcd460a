/**
 * `analyze --threads N` (issue #5): decoding in a worker thread must not change a single result. Every committed
 * capture (scenario with its lab config, crafted link/IP/TCP cases, SIPp UDP/TCP) is analysed with 1 and 2
 * threads; reports must be equal apart from the wall-clock `ts` of each alert.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles, type AnalyzeReport } from '../../src/commands/analyze.js';
import { defaultConfig, loadConfig, type Config } from '../../src/config/index.js';

const CAPTURES = join(import.meta.dirname, '../../captures');

function scenarioConfig(): Config {
  const r = loadConfig(join(CAPTURES, 'scenario/spoofwatch.yaml'));
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

/** The report without wall-clock alert times (the only field that differs between two runs). */
function stable(r: AnalyzeReport): unknown {
  return { ...r, alerts: r.alerts.map(({ ts: _ts, ...a }) => a) };
}

const crafted = readdirSync(join(CAPTURES, 'crafted'))
  .filter((f) => /\.(pcap|pcapng|gz)$/.test(f))
  .map((f) => join(CAPTURES, 'crafted', f));

const cases: [string, string[], () => Config][] = [
  ['scenario.pcapng with its lab config', [join(CAPTURES, 'scenario/scenario.pcapng')], scenarioConfig],
  ['SIPp UDP and TCP captures', [join(CAPTURES, 'sipp-udp.pcapng'), join(CAPTURES, 'sipp-tcp.pcapng')], defaultConfig],
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
