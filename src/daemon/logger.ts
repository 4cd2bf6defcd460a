/** Operational logs: winston, one JSON object per line on stderr. Never per packet (DESIGN.md §6). */
import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggerOptions {
  readonly level?: string;
  /** No output at all (in-process tests). */
  readonly silent?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent ?? false,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: { service: 'spoofwatch' },
    // stderr, so stdout stays free for data (and `docker logs` shows both).
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] })],
  });
}
