/**
 * The Finding → Alert step (issue #18.5: outside the rules). The rule engine says which rule found what on which
 * call's facts; this makes the unnumbered Alert of schema version 1 (DESIGN.md §5; seq 0, the bus numbers it).
 */
import { hash } from 'node:crypto';
import { effectiveCli, numText, type CallFacts, type Finding, type Rule } from '../rules/types.js';
import type { Timestamp } from '../types.js';
import { ALERT_SCHEMA_VERSION, type Alert, type AlertCall, type AlertIdentity } from './alert.js';

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
  return buildAlert(rule, f, call, { ts: now.toISOString(), captureTs: captureIso(call.ts), src: addressText(call.src), dst: addressText(call.dst) });
}

/**
 * The two times of an alert as text, for a producer of many (the Analyzer): the capture time's date-and-seconds
 * part is reused while the capture clock stays in one second, and the wall time while the clock stays in one
 * millisecond (in an alert storm formatting both per alert was more than the rest of building it).
 */
export class AlertClock {
  private sec = NaN;
  private secIso = '';
  private wallMs = NaN;
  private wallIso = '';

  /** As {@link captureIso}. */
  capture(ts: Timestamp): string {
    if (ts.sec !== this.sec) {
      const d = new Date(ts.sec * 1000);
      if (Number.isNaN(d.getTime())) return captureIso(ts);
      this.secIso = d.toISOString().slice(0, 19);
      this.sec = ts.sec;
    }
    return `${this.secIso}.${String(ts.nsec).padStart(9, '0')}Z`;
  }

  /** `now.toISOString()`. */
  wall(now: Date): string {
    const ms = now.getTime();
    if (ms !== this.wallMs) {
      this.wallIso = now.toISOString();
      this.wallMs = ms;
    }
    return this.wallIso;
  }
}

/**
 * The unnumbered alerts of one message's findings, raised at `now`: as {@link alertOf} each, with the wall time and
 * the capture time written once for the message (an alert storm raises two alerts per call).
 */
export function alertsOf(
  found: readonly { readonly rule: Pick<Rule, 'id' | 'title'>; readonly finding: Finding }[],
  call: CallFacts,
  now: Date,
  clock: AlertClock,
): Alert[] {
  const texts: MessageTexts = { ts: clock.wall(now), captureTs: clock.capture(call.ts), src: addressText(call.src), dst: addressText(call.dst) };
  const out = new Array<Alert>(found.length);
  for (let i = 0; i < found.length; i++) out[i] = buildAlert(found[i]!.rule, found[i]!.finding, call, texts);
  return out;
}

/** What the alerts of one message share as text: the wall and capture times, the source and destination `ip:port`. */
interface MessageTexts {
  readonly ts: string;
  readonly captureTs: string;
  readonly src: string;
  readonly dst: string;
}

const addressText = (a: { readonly ip: string; readonly port: number }): string => `${a.ip}:${a.port}`;

/**
 * The alert with its message's texts already written. Optional fields are assigned in the schema's key order instead of
 * spread from conditional literals (each spread built and copied a throwaway object per alert); the JSON text is the
 * same, key order included.
 */
function buildAlert(rule: Pick<Rule, 'id' | 'title'>, f: Finding, call: CallFacts, texts: MessageTexts): Alert {
  const cli = effectiveCli(call);
  const presented = f.presented ?? cli?.identity;
  const num = presented ? presented.num : undefined;
  const s = call.shaken;
  const alertCall: AlertCall = {
    callId: call.callId,
    method: call.method,
    from: call.from?.raw ?? '',
    to: call.to?.raw ?? '',
    pai: call.pai.map(rawOf),
  };
  if (call.rpid) alertCall.rpid = call.rpid.raw;
  if (call.diversion.length) alertCall.diversion = call.diversion.map(rawOf);
  if (s.status !== 'none') {
    const identity = {} as AlertIdentity;
    if (s.attest) identity.attest = s.attest;
    if (s.origTn) identity.origTn = s.origTn;
    identity.destTn = [...(s.destTn ?? [])];
    identity.verified = s.status === 'passed';
    if (s.status === 'failed') identity.reason = `${s.code} ${s.reason}`;
    else if (s.note !== undefined) identity.reason = s.note;
    alertCall.identity = identity;
  }
  const header = presented?.header ?? 'From';
  const shown: Alert['presented'] = num && num.kind !== 'none' ? { number: numText(num), header } : { header };
  if (presented?.display) shown.displayName = presented.display;
  const { src, dst } = texts;
  const network: Alert['network'] = call.peer
    ? { src, dst, transport: call.transport, peer: call.peer.name, trust: call.peer.trust, origin: call.origin }
    : { src, dst, transport: call.transport, origin: call.origin };
  const agent = call.agent;
  if (agent) network.agent = agent.captureId !== undefined ? { address: agent.address, captureId: agent.captureId } : { address: agent.address };
  return {
    v: ALERT_SCHEMA_VERSION,
    seq: 0,
    id: alertId(call.callId, rule.id),
    ts: texts.ts,
    captureTs: texts.captureTs,
    rule: rule.id,
    severity: f.severity,
    title: rule.title,
    summary: f.summary,
    call: alertCall,
    presented: shown,
    network,
    reasons: f.reasons.slice(),
    evidence: f.evidence.slice(),
  };
}

const rawOf = (h: { readonly raw: string }): string => h.raw;
