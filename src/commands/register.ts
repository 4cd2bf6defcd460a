/** Registers the long-running commands: `daemon` (live ingestion, alert stream) and `tail` (a stream client). */
import { isatty } from 'node:tty';
import { InvalidArgumentError, type Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { isSeverity, SEVERITIES, type Alert, type Severity } from '../alerts/alert.js';
import { loadConfig, type Config } from '../config/index.js';
// The daemon and tail commands load their modules when they run (below): `analyze`, `messages` and the other
// offline commands started ~100 modules more than they use (NATS, prom-client, winston, ws, SQLite: +18% of a
// short analyze's instructions).
import type { DaemonFlags, DaemonPorts } from '../daemon/daemon.js';
import { SpoofwatchError } from '../types.js';
import { tuneHeapForStreaming } from '../heap.js';
import { terminalSafe } from '../util/terminal.js';
import { renderRulesMarkdown } from '../rules/docs.js';
import { ALL_RULES } from '../rules/registry.js';
import { learnedYaml, learnFromCaptures } from './config-init.js';
import { keepRunningWhenStdoutCloses, stdoutOpen } from './stdout.js';
import type { Incident } from '../incidents/incident.js';

export type ConfigLoader = (path: string | undefined) => { config: Config; label: string };

function portOption(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535 (0: any free port)');
  return n;
}

function seqOption(v: string): number {
  if (!/^\d{1,15}$/.test(v)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(v);
}

function severityOption(v: string): Severity {
  const s = v.toLowerCase();
  if (!isSeverity(s)) throw new InvalidArgumentError(`expected one of ${SEVERITIES.join(', ')}`);
  return s;
}

interface DaemonCliOptions {
  config?: string;
  httpPort?: number;
  sipPort?: number;
  hepPort?: number;
  sipWsPort?: number;
  watch?: string;
  store?: string;
  logLevel: string;
  printAlerts?: boolean;
  printIncidents?: boolean;
}

/** Widest alert line the daemon prints on a terminal. */
const CONSOLE_WIDTH = 200;

/**
 * What the daemon tells a person who started it on a terminal (issue #20): what it watches, where the page and
 * the stream are, how to point it at their own network, how to reload and stop. Lines ≤ 100 characters.
 */
export function startBanner(config: Config, wsUrl: string, ports: DaemonPorts, embedded: boolean, pid: number): string {
  const page = wsUrl.replace(/^ws:/, 'http:').replace(/\/alerts$/, '/');
  const s = config.sources;
  const listen: string[] = [];
  if (s.sip) listen.push(`SIP ${s.sip.host}:${ports.sipUdp ?? ports.sipTcp ?? s.sip.port}`);
  if (s.hep) listen.push(`HEP ${s.hep.host}:${ports.hepUdp ?? ports.hepTcp ?? s.hep.port}`);
  if (s.interface) listen.push(`interface ${s.interface.name}`);
  const lines = [
    '',
    embedded
      ? 'spoofwatch daemon on the embedded lab config (loopback peers; `spoofwatch config print-default` shows it)'
      : 'spoofwatch daemon',
    `  watching  ${s.watch ? `${s.watch.dir} (pcap/pcapng files, each read once; --watch DIR)` : 'no folder'}`,
    `  listening ${listen.length > 0 ? listen.join(', ') : 'no live source'}`,
    `  page      ${page}   alert stream ${wsUrl}`,
    ...(embedded
      ? [
          '  your own network: spoofwatch config print-default > my.yaml; put your peers, numbers and',
          '            sources in it (docs/config.md has examples); spoofwatch config check my.yaml;',
          '            spoofwatch daemon --config my.yaml',
        ]
      : []),
    `  Ctrl-C or kill ${pid} stops it; kill -HUP ${pid} reloads the config file`,
    '',
  ];
  return lines.map(terminalSafe).join('\n') + '\n';
}

export function registerDaemonCommands(program: Command, configFrom: ConfigLoader): void {
  program
    .command('daemon')
    .description('live ingestion (SIP UDP/TCP, HEP v3, watched folder, interface) with a resumable WebSocket alert stream')
    .option('-c, --config <file>', 'config (YAML or JSON); the embedded default lab config when absent')
    .option('--http-port <n>', 'HTTP + WebSocket port (default 8080)', portOption)
    .option('--sip-port <n>', 'SIP UDP+TCP port (default 5060)', portOption)
    .option('--hep-port <n>', 'HEP v3 UDP+TCP port (default 9060)', portOption)
    .option('--sip-ws-port <n>', 'turn on the SIP-over-WebSocket listener (RFC 7118; off by default) on this port', portOption)
    .option('--watch <dir>', 'folder watched for pcap/pcapng(.gz) files (default captures/)')
    .option('--store <file>', 'SQLite alert store (default ./spoofwatch.db)')
    .option('--log-level <level>', 'error | warn | info | debug', 'info')
    .option('--print-alerts', 'print one line per alert on stdout')
    .option('--print-incidents', 'print incidents on stdout: opening (with its first alert), growing (at most every incidents.updateSeconds) and closing (default when stdout is a terminal)')
    .option('--no-print-alerts', 'print neither alerts nor incidents on stdout')
    .action(async (opts: DaemonCliOptions) => {
      tuneHeapForStreaming();
      const [{ applyFlags, startDaemon }, { createLogger, stderrTerminal, TerminalWriter }, { formatAlertLine, formatIncidentLine }] = await Promise.all([
        import('../daemon/daemon.js'),
        import('../daemon/logger.js'),
        import('./tail.js'),
      ]);
      const { config, label } = configFrom(opts.config);
      const flags: DaemonFlags = {
        ...(opts.httpPort !== undefined ? { httpPort: opts.httpPort } : {}),
        ...(opts.sipPort !== undefined ? { sipPort: opts.sipPort } : {}),
        ...(opts.hepPort !== undefined ? { hepPort: opts.hepPort } : {}),
        ...(opts.sipWsPort !== undefined ? { sipWsPort: opts.sipWsPort } : {}),
        ...(opts.watch !== undefined ? { watch: opts.watch } : {}),
        ...(opts.store !== undefined ? { store: opts.store } : {}),
      };
      const log = createLogger({ level: opts.logLevel });
      // The console (issue #19): incidents on a terminal (an alert storm is a few lines), one line per alert when asked.
      const mode = opts.printAlerts === false ? 'none' : opts.printAlerts === true ? 'alerts' : opts.printIncidents === true || process.stdout.isTTY === true ? 'incidents' : 'none';
      const color = process.stdout.isTTY === true;
      // Printing is a convenience: `daemon | head` closing stdout stops it, not the daemon.
      keepRunningWhenStdoutCloses();
      // On a terminal, and in incident mode (a view for people), a line never wraps past CONSOLE_WIDTH (an alert's
      // title is shortened first).
      const width = color || mode === 'incidents' ? CONSOLE_WIDTH : undefined;
      // On a terminal, alert lines go out by descriptor: a closed terminal window must not abort the daemon.
      const terminal = color ? new TerminalWriter(1) : undefined;
      const printLine = (line: string): void => {
        if (terminal) terminal.write(line);
        else if (stdoutOpen()) process.stdout.write(line);
      };
      const sinks = mode === 'alerts' ? [{ name: 'console', deliver: (a: Alert) => printLine(formatAlertLine(a, color, width) + '\n') }] : [];
      // An incident's first alert is printed with its open line, at once (grouping never waits for the update period).
      const onIncident =
        mode === 'incidents'
          ? (event: 'open' | 'update' | 'close', inc: Incident, first?: Alert): void =>
              printLine(`${formatIncidentLine(event, inc, color, width)}\n${first ? `${formatAlertLine(first, color, width)}\n` : ''}`)
          : undefined;
      const running = applyFlags(config, flags);
      const daemon = await startDaemon({ config: running, logger: log, sinks, ...(onIncident ? { onIncident } : {}) });
      log.info('daemon started', { config: label, pid: process.pid });

      // SIGHUP: re-read the config file; peers, lists and rules change, call state stays.
      const onHup = (): void => {
        if (!opts.config) {
          log.info('SIGHUP: running on the embedded default config, nothing to reload');
          return;
        }
        // loadConfig reads every file the config names, bounded, and never throws; the guard is for what it
        // cannot foresee: a reload must never take the running daemon down.
        try {
          const r = loadConfig(opts.config);
          if (!r.ok) {
            daemon.metrics.reload('rejected');
            log.error('SIGHUP: config rejected; keeping the running config', { config: opts.config, errors: r.errors });
            return;
          }
          daemon.reload(applyFlags(r.config, flags));
        } catch (e) {
          daemon.metrics.reload('rejected');
          log.error('SIGHUP: config reload failed; keeping the running config', { config: opts.config, error: e instanceof Error ? e.message : String(e) });
        }
      };
      process.on('SIGHUP', onHup);
      // After the SIGHUP handler: the banner says SIGHUP reloads, so it must already be true when it appears.
      if (isatty(2)) stderrTerminal.write(startBanner(running, daemon.urls.ws, daemon.ports, opts.config === undefined, process.pid));

      await new Promise<void>((resolve) => {
        const onStop = (signal: NodeJS.Signals): void => {
          process.off('SIGTERM', onStop);
          process.off('SIGINT', onStop);
          log.info('shutting down', { signal });
          daemon
            .stop()
            .catch((e: unknown) => log.error('shutdown failed', { error: e instanceof Error ? e.message : String(e) }))
            .finally(() => resolve());
        };
        process.on('SIGTERM', onStop);
        process.on('SIGINT', onStop);
      });
      process.off('SIGHUP', onHup);
      // Anything still holding the event loop (a stuck client socket) must not keep a stopped daemon alive.
      setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
    });

  program
    .command('tail')
    .description('print live alerts from a daemon, reconnecting and resuming by seq')
    .argument('<url>', 'WebSocket URL, e.g. ws://127.0.0.1:8080/alerts')
    .option('--token <token>', 'bearer token')
    .option('--min-severity <severity>', 'only alerts at or above this severity', severityOption)
    .option('--since <seq>', 'replay stored alerts after this seq first', seqOption)
    .option('--json', 'one JSON alert per line')
    .option('--incidents', 'incidents instead of alerts: a line when one opens, grows (at most every incidents.updateSeconds) and closes')
    .action(async (url: string, opts: { token?: string; minSeverity?: Severity; since?: number; json?: boolean; incidents?: boolean }) => {
      const { redactUrl, startTail } = await import('./tail.js');
      if (!/^wss?:\/\//.test(url)) throw new SpoofwatchError('TAIL_URL', `expected a ws:// or wss:// URL, got ${terminalSafe(redactUrl(url))}`);
      const tail = startTail({
        url,
        ...(opts.token !== undefined ? { token: opts.token } : {}),
        ...(opts.minSeverity !== undefined ? { minSeverity: opts.minSeverity } : {}),
        ...(opts.since !== undefined ? { since: opts.since } : {}),
        json: opts.json ?? false,
        incidents: opts.incidents ?? false,
        color: process.stdout.isTTY === true,
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      });
      const stop = (): void => tail.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.exitCode = await tail.done;
    });
}

function countryOption(v: string): string {
  const c = v.toUpperCase();
  if (!/^[A-Z]{2}$/.test(c) || !isSupportedCountry(c)) throw new InvalidArgumentError('expected an ISO 3166 alpha-2 country code, e.g. NL');
  return c;
}

/**
 * `config init --from CAPTURE…` under the `config` command: a commented starting config learned from traffic
 * (src/commands/config-init.ts). Written to stdout, or to `--output FILE` (never over an existing file).
 */
export function registerConfigInit(config: Command, configFrom: ConfigLoader): void {
  config
    .command('init')
    .description('learn a starting config from captures: one untrusted peer per source, the numbers it presented (flagged ones left out)')
    .requiredOption('--from <captures...>', 'capture files (pcap, pcapng, gzip) of your own traffic')
    .option('-c, --config <file>', 'config whose lists and rules judge the traffic (default: the embedded one)')
    .option('--home-country <cc>', 'country for national numbers (default: the config\'s homeCountry)', countryOption)
    .option('-o, --output <file>', 'write the YAML here (refuses to overwrite) instead of stdout')
    .action(async (opts: { from: string[]; config?: string; homeCountry?: string; output?: string }) => {
      if (opts.output !== undefined && existsSync(opts.output)) throw new SpoofwatchError('CONFIG_INIT_EXISTS', `${terminalSafe(opts.output)} exists; choose another --output`);
      const base = configFrom(opts.config).config;
      const judged = opts.homeCountry !== undefined ? { ...base, homeCountry: opts.homeCountry } : base;
      const learned = await learnFromCaptures(opts.from, judged);
      let bad = false;
      for (const f of learned.files) {
        if (!f.error) continue;
        bad = true;
        process.stderr.write(`spoofwatch: ${terminalSafe(f.error.message)}\n`);
      }
      // Nothing readable: no file that looks like a (empty) learned config.
      if (bad && learned.sipMessages === 0) {
        process.exitCode = 2;
        return;
      }
      const yaml = learnedYaml(learned);
      if (opts.output !== undefined) writeFileSync(opts.output, yaml, { flag: 'wx' });
      else process.stdout.write(yaml);
      const left = learned.peers.reduce((n, p) => n + p.leftOut.length, 0);
      process.stderr.write(`learned ${learned.peers.length} peer${learned.peers.length === 1 ? '' : 's'} from ${learned.calls} call${learned.calls === 1 ? '' : 's'}; ${left} flagged number${left === 1 ? '' : 's'} left out — review before trusting\n`);
      const unchecked = learned.peers.filter((p) => p.allowedNumbers.length === 0).length;
      if (unchecked > 0) {
        process.stderr.write(`${unchecked} peer${unchecked === 1 ? ' has' : 's have'} no learned numbers: CLI-NOT-AUTHORIZED does not check ${unchecked === 1 ? 'it' : 'them'} until you add allowedNumbers\n`);
      }
      if (bad) process.exitCode = 2;
    });
}

/** `spoofwatch rules [ID…]`: the rule catalogue from the rules' metadata, the text of docs/rules.md. */
export function registerRulesCommand(program: Command): void {
  program
    .command('rules')
    .description('print the detection rules (id, severity, parameters, config fields read, caveat, source): docs/rules.md')
    .argument('[ids...]', 'only these rule ids')
    .action((ids: string[]) => {
      const wanted = new Set(ids.map((i) => i.toUpperCase()));
      const unknown = [...wanted].filter((i) => !ALL_RULES.some((r) => r.id === i));
      if (unknown.length > 0) throw new SpoofwatchError('RULE_UNKNOWN', `unknown rule id ${unknown.map((u) => terminalSafe(u)).join(', ')}; see spoofwatch rules`);
      process.stdout.write(renderRulesMarkdown(wanted.size === 0 ? ALL_RULES : ALL_RULES.filter((r) => wanted.has(r.id))));
    });
}
