/**
 * Where the offline time goes, stage by stage, on one capture (for profiling by hand, not part of the table):
 *   node dist/bench/stages.js FILE
 * read → + decode/frame/parse (Ingest) → + touch From/PAI/Call-ID → + Analyzer (call table, facts, rules).
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
