/**
 * spoofwatch command line: analyze | messages | hep-send | config check | config init | config print-default | rules |
 * daemon | tail | cluster status.
 * Exit codes everywhere (DESIGN.md §5): 0 ok, 1 alerts at or above --fail-on, 2 bad input or config.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { isSeverity, severityRank, SEVERITIES, type Severity } from './alerts/alert.js';
import { DEFAULT_CONFIG_YAML, defaultConfig, describeConfig, loadConfig, type Config } from './config/index.js';
import { analyzeFiles, runFiles, type AnalyzeReport, type ProgressSink } from './commands/analyze.js';
import { DEFAULT_MAX_ROWS, formatTable, JsonDocumentWriter, ndjsonAlertWriter, StreamedText } from './commands/format.js';
import { messageJson } from './commands/message-json.js';
import { learnedConfigNote } from './commands/config-init.js';
import { registerClusterCommands } from './commands/cluster-status.js';
import { registerConfigInit, registerDaemonCommands, registerRulesCommand } from './commands/register.js';
import { handleStdoutErrors } from './commands/stdout.js';
import { tuneHeapForStreaming } from './heap.js';
import { terminalLines, terminalSafe } from './util/terminal.js';

/** A failure that ends the command with a one-line message and exit code 2. */
class UsageError extends Error {}

function fail(message: string): never {
  throw new UsageError(message);
}

export function configFrom(path: string | undefined): { config: Config; label: string } {
  if (!path) return { config: defaultConfig(), label: 'embedded default (spoofwatch config print-default)' };
  const r = loadConfig(path);
  if (!r.ok) fail(`${path}: invalid config\n${r.errors.map((e) => `  ${e}`).join('\n')}`);
  const learned = learnedConfigNote(r.config);
  return { config: r.config, label: learned !== undefined ? `${path} (${learned})` : path };
}

function severityOption(v: string): Severity {
  const s = v.toLowerCase();
  if (!isSeverity(s)) throw new InvalidArgumentError(`expected one of ${SEVERITIES.join(', ')}`);
  return s;
}

function rowsOption(v: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new InvalidArgumentError('expected a row count (0 or more)');
  return Number(v);
}

