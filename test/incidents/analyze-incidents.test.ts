/**
 * Issue #19 acceptance through `analyze` (spawns dist/cli.js: `npm run build` first). A capture generated here: 4
 * sources no peer matches, each sending CALLS INVITEs (1,000, not the 25,000, so the run takes seconds
 * and the JSON small), interleaved, one every 10 ms per source. Every (source, rule) pair with alerts must be
 * exactly one incident whose count is that pair's alerts, and the table's Incidents section must fit on a screen.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { udpFrame } from '../../bench/capture.js';
import type { Incident } from '../../src/incidents/incident.js';
import { PcapngWriter } from '../../src/sources/capture/index.js';
import { LinkType } from '../../src/types.js';

const CALLS = 1000;
const START = 1_772_359_200; // 2026-03-01T10:00:00Z
const SOURCES = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'] as const;

/** What each source sends, so that each raises its own set of rules. */
function invite(source: number, i: number): string {
  const callId = `inc-${source}-${i}@198.51.100.${source + 1}`;
  const called = `+3120${String(5550000 + (i % 300))}`;
  const lines = [`INVITE sip:${called}@192.0.2.10 SIP/2.0`, `Via: SIP/2.0/UDP 198.51.100.${source + 1}:5060;branch=z9hG4bK${source}x${i}`];
  if (source === 0) lines.push(`From: <sip:+3120${String(1000000 + (i % 50))}@198.51.100.1>;tag=a${i}`, `P-Asserted-Identity: <sip:+31201000000@198.51.100.1>`);
  else if (source === 1) lines.push(`From: <sip:+3100${String(i % 40)}@198.51.100.2>;tag=b${i}`);
  else if (source === 2) lines.push(`From: <sip:+31301234${String(500 + (i % 7))}@198.51.100.3>;tag=c${i}`, 'User-Agent: friendly-scanner');
  else lines.push(`From: <sip:+31401234567@198.51.100.4>;tag=d${i}`);
  lines.push(`To: <sip:${called}@192.0.2.10>`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE', 'Max-Forwards: 70', 'Content-Length: 0', '', '');
  return lines.join('\r\n');
}

let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spoofwatch-incidents-'));
  file = join(dir, 'four-sources.pcapng');
  const w = new PcapngWriter({ application: 'spoofwatch incidents test' });
  for (let i = 0; i < CALLS; i++) {
    for (let s = 0; s < SOURCES.length; s++) {
      const us = i * 10_000 + s * 1000;
      w.add({ ts: { sec: START + Math.floor(us / 1e6), nsec: (us % 1e6) * 1000 }, linkType: LinkType.ETHERNET, tsresol: 6, bytes: udpFrame(SOURCES[s]!, 5060, '192.0.2.10', 5060, Buffer.from(invite(s, i), 'latin1')) });
    }
  }
  writeFileSync(file, w.toBuffer());
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('analyze groups an alert storm into incidents (issue #19)', () => {
  it('--format json: exactly one incident per (source, rule) pair with alerts, each count equal to its alerts', () => {
    const r = cli(['analyze', '--format', 'json', file]);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout) as { incidents: Incident[]; alerts: Alert[] };
    const pairs = new Map<string, { n: number; first: number; last: number }>();
    for (const a of j.alerts) {
      const k = `${a.rule} ${a.network.src.replace(/:\d+$/, '')}`;
      const p = pairs.get(k);
      if (p) (p.n++, (p.last = a.seq));
      else pairs.set(k, { n: 1, first: a.seq, last: a.seq });
    }
    // The rules each source raises, pinned: the storm is the 2-3 alerts per call. CLI-VELOCITY fires on each
    // call of a number past its first 10 in the window: CALLS - 10 × the source's distinct numbers.
    expect([...pairs].map(([k, p]) => `${k} ${p.n}`).sort()).toEqual(
      [
        `CLI-VELOCITY 198.51.100.1 ${CALLS - 10 * 50}`,
        `CLI-VELOCITY 198.51.100.2 ${CALLS - 10 * 40}`,
        `CLI-VELOCITY 198.51.100.3 ${CALLS - 10 * 7}`,
        `CLI-VELOCITY 198.51.100.4 ${CALLS - 10 * 1}`,
        `CLI-INVALID 198.51.100.2 ${CALLS}`,
        `HDR-PAI-UNTRUSTED 198.51.100.1 ${CALLS}`,
        `SRC-UNKNOWN-PEER 198.51.100.1 ${CALLS}`,
        `SRC-UNKNOWN-PEER 198.51.100.2 ${CALLS}`,
        `SRC-UNKNOWN-PEER 198.51.100.3 ${CALLS}`,
        `SRC-UNKNOWN-PEER 198.51.100.4 ${CALLS}`,
        `UA-ATTACK-TOOL 198.51.100.3 ${CALLS}`,
      ].sort(),
    );
    expect(j.incidents).toHaveLength(pairs.size);
    for (const inc of j.incidents) {
      const p = pairs.get(`${inc.rule} ${inc.key.src}`);
      expect(p, `${inc.rule} ${JSON.stringify(inc.key)}`).toBeDefined();
      expect([inc.count, inc.firstAlertSeq, inc.lastAlertSeq, inc.state, inc.sampleAlertSeqs.length]).toEqual([p!.n, p!.first, p!.last, 'open', 5]);
      expect(Object.keys(inc.key)).toEqual(['src']);
      if (inc.rule !== 'CLI-VELOCITY') expect(inc.firstSeen).toMatch(/^2026-03-01T10:00:00\.00\d+Z$/);
      expect(inc.lastSeen).toMatch(/^2026-03-01T10:00:09\.99\d+Z$/);
    }
    const src1 = j.incidents.find((i) => i.rule === 'SRC-UNKNOWN-PEER' && i.key.src === '198.51.100.1')!;
    // 50 callers: exact (≤ 64); 300 called numbers: beyond the exact limit, a HyperLogLog estimate within 5%.
    expect(src1.distinctPresented).toBe(50);
    expect(Math.abs(src1.distinctCalled - 300)).toBeLessThanOrEqual(15);
    const src4 = j.incidents.find((i) => i.rule === 'SRC-UNKNOWN-PEER' && i.key.src === '198.51.100.4')!;
    expect(src4.distinctPresented).toBe(1);
  });

  it('the table starts with the Incidents section, one line each, within one screen', () => {
    const r = cli(['analyze', file]);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Incidents (11)');
    const section = lines.slice(0, lines.indexOf(''));
    expect(section.length).toBeLessThanOrEqual(24);
    expect(section[1]).toMatch(/^ {2}ID +SEVERITY +RULE +KEY +STATE +ALERTS +CALLERS +CALLED +SPAN$/);
    const cols = section.slice(2).map((l) => l.replace(/ +/g, ' ').trim().split(' '));
    // CALLED: 300 distinct numbers, shown as the estimate (exact only up to 64).
    for (const c of cols) expect(Math.abs(Number(c[8]) - 300)).toBeLessThanOrEqual(15);
    expect(cols.map((c) => c.slice(2, 8).join(' ')).sort()).toEqual(
      [
        `CLI-VELOCITY unknown 198.51.100.1 open ${CALLS - 500} 50`,
        `CLI-VELOCITY unknown 198.51.100.2 open ${CALLS - 400} 40`,
        `CLI-VELOCITY unknown 198.51.100.3 open ${CALLS - 70} 7`,
        `CLI-VELOCITY unknown 198.51.100.4 open ${CALLS - 10} 1`,
        `CLI-INVALID unknown 198.51.100.2 open ${CALLS} 40`,
        `HDR-PAI-UNTRUSTED unknown 198.51.100.1 open ${CALLS} 1`,
        `SRC-UNKNOWN-PEER unknown 198.51.100.1 open ${CALLS} 50`,
        `SRC-UNKNOWN-PEER unknown 198.51.100.2 open ${CALLS} 40`,
        `SRC-UNKNOWN-PEER unknown 198.51.100.3 open ${CALLS} 7`,
        `SRC-UNKNOWN-PEER unknown 198.51.100.4 open ${CALLS} 1`,
        `UA-ATTACK-TOOL unknown 198.51.100.3 open ${CALLS} 7`,
      ].sort(),
    );
    // SPAN: the SRC/UA/INVALID/PAI incidents start at the first call and last 10 s (the velocity ones start later).
    for (const l of section.slice(2)) expect(l).toMatch(l.includes('CLI-VELOCITY') ? / 2026-03-01 10:00:0\d \+\d+s$/ : / 2026-03-01 10:00:00 \+10s$/);
  });
});

