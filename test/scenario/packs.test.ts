/**
 * Golden test of the rule-pack capture (captures/packs, issue #21 point 1): 19 SIPp calls from per-peer loopback
 * addresses under GB, DE and US configurations (a national and an international carrier each). calls.mjs states the
 * exact alert set per call; the full alerts (minus the wall-clock `ts`) are pinned in captures/packs/<cc>.alerts.ndjson
 * (UPDATE_GOLDEN=1 rewrites them). Each config sees the other countries' calls as unknown sources, which are not
 * checked here.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../src/commands/analyze.js';
import { loadConfig } from '../../src/config/index.js';
import type { Alert } from '../../src/alerts/alert.js';
// @ts-expect-error plain ESM module without types (it is also the SIPp scenario generator)
import { CALLS, callIdOf } from '../../captures/packs/calls.mjs';

interface PackCall {
  id: string;
  country: string;
  label: string;
  expect: Record<string, string>;
}

const CAPTURE = 'captures/packs/packs.pcapng';

describe.each(['GB', 'DE', 'US'])('rule-pack capture under the %s config', async (country) => {
  const lc = country.toLowerCase();
  const r = loadConfig(`captures/packs/${lc}.yaml`);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  const report = await analyzeFiles([CAPTURE], r.config);
  const calls = (CALLS as PackCall[]).filter((c) => c.country === country);
  const mine = new Set(calls.map((c) => callIdOf(c) as string));
  const alerts = report.alerts.filter((a) => mine.has(a.call.callId));

  it('reads the whole capture', () => {
    expect(report.calls).toBe(19);
    expect(report.byMethod).toEqual({ INVITE: 19, ACK: 19, BYE: 19 });
  });

  for (const c of calls) {
    it(`${c.id}: ${c.label}`, () => {
      const got: Record<string, string> = {};
      for (const a of alerts.filter((x) => x.call.callId === callIdOf(c))) got[a.rule] = a.severity;
      expect(got).toEqual(c.expect);
    });
  }

  it('matches the golden alerts', () => {
    const golden = `captures/packs/${lc}.alerts.ndjson`;
    const lines = alerts.map((a: Alert) => {
      const { ts: _ts, ...rest } = a;
      return JSON.stringify(rest);
    }).join('\n') + '\n';
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, lines);
    expect(existsSync(golden), `${golden} is missing: review the alerts and write it with UPDATE_GOLDEN=1`).toBe(true);
    expect(lines).toBe(readFileSync(golden, 'utf8'));
  });
});
