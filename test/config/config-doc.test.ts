/**
 * Issue #20: docs/config.md ("your own network"). Its field reference is generated from the zod schema
 * (`npm run docs:config`, scripts/make-config-doc.ts) and must equal the committed one; every schema field has a
 * meaning written for it; and every example config on the page passes `spoofwatch config check`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_DOC, configFields, FIELD_NOTES, renderConfigDoc } from '../../scripts/make-config-doc.js';

const ROOT = join(import.meta.dirname, '../..');
const doc = readFileSync(CONFIG_DOC, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'sw-config-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ```yaml blocks of the page, with the heading they are under. */
function examples(text: string): { heading: string; yaml: string }[] {
  const out: { heading: string; yaml: string }[] = [];
  let heading = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const h = /^#{2,4} (.+)$/.exec(lines[i]!);
    if (h) heading = h[1]!;
    if (lines[i] !== '```yaml') continue;
    const end = lines.indexOf('```', i + 1);
    out.push({ heading, yaml: lines.slice(i + 1, end).join('\n') + '\n' });
    i = end;
  }
  return out;
}

describe('docs/config.md', () => {
  it('its field reference is what the schema says (regenerate: npm run docs:config)', () => {
    expect(doc).toBe(renderConfigDoc(doc));
  });

  it('every field of the schema has a meaning, and every meaning names a field', () => {
    const paths = configFields().map((r) => r.path);
    expect(paths.filter((p) => !(p in FIELD_NOTES))).toEqual([]);
    expect(Object.keys(FIELD_NOTES).filter((p) => !paths.includes(p))).toEqual([]);
    // Spot checks of what the schema gives: allowed values, defaults, required fields.
    const row = (p: string) => configFields().find((r) => r.path === p);
    expect(row('peers[].class')).toEqual({ path: 'peers[].class', accepts: '`access` \\| `national` \\| `international` \\| `enterprise`', default: '**required**' });
    expect(row('sources.hep.port')).toEqual({ path: 'sources.hep.port', accepts: 'integer 0–65535', default: '`9060`' });
    expect(row('sources.sipWs')?.default).toBe('`false`');
    expect(row('rules.<ID>.severity')?.accepts).toBe('`info` \\| `low` \\| `medium` \\| `high` \\| `critical`');
  });

  it('has the minimal, enterprise-PBX, SBC-with-carriers and multi-country examples and the link to suppression and thresholds', () => {
    expect(examples(doc).map((e) => e.heading)).toEqual([
      'Minimal: one trusted carrier',
      'Enterprise PBX',
      'SBC with carriers (HEP from the SBC)',
      'Multi-country',
    ]);
    expect(doc).toContain('\n## How relative paths resolve\n');
    expect(doc).toContain('\n## Suppression and thresholds\n\nSee [docs/incidents.md](incidents.md)');
  });

  for (const [i, e] of examples(doc).entries()) {
    it(`example "${e.heading}" passes config check`, () => {
      const file = join(dir, `example-${i}.yaml`);
      writeFileSync(file, e.yaml);
      const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), 'config', 'check', file], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^home country: [A-Z]{2}\n/);
    });
  }
});
