/**
 * The rule catalogue rendered from the rules' own metadata (id, title, severity, scope, parameters with defaults,
 * config fields read, caveat, source): docs/rules.md (`npm run docs:rules`) and `spoofwatch rules` print the same
 * text, and a test fails when the committed file differs.
 */
import type { Rule } from './types.js';

export interface RuleDoc {
  readonly id: string;
  readonly title: string;
  readonly severity: string;
  readonly scope: string;
  /** What the rule detects: the description without its caveat and source. */
  readonly detects: string;
  readonly caveat?: string;
  readonly source?: string;
  readonly params: readonly { readonly name: string; readonly default: string }[];
  readonly reads?: readonly string[];
}

const SCOPE_TEXT: Readonly<Record<Rule['scope'], string>> = {
  'initial-invite': 'initial INVITEs',
  request: 'every request',
  message: 'every message',
};

/** Splits a description written as "What … Caveat: … Source(s): …" into its parts; explicit fields win. */
export function ruleDoc(rule: Rule): RuleDoc {
  const d = rule.description.trim();
  const sourceAt = d.search(/\bSources?:/);
  const caveatAt = d.search(/\bCaveat:/);
  const cut = [sourceAt, caveatAt].filter((i) => i >= 0);
  const detects = (cut.length > 0 ? d.slice(0, Math.min(...cut)) : d).trim();
  const part = (at: number, label: RegExp): string | undefined => {
    if (at < 0) return undefined;
    const end = Math.min(d.length, ...[sourceAt, caveatAt].filter((i) => i > at));
    return d.slice(at, end).replace(label, '').trim();
  };
  const caveat = rule.caveat ?? part(caveatAt, /^Caveat:\s*/);
  const source = rule.source ?? part(sourceAt, /^Sources?:\s*/);
  return {
    id: rule.id,
    title: rule.title,
    severity: rule.defaultSeverity,
    scope: SCOPE_TEXT[rule.scope],
    detects,
    ...(caveat !== undefined ? { caveat } : {}),
    ...(source !== undefined ? { source } : {}),
    params: Object.entries(rule.defaults ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([name, v]) => ({ name, default: String(v) })),
    ...(rule.reads !== undefined ? { reads: rule.reads } : {}),
  };
}

/** Markdown catalogue of `rules`, sorted by id (docs/rules.md): a title, then {@link renderRuleSections}. */
export function renderRulesMarkdown(rules: readonly Rule[]): string {
  const out: string[] = [];
  out.push('# Detection rules');
  out.push('');
  out.push('<!-- Generated from the rules\' metadata in src/rules/*.ts by `npm run docs:rules`; do not edit by hand.');
  out.push('     `spoofwatch rules` prints the same text; a test fails when this file is out of date. -->');
  out.push('');
  return out.join('\n') + '\n' + renderRuleSections(rules);
}

/**
 * The body of the catalogue: how rules are tuned, a table of all rules, and one `## RULE-ID` section per rule with
 * severity, scope, parameters and defaults, config fields read, caveat and source. Other generators (country packs)
 * can put it under their own title.
 */
export function renderRuleSections(rules: readonly Rule[]): string {
  const docs = [...rules].map(ruleDoc).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: string[] = [];
  out.push('Severity scale: info < low < medium < high < critical. "CLI" is the effective calling number: the');
  out.push('P-Asserted-Identity number when the peer is trusted and sent one, else the From number. Every rule can be');
  out.push('tuned in the config under `rules:` — `RULE-ID: false` disables it, `RULE-ID: { severity: low, <parameter>:');
  out.push('<value> }` overrides its severity and parameters. The alert each rule raises is described by');
  out.push('[alert.schema.json](alert.schema.json).');
  out.push('');
  out.push('| rule | default severity | title |');
  out.push('|---|---|---|');
  for (const r of docs) out.push(`| [${r.id}](#${r.id.toLowerCase()}) | ${r.severity} | ${r.title} |`);
  for (const r of docs) {
    out.push('');
    out.push(`## ${r.id}`);
    out.push('');
    out.push(`**${r.title}.** ${r.detects}`);
    out.push('');
    out.push(`- default severity: ${r.severity}`);
    out.push(`- looks at: ${r.scope}`);
    out.push(
      `- parameters: ${r.params.length === 0 ? 'none' : r.params.map((p) => `\`${p.name}\` = ${p.default} (\`rules.${r.id}.${p.name}\`)`).join(', ')}`,
    );
    out.push(`- config fields read: ${r.reads === undefined ? '(not documented)' : r.reads.length === 0 ? 'none' : r.reads.map((f) => `\`${f}\``).join(', ')}`);
    out.push(`- false-positive caveat: ${r.caveat ?? '—'}`);
    out.push(`- source: ${r.source ?? '—'}`);
  }
  return out.join('\n') + '\n';
}
