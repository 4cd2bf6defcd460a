/**
 * The Finding → Alert step (issue #18.5: outside the rules). The rule engine says which rule found what on which
 * call's facts; this makes the unnumbered Alert of schema version 1 (DESIGN.md §5; seq 0, the bus numbers it).
 */
import { hash } from 'node:crypto';
import { effectiveCli, numText, type CallFacts, type Finding, type Rule } from '../rules/types.js';
import type { Timestamp } from '../types.js';
import { ALERT_SCHEMA_VERSION, type Alert } from './alert.js';

/**
 * ISO 8601 with the capture clock's full precision, e.g. 2026-11-28T14:59:11.205327123Z. A capture time no Date
 * can hold (a pcapng `if_tsoffset` of 2^60 s, beyond ±8.64e12 s) reads `invalid time (<epoch seconds>)`: the
 * alert keeps the value as found instead of the whole report failing on "Invalid time value".
 */
export function captureIso(ts: Timestamp): string {
  const d = new Date(ts.sec * 1000);
  if (Number.isNaN(d.getTime())) return `invalid time (${ts.sec}.${String(ts.nsec).padStart(9, '0')} s)`;
  return `${d.toISOString().slice(0, 19)}.${String(ts.nsec).padStart(9, '0')}Z`; // …T14:59:11 + ns
}

/**
 * Stable alert id: the same (Call-ID, rule) always gives the same id (the first 20 hex digits of SHA-256 over
 * Call-ID, NUL, rule id). The one-shot `crypto.hash` gives the same digest as a Hash object at a third of the cost.
 */
export function alertId(callId: string, rule: string): string {
  return hash('sha256', `${callId}\0${rule}`, 'hex').slice(0, 20);
}

/** The unnumbered alert for `rule`'s finding `f` on the message whose facts are `call`, raised at `now`. */
export function alertOf(rule: Pick<Rule, 'id' | 'title'>, f: Finding, call: CallFacts, now: Date): Alert {
  const cli = effectiveCli(call);
  const presented = f.presented ?? cli?.identity;
  const num = presented ? presented.num : undefined;
  const s = call.shaken;
  return {
    v: ALERT_SCHEMA_VERSION,
    seq: 0,
    id: alertId(call.callId, rule.id),
    ts: now.toISOString(),
    captureTs: captureIso(call.ts),
    rule: rule.id,
    severity: f.severity,
    title: rule.title,
    summary: f.summary,
    call: {
      callId: call.callId,
      method: call.method,
      from: call.from?.raw ?? '',
      to: call.to?.raw ?? '',
      pai: call.pai.map((p) => p.raw),
      ...(call.rpid ? { rpid: call.rpid.raw } : {}),
      ...(call.diversion.length ? { diversion: call.diversion.map((d) => d.raw) } : {}),
      ...(s.status !== 'none'
        ? {
            identity: {
              ...(s.attest ? { attest: s.attest } : {}),
              ...(s.origTn ? { origTn: s.origTn } : {}),
              destTn: [...(s.destTn ?? [])],
              verified: s.status === 'passed',
              ...(s.status === 'failed' ? { reason: `${s.code} ${s.reason}` } : s.note !== undefined ? { reason: s.note } : {}),
            },
          }
        : {}),
    },
    presented: {
      ...(num && num.kind !== 'none' ? { number: numText(num) } : {}),
      header: presented?.header ?? 'From',
      ...(presented?.display ? { displayName: presented.display } : {}),
    },
    network: {
      src: `${call.src.ip}:${call.src.port}`,
      dst: `${call.dst.ip}:${call.dst.port}`,
      transport: call.transport,
      ...(call.peer ? { peer: call.peer.name, trust: call.peer.trust } : {}),
      origin: call.origin,
      ...(call.agent ? { agent: { address: call.agent.address, ...(call.agent.captureId !== undefined ? { captureId: call.agent.captureId } : {}) } } : {}),
    },
    reasons: [...f.reasons],
    evidence: [...f.evidence],
  };
}
