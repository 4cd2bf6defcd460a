/**
 * JSON of `GET /api/alerts/:id` (issue #6), shared by the server (routes.ts) and the page (client/*.ts).
 * Types only: the browser build imports it with `import type`, so nothing of it reaches the page's JavaScript.
 */
import type { Alert } from '../alerts/alert.js';
import type { Incident } from '../incidents/incident.js';
import type { AlertCounts } from '../sinks/store.js';
import type { IncidentRate } from './incident-rate.js';
import type { EvidenceRouteJson } from '../evidence/buffer.js';

/** One SIP message of the alert's call, as it was captured. */
export interface EvidenceMessageJson {
  /** 0-based position in the call (capture order). */
  readonly index: number;
  /** Frame number within its source (what `alert.evidence[].frame` refers to). */
  readonly frame: number;
  /** Capture time, epoch seconds with 9 decimals (as tshark's frame.time_epoch). */
  readonly ts: string;
  /** Capture time, ISO 8601 with nanoseconds. */
  readonly time: string;
  /** `ip:port` (`[v6]:port` for IPv6). */
  readonly src: string;
  readonly dst: string;
  readonly transport: string;
  /**
   * The routes the message arrived by, first arrival first (issue #20): `"tap"` or a HEP agent
   * `{ feed, agent, captureId }`. The same message over several routes is one row with several routes; absent for
   * messages saved before routes were recorded.
   */
  readonly routes?: readonly EvidenceRouteJson[];
  readonly kind: 'request' | 'response' | 'unknown';
  readonly method?: string;
  readonly status?: number;
  readonly reason?: string;
  /** CSeq header value, e.g. `1 INVITE`. */
  readonly cseq?: string;
  /** What an arrow says: `INVITE`, `180 Ringing`. */
  readonly label: string;
  /** True when an evidence entry of the alert points at this frame. */
  readonly offending: boolean;
  /** The message as UTF-8 text (invalid bytes replaced); the pcap has the exact bytes. */
  readonly raw: string;
  readonly bytes: number;
}

export interface AlertDetailJson {
  readonly alert: Alert;
  /** Empty when the call's messages are no longer kept (pruned, or the alert predates the evidence store). */
  readonly messages: readonly EvidenceMessageJson[];
  /** Why `messages` is empty, when it is. */
  readonly missing?: string;
  /** Relative URL of the pcapng of these messages. */
  readonly pcap: string;
}

/** `GET /api/incidents` (issue #19); `next` is the `after` (or, with `order=newest`, the `before`) of the next page. */
export interface IncidentListJson {
  readonly incidents: readonly Incident[];
  readonly next?: number;
}

/** `GET /api/incidents/:id`: the incident and a page of its stored alerts (`next`: the `after` of the next page). */
export interface IncidentDetailJson {
  readonly incident: Incident;
  readonly alerts: readonly Alert[];
  readonly next?: number;
}

/** `GET /api/incidents/:id/rate`: stored alerts per capture-time bucket from firstSeen to lastSeen. */
export interface IncidentRateJson extends IncidentRate {
  readonly id: number;
  readonly count: number;
}

/** `GET /api/counts`. */
export type AlertCountsJson = AlertCounts;
