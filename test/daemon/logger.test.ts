/** Issue #20: logs for people on a terminal (JSON elsewhere), and writes that survive a closed terminal. */
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { humanLogLines, TerminalWriter } from '../../src/daemon/logger.js';

const LEVEL = Symbol.for('level');

describe('humanLogLines', () => {
  it('time, level, message, then key=value (JSON for non-strings), service and timestamp hidden', () => {
    const info = { level: 'info', [LEVEL]: 'info', message: 'daemon started', timestamp: '2026-12-04T19:21:56.123Z', service: 'spoofwatch', config: 'x.yaml', pid: 42, ports: { http: 8080 } };
    expect(humanLogLines(info)).toBe('19:21:56 info  daemon started config=x.yaml pid=42 ports={"http":8080}');
  });

  it('wraps at field boundaries to the width, continuing with two spaces; a long field is split', () => {
    const info = { [LEVEL]: 'warn', message: 'm', timestamp: '2026-12-04T19:21:56Z', a: 'x'.repeat(30), b: 'y'.repeat(30), c: 'z'.repeat(75) };
    expect(humanLogLines(info, 40).split('\n')).toEqual([
      '19:21:56 warn  m',
      `  a=${'x'.repeat(30)}`,
      `  b=${'y'.repeat(30)}`,
      `  c=${'z'.repeat(36)}`,
      `  ${'z'.repeat(38)}`,
      `  ${'z'.repeat(1)}`,
    ]);
    expect(Math.max(...humanLogLines(info, 40).split('\n').map((l) => l.length))).toBeLessThanOrEqual(40);
  });

  it('control characters from captures are shown, not sent to the terminal', () => {
    const info = { [LEVEL]: 'error', message: 'bad file \x1b]0;owned\x07', timestamp: '2026-12-04T19:21:56Z', file: 'a\nb' };
    expect(humanLogLines(info)).toBe('19:21:56 error bad file \\x1b]0;owned\\x07 file=a\\x0ab');
  });
});

describe('TerminalWriter', () => {
  it('drops output, without throwing, once its descriptor fails (a terminal that was closed)', () => {
    const fd = openSync(join(tmpdir(), `sw-term-${process.pid}.txt`), 'w');
    const w = new TerminalWriter(fd);
    w.write('one\n');
    expect(w.open).toBe(true);
    closeSync(fd);
    w.write('two\n');
    expect(w.open).toBe(false);
    w.write('three\n');
    expect(w.open).toBe(false);
  });
});
