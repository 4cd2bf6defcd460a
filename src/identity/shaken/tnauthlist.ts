/**
 * TNAuthList certificate extension (RFC 8226 §9, OID 1.3.6.1.5.5.7.1.26) and a walker that finds any
 * extension in a certificate's DER (RFC 5280 §4.1: Certificate → tbsCertificate → [3] extensions).
 * node's X509Certificate does not expose arbitrary extensions, so we read the DER ourselves.
 *
 * ```
 * TNAuthorizationList ::= SEQUENCE SIZE (1..MAX) OF TNEntry
 * TNEntry ::= CHOICE { spc [0] ServiceProviderCode, range [1] TelephoneNumberRange, one [2] TelephoneNumber }
 * ServiceProviderCode ::= IA5String
 * TelephoneNumberRange ::= SEQUENCE { start TelephoneNumber, count INTEGER (2..MAX), ... }
 * TelephoneNumber ::= IA5String (SIZE (1..15)) (FROM ("0123456789#*"))
 * ```
 * The RFC 8226 module uses EXPLICIT tags (what SHAKEN certificates carry); IMPLICIT-tagged entries, which
 * some CAs have issued, are accepted too.
 */
import { childrenOf, contentOf, decodeOid, decodeUnsigned, DerTag, readSingle, readTlv, type DerResult, type Tlv } from './der.js';

export const TN_AUTH_LIST_OID = '1.3.6.1.5.5.7.1.26';

export type TnAuthEntry =
  | { readonly type: 'spc'; readonly spc: string }
  | { readonly type: 'range'; readonly start: string; readonly count: number }
  | { readonly type: 'tn'; readonly tn: string };

export interface CertExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING's content: the DER of the extension's own value. */
  readonly value: Buffer;
}

