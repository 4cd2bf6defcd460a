/**
 * CLI-DNO from lists.doNotOriginateFiles (issue #21 point 4): a generated file of 1,000,000 numbers (the bench's
 * generator), a call presenting one of them raises CLI-DNO naming the owner column and the file line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDnoFile } from '../../bench/dno.js';
import { DEFAULT_TEST_CONFIG, invite, only, ruleSet, sipNum, SipSession, SRC } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'spoofwatch-dno-rule-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sessionWith(files: string[]): SipSession {
  const lab = parseYaml(DEFAULT_TEST_CONFIG) as { lists?: Record<string, unknown> };
  lab.lists = { ...(lab.lists ?? {}), doNotOriginateFiles: files };
  return new SipSession(stringifyYaml(lab));
}

const call = (s: SipSession, from: string, callId: string) =>
  s.feed({ src: SRC.carrierNl, text: invite({ from: sipNum(from), to: sipNum('+31687654321'), callId }) });

describe('CLI-DNO from a do-not-originate file', () => {
  it('a file of 1,000,000 generated numbers: a call from one of them names the owner column and the line', () => {
    const file = join(dir, 'million.csv');
    const { sample } = generateDnoFile(file, 1_000_000);
    const s = sessionWith([file]);
    expect(s.analyzer.dnoFiles.report).toEqual([{ file, entries: 1_000_000, badLines: 0, errors: [] }]);
    const alerts = call(s, sample, 'dno-file-1@x');
    expect(ruleSet(alerts)).toEqual(['CLI-DNO:critical']);
    const a = only(alerts, 'CLI-DNO');
    // generateDnoFile: line 1 is the header, entry i is on line i + 2 with owner "Bank <i % 1000>".
    expect(a.summary).toBe(`Do-not-originate number ${sample} (Bank 0) presented as caller`);
    expect(a.reasons).toEqual([
      `${sample} in From is on the do-not-originate list (Bank 0): it only receives calls, so a call from it is spoofed.`,
      `Listed in ${file} line 500002.`,
    ]);
    expect(call(s, '+31104567890', 'dno-file-2@x')).toEqual([]);
  }, 60_000);

  it('a plain list without owners names the file and line only; the config list still applies first', () => {
    const file = join(dir, 'plain.txt');
    writeFileSync(file, '# inbound only\n+31201234000\n+31205550000-+31205550099\n');
    const s = sessionWith([file]);
    const inline = only(call(s, '+31201234000', 'dno-file-3@x'), 'CLI-DNO');
    expect(inline.reasons).toEqual([
      '+31201234000 in From is on the do-not-originate list (Examplebank fraud helpdesk (inbound only)): it only receives calls, so a call from it is spoofed.',
    ]);
    const ranged = only(call(s, '+31205550042', 'dno-file-4@x'), 'CLI-DNO');
    expect(ranged.reasons).toEqual([
      '+31205550042 in From is on the do-not-originate list: it only receives calls, so a call from it is spoofed.',
      `Listed in ${file} line 3.`,
    ]);
  });
});
