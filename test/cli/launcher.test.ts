/**
 * The launchers (bin/spoofwatch.js, `npm start`, the Docker entrypoint) start Node with LAUNCH_NODE_OPTIONS
 * (src/heap.ts): the young-generation size can only be set when the process starts, and the bench measures
 * `analyze` with exactly these options. The bin must also still run as an executable (`env -S` shebang).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAUNCH_NODE_OPTIONS } from '../../src/heap.js';

const root = new URL('../../', import.meta.url);
const read = (f: string): string => readFileSync(new URL(f, root), 'utf8');

describe('launchers start Node with the options the bench measured', () => {
  const opts = LAUNCH_NODE_OPTIONS.join(' ');

  it('bin/spoofwatch.js: shebang with the options, and it runs: same report as node dist/cli.js', () => {
    expect(read('bin/spoofwatch.js').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${opts}`);
    const args = ['analyze', '--format', 'json', 'captures/scenario/scenario.pcapng'];
    const run = (file: string, argv: string[]) =>
      JSON.parse(execFileSync(file, argv, { cwd: root.pathname, encoding: 'utf8' })) as {
        sipMessages: number;
        alerts: { id: string; rule: string }[];
      };
    const viaBin = run(new URL('bin/spoofwatch.js', root).pathname, args);
    const viaNode = run(process.execPath, ['dist/cli.js', ...args]);
    expect(viaBin.sipMessages).toBe(viaNode.sipMessages);
    expect(viaBin.alerts.map((a) => `${a.id} ${a.rule}`)).toEqual(viaNode.alerts.map((a) => `${a.id} ${a.rule}`));
    expect(viaBin.alerts.length).toBeGreaterThan(10);
  });

  it('npm start and the Docker entrypoint pass the same options', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts['start']).toBe(`node ${opts} dist/cli.js daemon`);
    expect(read('Dockerfile')).toContain(`ENTRYPOINT ["node", ${LAUNCH_NODE_OPTIONS.map((o) => JSON.stringify(o)).join(', ')}, "dist/cli.js"]`);
  });
});