const TN_RE = /^[0-9#*]{1,15}$/;
const SPC_RE = /^[\x21-\x7e]{1,64}$/;

/** Every extension of a DER certificate, in order (empty for a v1 certificate). */
export function certificateExtensions(certDer: Buffer): DerResult<CertExtension[]> {
  const cert = readSingle(certDer, DerTag.SEQUENCE);
  if (cert.kind === 'invalid') return cert;
  const certParts = childrenOf(certDer, cert.value);
  if (certParts.kind === 'invalid') return certParts;
  const tbs = certParts.value[0];
  if (!tbs || tbs.tag !== DerTag.SEQUENCE) return { kind: 'invalid', reason: 'certificate has no tbsCertificate' };
  const tbsParts = childrenOf(certDer, tbs);
  if (tbsParts.kind === 'invalid') return tbsParts;
  const wrapper = tbsParts.value.find((t) => t.tag === 0xa3);
  if (!wrapper) return { kind: 'ok', value: [] };
  const list = readTlv(certDer, wrapper.contentStart, wrapper.end);
  if (list.kind === 'invalid') return list;
  if (list.value.tag !== DerTag.SEQUENCE || list.value.end !== wrapper.end) {
    return { kind: 'invalid', reason: 'extensions are not a single SEQUENCE' };
  }
  const exts = childrenOf(certDer, list.value);
  if (exts.kind === 'invalid') return exts;
  const out: CertExtension[] = [];
  for (const ext of exts.value) {
    if (ext.tag !== DerTag.SEQUENCE) return { kind: 'invalid', reason: 'extension is not a SEQUENCE' };
    const parts = childrenOf(certDer, ext);
    if (parts.kind === 'invalid') return parts;
    const [idTlv, second, third] = parts.value;
    if (!idTlv || idTlv.tag !== DerTag.OID) return { kind: 'invalid', reason: 'extension without extnID' };
    const oid = decodeOid(contentOf(certDer, idTlv));
    if (oid.kind === 'invalid') return oid;
    let critical = false;
    let valueTlv: Tlv | undefined = second;
    if (second && second.tag === DerTag.BOOLEAN) {
      const c = contentOf(certDer, second);
      if (c.length !== 1) return { kind: 'invalid', reason: 'malformed critical flag' };
      critical = c.readUInt8(0) !== 0;
      valueTlv = third;
    } else if (third) return { kind: 'invalid', reason: 'extension with unexpected fields' };
    if (!valueTlv || valueTlv.tag !== DerTag.OCTET_STRING) {
      return { kind: 'invalid', reason: `extension ${oid.value} without extnValue` };
    }
    out.push({ oid: oid.value, critical, value: contentOf(certDer, valueTlv) });
  }
  return { kind: 'ok', value: out };
}

/** Decodes the DER value of a TNAuthList extension (the extnValue content). */
export function parseTnAuthList(der: Buffer): DerResult<TnAuthEntry[]> {
  const top = readSingle(der, DerTag.SEQUENCE);
  if (top.kind === 'invalid') return top;
  const items = childrenOf(der, top.value);
  if (items.kind === 'invalid') return items;
  if (items.value.length === 0) return { kind: 'invalid', reason: 'empty TNAuthList' };
  const entries: TnAuthEntry[] = [];
  for (const item of items.value) {
    const e = parseEntry(der, item);
    if (e.kind === 'invalid') return e;
    entries.push(e.value);
  }
  return { kind: 'ok', value: entries };
}

/** The TNAuthList of a DER certificate: its entries, `absent`, or invalid when present but undecodable. */
export function tnAuthListOf(
  certDer: Buffer,
): { readonly kind: 'ok'; readonly value: TnAuthEntry[] } | { readonly kind: 'absent' } | { readonly kind: 'invalid'; readonly reason: string } {
  const exts = certificateExtensions(certDer);
  if (exts.kind === 'invalid') return exts;
  const ext = exts.value.find((e) => e.oid === TN_AUTH_LIST_OID);
  if (!ext) return { kind: 'absent' };
  return parseTnAuthList(ext.value);
}

/**
 * Whether `tn` (digits, no '+') is authorised by the list: any SPC entry authorises every number
 * (SHAKEN delegates number checks to the service provider, ATIS-1000080); otherwise the number must be
 * one of the `tn` entries or inside a `range` of the same length (RFC 8226 §9).
 */
export function tnAuthorised(entries: readonly TnAuthEntry[], tn: string): boolean {
  for (const e of entries) {
    if (e.type === 'spc') return true;
    if (e.type === 'tn' && e.tn === tn) return true;
    if (e.type === 'range' && /^[0-9]+$/.test(tn) && /^[0-9]+$/.test(e.start) && tn.length === e.start.length) {
      const n = BigInt(tn);
      const s = BigInt(e.start);
      if (n >= s && n < s + BigInt(e.count)) return true;
    }
  }
  return false;
}

function parseEntry(der: Buffer, item: Tlv): DerResult<TnAuthEntry> {
  const number = item.tag & 0x1f;
  const cls = item.tag & 0xc0;
  if (cls !== 0x80) return { kind: 'invalid', reason: `TNEntry with non-context tag 0x${item.tag.toString(16)}` };
  const constructed = (item.tag & 0x20) !== 0;
  if (number === 0 || number === 2) {
    let text: string;
    if (constructed) {
      const inner = innerSingle(der, item);
      if (inner.kind === 'invalid') return inner;
      const s = stringOf(der, inner.value);
      if (s.kind === 'invalid') return s;
      text = s.value;
    } else text = contentOf(der, item).toString('latin1');
    if (number === 0) {
      if (!SPC_RE.test(text)) return { kind: 'invalid', reason: 'malformed service provider code' };
      return { kind: 'ok', value: { type: 'spc', spc: text } };
    }
    if (!TN_RE.test(text)) return { kind: 'invalid', reason: 'malformed telephone number' };
    return { kind: 'ok', value: { type: 'tn', tn: text } };
  }
  if (number === 1 && constructed) {
    let range: Tlv = item;
    const first = readTlv(der, item.contentStart, item.end);
    if (first.kind === 'invalid') return first;
    if (first.value.tag === DerTag.SEQUENCE) {
      // EXPLICIT: [1] wraps the SEQUENCE.
      if (first.value.end !== item.end) return { kind: 'invalid', reason: 'trailing bytes in range entry' };
      range = first.value;
    }
    const parts = childrenOf(der, range);
    if (parts.kind === 'invalid') return parts;
    const [startTlv, countTlv] = parts.value;
    if (!startTlv || !countTlv || countTlv.tag !== DerTag.INTEGER) {
      return { kind: 'invalid', reason: 'malformed telephone number range' };
    }
    const start = stringOf(der, startTlv);
    if (start.kind === 'invalid') return start;
    if (!TN_RE.test(start.value)) return { kind: 'invalid', reason: 'malformed range start' };
    const count = decodeUnsigned(contentOf(der, countTlv));
    if (count.kind === 'invalid') return count;
    if (count.value < 2) return { kind: 'invalid', reason: 'range count below 2' };
    return { kind: 'ok', value: { type: 'range', start: start.value, count: count.value } };
  }
  return { kind: 'invalid', reason: `unknown TNEntry tag 0x${item.tag.toString(16)}` };
}

function innerSingle(der: Buffer, outer: Tlv): DerResult<Tlv> {
  const inner = readTlv(der, outer.contentStart, outer.end);
  if (inner.kind === 'invalid') return inner;
  if (inner.value.end !== outer.end) return { kind: 'invalid', reason: 'trailing bytes in TNEntry' };
  return inner;
}

function stringOf(der: Buffer, tlv: Tlv): DerResult<string> {
  if (tlv.tag !== DerTag.IA5_STRING && tlv.tag !== DerTag.PRINTABLE_STRING && tlv.tag !== DerTag.UTF8_STRING) {
    return { kind: 'invalid', reason: `expected IA5String, found tag 0x${tlv.tag.toString(16)}` };
  }
  return { kind: 'ok', value: contentOf(der, tlv).toString('latin1') };
}
