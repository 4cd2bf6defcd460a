/**
 * Throw-away STIR/SHAKEN PKI for tests and capture-generating scripts: a minimal DER encoder (X.690),
 * X.509 v3 certificates (RFC 5280) with a TNAuthList extension (RFC 8226), signed with node:crypto
 * (ecdsa-with-SHA256: X.509 carries DER-encoded ECDSA signatures, JWS carries r||s), and a PASSporT signer.
 * Nothing here touches the network or the wall clock unless you pass `Date.now()` yourself.
 */
import { createHash, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheKeyOf } from '../../src/identity/shaken/certcache.js';

// ---------------------------------------------------------------------------------------------- DER

function lengthOctets(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element: identifier octet, definite length, content. */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthOctets(content.length), content]);
}

export const der = {
  sequence: (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items)),
  set: (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items)),
  boolean: (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00])),
  /** Non-negative INTEGER, minimal two's complement. */
  integer(v: number | bigint | Buffer): Buffer {
    let bytes: Buffer;
    if (Buffer.isBuffer(v)) bytes = v;
    else {
      let n = BigInt(v);
      if (n < 0n) throw new RangeError('negative INTEGER not supported');
      const out: number[] = [];
      do {
        out.unshift(Number(n & 0xffn));
        n >>= 8n;
      } while (n > 0n);
      bytes = Buffer.from(out);
    }
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0 && ((bytes[i + 1] ?? 0) & 0x80) === 0) i++;
    bytes = bytes.subarray(i);
    if (bytes.length === 0) bytes = Buffer.from([0]);
    if (((bytes[0] ?? 0) & 0x80) !== 0) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return tlv(0x02, bytes);
  },
  oid(dotted: string): Buffer {
    const arcs = dotted.split('.').map((a) => BigInt(a));
    const [a0, a1, ...rest] = arcs;
    if (a0 === undefined || a1 === undefined) throw new RangeError(`bad OID ${dotted}`);
    const out: number[] = [];
    for (const arc of [a0 * 40n + a1, ...rest]) {
      const groups: number[] = [Number(arc & 0x7fn)];
      for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
      out.push(...groups);
    }
    return tlv(0x06, Buffer.from(out));
  },
  null: (): Buffer => Buffer.from([0x05, 0x00]),
  bitString: (bytes: Buffer, unusedBits = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes])),
  octetString: (bytes: Buffer): Buffer => tlv(0x04, bytes),
  utf8: (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8')),
  printable: (s: string): Buffer => tlv(0x13, Buffer.from(s, 'latin1')),
  ia5: (s: string): Buffer => tlv(0x16, Buffer.from(s, 'latin1')),
  utcTime: (d: Date): Buffer => tlv(0x17, Buffer.from(timeText(d).slice(2), 'latin1')),
  generalizedTime: (d: Date): Buffer => tlv(0x18, Buffer.from(timeText(d), 'latin1')),
  /** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
  time: (d: Date): Buffer => (d.getUTCFullYear() >= 1950 && d.getUTCFullYear() < 2050 ? der.utcTime(d) : der.generalizedTime(d)),
  /** Context-specific tag [n]: constructed (EXPLICIT or IMPLICIT over a constructed type) by default. */
  context: (n: number, content: Buffer, constructed = true): Buffer => tlv((constructed ? 0xa0 : 0x80) | n, content),
};

function timeText(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

// ------------------------------------------------------------------------------------- certificates

export const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  country: '2.5.4.6',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  tnAuthList: '1.3.6.1.5.5.7.1.26',
} as const;

export type TnEntrySpec = { spc: string } | { range: { start: string; count: number } } | { tn: string };

/** DER of a TNAuthorizationList (RFC 8226 §9, EXPLICIT tags as in its ASN.1 module). */
export function encodeTnAuthList(entries: readonly TnEntrySpec[]): Buffer {
  return der.sequence(
    ...entries.map((e) => {
      if ('spc' in e) return der.context(0, der.ia5(e.spc));
      if ('range' in e) return der.context(1, der.sequence(der.ia5(e.range.start), der.integer(e.range.count)));
      return der.context(2, der.ia5(e.tn));
    }),
  );
}

export interface NameSpec {
  cn: string;
  o?: string;
  c?: string;
}

