/**
 * Oldest-first order of the keys of a Map whose entries are never re-inserted, for bounded caches and buffers.
 *
 * `map.keys().next()` is not O(1) here: after many deletions at the front V8 walks every deleted slot until the
 * Map rehashes (tens of µs per eviction at 100k keys; the evidence buffer spent more time there than in the rest
 * of its work). The ring is two parallel arrays of key and insertion number; an entry whose number no longer
 * matches the live entry (deleted, perhaps added again since) is stale and skipped.
 */
export class InsertionRing {
  private keys: string[] = [];
  private seqs: number[] = [];
  private head = 0;
  private nextSeq = 0;

  /** Append `key`; returns its insertion number, to be stored with the entry. */
  add(key: string): number {
    const seq = this.nextSeq++;
    this.keys.push(key);
    this.seqs.push(seq);
    return seq;
  }

  /** The oldest key whose entry is live (`isLive(key, seq)`), stale ones dropped on the way; undefined when none. */
  peek(isLive: (key: string, seq: number) => boolean): string | undefined {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head]!;
      if (isLive(key, this.seqs[this.head]!)) return key;
      this.head++;
    }
    return undefined;
  }

  /** Drop the entry {@link peek} returned. */
  shift(): void {
    if (this.head < this.keys.length) this.head++;
  }

  /**
   * Keep the arrays near the number of live entries: drop the consumed front, and rebuild from the live entries
   * (`entries()`, oldest first, with their numbers) when stale ones pile up (entries deleted without eviction).
   */
  compact(liveSize: number, entries: () => Iterable<readonly [string, number]>): void {
    if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
    if (this.keys.length - this.head > 4 * liveSize + 1024) {
      const keys: string[] = [];
      const seqs: number[] = [];
      for (const [k, s] of entries()) {
        keys.push(k);
        seqs.push(s);
      }
      this.keys = keys;
      this.seqs = seqs;
      this.head = 0;
    }
  }

  /** Ring slots in use (live and stale), for tests. */
  get length(): number {
    return this.keys.length - this.head;
  }
}
