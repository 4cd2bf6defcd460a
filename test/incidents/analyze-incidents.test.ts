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
