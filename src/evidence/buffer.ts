/**
 * Evidence (issue #6): the SIP messages of each call, kept so that an alert can be checked — raw bytes, frame
 * numbers, capture times and addresses. Every call is buffered while it is active (an alert may come from its first
 * message, and the ladder needs the rest); calls that raised an alert are pinned, others are evicted oldest first
 * when the byte or call bound is reached. Raw bytes are copied: the pipeline's buffers are slices of capture chunks.
 *
 * One message, one row (issue #20): the same SIP message received over several routes — HEP over UDP and over TCP,
 * two HEP agents, a tap and HEP — is kept once, with the list of routes it arrived by. Identical means the same
 * bytes of the SIP message between the same source and destination `ip:port`; the route is the HEP agent (address,
 * capture id, feed transport) or `tap` (everything not HEP: SIP listeners, captures, interfaces). A copy is merged
 * into the first earlier row with the same content that has not yet arrived by its route; a second copy over the
 * SAME route is a real retransmission (the UAC or a proxy sent it again) and stays a row of its own. Capture times
 * are not compared (two agents' clocks differ); the row keeps the frame, time and transport of its first arrival.
 *
 * The copies are one-byte (latin1) strings, which live in V8's heap, not Buffers: a Buffer's bytes are a malloc
 * chunk, and a flood's calls left glibc's heap fragmented by their freed 8 KB pool slabs once they expired (issue
 * #18: the daemon's heap and Buffer memory were back after a flood, RSS stayed 50–80 MB above, all of it in the
 * malloc heap). V8 gives its freed pages back. Reading a call back (an alert's evidence) makes Buffers again.
 */
import type { Endpoint, HepAgent, Timestamp } from '../types.js';
import { InsertionRing } from '../util/insertion-ring.js';

/** How a message reached spoofwatch: a HEP agent (address, capture id, feed transport), or `tap` (not HEP). */
export type EvidenceRoute = 'tap' | HepAgent;

/** A route as JSON (API, store): `"tap"` or `{ "feed": "udp", "agent": "10.0.0.5:41000", "captureId": 2001 }`. */
export type EvidenceRouteJson = 'tap' | { readonly feed?: 'udp' | 'tcp'; readonly agent: string; readonly captureId?: number };

export function routeJson(r: EvidenceRoute): EvidenceRouteJson {
  if (r === 'tap') return r;
  return { ...(r.feed !== undefined ? { feed: r.feed } : {}), agent: r.address, ...(r.captureId !== undefined ? { captureId: r.captureId } : {}) };
}

export function routeFromJson(j: EvidenceRouteJson): EvidenceRoute {
  if (j === 'tap') return j;
  return { address: j.agent, ...(j.captureId !== undefined ? { captureId: j.captureId } : {}), ...(j.feed !== undefined ? { feed: j.feed } : {}) };
}

/** `tap`, `hep/udp 10.0.0.5:41000 id 2001`: a route in one line (pcap comments). */
export function routeText(r: EvidenceRoute): string {
  return r === 'tap' ? 'tap' : `hep${r.feed ? `/${r.feed}` : ''} ${r.address}${r.captureId !== undefined ? ` id ${r.captureId}` : ''}`;
}

function sameRoute(a: EvidenceRoute, b: EvidenceRoute): boolean {
  return a === b || (a !== 'tap' && b !== 'tap' && a.address === b.address && a.captureId === b.captureId && a.feed === b.feed);
}

export interface EvidenceMessage {
  readonly frame: number;
  readonly ts: Timestamp;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly transport: string;
  readonly raw: Buffer;
  /** Every route the message arrived by, first arrival first (absent in rows stored before issue #20). */
  readonly routes?: readonly EvidenceRoute[];
}

export interface EvidenceLimits {
  /** Bytes held ({@link CALL_BYTES} and {@link heldBytes}) for unpinned (not alerted) calls. */
  readonly maxBytes: number;
  /** Bytes held for pinned (alerted) calls; beyond it the oldest pinned call is dropped. */
  readonly maxPinnedBytes: number;
  readonly maxMessagesPerCall: number;
}

export const DEFAULT_EVIDENCE_LIMITS: EvidenceLimits = {
  maxBytes: 32 * 1024 * 1024,
  maxPinnedBytes: 64 * 1024 * 1024,
  maxMessagesPerCall: 100,
};