/**
 * Suppression and thresholds through `analyze` (issue #19), on the same capture: each source sends one call every
 * 10 ms for 10 s. Marked alerts stay in `alerts` (with their mark, counted in `notStreamed` and the table's summary
 * line) and are in no incident.
 */
describe('analyze with suppress and threshold (issue #19)', () => {
  const CONFIG = `suppress:
  - { rule: UA-ATTACK-TOOL, src: 198.51.100.3/32 }
  - { rule: CLI-INVALID, number: "+3100*", expires: "2026-03-01T10:00:05Z" }
threshold:
  - { rule: SRC-UNKNOWN-PEER, track: by_src, count: 100, seconds: 2 }
  - { rule: CLI-VELOCITY, track: by_number, count: 5, seconds: 3600 }
  - { rule: HDR-PAI-UNTRUSTED, track: by_peer, count: 3, seconds: 3600 }
`;
  // by_src: 2 s windows of 200 calls per source, the first 99 of each held: 5 windows.
  const SRC_HELD = 5 * 99;
  // by_number: the first 4 velocity alerts of each presented number are held (50, 40, 7 and 1 numbers).
  const VEL_HELD = [50 * 4, 40 * 4, 7 * 4, 1 * 4];
  // by_peer: every unknown source is one key; only 198.51.100.1 raises HDR-PAI-UNTRUSTED: its first 2 are held.
  // CLI-INVALID: 198.51.100.2's calls before 10:00:05 (the first 500) are suppressed; UA-ATTACK-TOOL: all 1,000.
  const expected = [
    ...SOURCES.map((s) => `SRC-UNKNOWN-PEER ${s} streamed=${CALLS - SRC_HELD} below=${SRC_HELD} suppressed=0`),
    `CLI-VELOCITY 198.51.100.1 streamed=${CALLS - 500 - VEL_HELD[0]!} below=${VEL_HELD[0]!} suppressed=0`,
    `CLI-VELOCITY 198.51.100.2 streamed=${CALLS - 400 - VEL_HELD[1]!} below=${VEL_HELD[1]!} suppressed=0`,
    `CLI-VELOCITY 198.51.100.3 streamed=${CALLS - 70 - VEL_HELD[2]!} below=${VEL_HELD[2]!} suppressed=0`,
    `CLI-VELOCITY 198.51.100.4 streamed=${CALLS - 10 - VEL_HELD[3]!} below=${VEL_HELD[3]!} suppressed=0`,
    `HDR-PAI-UNTRUSTED 198.51.100.1 streamed=${CALLS - 2} below=2 suppressed=0`,
    `CLI-INVALID 198.51.100.2 streamed=500 below=0 suppressed=500`,
    `UA-ATTACK-TOOL 198.51.100.3 streamed=0 below=0 suppressed=${CALLS}`,
  ].sort();
  const SUPPRESSED = 500 + CALLS;
  const BELOW = 4 * SRC_HELD + VEL_HELD.reduce((a, b) => a + b, 0) + 2;

  it('--format json: marked alerts stay, counted; each incident counts only the streamed alerts of its pair', () => {
    const config = join(dir, 'gate.yaml');
    writeFileSync(config, CONFIG);
    const r = cli(['analyze', '--config', config, '--format', 'json', file]);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout) as { incidents: Incident[]; alerts: Alert[]; notStreamed: { suppressed: number; belowThreshold: number } };
    const pairs = new Map<string, { streamed: number[]; below: number; suppressed: number }>();
    for (const a of j.alerts) {
      const k = `${a.rule} ${a.network.src.replace(/:\d+$/, '')}`;
      const p = pairs.get(k) ?? { streamed: [], below: 0, suppressed: 0 };
      pairs.set(k, p);
      expect(a.suppressed === true && a.belowThreshold === true).toBe(false);
      if (a.suppressed) p.suppressed++;
      else if (a.belowThreshold) p.below++;
      else p.streamed.push(a.seq);
    }
    expect([...pairs].map(([k, p]) => `${k} streamed=${p.streamed.length} below=${p.below} suppressed=${p.suppressed}`).sort()).toEqual(expected);
    expect(j.notStreamed).toEqual({ suppressed: SUPPRESSED, belowThreshold: BELOW });
    // One incident per pair with streamed alerts (none for UA-ATTACK-TOOL), over exactly those alerts.
    expect(j.incidents.map((i) => `${i.rule} ${i.key.src}`).sort()).toEqual([...pairs].filter(([, p]) => p.streamed.length > 0).map(([k]) => k).sort());
    for (const inc of j.incidents) {
      const p = pairs.get(`${inc.rule} ${inc.key.src}`)!;
      expect([inc.count, inc.firstAlertSeq, inc.lastAlertSeq, inc.sampleAlertSeqs]).toEqual([p.streamed.length, p.streamed[0], p.streamed[p.streamed.length - 1], p.streamed.slice(0, 5)]);
    }
    // The first streamed CLI-INVALID alert is the first call at or after the expiry.
    const invalid = j.incidents.find((i) => i.rule === 'CLI-INVALID')!;
    expect(invalid.firstSeen).toBe('2026-03-01T10:00:05.001000000Z');
  });

  it('the table counts them in the summary line and marks their rows', () => {
    const config = join(dir, 'gate.yaml');
    writeFileSync(config, CONFIG);
    const r = cli(['analyze', '--config', config, '--max-rows', '100000', file]);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Incidents (10)');
    const total = 4 * CALLS + 4 * CALLS - 980 + 2 * CALLS + CALLS;
    expect(lines.find((l) => l.startsWith('frames '))).toContain(`alerts ${total} (suppressed ${SUPPRESSED}, below threshold ${BELOW})   anomalies`);
    const rows = lines.slice(lines.indexOf('Alerts') + 2).filter((l) => l.startsWith('  '));
    expect(rows).toHaveLength(total);
    expect(rows.filter((l) => l.includes(' [suppressed] '))).toHaveLength(SUPPRESSED);
    expect(rows.filter((l) => l.includes(' [below threshold] '))).toHaveLength(BELOW);
  });
});
