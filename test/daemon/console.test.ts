/**
 * The daemon's console: `--print-alerts` prints one line per alert; `--print-incidents` (the default on a terminal,
 * issue #19) prints incidents opening (each with its first alert, at once), growing (at most once per
 * incidents.updateSeconds) and closing.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIO_PCAP, tempDir, waitFor } from './helpers.js';
import { expectedConsoleIncidents } from '../incidents/console-expected.js';

describe('daemon --print-alerts', () => {
  it('prints the alerts of a capture in the watched folder, one line each, on the default config', async () => {
    const t = tempDir();
    copyFileSync(SCENARIO_PCAP, join(t.dir, 'scenario.pcapng'));
    const child = spawn(
      process.execPath,
      ['dist/cli.js', 'daemon', '--print-alerts', '--http-port', '0', '--sip-port', '0', '--hep-port', '0', '--watch', t.dir, '--store', join(t.dir, 'a.db'), '--log-level', 'error'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.split('\n').filter(Boolean).length >= 29, 20_000, '29 alert lines');
      const lines = out.trim().split('\n');
      expect(lines).toHaveLength(29);
      expect(lines[0]).toMatch(/^#1 \S+ INFO +ID-FROM-PAI-MISMATCH peer=pbx-acme src=127\.0\.0\.10:\d+\/udp presented=\+31881234567 .*sc02-1@spoofwatch\.test/);
      expect(lines.filter((l) => / CRITICAL +CLI-DNO /.test(l))).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      t.cleanup();
    }
  });
});

describe('daemon --print-incidents', () => {
  it('prints each incident opening with its first alert, then one update per grown incident with its final count', async () => {
    const t = tempDir();
    copyFileSync(SCENARIO_PCAP, join(t.dir, 'scenario.pcapng'));
    const child = spawn(
      process.execPath,
      ['dist/cli.js', 'daemon', '--print-incidents', '--http-port', '0', '--sip-port', '0', '--hep-port', '0', '--watch', t.dir, '--store', join(t.dir, 'a.db'), '--log-level', 'error'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const { opens, grown } = expectedConsoleIncidents(readFileSync(join(import.meta.dirname, '../golden/scenario.alerts.ndjson'), 'utf8'));
    try {
      // 21 incidents from 29 alerts; the 5 that grew get their update when the 5 s period is over.
      expect([opens.length, grown.length]).toEqual([21, 5]);
      await waitFor(() => out.split('\n').filter(Boolean).length >= 2 * opens.length + grown.length, 20_000, 'open, alert and update lines');
      await new Promise((r) => setTimeout(r, 500));
      const lines = out.trim().split('\n');
      expect(lines).toHaveLength(2 * opens.length + grown.length);
      opens.forEach((o, k) => {
        expect(lines[2 * k]).toMatch(new RegExp(`^incident #${o.id} OPEN +${o.severity.toUpperCase()} +${o.rule} ${o.key} alerts=1 `));
        expect(lines[2 * k + 1]).toMatch(new RegExp(`^#${o.seq} \\S+ ${o.severity.toUpperCase()} +${o.rule} .*\\(Call-ID ${o.callId.replace(/[.]/g, '\\.')}\\)$`));
      });
      expect(lines.slice(2 * opens.length)).toEqual(grown.map((g) => expect.stringMatching(new RegExp(`^incident #${g.id} UPDATE +\\S+ +${g.rule} ${g.key} alerts=${g.count} `))));
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      t.cleanup();
    }
  }, 30_000);
});
