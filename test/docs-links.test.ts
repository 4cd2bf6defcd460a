/**
 * Issue #20: every relative link in README.md and docs/**\/*.md resolves to a file of the repository, and a `#anchor`
 * into a Markdown file names one of its headings (GitHub's slugs). Code spans and fenced blocks are not links.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...markdownFiles(p));
    else if (name.endsWith('.md')) out.push(p);
  }
  return out;
}

/** Text without fenced code blocks and inline code spans. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Link targets: inline [text](target) and ![alt](target), reference definitions, HTML href/src. */
export function linkTargets(text: string): string[] {
  const body = prose(text);
  const out: string[] = [];
  for (const m of body.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]!);
  for (const m of body.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) out.push(m[1]!);
  for (const m of body.matchAll(/\b(?:href|src)\s*=\s*"([^"]+)"/g)) out.push(m[1]!);
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to '-', repeated headings numbered. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function brokenLinks(file: string, text = readFileSync(file, 'utf8')): string[] {
  const broken: string[] = [];
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // http:, https:, mailto: …
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    if (pathPart === '') {
      if (anchor !== undefined && !anchorsOf(text).has(anchor)) broken.push(`${target}: no heading #${anchor} in this file`);
      continue;
    }
    const resolved = join(dirname(file), decodeURIComponent(pathPart));
    const rel = relative(ROOT, resolved);
    if (rel.startsWith('..') || !existsSync(resolved)) {
      broken.push(`${target}: no such file in the repository`);
      continue;
    }
    if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
      broken.push(`${target}: no heading #${anchor} in ${rel}`);
    }
  }
  return broken;
}

const FILES = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];

describe('relative links in README.md and docs/', () => {
  for (const file of FILES) {
    it(`${relative(ROOT, file)}: every relative link resolves`, () => {
      expect(brokenLinks(file)).toEqual([]);
    });
  }

  it('README.md and docs/ name no document that is not in the repository (DESIGN.md, RULES.md)', () => {
    for (const file of FILES) {
      const text = readFileSync(file, 'utf8');
      expect(text.match(/\b(?:DESIGN|RULES)\.md\b[^\n]*/g) ?? [], relative(ROOT, file)).toEqual([]);
    }
  });

  it('finds links, ignores code, and checks anchors (the checker itself)', () => {
    const md = '# Top\n## A b, c!\n## A b, c!\nSee [x](docs/rules.md#cli-dno), ![i](a.png "t"), `[no](nope.md)`, <a href="b.md">b</a>\n```\n[no](fenced.md)\n```\n[ref]: ./c.md\n';
    expect(linkTargets(md)).toEqual(['docs/rules.md#cli-dno', 'a.png', './c.md', 'b.md']);
    expect([...anchorsOf(md)]).toEqual(['top', 'a-b-c', 'a-b-c-1']);
    expect(brokenLinks(join(ROOT, 'docs', 'rules.md'))).toEqual([]);
    const page = join(ROOT, 'docs', 'page.md');
    expect(brokenLinks(page, '[a](rules.md#cli-dno) [b](rules.md#cli-dn0) [c](config-missing.md) [d](../../etc/passwd) [e](https://x.test/y) [f](#top) [g](#nowhere)\n# Top\n')).toEqual([
      'rules.md#cli-dn0: no heading #cli-dn0 in docs/rules.md',
      'config-missing.md: no such file in the repository',
      '../../etc/passwd: no such file in the repository',
      '#nowhere: no heading #nowhere in this file',
    ]);
  });
});
