/**
 * The scale-out's wire contract (issue #22, DESIGN.md §3): the names every role agrees on in NATS JetStream.
 * Sensors, correlators, gateways and `spoofwatch cluster status` import these; nothing else names a stream,
 * subject, consumer or bucket. Server features relied on (nats-server 2.9.10): JetStream streams with R1–R5
 * replication, the `Nats-Msg-Id` duplicate window, durable pull consumers with one `filter_subject` each (2.9 has
 * no multi-filter consumers, hence one consumer per shard), KV buckets and the object store.
 */
import { hash } from 'node:crypto';

/** The replicated, ordered alert log. Its stream sequence is the alert `seq` every gateway serves. */
export const ALERT_STREAM = 'SW_ALERTS';
/** Subject of one alert, by rule id (`sw.alert.CLI-MULTI-PEER`). */
export const alertSubject = (rule: string): string => `sw.alert.${rule}`;
export const ALERT_SUBJECTS = 'sw.alert.>';

/** Identity facts for the cross-call rules, one subject per correlation shard; kept for the longest window. */
export const FACT_STREAM = 'SW_FACTS';
export const factSubject = (shard: number): string => `sw.fact.${shard}`;
export const FACT_SUBJECTS = 'sw.fact.>';

/** Sightings: which sensors saw a call that raised an alert (KV key `<alertId>.<sensorId>`). */
export const SIGHTINGS_BUCKET = 'sw_sightings';
/** Evidence of an alert's call (the call's messages as pcapng), object name = alert id. */
export const EVIDENCE_BUCKET = 'sw_evidence';
/** Shard leases: key `shard.<n>` → correlator id. */
export const SHARDS_BUCKET = 'sw_shards';

/** Key of a shard's lease in SHARDS_BUCKET; its value is the owning correlator's id. */
export const shardLeaseKey = (shard: number): string => `shard.${shard}`;

/** Durable consumer of one shard's facts, shared by whichever correlator owns the shard. */
export const shardConsumer = (shard: number): string => `sw_corr_${shard}`;

/** The shard of a window key (a CLI in E.164, a SHAKEN replay key): FNV-1a 32-bit modulo `shards`. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/**
 * JetStream message id of an alert: the same (Call-ID, rule) from any sensor or a replaying correlator is one
 * message within the stream's duplicate window.
 */
export const alertMsgId = (alertId: string): string => `a:${alertId}`;

/** JetStream message id of a fact: one per (Call-ID, shard), whichever sensors saw the call. */
export const factMsgId = (callId: string, shard: number): string => `f:${hash('sha256', `${callId}\0${shard}`, 'hex').slice(0, 24)}`;
