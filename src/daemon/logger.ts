/**
 * Operational logs: winston, one JSON object per line on stderr. Never per packet (DESIGN.md §6).
 *
 * Log lines land on the operator's terminal (and in `docker logs`): their values can hold text from captures,
 * file names and peers. JSON escapes C0 controls already; {@link jsonTerminalSafe} escapes the DEL, C1 and bidi
 * controls JSON leaves raw, so no byte of a log line makes a terminal act and every line still parses to the same
 * object (issue #17).
 */
import winston from 'winston';
import { jsonTerminalSafe } from '../util/terminal.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  readonly level?: string;
  /** No output at all (in-process tests). */
  readonly silent?: boolean;
}

const MESSAGE = Symbol.for('message');

/** After `format.json()`: the serialised line with terminal-acting characters written as `\uXXXX`. */
const terminalSafeJson = winston.format((info) => {
  const line = (info as Record<symbol, unknown>)[MESSAGE];
  if (typeof line === 'string') (info as Record<symbol, unknown>)[MESSAGE] = jsonTerminalSafe(line);
  return info;
});

export function createLogger(opts: LoggerOptions = {}): Logger {
  return winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent ?? false,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json(), terminalSafeJson()),
    defaultMeta: { service: 'spoofwatch' },
    // stderr, so stdout stays free for data (and `docker logs` shows both).
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] })],
  });
}
