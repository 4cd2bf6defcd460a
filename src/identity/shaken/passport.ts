/**
 * PASSporT decoding (RFC 8225; SHAKEN extension RFC 8588; div extension RFC 8946; rcd, the STIR Rich Call Data
 * extension, draft-ietf-stir-passport-rcd: `rcd.nam` caller name, `rcdi` integrity digests). Decoding checks
 * structure and types only; the signature, certificate and freshness are checked by the verifier.
 */

export type Attestation = 'A' | 'B' | 'C';
export type PassportType = 'shaken' | 'div' | 'rcd';

/** Protected JWS header of a PASSporT (RFC 8225 §4). */
export interface PassportHeader {
  readonly alg: 'ES256';
  readonly typ: 'passport';
  readonly ppt: PassportType;
  readonly x5u: string;
}

interface BaseClaims {
  readonly orig: { readonly tn: string };
  readonly dest: { readonly tn: readonly string[] };
  /** Seconds since the epoch. */
  readonly iat: number;
}

/** SHAKEN claims (RFC 8588 §4): attestation and origination id are mandatory. */
export interface ShakenClaims extends BaseClaims {
  readonly attest: Attestation;
  readonly origid: string;
}

/** div claims (RFC 8946 §3): `div.tn` is the number the call was first addressed to (the diverting party). */
export interface DivClaims extends BaseClaims {
  readonly div: { readonly tn: string };
  readonly attest?: Attestation;
  readonly origid?: string;
}

/** Longest `rcd.nam` accepted (characters); the draft sets no limit, a display shows far fewer. */
export const RCD_NAME_MAX = 256;

/** rcd claims (draft-ietf-stir-passport-rcd §5, §6): the signed caller name and the digests of rcd content. */
export interface RcdClaims extends BaseClaims {
  /** The whole `rcd` object as signed (rcdi pointers resolve inside it). */
  readonly rcd: Readonly<Record<string, unknown>> & { readonly nam: string };
  /** JSON pointer (`/nam`, `/icn` …) → integrity string `sha256-<base64>`. */
  readonly rcdi?: Readonly<Record<string, string>>;
  readonly attest?: Attestation;
  readonly origid?: string;
}

interface DecodedBase {
  readonly kind: 'ok';
  /** `base64url(header) "." base64url(payload)`: the bytes the signature covers. */
  readonly signingInput: string;
  /** base64url of the 64-byte r||s ES256 signature. */
  readonly signature: string;
}

export type DecodedPassport =
  | (DecodedBase & { readonly ppt: 'shaken'; readonly header: PassportHeader & { readonly ppt: 'shaken' }; readonly claims: ShakenClaims })
  | (DecodedBase & { readonly ppt: 'div'; readonly header: PassportHeader & { readonly ppt: 'div' }; readonly claims: DivClaims })
  | (DecodedBase & { readonly ppt: 'rcd'; readonly header: PassportHeader & { readonly ppt: 'rcd' }; readonly claims: RcdClaims });

export type PassportDecode = DecodedPassport | { readonly kind: 'invalid'; readonly reason: string };

