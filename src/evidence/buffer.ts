/**
 * Evidence (issue #6): the SIP messages of each call, kept so that an alert can be checked — raw bytes, frame
 * numbers, capture times and addresses. Every call is buffered while it is active (an alert may come from its first
 * message, and the ladder needs the rest); calls that raised an alert are pinned, others are evicted oldest first
 * when the byte or call bound is reached. Raw bytes are copied: the pipeline's buffers are slices of capture chunks.
 */
import type { Endpoint, Timestamp } from '../types.js';
import { InsertionRing } from '../util/insertion-ring.js';

export interface EvidenceMessage {
  readonly frame: number;
  readonly ts: Timestamp;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly transport: string;
  readonly raw: Buffer;
}

export interface EvidenceLimits {
  /** Bytes of unpinned (not alerted) calls kept. */
  readonly maxBytes: number;
  /** Bytes of pinned (alerted) calls kept; beyond it the oldest pinned call is dropped. */
  readonly maxPinnedBytes: number;
  readonly maxMessagesPerCall: number;
}

export const DEFAULT_EVIDENCE_LIMITS: EvidenceLimits = {
  maxBytes: 32 * 1024 * 1024,
  maxPinnedBytes: 64 * 1024 * 1024,
  maxMessagesPerCall: 100,
};

interface Entry {
  messages: EvidenceMessage[];
  bytes: number;
  pinned: boolean;
  truncated: boolean;
  /** Insertion number in the ring of its map (open or pinned). */
  seq: number;
}

export class EvidenceBuffer {
  /**
   * Unpinned calls in the order of their first message. (Recency order — a delete + set per message — cost more
   * than the rest of the buffering; an alert pins its call at once, and most alerts come from the first message.)
   */
  private readonly open = new Map<string, Entry>();
  /** Pinned calls in pin order. */
  private readonly pinned = new Map<string, Entry>();
  /** Eviction order of each map (a Map front-walk after many deletions is not O(1): see InsertionRing). */
  private readonly openOrder = new InsertionRing();
  private readonly pinnedOrder = new InsertionRing();
  private readonly isOpen = (id: string, seq: number): boolean => this.open.get(id)?.seq === seq;
  private readonly isPinned = (id: string, seq: number): boolean => this.pinned.get(id)?.seq === seq;
  private readonly openEntries = (): [string, number][] => [...this.open].map(([k, e]) => [k, e.seq]);
  private readonly pinnedEntries = (): [string, number][] => [...this.pinned].map(([k, e]) => [k, e.seq]);
  private openBytes = 0;
  private pinnedBytes = 0;
  readonly stats = { messages: 0, evictedCalls: 0, droppedPinnedCalls: 0, truncatedCalls: 0 };

  constructor(private readonly limits: EvidenceLimits = DEFAULT_EVIDENCE_LIMITS) {}

  /** Buffer one message of `callId`; returns whether the call already had an entry. */
  add(callId: string, m: Omit<EvidenceMessage, 'raw'> & { readonly raw: Buffer }): boolean {
    this.stats.messages++;
    let e = this.pinned.get(callId);
    const isPinned = e !== undefined;
    let had = isPinned;
    if (!e) {
      e = this.open.get(callId);
      had = e !== undefined;
      if (!e) {
        e = { messages: [], bytes: 0, pinned: false, truncated: false, seq: this.openOrder.add(callId) };
        this.open.set(callId, e);
      }
    }
    if (e.messages.length >= this.limits.maxMessagesPerCall) {
      if (!e.truncated) this.stats.truncatedCalls++;
      e.truncated = true;
      return had;
    }
    const raw = Buffer.from(m.raw); // copy: the source buffer is a slice of a larger chunk
    e.messages.push({ frame: m.frame, ts: m.ts, src: m.src, dst: m.dst, transport: m.transport, raw });
    e.bytes += raw.length;
    if (isPinned) {
      this.pinnedBytes += raw.length;
      this.trimPinned();
    } else {
      this.openBytes += raw.length;
      this.trimOpen(callId);
    }
    return had;
  }

  /** Keep this call's messages (it raised an alert). */
  pin(callId: string): void {
    const e = this.open.get(callId);
    if (!e) return;
    this.open.delete(callId);
    this.openBytes -= e.bytes;
    e.pinned = true;
    e.seq = this.pinnedOrder.add(callId);
    this.pinned.set(callId, e);
    this.pinnedBytes += e.bytes;
    this.trimPinned();
  }

  get(callId: string): readonly EvidenceMessage[] | undefined {
    return (this.pinned.get(callId) ?? this.open.get(callId))?.messages;
  }

  /** Forget a call (e.g. after its evidence was persisted). */
  release(callId: string): void {
    const p = this.pinned.get(callId);
    if (p) {
      this.pinned.delete(callId);
      this.pinnedBytes -= p.bytes;
    }
    const o = this.open.get(callId);
    if (o) {
      this.open.delete(callId);
      this.openBytes -= o.bytes;
    }
  }

  get bytes(): { open: number; pinned: number } {
    return { open: this.openBytes, pinned: this.pinnedBytes };
  }

  private trimOpen(keep: string): void {
    while (this.openBytes > this.limits.maxBytes) {
      const oldest = this.openOrder.peek(this.isOpen);
      if (oldest === undefined || oldest === keep) break;
      this.openOrder.shift();
      const e = this.open.get(oldest)!;
      this.open.delete(oldest);
      this.openBytes -= e.bytes;
      this.stats.evictedCalls++;
    }
    this.openOrder.compact(this.open.size, this.openEntries);
  }

  private trimPinned(): void {
    while (this.pinnedBytes > this.limits.maxPinnedBytes && this.pinned.size > 1) {
      const oldest = this.pinnedOrder.peek(this.isPinned);
      if (oldest === undefined) break;
      this.pinnedOrder.shift();
      const e = this.pinned.get(oldest)!;
      this.pinned.delete(oldest);
      this.pinnedBytes -= e.bytes;
      this.stats.droppedPinnedCalls++;
    }
    this.pinnedOrder.compact(this.pinned.size, this.pinnedEntries);
  }
}