/**
 * Numbers per message in Entry.meta: frame, ts.sec, ts.nsec, then src, dst, transport as Entry.names indexes, then
 * the first route as an Entry.routes index.
 */
const STRIDE = 7;
/**
 * A new call's meta array: room for 8 messages of doubles (ts.sec is beyond the small-integer range), made in one
 * allocation (pushing to an empty array reallocated it three times by the 7th message of a call).
 */
const META_RESERVED = 8;
const META_TEMPLATE: number[] = new Array<number>(STRIDE * META_RESERVED).fill(0.5);

/**
 * What a call holds before its messages' copies, as the bounds count it: its entry, the meta array reserved for
 * {@link META_RESERVED} messages, the arrays of copies and of names. The bounds count held bytes, not just the bytes
 * of the messages (issue #18: a flood of short calls must not hold several times the bound).
 */
export const CALL_BYTES = 64 + 16 + 8 * STRIDE * META_RESERVED + 2 * 32;

/**
 * What the `index`-th message (0-based) of a call, `length` bytes, adds: its copy (a one-byte string: a 16-byte
 * header and the bytes, in 8-byte steps), its place in the list of copies, and its numbers once past the reserved
 * meta array.
 */
export function heldBytes(length: number, index: number): number {
  return 16 + ((length + 7) & ~7) + 8 + (index >= META_RESERVED ? 8 * STRIDE : 0);
}

/**
 * One call's messages: each one's bytes as a string, the rest as numbers, the few distinct endpoints and transports
 * once. (An object, a Buffer, a timestamp and two endpoints per message made the buffer half of the daemon's live
 * heap objects at 20k msg/s, and every major GC walked them; strings have no fields to walk.)
 */
interface Entry {
  readonly callId: string;
  /** False once dropped from the buffer (a stale hint must not be written to). */
  live: boolean;
  /** Raw bytes of the messages in order, latin1 (one character per byte). */
  raw: string[];
  /** Bytes held ({@link CALL_BYTES} and {@link heldBytes} of every message). */
  bytes: number;
  count: number;
  meta: number[];
  names: (Endpoint | string)[];
  /** Distinct routes of the call's messages (almost always one). */
  routes: EvidenceRoute[];
  /** Rows that arrived by more than one route: row index → the other routes' indexes (undefined until one did). */
  moreRoutes: Map<number, number[]> | undefined;
  pinned: boolean;
  truncated: boolean;
}

function nameIndex(names: (Endpoint | string)[], v: Endpoint | string): number {
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (n === v || (typeof n === 'object' && typeof v === 'object' && n.port === v.port && n.ip === v.ip)) return i;
  }
  return names.push(v) - 1;
}

function routeIndex(routes: EvidenceRoute[], r: EvidenceRoute): number {
  for (let i = 0; i < routes.length; i++) if (sameRoute(routes[i]!, r)) return i;
  return routes.push(r) - 1;
}

/** What a dropped entry holds instead of its messages (a stale place in an order ring may keep the entry a while). */
const NO_MESSAGES: string[] = [];
const NO_META: number[] = [];
const NO_NAMES: (Endpoint | string)[] = [];
const NO_ROUTES: EvidenceRoute[] = [];

/** A slot on the caller's per-call state where the buffer keeps a reference to the call's entry (opaque). */
export interface EvidenceHint {
  evidence: unknown;
}

export class EvidenceBuffer {
  /**
   * Unpinned calls in the order of their first message. (Recency order — a delete + set per message — cost more
   * than the rest of the buffering; an alert pins its call at once, and most alerts come from the first message.)
   */
  private readonly openOrder = new InsertionRing<Entry>((e) => e.live && !e.pinned);
  /** Pinned calls in pin order. */
  private readonly pinnedOrder = new InsertionRing<Entry>((e) => e.live && e.pinned);
  /** Every call, open or pinned (callers that keep a hint find their entry without probing it). */
  private readonly entries = new Map<string, Entry>();
  private openCount = 0;
  private pinnedCount = 0;
  private openBytes = 0;
  private pinnedBytes = 0;
  /** `duplicates`: copies of a buffered message that arrived by another route (kept as a route of its row). */
  readonly stats = { messages: 0, evictedCalls: 0, droppedPinnedCalls: 0, truncatedCalls: 0, duplicates: 0 };

  constructor(readonly limits: EvidenceLimits = DEFAULT_EVIDENCE_LIMITS) {}

