/**
 * The call table (DESIGN.md §3 "Call"): one record per Call-ID with its first INVITE, peer, state and outcome,
 * bounded in size and expired by the capture clock. Transactions are tracked only as far as the outcome and the
 * retransmission/re-INVITE dedupe need: an INVITE is "initial" once per call (first CSeq, no To tag).
 */

export type CallState = 'trying' | 'ringing' | 'answered' | 'rejected' | 'cancelled' | 'ended';

export interface CallRecord {
  readonly callId: string;
  /** Frame of the call's first message seen. */
  readonly firstFrame: number;
  /** Frame of the initial INVITE (0 when the call was first seen mid-dialog). */
  inviteFrame: number;
  /** CSeq number of the initial INVITE (for retransmission dedupe). */
  inviteCSeq: number;
  state: CallState;
  /** Final response code to the initial INVITE. */
  finalStatus: number | undefined;
  peer: string | undefined;
  messages: number;
  /**
   * Rule ids already alerted for this call (alerts are once per Call-ID and rule); created with the first alert, since
   * most calls raise none (an empty Set per call was a tenth of the daemon's live heap objects).
   */
  raised: Set<string> | undefined;
  /** The evidence buffer's slot for this call (EvidenceHint), opaque here. */
  evidence: unknown;
}

export interface CallTableLimits {
  /** Maximum calls kept; the least recently seen is evicted beyond it. */
  readonly maxCalls: number;
  /** A call with no message for this long (capture time) is forgotten. */
  readonly idleMs: number;
  /** An ended/rejected/cancelled call is forgotten this long after its last message. */
  readonly endedMs: number;
}

export const DEFAULT_CALL_LIMITS: CallTableLimits = {
  maxCalls: 200_000,
  idleMs: 4 * 3600_000,
  endedMs: 60_000,
};

/**
 * The call table's bounds from the config's `limits` (`limits.calls`, `limits.callIdleSeconds`; DESIGN.md §8.4).
 * An ended call is kept for its late retransmissions (RFC 3261 §17.1.1.2 Timer D, 32 s) up to a minute, never
 * longer than an idle call.
 */
export function callLimitsOf(limits: { readonly calls: number; readonly callIdleSeconds: number }): CallTableLimits {
  const idleMs = limits.callIdleSeconds * 1000;
  return { maxCalls: limits.calls, idleMs, endedMs: Math.min(DEFAULT_CALL_LIMITS.endedMs, idleMs) };
}

export interface CallUpdate {
  readonly record: CallRecord;
  /** True when this message is the initial INVITE of the call, seen for the first time. */
  readonly initialInvite: boolean;
}

function isEnded(s: CallState): boolean {
  return s === 'rejected' || s === 'cancelled' || s === 'ended';
}

/**
 * A call in the recency list (least recently seen at the head): the record itself carries the links (a separate
 * list node per call was one more object per call for every major GC to walk; the daemon keeps ~170k calls at
 * 20k msg/s, ended ones for a minute).
 */
type Node = CallRecord & {
  prev: Node | undefined;
  next: Node | undefined;
  /** The CLI this call is counted under in the active-calls-per-CLI count, while it is active. */
  countedCli: string | undefined;
  /**
   * Capture time of the call's latest message, in whole ms since the table's first message: a small integer is
   * stored in the record itself, where an epoch-ms float would be one more heap object per call.
   */
  seen: number;
};

export class CallTable {
  /**
   * Lookup by Call-ID, recency in a doubly linked list: moving a call to the tail is four pointer writes, where
   * re-inserting it into the Map (delete + set per message) cost hashing and left deleted slots to rehash.
   */
  private readonly calls = new Map<string, Node>();
  private head: Node | undefined;
  private tail: Node | undefined;
  /** Number of active (not ended) calls per CLI, for CLI-VELOCITY (each call counted once: CallRecord.countedCli). */
  private readonly activeByCli = new Map<string, number>();
  private lastSweepMs = 0;
  /** Capture ms of the first message the table saw (the origin of Node.seen). */
  private epochMs: number | undefined;
  readonly stats = { calls: 0, evicted: 0, expired: 0, retransmissions: 0, reInvites: 0, retries: 0 };

  constructor(
    private readonly limits: CallTableLimits = DEFAULT_CALL_LIMITS,
    /** Told of every call the table forgets (idle, ended, evicted), e.g. to drop its buffered evidence. */
    private readonly onForget?: (record: CallRecord) => void,
  ) {}

  /** The bounds in force (metrics). */
  get bounds(): CallTableLimits {
    return this.limits;
  }

  /**
   * Let the table's clock run on while no message comes (the daemon, once a second): expire what is due `elapsedMs`
   * after the latest message's capture time. Expiry is otherwise driven by messages, so after a flood the calls
   * stayed until the next traffic (issue #18). A capture clock behind the wall clock (a file read faster than real
   * time) only makes this later, never early.
   */
  advance(elapsedMs: number): void {
    const last = this.tail;
    if (last === undefined || this.epochMs === undefined) return;
    this.sweep(this.epochMs + last.seen + elapsedMs);
  }

  get size(): number {
    return this.calls.size;
  }

  get(callId: string): CallRecord | undefined {
    return this.calls.get(callId);
  }

