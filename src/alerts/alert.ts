/** Alert schema version 1 (DESIGN.md §5). Field names are a public contract: do not rename. */

export const ALERT_SCHEMA_VERSION = 1 as const;

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Numeric rank of a severity, for comparisons (`info` = 0 … `critical` = 4). */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

export interface AlertIdentity {
  attest?: string;
  origTn?: string;
  destTn: string[];
  verified: boolean;
  reason?: string;
}

export interface AlertCall {
  callId: string;
  method: string;
  from: string;
  to: string;
  pai: string[];
  rpid?: string;
  diversion?: string[];
  identity?: AlertIdentity;
}

/** The HEP capture agent named in an alert's network evidence. */
export interface AlertAgent {
  /** `ip:port` the HEP packets came from. */
  address: string;
  /** HEP capture id (HEP v2 and v3; v1 has none). */
  captureId?: number;
}

export interface AlertEvidence {
  frame?: number;
  header: string;
  value: string;
}

export interface Alert {
  v: typeof ALERT_SCHEMA_VERSION;
  /** Monotonic sequence number assigned by the bus/store; 0 before publication. */
  seq: number;
  /** Stable id: `${callId}/${rule}` hashed; the same call and rule always give the same id. */
  id: string;
  /** Wall-clock time the alert was raised (ISO 8601). */
  ts: string;
  /** Capture time of the message that triggered it (ISO 8601 with sub-second digits). */
  captureTs: string;
  rule: string;
  severity: Severity;
  title: string;
  summary: string;
  call: AlertCall;
  presented: { number?: string; header: string; displayName?: string };
  network: {
    src: string;
    dst: string;
    transport: string;
    peer?: string;
    trust?: 'trusted' | 'untrusted';
    origin: string;
    /** For HEP input: the capture agent that reported the call (added in issue #16; absent otherwise). */
    agent?: AlertAgent;
    /** Scale-out (issue #22): the sensor that raised the alert, or whose fact a correlator raised it from. */
    sensor?: string;
    /** Scale-out: every sensor that saw the call (the gateway merges the sightings), sorted. */
    sensors?: string[];
  };
  reasons: string[];
  evidence: AlertEvidence[];
  /** A `suppress` entry of the config matched (issue #19): stored, not streamed, not grouped into incidents. */
  suppressed?: true;
  /** Its `threshold` count was not reached in the window yet (issue #19): stored, not streamed, not grouped. */
  belowThreshold?: true;
}

/** Whether an alert goes to live consumers (WebSocket, console, incidents): not suppressed, not below its threshold. */
export function isStreamed(a: Alert): boolean {
  return a.suppressed !== true && a.belowThreshold !== true;
}
