/** Writes docs/rules.md from the rules' metadata (src/rules/docs.ts). Run: npm run docs:rules */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderRulesMarkdown } from '../src/rules/docs.js';
import { ALL_RULES } from '../src/rules/registry.js';

const out = join(import.meta.dirname, '..', 'docs', 'rules.md');
writeFileSync(out, renderRulesMarkdown(ALL_RULES));
console.log(`wrote ${out} (${ALL_RULES.length} rules)`);