function encodeName(n: NameSpec): Buffer {
  const rdn = (oid: string, value: Buffer): Buffer => der.set(der.sequence(der.oid(oid), value));
  return der.sequence(
    ...(n.c ? [rdn(OID.country, der.printable(n.c))] : []),
    ...(n.o ? [rdn(OID.organization, der.utf8(n.o))] : []),
    rdn(OID.commonName, der.utf8(n.cn)),
  );
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING content. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // For EC keys the SPKI is SEQUENCE { AlgorithmIdentifier, BIT STRING }; the key bits are its tail.
  const point = publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? spki.subarray(spki.length - 65) : spki;
  return createHash('sha1').update(point).digest();
}

export interface CertSpec {
  subject: NameSpec;
  publicKey: KeyObject;
  /** Issuer name and signing key; omit for a self-signed certificate (then `signingKey` is required). */
  issuer?: { name: NameSpec; key: KeyObject; publicKey: KeyObject };
  signingKey?: KeyObject;
  serial?: bigint | number;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  pathLen?: number;
  /** TNAuthList entries; omit for no TNAuthList extension. */
  tnAuthList?: readonly TnEntrySpec[];
}

export interface BuiltCert {
  der: Buffer;
  pem: string;
  x509: X509Certificate;
}

/** Builds and signs (ecdsa-with-SHA256, DER signature) an X.509 v3 certificate. */
export function buildCertificate(spec: CertSpec): BuiltCert {
  const issuerName = spec.issuer?.name ?? spec.subject;
  const signer = spec.issuer?.key ?? spec.signingKey;
  if (!signer) throw new Error('buildCertificate: issuer or signingKey required');
  const issuerPublic = spec.issuer?.publicKey ?? spec.publicKey;
  const sigAlg = der.sequence(der.oid(OID.ecdsaWithSha256));
  const exts: Buffer[] = [
    extension(
      OID.basicConstraints,
      true,
      spec.ca ? der.sequence(der.boolean(true), ...(spec.pathLen !== undefined ? [der.integer(spec.pathLen)] : [])) : der.sequence(),
    ),
    // digitalSignature (bit 0) for leaves; keyCertSign + cRLSign (bits 5, 6) for CAs.
    extension(OID.keyUsage, true, spec.ca ? der.bitString(Buffer.from([0x06]), 1) : der.bitString(Buffer.from([0x80]), 7)),
    extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdentifier(spec.publicKey))),
    extension(OID.authorityKeyIdentifier, false, der.sequence(der.context(0, keyIdentifier(issuerPublic), false))),
    ...(spec.tnAuthList ? [extension(OID.tnAuthList, false, encodeTnAuthList(spec.tnAuthList))] : []),
  ];
  const tbs = der.sequence(
    der.context(0, der.integer(2)),
    der.integer(spec.serial ?? BigInt(`0x${createHash('sha256').update(spec.subject.cn).digest('hex').slice(0, 30)}`)),
    sigAlg,
    encodeName(issuerName),
    der.sequence(der.time(spec.notBefore), der.time(spec.notAfter)),
    encodeName(spec.subject),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    der.context(3, der.sequence(...exts)),
  );
  const signature = sign('sha256', tbs, signer); // DER-encoded ECDSA-Sig-Value, as X.509 requires
  const certDer = der.sequence(tbs, sigAlg, der.bitString(signature));
  const pem = toPem(certDer);
  return { der: certDer, pem, x509: new X509Certificate(certDer) };
}

export function toPem(certDer: Buffer): string {
  const b64 = certDer.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

export type Curve = 'prime256v1' | 'secp384r1';

export function ecKeyPair(curve: Curve = 'prime256v1'): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: curve });
}

export interface Party {
  name: NameSpec;
  privateKey: KeyObject;
  publicKey: KeyObject;
  cert: BuiltCert;
}

export interface Window {
  notBefore: Date;
  notAfter: Date;
}

export interface PkiOptions {
  /** Reference time for default validity windows (not the wall clock unless you pass it). */
  now: Date;
  root?: Partial<Window> & { cn?: string };
  intermediate?: Partial<Window> & { cn?: string };
  leaf?: Partial<Window> & { cn?: string; curve?: Curve; tnAuthList?: readonly TnEntrySpec[] | null };
}

export interface Pki {
  root: Party;
  intermediate: Party;
  leaf: Party;
  /** Leaf then intermediate, PEM: what an x5u URL serves. */
  chainPem: string;
}

const DAY = 86_400_000;

