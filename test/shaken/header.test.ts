import { describe, expect, it } from 'vitest';
import { parseIdentityHeader } from '../../src/identity/shaken/header.js';
import { decodePassport } from '../../src/identity/shaken/passport.js';
import { ecKeyPair, signPassport } from './pki.js';

const X5U = 'https://cert.example.net/sp1234.pem';
const claims = { attest: 'A' as const, orig: { tn: '31201234567' }, dest: { tn: ['31612345678'] }, iat: 1740830400, origid: '123e4567-e89b-12d3-a456-426655440000' };
const key = ecKeyPair().privateKey;

describe('parseIdentityHeader (RFC 8224 §4.1)', () => {
  it('splits token, info, alg, ppt and other parameters', () => {
    expect(parseIdentityHeader(' aaa.bbb.ccc ;info=<https://x.example/c.pem>; alg=ES256 ;ppt="shaken";foo=bar;flag')).toEqual({
      kind: 'ok',
      value: { token: 'aaa.bbb.ccc', info: 'https://x.example/c.pem', alg: 'ES256', ppt: 'shaken', otherParams: { foo: 'bar', flag: '' } },
    });
  });

  it('keeps a URI with ; and = inside the angle brackets', () => {
    const r = parseIdentityHeader('a.b.c;info=<https://x.example/c.pem;v=1>;ppt=div');
    expect(r).toEqual({ kind: 'ok', value: { token: 'a.b.c', info: 'https://x.example/c.pem;v=1', ppt: 'div', otherParams: {} } });
  });

  it('accepts a header without parameters (the verifier rejects it later)', () => {
    expect(parseIdentityHeader('a.b.c')).toEqual({ kind: 'ok', value: { token: 'a.b.c', otherParams: {} } });
  });

  it.each([
    ['', 'Identity header without a token'],
    [';info=<https://x>', 'Identity header without a token'],
    ['a.b.c d;info=<https://x>', 'Identity token has characters outside base64url and "."'],
    ['a.b.c;info=https://x', 'info parameter must be a URI in <>'],
    ['a.b.c;info=<https://x', 'unterminated <...> in parameter "info"'],
    ['a.b.c;info=<>', 'empty info URI'],
    ['a.b.c;ppt=shaken;PPT=div', 'duplicate Identity parameter "ppt"'],
    ['a.b.c;alg=', 'parameter "alg" has an empty value'],
    ['a.b.c;;ppt=shaken', 'empty Identity parameter'],
    ['a.b.c;info=<https://x> junk', 'junk after parameter "info"'],
  ])('rejects %j', (value, reason) => {
    expect(parseIdentityHeader(value)).toEqual({ kind: 'invalid', reason });
  });
});

describe('decodePassport (RFC 8225, 8588, 8946)', () => {
  it('decodes header, claims, signing input and signature', () => {
    const token = signPassport(claims, key, X5U);
    const [h, p, s] = token.split('.');
    expect(decodePassport(token)).toEqual({
      kind: 'ok',
      ppt: 'shaken',
      header: { alg: 'ES256', typ: 'passport', ppt: 'shaken', x5u: X5U },
      claims,
      signingInput: `${h}.${p}`,
      signature: s,
    });
  });

  it('decodes a div PASSporT with its div claim', () => {
    const token = signPassport({ orig: claims.orig, dest: { tn: ['31207654321'] }, iat: claims.iat, div: { tn: '31612345678' } }, key, X5U, 'div');
    const r = decodePassport(token);
    expect(r.kind === 'ok' && r.ppt === 'div' && r.claims).toEqual({ orig: claims.orig, dest: { tn: ['31207654321'] }, iat: claims.iat, div: { tn: '31612345678' } });
  });

  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const sig = Buffer.alloc(64, 1).toString('base64url');
  const header = { alg: 'ES256', typ: 'passport', ppt: 'shaken', x5u: X5U };
  it.each([
    ['a.b', 'token is not a compact JWS (three dot-separated parts)'],
    [`${enc(header)}..${sig}`, 'token omits its claims (RFC 8224 compact form is not supported)'],
    [`${enc(header)}.${enc(claims)}.${sig}=`, 'token part is not base64url'],
    [`${enc(header)}.${enc(claims)}.AAAA`, 'ES256 signature is not 64 bytes (r||s)'],
    [`${Buffer.from('{nope').toString('base64url')}.${enc(claims)}.${sig}`, 'JWS header is not a JSON object'],
    [`${enc(header)}.${enc([1])}.${sig}`, 'PASSporT claims are not a JSON object'],
    [`${enc({ ...header, alg: 'RS256' })}.${enc(claims)}.${sig}`, 'JWS alg is "RS256", not ES256'],
    [`${enc({ ...header, typ: 'JWT' })}.${enc(claims)}.${sig}`, 'JWS typ is "JWT", not passport'],
    [`${enc({ ...header, ppt: 'rph' })}.${enc(claims)}.${sig}`, 'JWS ppt is "rph", not shaken, div or rcd'],
    [`${enc({ ...header, x5u: undefined })}.${enc(claims)}.${sig}`, 'JWS header has no x5u'],
    [`${enc(header)}.${enc({ ...claims, orig: { uri: 'sip:a@b' } })}.${sig}`, 'claim orig.tn missing or malformed'],
    [`${enc(header)}.${enc({ ...claims, dest: { tn: [] } })}.${sig}`, 'claim dest.tn missing or empty'],
    [`${enc(header)}.${enc({ ...claims, dest: { tn: ['abc'] } })}.${sig}`, 'claim dest.tn has a malformed number'],
    [`${enc(header)}.${enc({ ...claims, iat: '1740830400' })}.${sig}`, 'claim iat missing or not an integer'],
    [`${enc(header)}.${enc({ ...claims, attest: 'D' })}.${sig}`, 'claim attest is "D", not A, B or C'],
    [`${enc(header)}.${enc({ ...claims, attest: undefined })}.${sig}`, 'claim attest missing'],
    [`${enc(header)}.${enc({ ...claims, origid: undefined })}.${sig}`, 'claim origid missing'],
    [`${enc({ ...header, ppt: 'div' })}.${enc(claims)}.${sig}`, 'claim div.tn missing or malformed'],
  ])('rejects %s', (token, reason) => {
    expect(decodePassport(token)).toEqual({ kind: 'invalid', reason });
  });
});
