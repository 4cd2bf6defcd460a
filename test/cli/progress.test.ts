/** Issue #2: a progress bar on stderr when it is a TTY and the file is large; nothing when it is not a TTY. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCapture } from '../../bench/capture.js';

const HAVE_SCRIPT = spawnSync('script', ['--version']).status === 0;
if (!HAVE_SCRIPT) console.warn('script(1) missing: TTY progress test skipped (apt-get install -y bsdutils)');

describe('analyze progress bar', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'sw-progress-')), 'big.pcapng');
  generateCapture(file, { sipMessages: 60_000, rtpPerSip: 0 }); // ~30 MB: over the 20 MB threshold

  it.skipIf(!HAVE_SCRIPT)('draws a bar to 100% on a terminal (run under script(1) for a pty)', () => {
    const r = spawnSync('script', ['-qec', `${process.execPath} dist/cli.js analyze ${file} > /dev/null`, '/dev/null'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/big\.pcapng \[[█░]+\] \d+% \d+\/\d+ MB/);
    expect(r.stdout).toMatch(/100% (\d+)\/\1 MB/);
  });

  it('writes nothing to stderr when stderr is not a terminal', () => {
    const r = spawnSync(process.execPath, ['dist/cli.js', 'analyze', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
});
