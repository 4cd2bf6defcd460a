/**
 * The first run (issue #20): the daemon started exactly as `npm start` starts it, on a terminal (a pty made by
 * `script` from util-linux; Debian: `apt-get install bsdutils`), shows the scenario lab's incidents (issue #19: each
 * opening with its first alert, not one line per alert) and nothing else: no decoder test capture, no JSON log
 * line, no line wider than 200 characters, and one banner that says what it watches, where the page is and how to
 * point it at your own network.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasBinary, tempDir, waitFor } from '../daemon/helpers.js';
import { expectedConsoleIncidents } from '../incidents/console-expected.js';

const ROOT = join(import.meta.dirname, '../..');
const GOLDEN = join(ROOT, 'test/golden/scenario.alerts.ndjson');

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
// eslint-disable-next-line no-control-regex
const visible = (line: string): string => line.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r$/, '');

describe.skipIf(!hasBinary('script'))('npm start on a terminal (needs `script`: apt-get install bsdutils)', () => {
  it('prints the banner and only the scenario incidents with their first alerts, human-readable, no line over 200 characters', async () => {
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const argv = start.split(/\s+/);
    expect(argv[0]).toBe('node');
    const t = tempDir('spoofwatch-first-run-');
    // Ports and store are the only changes to npm start's command: ephemeral ports, a fresh store.
    const cmd = [process.execPath, ...argv.slice(1), '--http-port', '0', '--sip-port', '0', '--hep-port', '0', '--store', join(t.dir, 'a.db')]
      .map(shellQuote)
      .join(' ');
    const child = spawn('script', ['-qfc', cmd, '/dev/null'], { cwd: ROOT, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const { opens } = expectedConsoleIncidents(readFileSync(GOLDEN, 'utf8'));
    const alertLines = (): string[] => out.split('\n').map(visible).filter((l) => /^#\d+ /.test(l));
    try {
      await waitFor(() => alertLines().length >= opens.length, 20_000, `${opens.length} alert lines`);
      // Anything from another capture would come after the scenario's (files are read in name order).
      await new Promise((r) => setTimeout(r, 1500));
      const lines = out.split('\n').map(visible).filter((l) => l !== '');
      const alerts = alertLines();
      expect(alerts.map((l) => `${/ ([A-Z][A-Z0-9-]+) peer=/.exec(l)?.[1]} ${/\(Call-ID (\S+)\)$/.exec(l)?.[1]}`)).toEqual(
        opens.map((o) => `${o.rule} ${o.callId}`),
      );
      // Each first alert right under its incident's open line.
      const openLines = lines.filter((l) => / OPEN /.test(l) && l.startsWith('incident #'));
      expect(openLines.map((l) => /^incident #\d+ OPEN +\S+ +(\S+) /.exec(l)?.[1])).toEqual(opens.map((o) => o.rule));
      for (const l of openLines) expect(lines[lines.indexOf(l) + 1]).toMatch(/^#\d+ /);
      expect(lines.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
      expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(200);
      const banner = lines.filter((l) => /^ {2}(watching|page|your own network)/.test(l));
      expect(banner).toHaveLength(3);
      expect(banner[0]).toMatch(/^ {2}watching {2}captures\/scenario\/ /);
      expect(banner[1]).toMatch(/^ {2}page {6}http:\/\/127\.0\.0\.1:\d+\/ /);
      expect(lines.filter((l) => / info {2}daemon started config=embedded default/.test(l))).toHaveLength(1);
    } finally {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
      t.cleanup();
    }
  }, 30_000);
});

/**
 * Closing the terminal window: the kernel hangs up the terminal and sends SIGHUP. The daemon takes SIGHUP as
 * "reload" and goes on; its writes to the gone terminal are dropped (through Node's TTY stream they aborted the
 * process with SIGABRT). The pty comes from Python's `pty` module (Debian: python3).
 */
describe.skipIf(!hasBinary('python3'))('a daemon started on a terminal that is then closed (needs python3)', () => {
  it('keeps running, also through a later SIGHUP, until it is stopped by its pid', () => {
    const t = tempDir('spoofwatch-hangup-');
    const driver = `
import os, pty, sys, time, signal, json
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
end = time.time() + 20
while b'kill -HUP' not in out and time.time() < end:
    out += os.read(fd, 65536)
os.close(fd)                      # the window closes: hang-up, SIGHUP
time.sleep(1.5)
st = os.waitpid(pid, os.WNOHANG)
alive1 = st == (0, 0)
if alive1: os.kill(pid, signal.SIGHUP)   # a reload, logging to the gone terminal
time.sleep(1.0)
if alive1: st = os.waitpid(pid, os.WNOHANG)
alive2 = alive1 and st == (0, 0)
try: os.kill(pid, signal.SIGKILL)
except ProcessLookupError: pass
print(json.dumps({'banner': b'kill -HUP' in out, 'alive1': alive1, 'alive2': alive2, 'status': st[1]}))
`;
    try {
      const r = spawnSync(
        'python3',
        ['-c', driver, process.execPath, join(ROOT, 'dist/cli.js'), 'daemon', '--http-port', '0', '--sip-port', '0', '--hep-port', '0', '--store', join(t.dir, 'a.db'), '--watch', t.dir],
        { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}')).toEqual({ banner: true, alive1: true, alive2: true, status: 0 });
    } finally {
      t.cleanup();
    }
  }, 40_000);
});
