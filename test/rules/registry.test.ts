/** The registry is the catalogue of RULES.md §4: one file per rule, id = file name, a cited source. */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SEVERITIES } from '../../src/alerts/alert.js';
import { alertId } from '../../src/alerts/from-finding.js';
import { ALL_RULES, ruleById } from '../../src/rules/registry.js';
import type { Rule } from '../../src/rules/types.js';

/**
 * RULES.md §4: id → default severity and (a key part of) the source column. DIV-EXPLAINS is a modifier of
 * CLI-NOT-AUTHORIZED, not a rule.
 */
const CATALOGUE: Readonly<Record<string, { readonly severity: string; readonly source: string }>> = {
  'CLI-NOT-AUTHORIZED': { severity: 'high', source: 'C6.6' },
  'HDR-PAI-UNTRUSTED': { severity: 'medium', source: 'RFC 3325' },
  'SRC-UNKNOWN-PEER': { severity: 'medium', source: 'network-identity' },
  'CLI-PROTECTED': { severity: 'high', source: '2014 letter' },
  'CLI-DNO': { severity: 'critical', source: 'FCC DNO' },
  'CLI-SPECIAL': { severity: 'high', source: 'TKG §120' },
  'CLI-INVALID': { severity: 'high', source: 'C6.6' },
  'ID-FROM-PAI-MISMATCH': { severity: 'info', source: '2014 letter' },
  'REG-INTL-NATIONAL-CLI': { severity: 'high', source: 'royal decree' },
  'CLI-CALLED-AS-CALLER': { severity: 'high', source: 'fraud-helpdesk' },
  'CLI-NEIGHBOUR': { severity: 'medium', source: 'FCC' },
  'CLI-MULTI-PEER': { severity: 'high', source: 'heuristic' },
  'CLI-VELOCITY': { severity: 'medium', source: 'heuristic' },
  'DISPLAY-IMPERSONATION': { severity: 'high', source: 'heuristic' },
  'DIV-UNTRUSTED': { severity: 'medium', source: 'RFC 5806' },
  'SHAKEN-SIG-FAIL': { severity: 'high', source: 'RFC 8224' },
  'SHAKEN-ORIG-MISMATCH': { severity: 'high', source: 'ATIS-1000074' },
  'SHAKEN-DEST-MISMATCH': { severity: 'medium', source: 'RFC 8946' },
  'SHAKEN-STALE': { severity: 'medium', source: 'RFC 8224' },
  'SHAKEN-REPLAY': { severity: 'high', source: 'ATIS-1000074' },
  'SHAKEN-CERT-UNTRUSTED': { severity: 'high', source: 'RFC 8226' },
  'SHAKEN-UNVERIFIABLE': { severity: 'low', source: 'RFC 8224' },
  'SHAKEN-ATTEST-WEAK': { severity: 'low', source: 'RFC 8588' },
  'VERSTAT-FORGED': { severity: 'high', source: 'RFC 3325' },
  'PRIV-ANON-WITH-PAI': { severity: 'medium', source: 'RFC 3323' },
  'UA-ATTACK-TOOL': { severity: 'high', source: 'scanner lists' },
  'MSG-MALFORMED': { severity: 'medium', source: 'RFC 3261' },
  // Issue #21 point 2 (RFC 8946 signed diversion).
  'SHAKEN-DIV-INVALID': { severity: 'high', source: 'RFC 8946' },
  // Issue #21 point 3 (Rich Call Data PASSporTs).
  'SHAKEN-RCD-INVALID': { severity: 'high', source: 'draft-ietf-stir-passport-rcd' },
  'DISPLAY-RCD-MISMATCH': { severity: 'medium', source: 'draft-ietf-stir-passport-rcd' },
};

const RULES_DIR = fileURLToPath(new URL('../../src/rules/', import.meta.url));

describe('rule registry', () => {
  it('has exactly the 27 rule ids of RULES.md §4 and the 3 of issue #21, each once', () => {
    const ids = ALL_RULES.map((r) => r.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    expect([...ids].sort()).toEqual(Object.keys(CATALOGUE).sort());
  });

  it('gives every rule the default severity of the catalogue', () => {
    for (const r of ALL_RULES) expect([r.id, r.defaultSeverity]).toEqual([r.id, CATALOGUE[r.id]?.severity]);
  });

  it('has one file per rule, named by its id, exporting that rule', async () => {
    const files = readdirSync(RULES_DIR)
      .filter((f) => /^[A-Z][A-Z0-9-]*\.ts$/.test(f))
      .map((f) => f.slice(0, -3))
      .sort();
    expect(files).toEqual(ALL_RULES.map((r) => r.id).sort());
    for (const id of files) {
      const mod = (await import(pathToFileURL(join(RULES_DIR, `${id}.ts`)).href)) as { rule: Rule };
      expect(mod.rule.id).toBe(id);
      expect(ruleById(id)).toBe(mod.rule);
    }
  });

  it('describes every rule with its caveat and a cited source', () => {
    for (const r of ALL_RULES) {
      expect(r.title.length, r.id).toBeGreaterThan(5);
      expect(SEVERITIES, r.id).toContain(r.defaultSeverity);
      const cited = /\bSources?: (.+)$/.exec(r.description)?.[1];
      expect(cited, `${r.id} cites no source`).toBeDefined();
      expect(cited, r.id).toContain(CATALOGUE[r.id]?.source);
    }
  });

  it('declares a scope, and windowed rules a window or threshold default', () => {
    for (const r of ALL_RULES) expect(['initial-invite', 'request', 'message'], r.id).toContain(r.scope);
    for (const id of ['CLI-NEIGHBOUR', 'CLI-MULTI-PEER', 'SHAKEN-REPLAY']) expect(ruleById(id)?.defaults?.['windowSeconds'], id).toBeGreaterThan(0);
    expect(ruleById('CLI-VELOCITY')?.defaults).toEqual({ maxConcurrent: 10, maxPerMinute: 30 });
  });
});

describe('alertId', () => {
  it('is the first 20 hex digits of SHA-256 over Call-ID, NUL, rule id (stable across versions)', () => {
    expect(alertId('b0-000000@127.0.0.10', 'CLI-NOT-AUTHORIZED')).toBe(
      createHash('sha256').update('b0-000000@127.0.0.10').update('\0').update('CLI-NOT-AUTHORIZED').digest('hex').slice(0, 20),
    );
    // Non-ASCII Call-IDs are hashed as their UTF-8 bytes.
    expect(alertId('rüf-€@x', 'UA-ATTACK-TOOL')).toBe(createHash('sha256').update(Buffer.from('rüf-€@x\0UA-ATTACK-TOOL', 'utf8')).digest('hex').slice(0, 20));
    expect(alertId('a', 'b')).not.toBe(alertId('a', 'c'));
    expect(alertId('a', 'b')).toMatch(/^[0-9a-f]{20}$/);
  });
});