/** Root CA → intermediate CA → leaf (EC P-256 by default, TNAuthList with SPC "1234" by default). */
export function makePki(opts: PkiOptions): Pki {
  const t = opts.now.getTime();
  const win = (w: Partial<Window> | undefined, before: number, after: number): Window => ({
    notBefore: w?.notBefore ?? new Date(t - before),
    notAfter: w?.notAfter ?? new Date(t + after),
  });
  const rootKeys = ecKeyPair();
  const rootName: NameSpec = { cn: opts.root?.cn ?? 'Spoofwatch Test Root CA', o: 'spoofwatch tests', c: 'NL' };
  const rootCert = buildCertificate({
    subject: rootName,
    publicKey: rootKeys.publicKey,
    signingKey: rootKeys.privateKey,
    ...win(opts.root, 3650 * DAY, 3650 * DAY),
    ca: true,
    serial: 1,
  });
  const root: Party = { name: rootName, ...rootKeys, cert: rootCert };

  const intKeys = ecKeyPair();
  const intName: NameSpec = { cn: opts.intermediate?.cn ?? 'Spoofwatch Test Intermediate CA', o: 'spoofwatch tests', c: 'NL' };
  const intCert = buildCertificate({
    subject: intName,
    publicKey: intKeys.publicKey,
    issuer: { name: rootName, key: rootKeys.privateKey, publicKey: rootKeys.publicKey },
    ...win(opts.intermediate, 365 * DAY, 365 * DAY),
    ca: true,
    pathLen: 0,
    serial: 2,
  });
  const intermediate: Party = { name: intName, ...intKeys, cert: intCert };

  const leafKeys = ecKeyPair(opts.leaf?.curve ?? 'prime256v1');
  const leafName: NameSpec = { cn: opts.leaf?.cn ?? 'SHAKEN 1234', o: 'spoofwatch tests', c: 'NL' };
  const tn = opts.leaf?.tnAuthList === undefined ? [{ spc: '1234' }] : opts.leaf.tnAuthList;
  const leafCert = buildCertificate({
    subject: leafName,
    publicKey: leafKeys.publicKey,
    issuer: { name: intName, key: intKeys.privateKey, publicKey: intKeys.publicKey },
    ...win(opts.leaf, 30 * DAY, 30 * DAY),
    ca: false,
    serial: 3,
    ...(tn ? { tnAuthList: tn } : {}),
  });
  const leaf: Party = { name: leafName, ...leafKeys, cert: leafCert };
  return { root, intermediate, leaf, chainPem: leafCert.pem + intCert.pem };
}

// ----------------------------------------------------------------------------------------- PASSporT

export interface PassportClaimsSpec {
  attest?: 'A' | 'B' | 'C';
  orig: { tn: string };
  dest: { tn: string[] };
  iat: number;
  origid?: string;
  div?: { tn: string };
  [extra: string]: unknown;
}

/** Signs a PASSporT (RFC 8225) with ES256 (r||s signature, RFC 7518 §3.4) and returns the compact JWS. */
export function signPassport(
  claims: PassportClaimsSpec,
  key: KeyObject,
  x5u: string,
  ppt: 'shaken' | 'div' | 'rcd' = 'shaken',
  headerOverrides: Record<string, unknown> = {},
): string {
  const header = { alg: 'ES256', ppt, typ: 'passport', x5u, ...headerOverrides };
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o), 'utf8').toString('base64url');
  const signingInput = `${enc(header)}.${enc(claims)}`;
  const sig = sign('sha256', Buffer.from(signingInput, 'ascii'), { key, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${sig.toString('base64url')}`;
}

/** An Identity header value (RFC 8224 §4.1) for a token. */
export function identityHeader(token: string, x5u: string, ppt: 'shaken' | 'div' | 'rcd' = 'shaken'): string {
  return `${token};info=<${x5u}>;alg=ES256;ppt=${ppt}`;
}

// ------------------------------------------------------------------------------- certificate cache

/**
 * Writes a certificate cache folder in the layout CertCache reads (src/identity/shaken/README.md):
 * `index` entries as `chain-N.pem` listed in index.json, `hashed` entries as `<sha256(url) hex>.pem`,
 * `extraFiles` verbatim. The folder must exist.
 */
export function writeCertCacheFolder(
  dir: string,
  opts: { index?: Record<string, string>; hashed?: Record<string, string>; extraFiles?: Record<string, string> },
): void {
  const index: Record<string, string> = {};
  let n = 0;
  for (const [url, pem] of Object.entries(opts.index ?? {})) {
    const file = `chain-${++n}.pem`;
    writeFileSync(join(dir, file), pem);
    index[url] = file;
  }
  if (opts.index) writeFileSync(join(dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  for (const [url, pem] of Object.entries(opts.hashed ?? {})) writeFileSync(join(dir, `${cacheKeyOf(url)}.pem`), pem);
  for (const [file, text] of Object.entries(opts.extraFiles ?? {})) writeFileSync(join(dir, file), text);
}
