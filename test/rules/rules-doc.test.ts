/** Issue #20: docs/rules.md is generated from the rules' metadata and kept up to date; `spoofwatch rules` prints it. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRuleSections, renderRulesMarkdown, ruleDoc } from '../../src/rules/docs.js';
import { ALL_RULES } from '../../src/rules/registry.js';
import type { Rule } from '../../src/rules/types.js';

const DOC = 'docs/rules.md';

describe('docs/rules.md', () => {
  it('holds what the rules\' metadata renders, one section per rule (regenerate with npm run docs:rules)', () => {
    // Contains, not equals: a generator may put other sections (country packs) around the rules'.
    expect(readFileSync(DOC, 'utf8')).toContain(renderRuleSections(ALL_RULES));
  });

  it('documents every rule with severity, the config fields it reads and a source', () => {
    const text = readFileSync(DOC, 'utf8');
    for (const r of ALL_RULES) {
      expect(text).toContain(`\n## ${r.id}\n`);
      expect(ruleDoc(r).source, r.id).toBeDefined();
    }
    // A rule without `reads` is shown as "(not documented)", not as reading nothing; these 27 carry it.
    const documented = ALL_RULES.filter((r) => r.reads !== undefined).map((r) => r.id);
    expect(documented).toEqual(expect.arrayContaining(['CLI-DNO', 'CLI-NOT-AUTHORIZED', 'SHAKEN-SIG-FAIL', 'SRC-UNKNOWN-PEER', 'UA-ATTACK-TOOL', 'VERSTAT-FORGED']));
    expect(text).toContain(
      '- parameters: `windowSeconds` = 3600 (`rules.CLI-NEIGHBOUR.windowSeconds`), `minCallees` = 5 (`rules.CLI-NEIGHBOUR.minCallees`)\n',
    );
    expect(text).toContain('- config fields read: `lists.doNotOriginate`, `peers[].trust`\n');
  });

  it('splits a description into what it detects, the caveat and the source', () => {
    const rule: Rule = {
      id: 'X-TEST',
      title: 'A test rule',
      defaultSeverity: 'low',
      scope: 'message',
      description: 'Something odd happens. Caveat: sometimes it is fine. Sources: RFC 3261 §7.3; a letter.',
      reads: [],
      evaluate: () => undefined,
    };
    expect(ruleDoc(rule)).toEqual({
      id: 'X-TEST',
      title: 'A test rule',
      severity: 'low',
      scope: 'every message',
      detects: 'Something odd happens.',
      caveat: 'sometimes it is fine.',
      source: 'RFC 3261 §7.3; a letter.',
      params: [],
      reads: [],
    });
    const noCaveat = ruleDoc({ ...rule, description: 'Odd. Source: heuristic.', caveat: 'explicit' });
    expect([noCaveat.detects, noCaveat.caveat, noCaveat.source]).toEqual(['Odd.', 'explicit', 'heuristic.']);
  });

  it('spoofwatch rules prints the same text; one id prints one section; an unknown id is exit 2', () => {
    const all = spawnSync(process.execPath, ['dist/cli.js', 'rules'], { encoding: 'utf8' });
    expect(all.status).toBe(0);
    expect(all.stdout).toBe(renderRulesMarkdown(ALL_RULES));
    expect(readFileSync(DOC, 'utf8')).toContain(all.stdout.slice(all.stdout.indexOf('Severity scale')));
    const one = spawnSync(process.execPath, ['dist/cli.js', 'rules', 'cli-dno'], { encoding: 'utf8' });
    expect(one.stdout).toBe(renderRulesMarkdown(ALL_RULES.filter((r) => r.id === 'CLI-DNO')));
    const bad = spawnSync(process.execPath, ['dist/cli.js', 'rules', 'UA-ATACK-TOOL'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('spoofwatch: RULE_UNKNOWN: unknown rule id UA-ATACK-TOOL; see spoofwatch rules\n');
  });
});
