import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateExtensions, parseTnAuthList, tnAuthListOf, tnAuthorised, TN_AUTH_LIST_OID } from '../../src/identity/shaken/tnauthlist.js';
import { der, encodeTnAuthList, makePki } from './pki.js';

const now = new Date('2025-03-01T12:00:00Z');

describe('TNAuthList parser (RFC 8226 §9)', () => {
  it('returns the SPC of a leaf built with one, read from the certificate DER', () => {
    const pki = makePki({ now, leaf: { tnAuthList: [{ spc: '709J' }] } });
    expect(tnAuthListOf(pki.leaf.cert.der)).toEqual({ kind: 'ok', value: [{ type: 'spc', spc: '709J' }] });
  });

  it('decodes SPC, range and single-number entries (EXPLICIT tags)', () => {
    const value = encodeTnAuthList([{ spc: '1234' }, { range: { start: '31201234500', count: 100 } }, { tn: '31201234567' }]);
    expect(parseTnAuthList(value)).toEqual({
      kind: 'ok',
      value: [
        { type: 'spc', spc: '1234' },
        { type: 'range', start: '31201234500', count: 100 },
        { type: 'tn', tn: '31201234567' },
      ],
    });
  });

  it('accepts IMPLICIT-tagged entries too', () => {
    const implicit = der.sequence(
      der.context(0, Buffer.from('ABCD'), false),
      der.context(1, Buffer.concat([der.ia5('3120100'), der.integer(5)])),
      der.context(2, Buffer.from('3120999'), false),
    );
    expect(parseTnAuthList(implicit)).toEqual({
      kind: 'ok',
      value: [
        { type: 'spc', spc: 'ABCD' },
        { type: 'range', start: '3120100', count: 5 },
        { type: 'tn', tn: '3120999' },
      ],
    });
  });

  it('rejects empty, truncated and malformed lists without throwing', () => {
    expect(parseTnAuthList(der.sequence())).toEqual({ kind: 'invalid', reason: 'empty TNAuthList' });
    const good = encodeTnAuthList([{ spc: '1234' }]);
    for (let cut = 0; cut < good.length; cut++) expect(parseTnAuthList(good.subarray(0, cut)).kind).toBe('invalid');
    expect(parseTnAuthList(der.sequence(der.context(2, der.ia5('12a4'))))).toEqual({ kind: 'invalid', reason: 'malformed telephone number' });
    expect(parseTnAuthList(der.sequence(der.context(1, der.sequence(der.ia5('3120'), der.integer(1)))))).toEqual({
      kind: 'invalid',
      reason: 'range count below 2',
    });
    expect(parseTnAuthList(der.sequence(der.context(5, der.ia5('1'))))).toEqual({ kind: 'invalid', reason: 'unknown TNEntry tag 0xa5' });
    expect(parseTnAuthList(Buffer.from([0x30, 0x80, 0x00, 0x00]))).toEqual({ kind: 'invalid', reason: 'indefinite length at offset 0 (not DER)' });
  });

  it('reports absence for a leaf without the extension, and lists the extensions node parsed too', () => {
    const pki = makePki({ now, leaf: { tnAuthList: null } });
    expect(tnAuthListOf(pki.leaf.cert.der)).toEqual({ kind: 'absent' });
    const exts = certificateExtensions(pki.intermediate.cert.der);
    expect(exts.kind === 'ok' && exts.value.map((e) => [e.oid, e.critical])).toEqual([
      ['2.5.29.19', true],
      ['2.5.29.15', true],
      ['2.5.29.14', false],
      ['2.5.29.35', false],
    ]);
    const withTn = certificateExtensions(makePki({ now }).leaf.cert.der);
    expect(withTn.kind === 'ok' && withTn.value.map((e) => e.oid)).toContain(TN_AUTH_LIST_OID);
  });

  it('authorises numbers by SPC, single TN or range of the same length', () => {
    expect(tnAuthorised([{ type: 'spc', spc: '1' }], '31201234567')).toBe(true);
    expect(tnAuthorised([{ type: 'tn', tn: '31201234567' }], '31201234567')).toBe(true);
    expect(tnAuthorised([{ type: 'tn', tn: '31201234567' }], '31201234568')).toBe(false);
    const range = [{ type: 'range', start: '31201234500', count: 100 }] as const;
    expect(tnAuthorised(range, '31201234599')).toBe(true);
    expect(tnAuthorised(range, '31201234600')).toBe(false);
    expect(tnAuthorised(range, '3120123450')).toBe(false);
  });
});

describe('test PKI builder', () => {
  it('builds certificates node parses, with a verifiable root → intermediate → leaf chain', () => {
    const pki = makePki({ now });
    const leaf = new X509Certificate(pki.leaf.cert.pem);
    expect(leaf.subject).toBe('C=NL\nO=spoofwatch tests\nCN=SHAKEN 1234');
    expect(leaf.issuer).toBe('C=NL\nO=spoofwatch tests\nCN=Spoofwatch Test Intermediate CA');
    expect(leaf.ca).toBe(false);
    expect(pki.intermediate.cert.x509.ca).toBe(true);
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(leaf.validFrom).toBe('Jan 30 12:00:00 2025 GMT');
    expect(leaf.validTo).toBe('Mar 31 12:00:00 2025 GMT');
    expect(leaf.checkIssued(pki.intermediate.cert.x509) && leaf.verify(pki.intermediate.publicKey)).toBe(true);
    expect(pki.intermediate.cert.x509.verify(pki.root.publicKey)).toBe(true);
    expect(pki.root.cert.x509.verify(pki.root.publicKey)).toBe(true);
    expect(leaf.verify(pki.root.publicKey)).toBe(false);
  });

  it('uses GeneralizedTime from 2050 on', () => {
    const pki = makePki({ now, root: { notAfter: new Date('2051-06-01T00:00:00Z') } });
    expect(pki.root.cert.x509.validTo).toBe('Jun  1 00:00:00 2051 GMT');
  });
});
