/**
 * Where the offline time goes, stage by stage, on one capture (for profiling by hand, not part of the table):
 *   node dist/bench/stages.js FILE [LABEL-PREFIX]
 * read → + decode/frame/parse (Ingest) → + touch From/PAI/Call-ID → + the INVITEs' identity headers parsed →
 * + Analyzer on every message but INVITEs → + Analyzer (call table, facts, rules). A LABEL-PREFIX runs the stages whose
 * label starts with it.
 *
 * On this shared host wall-clock times of one stage vary by up to 2×; instruction counts, one stage at a time, tell the
 * stages apart reliably:
 *   valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
 *     node --single-threaded dist/bench/stages.js FILE 'ingest + non-INVITE'
 * (`--single-threaded`: JIT and GC on the main thread, counted). The difference of two stages is the cost of what the
 * later one adds. A stage's count repeats to ~±3.5% (GC heuristics follow time): too coarse for a change of a few %,
 * which needs a small harness around the code it touches (those repeat to well under 1%).
 */
import { defaultConfig } from '../config/index.js';
import { Analyzer } from '../pipeline/analyzer.js';
import { Ingest } from '../pipeline/ingest.js';
import { readCapture } from '../sources/capture/index.js';

async function time(label: string, file: string, run: (file: string) => Promise<number>): Promise<void> {
  const t0 = process.hrtime.bigint();
  const n = await run(file);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const mem = process.memoryUsage();
  process.stdout.write(
    `${label.padEnd(28)} ${ms.toFixed(0).padStart(7)} ms  ${((n / ms) * 1000).toFixed(0).padStart(8)} /s  heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB  rss ${(mem.rss / 2 ** 20).toFixed(0)} MB\n`,
  );
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: stages FILE');
  const only = process.argv[3];
  const stages: [string, (f: string) => Promise<number>][] = [
    ['read frames', async (f) => (await readCapture(f, () => undefined)).frames],
    [
      'ingest (decode+parse)',
      async (f) => {
        let n = 0;
        const ing = new Ingest({ origin: f, onMessage: () => n++ });
        await readCapture(f, (fr) => ing.pushFrame(fr));
        ing.flush();
        return n;
      },
    ],
    [
      'ingest + From/PAI/Call-ID',
      async (f) => {
        let n = 0;
        const ing = new Ingest({
          origin: f,
          onMessage: (e) => {
            if (e.msg.callId !== undefined && e.msg.from !== undefined) n++;
            void e.msg.pai;
          },
        });
        await readCapture(f, (fr) => ing.pushFrame(fr));
        ing.flush();
        return n;
      },
    ],
    [
      // What an initial INVITE's identity work parses (facts.ts buildFacts with `full`), without the analysis.
      'ingest + INVITE identity headers',
      async (f) => {
        let n = 0;
        const ing = new Ingest({
          origin: f,
          onMessage: (e) => {
            n++;
            const m = e.msg;
            if (m.kind !== 'request' || m.method !== 'INVITE') return;
            void m.callId;
            void m.cseq;
            void m.requestUri;
            void m.userAgent;
            void m.privacy;
            m.identityAnomalies(); // From, To, PAI, PPI, RPID, Diversion, History-Info, Identity
            m.header('date');
          },
        });
        await readCapture(f, (fr) => ing.pushFrame(fr));
        ing.flush();
        return n;
      },
    ],
    [
      // The in-dialog requests and the responses (INVITEs skipped: their calls are then first seen mid-dialog).
      'ingest + non-INVITE analyzer',
      async (f) => {
        let n = 0;
        const an = new Analyzer(defaultConfig(), () => undefined);
        const ing = new Ingest({
          origin: f,
          onMessage: (e) => {
            n++;
            if (e.msg.kind !== 'request' || e.msg.method !== 'INVITE') an.handle(e);
          },
        });
        await readCapture(f, (fr) => ing.pushFrame(fr));
        ing.flush();
        return n;
      },
    ],
    [
      'ingest + analyzer',
      async (f) => {
        let n = 0;
        const an = new Analyzer(defaultConfig(), () => undefined);
        const ing = new Ingest({
          origin: f,
          onMessage: (e) => {
            n++;
            an.handle(e);
          },
        });
        await readCapture(f, (fr) => ing.pushFrame(fr));
        ing.flush();
        return n;
      },
    ],
  ];
  for (const [label, run] of stages) if (only === undefined || label.startsWith(only)) await time(label, file, run);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 2;
});
