/**
 * Identity header field value (RFC 8224 §4.1):
 * `signed-identity-digest ;info=<absoluteURI> [;alg=token] [;ppt=token] *(;name=value)`.
 * Pure syntax: whether the parameters are acceptable is decided by the verifier.
 */

export interface IdentityHeader {
  /** The compact-form JWS (header.payload.signature). */
  readonly token: string;
  /** The `info` URI without its angle brackets. */
  readonly info?: string;
  readonly alg?: string;
  readonly ppt?: string;
  /** Other parameters, lower-cased names; a parameter without a value maps to ''. */
  readonly otherParams: Readonly<Record<string, string>>;
}

export type IdentityHeaderParse =
  | { readonly kind: 'ok'; readonly value: IdentityHeader }
  | { readonly kind: 'invalid'; readonly reason: string };

const TOKEN_RE = /^[A-Za-z0-9_\-.]+$/;
const PARAM_NAME_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
/** Longest Identity value we look at: PASSporTs are a few hundred bytes (MSG-MALFORMED caps headers too). */
export const MAX_IDENTITY_LENGTH = 8192;

/** Parses one Identity header value (RFC 8224 §4.1). Never throws. */
export function parseIdentityHeader(value: string): IdentityHeaderParse {
  if (value.length > MAX_IDENTITY_LENGTH) return { kind: 'invalid', reason: 'Identity header too long' };
  const text = value.trim();
  const semi = text.indexOf(';');
  const token = (semi < 0 ? text : text.slice(0, semi)).trim();
  if (token === '') return { kind: 'invalid', reason: 'Identity header without a token' };
  if (!TOKEN_RE.test(token)) return { kind: 'invalid', reason: 'Identity token has characters outside base64url and "."' };
  let info: string | undefined;
  let alg: string | undefined;
  let ppt: string | undefined;
  const otherParams: Record<string, string> = {};
  const seen = new Set<string>();
  let rest = semi < 0 ? '' : text.slice(semi + 1);
  while (semi >= 0) {
    rest = rest.trimStart();
    const eq = rest.search(/[=;]/);
    const name = (eq < 0 ? rest : rest.slice(0, eq)).trim().toLowerCase();
    if (name === '') return { kind: 'invalid', reason: 'empty Identity parameter' };
    if (!PARAM_NAME_RE.test(name)) return { kind: 'invalid', reason: `malformed Identity parameter name "${name}"` };
    if (seen.has(name)) return { kind: 'invalid', reason: `duplicate Identity parameter "${name}"` };
    seen.add(name);
    let paramValue = '';
    let next = '';
    let more = false;
    if (eq >= 0 && rest[eq] === '=') {
      const after = rest.slice(eq + 1).trimStart();
      let end: number;
      if (after.startsWith('<')) {
        const close = after.indexOf('>');
        if (close < 0) return { kind: 'invalid', reason: `unterminated <...> in parameter "${name}"` };
        paramValue = after.slice(0, close + 1);
        end = close + 1;
      } else if (after.startsWith('"')) {
        const close = after.indexOf('"', 1);
        if (close < 0) return { kind: 'invalid', reason: `unterminated quoted value in parameter "${name}"` };
        paramValue = after.slice(1, close);
        end = close + 1;
      } else {
        const s = after.indexOf(';');
        end = s < 0 ? after.length : s;
        paramValue = after.slice(0, end).trim();
        if (paramValue === '') return { kind: 'invalid', reason: `parameter "${name}" has an empty value` };
      }
      const tail = after.slice(end).trimStart();
      if (tail !== '' && !tail.startsWith(';')) return { kind: 'invalid', reason: `junk after parameter "${name}"` };
      more = tail.startsWith(';');
      next = more ? tail.slice(1) : '';
    } else if (eq >= 0) {
      more = true;
      next = rest.slice(eq + 1);
    }
    if (name === 'info') {
      if (!paramValue.startsWith('<') || !paramValue.endsWith('>')) {
        return { kind: 'invalid', reason: 'info parameter must be a URI in <>' };
      }
      info = paramValue.slice(1, -1).trim();
      if (info === '') return { kind: 'invalid', reason: 'empty info URI' };
    } else if (name === 'alg') alg = paramValue;
    else if (name === 'ppt') ppt = paramValue;
    else otherParams[name] = paramValue;
    if (!more) break;
    rest = next;
  }
  const header: IdentityHeader = { token, otherParams };
  return {
    kind: 'ok',
    value: {
      ...header,
      ...(info !== undefined ? { info } : {}),
      ...(alg !== undefined ? { alg } : {}),
      ...(ppt !== undefined ? { ppt } : {}),
    },
  };
}
