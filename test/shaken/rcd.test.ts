import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, checkRcdIntegrity } from '../../src/identity/shaken/rcd.js';

const sri = (s: string): string => `sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}`;

describe('checkRcdIntegrity (draft-ietf-stir-passport-rcd §6)', () => {
  const rcd = { nam: 'Examplebank Klantenservice', jcd: { b: [1, 'x'], a: true }, icn: 'https://cdn.example/logo.png' };

  it('checks digests of inline values over their canonical JSON, and leaves URL content unchecked', () => {
    expect(canonicalJson(rcd.jcd)).toBe('{"a":true,"b":[1,"x"]}');
    const rcdi = { '/nam': sri('"Examplebank Klantenservice"'), '/jcd': sri('{"a":true,"b":[1,"x"]}'), '/icn': sri('png bytes') };
    expect(checkRcdIntegrity(rcd, rcdi)).toEqual({ ok: true, checked: ['/nam', '/jcd'], unchecked: ['/icn'] });
    expect(checkRcdIntegrity(rcd, undefined)).toEqual({ ok: true, checked: [], unchecked: [] });
  });

  it('names an altered value, a pointer to nothing and a malformed digest', () => {
    expect(checkRcdIntegrity(rcd, { '/nam': sri('"Examplebank"') })).toEqual({
      ok: false,
      reason: 'the rcdi digest of /nam does not match the signed content: the caller data were altered',
    });
    expect(checkRcdIntegrity(rcd, { '/crn': sri('"x"') })).toEqual({ ok: false, reason: 'rcdi names /crn, which is not in the rcd claim' });
    expect(checkRcdIntegrity(rcd, { '/nam': 'md5-abc' })).toEqual({ ok: false, reason: 'rcdi digest of /nam is not sha256-<base64> ("md5-abc")' });
  });

  it('refuses content nested deeper than 32 levels instead of recursing on', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(checkRcdIntegrity({ nam: 'n', jcd: deep }, { '/jcd': sri('[]') })).toEqual({ ok: false, reason: 'rcd content at /jcd is nested deeper than 32' });
  });
});
