/**
 * Operational logs: winston, one JSON object per line on stderr. Never per packet (DESIGN.md §6). On a
 * terminal (stderr a TTY, as under `npm start`) the same records are written for people instead:
 * `HH:MM:SS level message key=value …`, wrapped at {@link HUMAN_LINE_WIDTH} characters (issue #20); off a
 * terminal (pipes, files, `docker logs`, journald) they stay JSON for machines.
 *
 * Log lines land on the operator's terminal (and in `docker logs`): their values can hold text from captures,
 * file names and peers. JSON escapes C0 controls already; {@link jsonTerminalSafe} escapes the DEL, C1 and bidi
 * controls JSON leaves raw, so no byte of a log line makes a terminal act and every line still parses to the same
 * object (issue #17).
 */
import { writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { isatty } from 'node:tty';
import winston from 'winston';
import { jsonTerminalSafe, terminalSafe } from '../util/terminal.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  readonly level?: string;
  /** No output at all (in-process tests). */
  readonly silent?: boolean;
  /** Human-readable lines instead of JSON; default: whether stderr is a terminal. */
  readonly human?: boolean;
}

/** Widest line the human format writes; longer records continue on indented lines. */
export const HUMAN_LINE_WIDTH = 200;

const LEVEL = Symbol.for('level');
const HIDDEN_KEYS = new Set(['level', 'message', 'timestamp', 'service']);

function fieldText(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}

/**
 * One log record as terminal lines: `19:20:01 info  message key=value …`. Every value passes through
 * {@link terminalSafe} (values hold text from captures and peers), and the record is cut at field boundaries
 * into lines of at most `width` characters (a longer single field is split), continued with two spaces.
 */
export function humanLogLines(info: Record<string, unknown>, width = HUMAN_LINE_WIDTH): string {
  const ts = typeof info.timestamp === 'string' ? info.timestamp.slice(11, 19) : '';
  const level = String((info as Record<symbol, unknown>)[LEVEL] ?? info.level ?? '');
  const parts = [terminalSafe(`${ts} ${level.padEnd(5)} ${fieldText(info.message)}`)];
  for (const [k, v] of Object.entries(info)) {
    if (HIDDEN_KEYS.has(k) || v === undefined) continue;
    parts.push(terminalSafe(`${k}=${fieldText(v)}`));
  }
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    const sep = line === '' ? '' : ' ';
    if (line !== '' && line.length + sep.length + part.length <= width) {
      line += sep + part;
      continue;
    }
    if (line !== '') lines.push(line);
    let rest = line === '' && lines.length === 0 ? part : `  ${part}`;
    while (rest.length > width) {
      lines.push(rest.slice(0, width));
      rest = `  ${rest.slice(width)}`;
    }
    line = rest;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

const humanFormat = winston.format((info) => {
  (info as Record<symbol, unknown>)[MESSAGE] = humanLogLines(info as unknown as Record<string, unknown>);
  return info;
});

const MESSAGE = Symbol.for('message');

/** After `format.json()`: the serialised line with terminal-acting characters written as `\uXXXX`. */
const terminalSafeJson = winston.format((info) => {
  const line = (info as Record<symbol, unknown>)[MESSAGE];
  if (typeof line === 'string') (info as Record<symbol, unknown>)[MESSAGE] = jsonTerminalSafe(line);
  return info;
});

/**
 * Writes to a terminal by file descriptor, synchronously, dropping output once the terminal has gone (EIO after
 * a hang-up, EPIPE, EBADF …). Writing through Node's TTY stream to a terminal that was closed aborts the process
 * (measured: exit by SIGABRT at the first log line after the window closed); a daemon started in a terminal must
 * outlive it (issue #20).
 */
export class TerminalWriter {
  private gone = false;
  constructor(private readonly fd: number) {}
  /** False once a write failed: the terminal is gone, later writes are dropped. */
  get open(): boolean {
    return !this.gone;
  }
  write(text: string): void {
    if (this.gone) return;
    try {
      const buf = Buffer.from(text);
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off);
    } catch (e) {
      // EAGAIN on a non-blocking terminal would lose one line; anything else means it is gone.
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') this.gone = true;
    }
  }
}

/** The terminal writer of stderr, shared by the human logger and the daemon's banner. */
export const stderrTerminal = new TerminalWriter(2);

/** The daemon's logger: JSON lines on stderr, or {@link humanLogLines} when `human` (default: stderr is a TTY). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const human = opts.human ?? isatty(2);
  return winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent ?? false,
    format: human
      ? winston.format.combine(winston.format.timestamp(), humanFormat())
      : winston.format.combine(winston.format.timestamp(), winston.format.json(), terminalSafeJson()),
    defaultMeta: { service: 'spoofwatch' },
    // stderr, so stdout stays free for data (and `docker logs` shows both). On a terminal, by descriptor (above).
    transports: [
      human
        ? new winston.transports.Stream({
            stream: new Writable({
              write(chunk: Buffer | string, _enc, done) {
                stderrTerminal.write(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
                done();
              },
            }),
          })
        : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] }),
    ],
  });
}
