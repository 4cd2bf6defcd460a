/**
 * Where the offline time goes, stage by stage, on one capture (for profiling by hand, not part of the table):
 *   node dist-bench/bench/stages.js FILE [LABEL-PREFIX]
 * read → + decode/frame/parse (Ingest) → + touch From/PAI/Call-ID → + the INVITEs' identity headers parsed →
 * + Analyzer on every message but INVITEs → + Analyzer (call table, facts, rules). A LABEL-PREFIX runs the stages whose
 * label starts with it.
 *
 * On this shared host wall-clock times of one stage vary by up to 2×; instruction counts, one stage at a time, tell the
 * stages apart reliably:
 *   valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
 *     node --single-threaded dist-bench/bench/stages.js FILE 'ingest + non-INVITE'
 * (`--single-threaded`: JIT and GC on the main thread, counted). The difference of two stages is the cost of what the
 * later one adds. A stage's count repeats to ~±3.5% (GC heuristics follow time): too coarse for a change of a few %,
 * which needs a small harness around the code it touches (those repeat to well under 1%).
 */
import { defaultConfig } from '../src/config/index.js';
import { Analyzer } from '../src/pipeline/analyzer.js';
import { Ingest, type SipEvent } from '../src/pipeline/ingest.js';
import type { SipMessage } from '../src/sip/index.js';
import { readCapture } from '../src/sources/capture/index.js';

async function time(label: string, file: string, run: (file: string) => Promise<number>): Promise<void> {
  const t0 = process.hrtime.bigint();
  const n = await run(file);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const mem = process.memoryUsage();
  process.stdout.write(
    `${label.padEnd(34)} ${ms.toFixed(0).padStart(7)} ms  ${((n / ms) * 1000).toFixed(0).padStart(8)} /s  heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB  rss ${(mem.rss / 2 ** 20).toFixed(0)} MB\n`,
  );
}

/** Read, decode and split the capture, handing every SIP event to `each`; returns the number of messages. */
async function ingestAll(file: string, each: (e: SipEvent) => void): Promise<number> {
  let n = 0;
  const ing = new Ingest({
    origin: file,
    onMessage: (e) => {
      n++;
      each(e);
    },
  });
  await readCapture(file, (fr) => ing.pushFrame(fr));
  ing.flush();
  return n;
}

const isInvite = (m: SipMessage): boolean => m.kind === 'request' && m.method === 'INVITE';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: stages FILE');
  const only = process.argv[3];
  const stages: [string, (f: string) => Promise<number>][] = [
    ['read frames', async (f) => (await readCapture(f, () => undefined)).frames],
    ['ingest (decode+parse)', (f) => ingestAll(f, () => undefined)],
    [
      'ingest + From/PAI/Call-ID',
      (f) =>
        ingestAll(f, ({ msg }) => {
          void msg.callId;
          void msg.from;
          void msg.pai;
        }),
    ],
    [
      // What an initial INVITE's identity work parses (facts.ts buildFacts with `full`), without the analysis.
      'ingest + INVITE identity headers',
      (f) =>
        ingestAll(f, ({ msg }) => {
          if (!isInvite(msg)) return;
          void msg.callId;
          void msg.cseq;
          void msg.requestUri;
          void msg.userAgent;
          void msg.privacy;
          msg.identityAnomalies(); // From, To, PAI, PPI, RPID, Diversion, History-Info, Identity
          msg.header('date');
        }),
    ],
    [
      // The in-dialog requests and the responses (INVITEs skipped: their calls are then first seen mid-dialog).
      'ingest + non-INVITE analyzer',
      (f) => {
        const an = new Analyzer(defaultConfig(), () => undefined);
        return ingestAll(f, (e) => {
          if (!isInvite(e.msg)) an.handle(e);
        });
      },
    ],
    [
      'ingest + analyzer',
      (f) => {
        const an = new Analyzer(defaultConfig(), () => undefined);
        return ingestAll(f, (e) => an.handle(e));
      },
    ],
  ];
  for (const [label, run] of stages) if (only === undefined || label.startsWith(only)) await time(label, file, run);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 2;
});