  /**
   * Buffer one message of `callId`; returns whether the call already had an entry. `hint` is a per-call slot the
   * caller keeps (the Analyzer's call record): the buffer remembers the call's entry there and finds it again
   * without a Map probe — a probe of a Map of tens of thousands of calls was half of the buffering's cost. `via`: the
   * route this copy arrived by; a copy of a row that has not arrived by it yet becomes a route of that row.
   */
  add(callId: string, m: EvidenceMessage, hint?: EvidenceHint, via: EvidenceRoute = 'tap'): boolean {
    this.stats.messages++;
    const h = hint?.evidence as Entry | undefined;
    let e = h !== undefined && h.live && h.callId === callId ? h : this.entries.get(callId);
    const had = e !== undefined;
    if (!e) {
      e = { callId, live: true, raw: [], bytes: CALL_BYTES, count: 0, meta: META_TEMPLATE.slice(), names: [], routes: [], moreRoutes: undefined, pinned: false, truncated: false };
      this.entries.set(callId, e);
      this.openOrder.add(e);
      this.openCount++;
      this.openBytes += CALL_BYTES;
    }
    if (hint) hint.evidence = e;
    const route = routeIndex(e.routes, via);
    // A call seen by one route only (nearly every call) has no copies to look for.
    if (e.routes.length > 1 && this.mergeCopy(e, m, route)) {
      this.stats.duplicates++;
      this.observeAdd(callId, had, e.pinned);
      return had;
    }
    if (e.count >= this.limits.maxMessagesPerCall) {
      if (!e.truncated) this.stats.truncatedCalls++;
      e.truncated = true;
      this.observeAdd(callId, had, e.pinned);
      return had;
    }
    // Copied (the source buffer is a slice of a larger chunk) into V8's heap.
    const raw = m.raw;
    e.raw.push(raw.toString('latin1'));
    const held = heldBytes(raw.length, e.count);
    e.bytes += held;
    const meta = e.meta;
    const k = e.count * STRIDE; // (indexes at or past the length append: a call with more than 8 messages grows it)
    e.count++;
    meta[k] = m.frame;
    meta[k + 1] = m.ts.sec;
    meta[k + 2] = m.ts.nsec;
    meta[k + 3] = nameIndex(e.names, m.src);
    meta[k + 4] = nameIndex(e.names, m.dst);
    meta[k + 5] = nameIndex(e.names, m.transport);
    meta[k + 6] = route;
    if (e.pinned) {
      this.pinnedBytes += held;
      this.trimPinned();
    } else {
      this.openBytes += held;
      this.trimOpen(callId);
    }
    this.observeAdd(callId, had, e.pinned);
    return had;
  }

  /**
   * `m` is a copy of an earlier row that has not arrived by `route` yet (same bytes, same src and dst): add the route
   * to the first such row and say true; false when there is none (a new message, or a retransmission on a route).
   */
  private mergeCopy(e: Entry, m: EvidenceMessage, route: number): boolean {
    const len = m.raw.length;
    const { meta, names, raw } = e;
    let copy: string | undefined;
    for (let i = 0, k = 0; i < e.count; i++, k += STRIDE) {
      const row = raw[i]!;
      if (row.length !== len || meta[k + 6] === route) continue;
      const more = e.moreRoutes?.get(i);
      if (more?.includes(route)) continue;
      const src = names[meta[k + 3]!] as Endpoint;
      const dst = names[meta[k + 4]!] as Endpoint;
      if (src.port !== m.src.port || dst.port !== m.dst.port || src.ip !== m.src.ip || dst.ip !== m.dst.ip) continue;
      if (row !== (copy ??= m.raw.toString('latin1'))) continue;
      if (more) more.push(route);
      else (e.moreRoutes ??= new Map()).set(i, [route]);
      return true;
    }
    return false;
  }

  /**
   * Told after every add: whether the call already had an entry and whether that entry is pinned (a subclass that
   * reacts to the messages of alerted calls skips the others without a lookup of its own).
   */
  protected observeAdd(_callId: string, _had: boolean, _pinned: boolean): void {}

  /** Keep this call's messages (it raised an alert). */
  pin(callId: string): void {
    const e = this.entries.get(callId);
    if (!e || e.pinned) return;
    this.openCount--;
    this.openBytes -= e.bytes;
    e.pinned = true; // (its place in the open ring is stale from now on)
    this.pinnedOrder.add(e);
    this.pinnedCount++;
    this.pinnedBytes += e.bytes;
    this.trimPinned();
  }