  /** Record a request; returns the record and whether it is the call's initial INVITE. */
  request(callId: string, method: string, cseq: number, hasToTag: boolean, nowMs: number, frame: number): CallUpdate {
    const rec = this.touch(callId, nowMs, frame);
    let initialInvite = false;
    if (method === 'INVITE') {
      if (hasToTag) this.stats.reInvites++;
      else if (rec.inviteFrame === 0) {
        rec.inviteFrame = frame;
        rec.inviteCSeq = cseq;
        initialInvite = true;
      } else if (cseq > rec.inviteCSeq) {
        // A new INVITE transaction outside a dialog: the retry after 401/407 or a failure (RFC 3261 §8.1.3.5,
        // §22.2). It may carry other identity headers, so it is evaluated again; alerts stay once per rule.
        rec.inviteCSeq = cseq;
        rec.finalStatus = undefined;
        if (rec.state === 'rejected' || rec.state === 'cancelled') rec.state = 'trying';
        this.stats.retries++;
        initialInvite = true;
      } else this.stats.retransmissions++;
    } else if (method === 'BYE') {
      this.end(rec, 'ended');
    } else if (method === 'CANCEL' && !isEnded(rec.state)) {
      this.end(rec, 'cancelled');
    }
    return { record: rec, initialInvite };
  }

  /** Record a response (only responses to the initial INVITE change the call's state). */
  response(callId: string, status: number, cseqMethod: string, cseq: number, nowMs: number, frame: number): CallRecord {
    const rec = this.touch(callId, nowMs, frame);
    if (cseqMethod === 'INVITE' && cseq === rec.inviteCSeq && rec.inviteFrame !== 0) {
      if (status >= 100 && status < 200) {
        if (rec.state === 'trying' && status >= 180) rec.state = 'ringing';
      } else if (rec.finalStatus === undefined) {
        rec.finalStatus = status;
        if (status < 300) rec.state = 'answered';
        else this.end(rec, status === 487 ? 'cancelled' : 'rejected');
      }
    }
    return rec;
  }

  /** Count the call under its effective CLI; returns the number of active calls presenting it (this one included). */
  setCli(record: CallRecord, cli: string): number {
    const rec = record as Node; // every record handed out is a Node
    if (rec.countedCli === cli) return this.activeByCli.get(cli) ?? 0;
    this.releaseCli(rec); // a retry may present another CLI: count the call under the new one only
    const n = (this.activeByCli.get(cli) ?? 0) + 1;
    this.activeByCli.set(cli, n);
    rec.countedCli = cli;
    return n;
  }

  private end(rec: Node, state: CallState): void {
    rec.state = state;
    this.releaseCli(rec);
  }

  private releaseCli(rec: Node): void {
    const cli = rec.countedCli;
    if (cli === undefined) return;
    rec.countedCli = undefined;
    const n = this.activeByCli.get(cli) ?? 0;
    if (n <= 1) this.activeByCli.delete(cli);
    else this.activeByCli.set(cli, n - 1);
  }

  private unlink(node: Node): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = undefined;
  }

  private append(node: Node): void {
    node.prev = this.tail;
    node.next = undefined;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
  }

  private touch(callId: string, nowMs: number, frame: number): Node {
    let node = this.calls.get(callId);
    if (node) {
      if (node !== this.tail) {
        this.unlink(node);
        this.append(node);
      }
    } else {
      node = {
        callId,
        firstFrame: frame,
        inviteFrame: 0,
        inviteCSeq: -1,
        state: 'trying',
        finalStatus: undefined,
        peer: undefined,
        messages: 0,
        raised: undefined,
        evidence: undefined,
        prev: undefined,
        next: undefined,
        countedCli: undefined,
        seen: this.rel(nowMs),
      };
      this.stats.calls++;
      if (this.calls.size >= this.limits.maxCalls) this.evictOldest();
      this.calls.set(callId, node);
      this.append(node);
    }
    const t = this.rel(nowMs);
    if (t > node.seen) node.seen = t;
    node.messages++;
    this.expireHead(t);
    if (nowMs - this.lastSweepMs > 10_000) this.sweep(nowMs);
    return node;
  }

  /** Whole capture ms since the table's first message. */
  private rel(nowMs: number): number {
    return Math.floor(nowMs - (this.epochMs ??= nowMs));
  }

  private evictOldest(): void {
    const first = this.head;
    if (!first) return;
    this.forget(first);
    this.stats.evicted++;
  }

  /** Drop a call from the table and from the active-calls-per-CLI count. */
  private forget(node: Node): void {
    this.releaseCli(node);
    this.unlink(node);
    this.calls.delete(node.callId);
    this.onForget?.(node);
  }

  /** Whether a call last seen `age` ms ago is due: idle too long, or ended long enough ago. */
  private due(node: Node, age: number): boolean {
    return age >= this.limits.idleMs || (isEnded(node.state) && age >= this.limits.endedMs);
  }

  /**
   * Forget a few expired calls at the head of the list, on every message: calls end at the rate they start, so
   * expiring them as they come due keeps up, where the sweep every 10 s of capture time alone removed ten seconds'
   * worth at once (at 20k msg/s ~30k calls: a pause of tens of ms that every datagram behind it waited for). An old
   * call still active at the head stops this; the periodic sweep walks past it.
   */
  private expireHead(now: number): void {
    for (let budget = 4; budget > 0; budget--) {
      const node = this.head;
      if (!node || !this.due(node, now - node.seen)) return;
      this.forget(node);
      this.stats.expired++;
    }
  }

  /** Forget idle and finished calls (the list is in recency order, so stop at the first fresh one). */
  sweep(nowMs: number): void {
    this.lastSweepMs = nowMs;
    const fresh = Math.min(this.limits.idleMs, this.limits.endedMs);
    const now = this.rel(nowMs);
    for (let node = this.head; node; ) {
      const next = node.next;
      const age = now - node.seen;
      if (age < fresh) break;
      if (this.due(node, age)) {
        this.forget(node);
        this.stats.expired++;
      }
      node = next;
    }
  }
}
