/**
 * Oldest-first order of the entries of a Map whose entries are never re-inserted, for bounded caches and buffers.
 *
 * `map.keys().next()` is not O(1) here: after many deletions at the front V8 walks every deleted slot until the
 * Map rehashes (tens of µs per eviction at 100k keys; the evidence buffer spent more time there than in the rest
 * of its work). The ring is an array of the entries themselves, oldest first. An entry that left the Map (or moved
 * to another ring) stays in place until it is skipped or compacted away; the caller's `isLive` tells it from the
 * entry alone (a flag on it), so skipping a stale place costs no Map probe.
 */
export class InsertionRing<T> {
  /**
   * Places from `head` on; those before it were consumed and hold undefined, so that an entry the ring let go of is
   * not kept alive by it until the next compaction (a window store at its 100k-key bound kept up to as many evicted
   * slots again, with their values, ~20 MB after a flood).
   */
  private items: (T | undefined)[] = [];
  private head = 0;
  /** Position of the walk in progress (-1: none). */
  private at = -1;

  constructor(private readonly isLive: (item: T) => boolean) {}

  /** Append an entry (the newest). */
  add(item: T): void {
    this.items.push(item);
  }

  /** The oldest live entry, stale ones dropped on the way; undefined when none. */
  peek(): T | undefined {
    const items = this.items;
    while (this.head < items.length) {
      const item = items[this.head]!;
      if (this.isLive(item)) return item;
      items[this.head++] = undefined;
    }
    return undefined;
  }

  /** Drop the entry {@link peek} returned. */
  shift(): void {
    if (this.head < this.items.length) this.items[this.head++] = undefined;
  }

  /**
   * Start a walk over the places from the oldest (a sweep spread over later calls): {@link next} gives them in turn.
   * One walk at a time; compaction keeps its position.
   */
  startWalk(): void {
    this.at = this.head;
  }

  get walking(): boolean {
    return this.at >= 0;
  }

  /** The next place of the walk, stale ones included (the caller tells them apart); undefined once it is over. */
  next(): T | undefined {
    if (this.at < 0) return undefined;
    if (this.at < this.head) this.at = this.head;
    if (this.at >= this.items.length) {
      this.at = -1;
      return undefined;
    }
    return this.items[this.at++];
  }

  /**
   * Keep the array near the number of live entries: drop the consumed front, and drop every stale place when they
   * pile up (entries deleted without eviction) to more than 4× `liveSize`.
   */
  compact(liveSize: number): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      if (this.at >= 0) this.at = Math.max(0, this.at - this.head);
      this.head = 0;
    }
    if (this.items.length - this.head > 4 * liveSize + 1024) {
      const walkAt = this.at < 0 ? -1 : Math.max(this.at, this.head);
      const kept: T[] = [];
      let keptAt = -1;
      for (let i = this.head; i < this.items.length; i++) {
        const item = this.items[i]!;
        if (i === walkAt) keptAt = kept.length;
        if (this.isLive(item)) kept.push(item);
      }
      if (walkAt >= 0) this.at = keptAt >= 0 ? keptAt : kept.length;
      this.items = kept;
      this.head = 0;
    }
  }

  /** Places held, stale ones included. */
  get length(): number {
    return this.items.length - this.head;
  }
}
