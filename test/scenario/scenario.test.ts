/**
 * Golden test of the labelled scenario capture (captures/scenario): 25 SIPp calls from per-peer loopback
 * addresses; calls.mjs states the exact alert set (rule → severity) per call. The full alert objects (minus the
 * wall-clock `ts`) are pinned in test/golden/scenario.alerts.ndjson — review changes as diffs
 * (UPDATE_GOLDEN=1 rewrites it).
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { parseCapture } from '../../src/sources/capture/index.js';
import { PcapWriter } from '../../src/sources/capture/writer.js';
import type { Alert } from '../../src/alerts/alert.js';
// @ts-expect-error plain ESM module without types (it is also the SIPp scenario generator)
import { CALLS, callIdOf } from '../../captures/scenario/calls.mjs';

interface ScenarioCall {
  id: string;
  label: string;
  expect: Record<string, string>;
}

const CAPTURE = 'captures/scenario/scenario.pcapng';
const GOLDEN = 'test/golden/scenario.alerts.ndjson';

function scenarioConfig(): Config {
  const r = loadConfig('captures/scenario/spoofwatch.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function alertSets(alerts: readonly Alert[]): Map<string, Record<string, string>> {
  const m = new Map<string, Record<string, string>>();
  for (const a of alerts) {
    const set = m.get(a.call.callId) ?? {};
    set[a.rule] = a.severity;
    m.set(a.call.callId, set);
  }
  return m;
}

function stable(a: Alert): Omit<Alert, 'ts'> {
  const { ts: _ts, ...rest } = a;
  return rest;
}

describe('scenario capture: exact alerts per labelled call', async () => {
  const report = await analyzeFiles([CAPTURE], scenarioConfig());
  const byCall = alertSets(report.alerts);

  it('reads the whole capture without errors', () => {
    expect(report.files).toEqual([
      { file: CAPTURE, format: 'pcapng', bytes: readFileSync(CAPTURE).length, frames: 160, sipMessages: 150 },
    ]);
    expect(report.calls).toBe(25);
    expect(report.byMethod).toEqual({ INVITE: 25, ACK: 25, BYE: 25 });
    expect(Object.keys(report.byMethod)).toEqual(['INVITE', 'ACK', 'BYE']); // first-seen order
    expect(report.byStatus).toEqual({ '180': 25, '200': 50 });
  });

  for (const c of CALLS as ScenarioCall[]) {
    it(`${c.id}: ${c.label}`, () => {
      expect(byCall.get(callIdOf(c)) ?? {}).toEqual(c.expect);
    });
  }

  it('raises no alert on a Call-ID outside the plan', () => {
    const planned = new Set((CALLS as ScenarioCall[]).map((c) => callIdOf(c)));
    expect([...byCall.keys()].filter((id) => !planned.has(id))).toEqual([]);
  });

  it('lists each alerted call once, with its rules in alert order and its call facts', () => {
    const planned = (CALLS as ScenarioCall[]).filter((c) => Object.keys(c.expect).length > 0);
    expect(report.alertedCalls.map((c) => c.callId)).toEqual([...byCall.keys()]);
    expect(report.alertedCalls).toHaveLength(planned.length);
    for (const c of report.alertedCalls) {
      expect(c.alerts).toEqual(report.alerts.filter((a) => a.call.callId === c.callId).map((a) => a.rule));
      expect(c.alerts.length).toBeGreaterThan(0);
      expect(c.messages).toBe(6); // INVITE, 180, 200, ACK, BYE, 200
      expect(c.state).toBe('ended');
      expect(c.finalStatus).toBe(200);
    }
    expect(report.alertedCalls.some((c) => c.alerts.length > 1)).toBe(true);
  });

  it('matches the golden alerts (reasons, evidence, network identity)', () => {
    const lines = report.alerts.map((a) => JSON.stringify(stable(a))).join('\n') + '\n';
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(GOLDEN, lines);
    expect(existsSync(GOLDEN), `${GOLDEN} is missing: review the alerts and write it with UPDATE_GOLDEN=1`).toBe(true);
    expect(lines).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('gives the same alerts whether the capture is read as pcapng, pcap or gzip', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-scenario-'));
    const bytes = readFileSync(CAPTURE);
    const { frames, error } = parseCapture(bytes);
    expect(error).toBeUndefined();
    const w = new PcapWriter({ linkType: frames[0]!.linkType, resolution: 'ns' });
    for (const f of frames) w.add({ ts: f.ts, bytes: f.bytes, origLen: f.origLen });
    const pcap = join(dir, 'scenario.pcap');
    writeFileSync(pcap, w.toBuffer());
    const gz = join(dir, 'scenario.pcapng.gz');
    writeFileSync(gz, gzipSync(bytes));
    const config = scenarioConfig();
    const strip = (as: readonly Alert[]) => as.map((a) => ({ ...stable(a), network: { ...a.network, origin: '' } }));
    const viaPcap = await analyzeFiles([pcap], config);
    const viaGz = await analyzeFiles([gz], config);
    expect(viaPcap.files[0]!.format).toBe('pcap');
    expect(viaGz.files[0]!.format).toBe('pcapng');
    expect(strip(viaPcap.alerts)).toEqual(strip(report.alerts));
    expect(strip(viaGz.alerts)).toEqual(strip(report.alerts));
  });
});
