/**
 * The bench's target rows (issue #5's and later issues' targets) and their verdicts. A target is set for an input
 * size (the defaults below); a run with smaller inputs (env overrides, e.g. BENCH_MESSAGES=200000) says so instead
 * of "not met" or "met": speed and memory on a fifth of the capture do not answer a target set for all of it
 * (issue #20).
 */

/** The sizes the targets are set for: the bench's defaults. */
export const TARGET_SIZES = {
  /** SIP messages of the SIP-only capture (speed, peak RSS, alert storm). */
  messages: 1_000_000,
  /** SIP messages of the mixed 90%-RTP capture. */
  mixedSip: 100_000,
  /** Messages of the slice both spoofwatch and tshark read. */
  tsharkSlice: 200_000,
  /** Measured seconds per live rate. */
  liveSeconds: 10,
  /** Entries of the generated do-not-originate file. */
  dnoLines: 1_000_000,
  /** Stored alerts the search runs on. */
  searchAlerts: 100_000,
  /** Messages/s of the cluster latency run (issue #22: alert latency p99 through the 3-node cluster). */
  clusterRate: 5000,
} as const;

export interface TargetRow {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  /** Undefined: not run. */
  readonly pass: boolean | undefined;
  /** The input size this run used and the one the target is set for (`unit` after both, e.g. ' s'). */
  readonly size?: { readonly ran: number; readonly target: number; readonly unit?: string };
}

/** 200000 → 200k, 1000000 → 1M, 1500 → 1,500 (a count as the verdicts and the README write it). */
export function shortCount(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 100 === 0) return `${n / 1e3}k`;
  return n.toLocaleString('en-US');
}

/** The last column of a target row: not run, not comparable (smaller inputs than the target's), met or not met. */
export function verdictOf(row: TargetRow): string {
  if (row.pass === undefined) return 'not run';
  const s = row.size;
  if (s !== undefined && s.ran < s.target) {
    const unit = s.unit ?? '';
    return `not comparable: ran ${shortCount(s.ran)}${unit}, target is ${shortCount(s.target)}${unit}`;
  }
  return row.pass ? 'met' : '**not met**';
}
