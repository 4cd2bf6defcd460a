/** The NDJSON shape of one SIP message for `spoofwatch messages` (issue #2; checked against tshark). */
import type { SipEvent } from '../pipeline/ingest.js';
import { messageAnomalies } from '../sip/message.js';
import type { Invalid, NameAddr } from '../sip/model.js';
import { userOf } from '../sip/uri.js';
import { tsString, type Endpoint } from '../types.js';

export function endpointText(e: Endpoint): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

interface AddrJson {
  display?: string;
  uri: string;
  user?: string;
  tag?: string;
  invalid?: string;
}

function addr(na: NameAddr | Invalid | undefined, withTag: boolean): AddrJson | undefined {
  if (!na) return undefined;
  if (na.kind === 'invalid') return { uri: na.raw, invalid: na.reason };
  // The user part as written (with telephone-subscriber params such as ;verstat=), as Wireshark shows it.
  const user = na.uri.kind === 'sip' ? na.uri.user : userOf(na.uri);
  return {
    ...(na.display !== undefined ? { display: na.display } : {}),
    uri: na.uri.raw,
    ...(user !== undefined ? { user } : {}),
    ...(withTag && na.tag !== undefined ? { tag: na.tag } : {}),
  };
}

export function messageJson(e: SipEvent, file?: string): Record<string, unknown> {
  const { msg, meta } = e;
  const cseq = msg.cseq && msg.cseq.kind === 'cseq' ? { seq: msg.cseq.seq, method: msg.cseq.method } : undefined;
  const rpid = msg.rpid[0];
  const anomalies = messageAnomalies(msg);
  return {
    ...(file !== undefined ? { file } : {}),
    frame: meta.frame,
    ts: tsString(meta.ts),
    src: endpointText(meta.src),
    dst: endpointText(meta.dst),
    transport: meta.transport,
    kind: msg.kind,
    ...(msg.kind === 'request' ? { method: msg.method } : { status: msg.status }),
    callId: msg.callId ?? null,
    cseq: cseq ?? null,
    from: addr(msg.from, true) ?? null,
    to: addr(msg.to, true) ?? null,
    pai: msg.pai.map((p) => addr(p, false)),
    ...(rpid ? { rpid: rpid.raw } : {}),
    ...(msg.identity.length > 0 ? { identity: true } : {}),
    ...(msg.userAgent !== undefined ? { userAgent: msg.userAgent } : {}),
    ...(anomalies.length > 0 ? { anomalies: anomalies.map((a) => ({ kind: a.kind, detail: a.detail })) } : {}),
  };
}