function threadsOption(v: string): number {
  if (v === 'auto') return availableParallelism() > 1 ? 2 : 1;
  if (!/^\d{1,2}$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('expected a thread count (1, 2 …) or auto');
  return Number(v);
}

async function progressBar(): Promise<ProgressSink | undefined> {
  if (!process.stderr.isTTY) return undefined;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{file} [{bar}] {percentage}% {value}/{total} MB', clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let file = '';
  return {
    start(f, total) {
      file = terminalSafe(f);
      bar.start(Math.round((total ?? 0) / 1e6), 0, { file });
    },
    update(bytes) {
      bar.update(Math.round(bytes / 1e6), { file });
    },
    stop() {
      bar.stop();
    },
  };
}

/** One line per unreadable input on stderr; returns true when there was any. */
function reportInputErrors(r: Pick<AnalyzeReport, 'files'>): boolean {
  let bad = false;
  for (const f of r.files) {
    if (f.error) {
      bad = true;
      process.stderr.write(`spoofwatch: ${terminalLines(f.error.message)}\n`);
    }
  }
  return bad;
}

function write(text: string): Promise<void> {
  return new Promise((res) => {
    if (process.stdout.write(text)) res();
    else process.stdout.once('drain', () => res());
  });
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('spoofwatch')
    .description('Caller-ID spoofing detection on SIP signalling: compares presented identity with network identity')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('analyze')
    .description('analyse capture files (pcap, pcapng, gzip; - for stdin): summary, calls and alerts')
    .argument('<files...>', 'capture files')
    .option('-c, --config <file>', 'config (YAML or JSON); the embedded default when absent')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'ndjson']).default('table'))
    .option('--evidence-dir <dir>', 'write one pcapng per alert with the call\'s messages (offending frame commented)')
    .option('--fail-on <severity>', 'exit 1 when an alert at or above this severity was raised', severityOption)
    .option('--threads <n>', 'threads: 1, 2 (read, decode and split SIP in a worker; rules here) or auto; same results', threadsOption, 1)
    .option('--max-rows <n>', 'table: rows shown per section (calls with alerts, alerts); the counts cover all', rowsOption, DEFAULT_MAX_ROWS)
    .action(async (files: string[], opts: { config?: string; format: string; failOn?: Severity; evidenceDir?: string; threads: number; maxRows: number }) => {
      tuneHeapForStreaming();
      const { config, label } = configFrom(opts.config);
      // ndjson and json stream each alert as it is raised and keep none of them; the table keeps the first rows.
      // Memory no longer grows with the number of alerts (issue #18).
      const out = new StreamedText(process.stdout);
      const json = opts.format === 'json' ? new JsonDocumentWriter(out) : undefined;
      const streamAlert = json ? json.alert : opts.format === 'ndjson' ? ndjsonAlertWriter(out) : undefined;
      const failRank = opts.failOn ? severityRank(opts.failOn) : Infinity;
      let failed = false;
      const report = await analyzeFiles(files, config, await progressBar(), opts.evidenceDir, {
        threads: opts.threads,
        onAlert: (a) => {
          if (severityRank(a.severity) >= failRank) failed = true;
          streamAlert?.(a);
        },
        ...(streamAlert ? { afterChunk: () => out.drain(), keepAlerts: 0, ...(json ? {} : { keepCalls: 0 }) } : { keepAlerts: opts.maxRows, keepCalls: opts.maxRows }),
      });
      if (json) json.end(report);
      else if (!streamAlert) out.write(formatTable(report, label));
      await out.drain();
      const bad = reportInputErrors(report);
      if (bad) process.exitCode = 2;
      else if (failed) process.exitCode = 1;
    });

  program
    .command('messages')
    .description('one NDJSON line per SIP message (frame, time, addresses, Call-ID, From, To, PAI …)')
    .argument('<files...>', 'capture files')
    .action(async (files: string[]) => {
      tuneHeapForStreaming();
      const report = { files: [], frames: 0, sipMessages: 0, notSip: 0, anomalies: {} } as Pick<AnalyzeReport, 'files' | 'frames' | 'sipMessages' | 'notSip' | 'anomalies'>;
      // Lines are gathered per read chunk and written out after it; reading waits while stdout is full (a slow
      // reader behind a pipe), so memory stays bounded whatever the capture size.
      let buf = '';
      await runFiles(
        files,
        (e, file) => {
          buf += JSON.stringify(messageJson(e, files.length > 1 ? file : undefined)) + '\n';
        },
        report,
        {
          afterChunk: async () => {
            if (buf.length === 0) return;
            const out = buf;
            buf = '';
            await write(out);
          },
        },
      );
      await write(buf);
      if (reportInputErrors(report)) process.exitCode = 2;
    });

  program
    .command('hep-send')
    .description('replay the SIP messages of captures as HEP (v3, or v1/v2 as Kamailio siptrace sends) to a collector (UDP, or TCP with --tcp)')
    .argument('<files...>', 'capture files')
    .requiredOption('--to <host:port>', 'HEP collector address, e.g. 127.0.0.1:9060')
    .option('--tcp', 'send over TCP instead of UDP')
    .option('--capture-id <n>', 'HEP capture agent id', '2001')
    .option('--rate <n>', 'messages per second (0: as fast as possible)', '0')
    .option('--hep-version <n>', 'HEP version: 1, 2 (Kamailio siptrace hep_version) or 3', '3')
    .action(async (files: string[], opts: { to: string; tcp?: boolean; captureId: string; rate: string; hepVersion: string }) => {
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(opts.to);
      if (!m) fail(`--to ${opts.to}: expected HOST:PORT`);
      const hepVersion = Number(opts.hepVersion);
      if (hepVersion !== 1 && hepVersion !== 2 && hepVersion !== 3) fail(`--hep-version ${opts.hepVersion}: expected 1, 2 or 3`);
      const { hepSend } = await import('./commands/hep-send.js');
      const r = await hepSend(files, { host: m[1]!, port: Number(m[2]), tcp: opts.tcp === true, captureId: Number(opts.captureId), rate: Number(opts.rate), hepVersion: hepVersion as 1 | 2 | 3 });
      process.stderr.write(`sent ${r.sent} HEP${hepVersion !== 3 ? ` v${hepVersion}` : ''} packets to ${opts.to} over ${opts.tcp ? 'TCP' : 'UDP'}\n`);
      if (reportInputErrors(r.report)) process.exitCode = 2;
    });

  const cfg = program.command('config').description('inspect configuration');
  cfg
    .command('check')
    .description('validate a config file and print what was understood')
    .argument('<file>')
    .action((file: string) => {
      const { config } = configFrom(file);
      // A shell prompt must not start on the last line of the report.
      const text = describeConfig(config);
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });
  cfg
    .command('print-default')
    .description('print the embedded default config (a small documented lab network)')
    .action(() => {
      process.stdout.write(DEFAULT_CONFIG_YAML);
    });

  registerConfigInit(cfg, configFrom);
  registerRulesCommand(program);
  registerDaemonCommands(program, configFrom);
  registerClusterCommands(program, configFrom);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) return 2;
    if (e instanceof UsageError) {
      process.stderr.write(`spoofwatch: ${terminalLines(e.message)}\n`);
      return 2;
    }
    const code = (e as { code?: unknown }).code;
    process.stderr.write(`spoofwatch: ${typeof code === 'string' ? `${terminalSafe(code)}: ` : ''}${terminalLines(err.message ?? String(e))}\n`);
    return 2;
  }
}

const invoked = process.argv[1] ?? '';
if (invoked.endsWith('/cli.js') || invoked.endsWith('/spoofwatch') || invoked.endsWith('/spoofwatch.js')) {
  handleStdoutErrors();
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
