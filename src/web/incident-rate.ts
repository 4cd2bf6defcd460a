/**
 * An incident's rate for the live page's sparkline (issue #19): its stored alerts counted per capture-time bucket
 * from its firstSeen on.
 *
 * Counting from the store on every request would read every alert of a big incident each time (a src-keyed one
 * needs each row's JSON: ~0.5 s for 50k alerts in one 100k store), and a growing incident is asked for again every
 * few seconds. So each incident keeps a fine histogram of FINE_BINS bins of `width` ms (a power of two; when its
 * alerts pass the last bin the width doubles and pairs of bins merge), fed with only the alerts stored since the
 * last request. A request sums whole fine bins into its buckets, so a bucket's width is a multiple of the fine width
 * and every count is exact for the `fromMs`/`bucketMs` it reports. Memory: FINE_BINS × 4 bytes per incident, at most
 * MAX_CACHED incidents (the least recently asked for is dropped and recounted if asked again).
 *
 * The first count of a big incident still reads all its rows (its rule's rows in its seq range: ~0.3 s per 100k):
 * it is done in windows of SCAN_WINDOW seqs with a turn of the event loop between them, so the daemon keeps
 * ingesting and answering while a page loads. Windows run one at a time per histogram, whoever asked, so
 * concurrent requests share the progress and never count a row twice.
 */
import type { Incident } from '../incidents/incident.js';
import type { AlertStore } from '../sinks/store.js';

export const FINE_BINS = 512;
const MAX_CACHED = 2000;
const SCAN_WINDOW = 10_000;

export interface IncidentRate {
  /** Capture time where the first bucket starts (the incident's firstSeen), ms since the epoch. */
  readonly fromMs: number;
  readonly bucketMs: number;
  /** Stored alerts per bucket; the last bucket holds lastSeen. */
  readonly counts: number[];
}

/** Alerts by capture time in FINE_BINS bins from `fromMs`, widening (×2) as they spread. */
export class FineHistogram {
  private width = 1;
  private readonly bins = new Uint32Array(FINE_BINS);
  /** Alerts seen, and the highest seq counted (the next scan starts after it). */
  total = 0;
  scannedSeq = 0;

  constructor(readonly fromMs: number) {}

  get binMs(): number {
    return this.width;
  }

  add(ms: number): void {
    const offset = Math.max(0, ms - this.fromMs);
    while (offset >= this.width * FINE_BINS) this.widen();
    const i = Math.floor(offset / this.width);
    this.bins[i] = (this.bins[i] ?? 0) + 1;
    this.total++;
  }

  /** `buckets` buckets of whole fine bins covering fromMs … toMs. */
  rate(toMs: number, buckets: number): IncidentRate {
    const span = Math.max(0, toMs - this.fromMs) + 1;
    while (span > this.width * FINE_BINS) this.widen();
    const used = Math.min(FINE_BINS, Math.ceil(span / this.width));
    const per = Math.max(1, Math.ceil(used / buckets));
    const counts = new Array<number>(buckets).fill(0);
    for (let i = 0; i < FINE_BINS; i++) {
      const n = this.bins[i] ?? 0;
      if (n > 0) {
        const b = Math.min(buckets - 1, Math.floor(i / per));
        counts[b] = (counts[b] ?? 0) + n;
      }
    }
    return { fromMs: this.fromMs, bucketMs: per * this.width, counts };
  }

  private widen(): void {
    for (let i = 0; i < FINE_BINS / 2; i++) this.bins[i] = (this.bins[2 * i] ?? 0) + (this.bins[2 * i + 1] ?? 0);
    this.bins.fill(0, FINE_BINS / 2);
    this.width *= 2;
  }
}

/** Fine histograms of incidents, per store. */
export class IncidentRates {
  private readonly cache = new Map<number, FineHistogram>();

  constructor(private readonly store: AlertStore) {}

  /** The rate of `inc` in `buckets` buckets, after counting the alerts stored since the last call. */
  async rate(inc: Incident, buckets: number): Promise<IncidentRate> {
    const fromMs = Date.parse(inc.firstSeen);
    const toMs = Date.parse(inc.lastSeen);
    const n = Math.max(1, Math.floor(buckets));
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) return { fromMs: 0, bucketMs: 1, counts: new Array<number>(n).fill(0) };
    let h = this.cache.get(inc.id);
    if (h && h.fromMs !== fromMs) h = undefined; // another incident under this id (store replaced)
    h ??= new FineHistogram(fromMs);
    this.cache.delete(inc.id);
    this.cache.set(inc.id, h);
    if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value as number);
    let first = true;
    while (h.scannedSeq < inc.lastAlertSeq) {
      if (!first) await new Promise<void>((resolve) => setImmediate(resolve));
      first = false;
      // Synchronous from reading scannedSeq to moving it: another request's window cannot interleave.
      const after = Math.max(h.scannedSeq, inc.firstAlertSeq - 1);
      const upto = Math.min(inc.lastAlertSeq, after + SCAN_WINDOW);
      // Alerts without a capture time (none from this build) count at the incident's end.
      for (const ms of this.store.incidentCaptureTimes(inc, after, upto)) h.add(ms ?? toMs);
      h.scannedSeq = upto;
    }
    return h.rate(Math.max(toMs, fromMs), n);
  }
}
