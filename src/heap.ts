/**
 * V8 heap tuning for spoofwatch's streaming work (`analyze`, `messages`, the daemon, and the bench child that stands
 * in for analyze), applied before the work starts.
 *
 * Analysis allocates fast and keeps little: on the 1M-message bench capture the live heap after a full GC stays
 * near 60 MB, but V8's default heap growing lets old-space garbage pile up between full GCs to a 240–270 MB peak
 * RSS. Growing the old-generation limit by 30% per full GC instead of V8's dynamic factor (up to 4×) brought the
 * peak to ~190 MB (1M messages) and ~202 MB (2M) at a speed within the run-to-run noise (50%: 189/213 MB); with the
 * launchers' smaller young generation below, ~170/189 MB (`npm run bench`, bench/results/README.md). This is a
 * heuristic, not a cap: the heap still grows as far as the state really needs (no out-of-memory risk from it).
 *
 * The daemon too (issue #18): under an unpaced flood of new Call-IDs (1.35M sent in 10 s, ~44k/s read, call table
 * and window stores at their 100k bounds, ~190 MB live) V8's own factor let the old generation reach a peak RSS of
 * 1,039 MB, over the 512 MB ceiling of the default config; with 30%, 432–442 MB at the same rate. It was left out of
 * the daemon once because more full GCs raised the HEP p99 latency at 20k msg/s (~16 vs ~11 ms then); measured
 * again with today's code, interleaved runs (`BENCH_DAEMON_NODE_ARGS`): 16.7 and 17.1 ms with it, 16.8 and 17.1 ms
 * without.
 *
 * V8 reads this flag at every full GC, so setting it at run time works; Node documents setFlagsFromString after
 * start-up as unsupported in general, so a V8 that ignored it would only lose the memory saving.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Node options the launchers give spoofwatch (bin/spoofwatch.js's shebang, `npm start`, the Docker entrypoint; the
 * bench's children get the same). V8 sizes the heap when the isolate is created, so unlike the heap growing below
 * these cannot be set from inside. `node dist/cli.js` runs the same code without them. test/cli/launcher.test.ts
 * keeps the launchers in step with this list.
 * - A young generation of 8 MB semi-spaces instead of V8's 16 MB: ~15 MB off the peak RSS of `analyze` at the same
 *   speed (2M-message bench capture: 201–204 → 188–189 MB).
 * - No full GC before the old generation holds 96 MB. An analysis's live heap grows for minutes of capture time (its
 *   windows fill up to their bound), and V8 otherwise collects it at every 30% of growth (above): twelve full GCs on
 *   the 1M-message bench capture, each marking everything live (12 → 70 MB), where two suffice. Instructions of the
 *   whole 1M run (valgrind, marking on the main thread): 35.9 → 33.1 G (−8%; 64 MB: 34.2 G). Peak RSS: 1M capture
 *   154 → 168 MB, 2M 181–192 → 191–195 MB (four runs each): the end of a long capture, where the peak is, collects
 *   as before.
 */
export const LAUNCH_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=8', '--initial-old-space-size=96'];

export const HEAP_GROWING_PERCENT = 30;

let applied = false;

export function tuneHeapForStreaming(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
