/**
 * Child process of the bench: one offline `analyze` run (the same `analyzeFiles` the CLI calls) with the default
 * lab config (or --config), timed from the first read to the report, with this process's peak RSS (worker threads
 * included); alerts are serialised and counted as `analyze --format ndjson` streams them.
 * Prints one JSON line. Usage: node dist-bench/bench/child-analyze.js FILE [--threads N] [--config FILE]
 */
import { tuneHeapForStreaming } from '../src/heap.js';
import { analyzeFiles } from '../src/commands/analyze.js';
import { defaultConfig, loadConfig } from '../src/config/index.js';

async function main(): Promise<void> {
  tuneHeapForStreaming(); // as the CLI's analyze does
  const args = process.argv.slice(2);
  const file = args[0];
  if (file === undefined) throw new Error('usage: child-analyze FILE [--threads N] [--config FILE]');
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const threads = Number(opt('--threads') ?? '1');
  const cfgPath = opt('--config');
  let config = defaultConfig();
  if (cfgPath !== undefined) {
    const r = loadConfig(cfgPath);
    if (!r.ok) throw new Error(r.errors.join('; '));
    config = r.config;
  }
  // As `analyze --format ndjson` runs since issue #18: each alert serialised when raised, none kept (the text is
  // only measured, not written), so an alert storm costs what it costs a user.
  const byRule: Record<string, number> = {};
  let alerts = 0;
  let ndjsonBytes = 0;
  const t0 = process.hrtime.bigint();
  const report = await analyzeFiles([file], config, undefined, undefined, {
    threads,
    keepAlerts: 0,
    keepCalls: 0,
    onAlert: (a) => {
      alerts++;
      byRule[a.rule] = (byRule[a.rule] ?? 0) + 1;
      ndjsonBytes += JSON.stringify(a).length + 1;
    },
  });
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const bytes = report.files.reduce((n, f) => n + f.bytes, 0);
  process.stdout.write(
    JSON.stringify({
      file,
      threads,
      elapsedMs,
      frames: report.frames,
      sipMessages: report.sipMessages,
      bytes,
      calls: report.calls,
      alerts,
      alertsByRule: byRule,
      ndjsonBytes,
      anomalies: report.anomalies,
      maxRssKb: process.resourceUsage().maxRSS,
      error: report.files.find((f) => f.error)?.error?.message,
    }) + '\n',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`child-analyze: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 2;
});
