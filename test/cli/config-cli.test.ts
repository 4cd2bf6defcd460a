/** Issue #3: invalid configs give a specific error naming the path, and exit code 2, from the CLI. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'sw-cfg-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PEER = `  - name: pbx
    match: { cidrs: [192.0.2.10] }
    trust: trusted
    class: enterprise
    allowedNumbers: ["+3120555"]
`;

const CASES: Array<[string, string, string]> = [
  ['bad-number', `peers:\n${PEER.replace('"+3120555"', '"+3120555", "031205550000"')}`, 'peers[0].allowedNumbers[1]: not an E.164 prefix or range ("031205550000")'],
  ['bad-cidr', `peers:\n${PEER.replace('192.0.2.10', '192.0.2.300/24')}`, 'peers[0].match.cidrs[0]'],
  ['bad-trust', `peers:\n${PEER.replace('trust: trusted', 'trust: maybe')}`, 'peers[0].trust'],
  ['bad-class', `peers:\n${PEER.replace('class: enterprise', 'class: galactic')}`, 'peers[0].class'],
  ['dup-peer', `peers:\n${PEER}${PEER}`, 'peers[1].name'],
  ['unknown-owner-peer', `peers:\n${PEER}lists:\n  protected:\n    - { number: "+31205551000", owner: firm, ownerPeers: [nobody] }\n`, 'lists.protected[0].ownerPeers[0]'],
  ['bad-range', `peers:\n${PEER.replace('"+3120555"', '"+31205559999-+31205550000"')}`, 'peers[0].allowedNumbers[0]'],
  ['bad-severity', `rules:\n  CLI-DNO: { severity: apocalyptic }\n`, 'rules.CLI-DNO.severity'],
  ['bad-country', `homeCountry: Netherlands\n`, 'homeCountry'],
  ['unknown-key', `peers:\n${PEER}    colour: blue\n`, 'peers[0].colour: unknown key'],
  ['missing-match', `peers:\n  - name: x\n    trust: trusted\n`, 'peers[0].match: required'],
  ['yaml-syntax', `peers: [\n`, '@FILE@:2:1: Flow sequence in block collection must be sufficiently indented'],
  ['freshness', `stirShaken: { trustAnchors: [], freshnessSeconds: -5 }\n`, 'stirShaken.freshnessSeconds'],
  // Issue #20: strictness a newcomer needs.
  ['rule-typo', `rules:\n  UA-ATACK-TOOL: false\n`, 'rules.UA-ATACK-TOOL: unknown rule; did you mean UA-ATTACK-TOOL?'],
  ['rule-lower-case', `rules:\n  cli-dno: false\n`, 'rules.cli-dno: not a rule id (upper-case words joined by "-", e.g. "CLI-DNO"); did you mean CLI-DNO?'],
  [
    'unquoted-number',
    `peers:\n${PEER.replace('"+3120555"', '31201234567')}`,
    'peers[0].allowedNumbers[0]: 31201234567 is read as a number; quote it ("31201234567") — a phone number needs quotes, with its "+"',
  ],
  [
    'unquoted-list-number',
    `lists:\n  doNotOriginate:\n    - { number: 31201234000, owner: bank }\n`,
    'lists.doNotOriginate[0].number: 31201234000 is read as a number; quote it ("31201234000")',
  ],
  ['peer-without-class', `peers:\n${PEER.replace('    class: enterprise\n', '')}`, 'peers[0].class: required, one of access|national|international|enterprise'],
];

describe('spoofwatch config check on invalid configs', () => {
  for (const [name, yaml, expected] of CASES) {
    it(`${name}: exit 2 and an error naming ${expected.replace('@FILE@', 'the file')}`, () => {
      const p = join(dir, `${name}.yaml`);
      writeFileSync(p, yaml);
      const r = cli('config', 'check', p);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toBe(`spoofwatch: ${p}: invalid config`);
      const want = expected.replace('@FILE@', p);
      expect(lines.slice(1).filter((l) => l.trim().startsWith(want))).toHaveLength(1);
      // analyze refuses the same config with the same exit code
      expect(cli('analyze', '--config', p, 'test/captures/sipp-udp.pcapng').code).toBe(2);
    });
  }

  it('a valid config prints what was understood, exit 0', () => {
    const r = cli('config', 'check', 'captures/scenario/spoofwatch.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  access-untrusted  untrusted access        NL  127.0.0.13/32  1 allowed entry, 0 presentation entries');
  });

  it('a valid config report ends with a newline (the prompt starts on its own line)', () => {
    const r = cli('config', 'check', 'captures/scenario/spoofwatch.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.endsWith('\n\n')).toBe(false);
  });

  it('print-default prints the embedded default, which config check accepts', () => {
    const r = cli('config', 'print-default');
    expect(r.code).toBe(0);
    const p = join(dir, 'default.yaml');
    writeFileSync(p, r.stdout);
    expect(cli('config', 'check', p).code).toBe(0);
  });
});