  /** The call's messages in arrival order (a new array; `raw` are new Buffers made from the buffer's copies). */
  get(callId: string): readonly EvidenceMessage[] | undefined {
    const e = this.entries.get(callId);
    if (!e) return undefined;
    const out: EvidenceMessage[] = new Array<EvidenceMessage>(e.count);
    const { meta, names, routes, moreRoutes, raw } = e;
    for (let i = 0, k = 0; i < e.count; i++, k += STRIDE) {
      const first = routes[meta[k + 6]!]!;
      const more = moreRoutes?.get(i);
      out[i] = {
        frame: meta[k]!,
        ts: { sec: meta[k + 1]!, nsec: meta[k + 2]! },
        src: names[meta[k + 3]!] as Endpoint,
        dst: names[meta[k + 4]!] as Endpoint,
        transport: names[meta[k + 5]!] as string,
        raw: Buffer.from(raw[i]!, 'latin1'),
        routes: more ? [first, ...more.map((r) => routes[r]!)] : [first],
      };
    }
    return out;
  }

  /** Forget a call (e.g. after its evidence was persisted). */
  release(callId: string): void {
    const e = this.entries.get(callId);
    if (e === undefined) return;
    this.drop(callId, e);
    if (e.pinned) this.pinnedOrder.compact(this.pinnedCount);
    else this.openOrder.compact(this.openCount);
  }

  /**
   * Forget a call that is not pinned (the call table forgot it: idle or ended, issue #18), so that the evidence of a
   * flood's calls goes with the calls and not only when later calls push it out.
   */
  releaseOpen(callId: string, hint?: EvidenceHint): void {
    const h = hint?.evidence as Entry | undefined;
    const e = h !== undefined && h.live && h.callId === callId ? h : this.entries.get(callId);
    if (e === undefined) return;
    if (e.pinned) {
      this.pinnedCallEnded(callId);
      return;
    }
    this.drop(callId, e);
    this.openOrder.compact(this.openCount);
  }

  /**
   * The call table forgot a call that alerted. Its messages stay here (`analyze --evidence-dir` writes them at the
   * end); the daemon's subclass lets them go once they are saved (src/evidence/service.ts).
   */
  protected pinnedCallEnded(_callId: string): void {}

  private drop(callId: string, e: Entry): void {
    this.entries.delete(callId);
    e.live = false;
    if (e.pinned) {
      this.pinnedCount--;
      this.pinnedBytes -= e.bytes;
    } else {
      this.openCount--;
      this.openBytes -= e.bytes;
    }
    // A stale place in an order ring still references the entry until compaction: not its bytes, nor its numbers
    // (after a storm, 70k released pinned entries held 58 MB of numbers through the ring).
    e.raw = NO_MESSAGES;
    e.meta = NO_META;
    e.names = NO_NAMES;
    e.routes = NO_ROUTES;
    e.moreRoutes = undefined;
  }

  /** Places in the two order rings, stale ones included (bounded by compaction to ~4× the calls held). */
  get orderPlaces(): number {
    return this.openOrder.length + this.pinnedOrder.length;
  }

  /** Calls held: open (not alerted) and pinned. */
  get calls(): { open: number; pinned: number } {
    return { open: this.openCount, pinned: this.pinnedCount };
  }

  /** Bytes reserved for the open (not alerted) and pinned calls: what the bounds count. */
  get bytes(): { open: number; pinned: number } {
    return { open: this.openBytes, pinned: this.pinnedBytes };
  }

  private trimOpen(keep: string): void {
    while (this.openBytes > this.limits.maxBytes) {
      const oldest = this.openOrder.peek();
      if (oldest === undefined || oldest.callId === keep) break;
      this.openOrder.shift();
      this.drop(oldest.callId, oldest);
      this.stats.evictedCalls++;
    }
    this.openOrder.compact(this.openCount);
  }

  private trimPinned(): void {
    while (this.pinnedBytes > this.limits.maxPinnedBytes && this.pinnedCount > 1) {
      const oldest = this.pinnedOrder.peek();
      if (oldest === undefined) break;
      this.pinnedOrder.shift();
      this.drop(oldest.callId, oldest);
      this.stats.droppedPinnedCalls++;
    }
    this.pinnedOrder.compact(this.pinnedCount);
  }
}
