/**
 * Issue #20: `analyze` with several files says which file each alert and alerted call is in (frame numbers are per
 * file). The table gets a FILE column before FRAME (only with several files: one file's table is unchanged); in
 * json/ndjson every alert already names its file in `network.origin` (docs/alert.schema.json), and each alerted
 * call gets `file` (only with several files).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const CONFIG = 'captures/scenario/spoofwatch.yaml';
const SCENARIO = 'captures/scenario/scenario.pcapng';
const SIPP = 'test/captures/sipp-udp.pcapng';
const SIPP_INVITES = [1, 5, 11, 17, 23, 29, 35, 41, 47, 53];

function analyze(...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, 'analyze', '-c', CONFIG, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** The rows of a table section (header first), each cut into its columns at the header's column starts. */
function section(text: string, title: string): Record<string, string>[] {
  const lines = text.split('\n');
  const at = lines.indexOf(title);
  expect(at).toBeGreaterThan(-1);
  const header = lines[at + 1]!;
  const names = header.trim().split(/ {2,}/);
  const starts = names.map((n) => header.indexOf(` ${n}`) + 1);
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('  ') || line.startsWith('  …')) break;
    rows.push(Object.fromEntries(names.map((n, i) => [n, line.slice(starts[i], i + 1 < names.length ? starts[i + 1] : undefined).trim()])));
  }
  return [Object.fromEntries(names.map((n) => [n, n])), ...rows];
}

interface Report {
  alerts: Alert[];
  alertedCalls: { callId: string; firstFrame: number; file?: string }[];
}

const stable = ({ ts: _ts, seq: _seq, ...a }: Alert) => a;

describe('analyze with two files: which file each alert is in', () => {
  it('table: a FILE column before FRAME in both sections; 29 scenario alerts, 30 from the SIPp capture', () => {
    const out = analyze(SCENARIO, SIPP);
    const [alertHeader, ...alerts] = section(out, 'Alerts');
    expect(Object.keys(alertHeader!)).toEqual(['SEVERITY', 'RULE', 'PEER', 'PRESENTED', 'CALL-ID', 'FILE', 'FRAME', 'SUMMARY']);
    expect(alerts).toHaveLength(59);
    const bySipp = alerts.filter((a) => a['FILE'] === SIPP);
    const byScenario = alerts.filter((a) => a['FILE'] === SCENARIO);
    expect(byScenario).toHaveLength(29);
    expect(bySipp).toHaveLength(30);
    // Each alert names the file its call came from: SIPp Call-IDs end in @127.0.0.2, the scenario's in @spoofwatch.test.
    expect(bySipp.every((a) => a['CALL-ID']!.endsWith('@127.0.0.2'))).toBe(true);
    expect(byScenario.every((a) => a['CALL-ID']!.endsWith('@spoofwatch.test'))).toBe(true);
    // Frames count in their own file: SIPp's 10 INVITEs are its frames 1, 5, 11 … 53 (`tshark -Y sip.Method==INVITE`).
    expect([...new Set(bySipp.map((a) => Number(a['FRAME'])))]).toEqual(SIPP_INVITES);

    const [callHeader, ...calls] = section(out, 'Calls with alerts');
    expect(Object.keys(callHeader!)).toEqual(['CALL-ID', 'PEER', 'STATE', 'FILE', 'FRAME', 'MSGS', 'ALERTS']);
    expect(calls.filter((c) => c['FILE'] === SIPP).map((c) => Number(c['FRAME']))).toEqual(SIPP_INVITES);
    expect(calls.filter((c) => c['FILE'] === SCENARIO).length).toBe(calls.length - 10);
  });

  it('json and ndjson: network.origin names the file; alerted calls carry file; the first file reads as alone', () => {
    const both = JSON.parse(analyze('-f', 'json', SCENARIO, SIPP)) as Report;
    const alone = JSON.parse(analyze('-f', 'json', SCENARIO)) as Report;
    const ndjson = analyze('-f', 'ndjson', SCENARIO, SIPP).trim().split('\n').map((l) => JSON.parse(l) as Alert);
    expect(ndjson.map(stable)).toEqual(both.alerts.map(stable));
    expect(both.alerts.filter((a) => a.network.origin === SCENARIO).map(stable)).toEqual(alone.alerts.map(stable));
    const fromSipp = both.alerts.filter((a) => a.network.origin === SIPP);
    expect(fromSipp.map((a) => a.rule).sort()).toEqual([...Array(10).fill('CLI-INVALID'), ...Array(10).fill('HDR-PAI-UNTRUSTED'), ...Array(10).fill('SRC-UNKNOWN-PEER')]);
    expect(both.alerts).toHaveLength(alone.alerts.length + 30);
    expect(both.alertedCalls.filter((c) => c.file === SIPP)).toHaveLength(10);
    expect(both.alertedCalls.every((c) => c.file === (c.callId.endsWith('@127.0.0.2') ? SIPP : SCENARIO))).toBe(true);
  });

  it('one file: no FILE column and no file key (the single-file output is unchanged)', () => {
    const out = analyze(SCENARIO);
    expect(Object.keys(section(out, 'Alerts')[0]!)).toEqual(['SEVERITY', 'RULE', 'PEER', 'PRESENTED', 'CALL-ID', 'FRAME', 'SUMMARY']);
    expect(Object.keys(section(out, 'Calls with alerts')[0]!)).toEqual(['CALL-ID', 'PEER', 'STATE', 'FRAME', 'MSGS', 'ALERTS']);
    const json = JSON.parse(analyze('-f', 'json', SCENARIO)) as Report;
    expect(json.alertedCalls.some((c) => 'file' in c)).toBe(false);
  });
});