const B64URL_RE = /^[A-Za-z0-9_-]+$/;
const TN_RE = /^\+?[0-9*#]{1,20}$/;

type Json = Record<string, unknown>;

/** Splits and decodes a compact-form PASSporT. Never throws. */
export function decodePassport(token: string): PassportDecode {
  const parts = token.split('.');
  if (parts.length !== 3) return invalid('token is not a compact JWS (three dot-separated parts)');
  const [h, p, s] = parts as [string, string, string];
  if (p === '') return invalid('token omits its claims (RFC 8224 compact form is not supported)');
  if (!B64URL_RE.test(h) || !B64URL_RE.test(p) || !B64URL_RE.test(s)) return invalid('token part is not base64url');
  if (Buffer.from(s, 'base64url').length !== 64) return invalid('ES256 signature is not 64 bytes (r||s)');
  const header = parseJsonObject(h);
  if (!header) return invalid('JWS header is not a JSON object');
  const claims = parseJsonObject(p);
  if (!claims) return invalid('PASSporT claims are not a JSON object');

  if (header['alg'] !== 'ES256') return invalid(`JWS alg is ${describe(header['alg'])}, not ES256`);
  if (header['typ'] !== 'passport') return invalid(`JWS typ is ${describe(header['typ'])}, not passport`);
  const ppt = header['ppt'];
  if (ppt !== 'shaken' && ppt !== 'div' && ppt !== 'rcd') return invalid(`JWS ppt is ${describe(ppt)}, not shaken, div or rcd`);
  const x5u = header['x5u'];
  if (typeof x5u !== 'string' || x5u === '') return invalid('JWS header has no x5u');

  const orig = claims['orig'];
  if (!isObject(orig) || typeof orig['tn'] !== 'string' || !TN_RE.test(orig['tn'])) return invalid('claim orig.tn missing or malformed');
  const dest = claims['dest'];
  if (!isObject(dest) || !Array.isArray(dest['tn']) || dest['tn'].length === 0) return invalid('claim dest.tn missing or empty');
  const destTn: string[] = [];
  for (const tn of dest['tn'] as unknown[]) {
    if (typeof tn !== 'string' || !TN_RE.test(tn)) return invalid('claim dest.tn has a malformed number');
    destTn.push(tn);
  }
  const iat = claims['iat'];
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat) || iat < 0) return invalid('claim iat missing or not an integer');
  const attest = claims['attest'];
  if (attest !== undefined && attest !== 'A' && attest !== 'B' && attest !== 'C') return invalid(`claim attest is ${describe(attest)}, not A, B or C`);
  const origid = claims['origid'];
  if (origid !== undefined && (typeof origid !== 'string' || origid === '')) return invalid('claim origid is not a string');

  const base = { kind: 'ok' as const, signingInput: `${h}.${p}`, signature: s };
  const common = { orig: { tn: orig['tn'] }, dest: { tn: destTn }, iat };
  if (ppt === 'shaken') {
    if (attest === undefined) return invalid('claim attest missing');
    if (origid === undefined) return invalid('claim origid missing');
    return { ...base, ppt, header: { alg: 'ES256', typ: 'passport', ppt, x5u }, claims: { ...common, attest, origid } };
  }
  if (ppt === 'rcd') {
    const rcd = claims['rcd'];
    if (!isObject(rcd) || typeof rcd['nam'] !== 'string') return invalid('claim rcd.nam missing or not a string');
    const nam = rcd['nam'];
    if (nam.length > RCD_NAME_MAX) return invalid(`claim rcd.nam is longer than ${RCD_NAME_MAX} characters`);
    const rcdi = claims['rcdi'];
    let digests: Record<string, string> | undefined;
    if (rcdi !== undefined) {
      if (!isObject(rcdi)) return invalid('claim rcdi is not an object');
      digests = {};
      for (const [k, v] of Object.entries(rcdi)) {
        if (typeof v !== 'string' || !k.startsWith('/')) return invalid(`claim rcdi entry ${JSON.stringify(k).slice(0, 40)} is not a JSON pointer with a digest string`);
        digests[k] = v;
      }
    }
    return {
      ...base,
      ppt,
      header: { alg: 'ES256', typ: 'passport', ppt, x5u },
      claims: {
        ...common,
        rcd: { ...rcd, nam },
        ...(digests ? { rcdi: digests } : {}),
        ...(attest !== undefined ? { attest } : {}),
        ...(origid !== undefined ? { origid } : {}),
      },
    };
  }
  const div = claims['div'];
  if (!isObject(div) || typeof div['tn'] !== 'string' || !TN_RE.test(div['tn'])) return invalid('claim div.tn missing or malformed');
  return {
    ...base,
    ppt,
    header: { alg: 'ES256', typ: 'passport', ppt, x5u },
    claims: {
      ...common,
      div: { tn: div['tn'] },
      ...(attest !== undefined ? { attest } : {}),
      ...(origid !== undefined ? { origid } : {}),
    },
  };
}

function parseJsonObject(b64: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(b64, 'base64url').toString('utf8'));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return v === undefined ? 'missing' : JSON.stringify(v);
}

function invalid(reason: string): { kind: 'invalid'; reason: string } {
  return { kind: 'invalid', reason };
}
