/** docs/rules.md is generated from the rules' and packs' metadata; this fails when it is out of date. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_RULES } from '../../src/rules/registry.js';
import { RULE_PACKS } from '../../src/identity/packs/index.js';
import { renderRulesDoc, RULES_DOC } from '../../scripts/make-rules-doc.js';

describe('docs/rules.md', () => {
  it('is up to date (regenerate: npx tsx scripts/make-rules-doc.ts)', () => {
    expect(readFileSync(RULES_DOC, 'utf8')).toBe(renderRulesDoc());
  });

  it('lists every rule and every pack, each with a source', () => {
    const doc = renderRulesDoc();
    for (const r of ALL_RULES) expect(doc).toContain(`\n## ${r.id}\n`);
    for (const p of RULE_PACKS) expect(doc).toContain(`### ${p.country} — ${p.name}`);
    for (const r of ALL_RULES) expect(r.description).toMatch(/Sources?:|RFC \d+|heuristic/i);
  });
});
