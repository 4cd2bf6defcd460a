/** `npm start` shows alerts at once: the daemon prints one line per alert for the captures in its watched folder. */
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIO_PCAP, tempDir, waitFor } from './helpers.js';

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
