/**
 * `spoofwatch tail ws://HOST:PORT/alerts`: one line per alert (coloured on a TTY), reconnecting with
 * exponential backoff and resuming from the last seq seen, so a restart of the daemon loses nothing.
 */
import WebSocket from 'ws';
import { isSeverity, type Alert, type Severity } from '../alerts/alert.js';
import { jsonTerminalSafe, terminalSafe } from '../util/terminal.js';
import type { Incident } from '../incidents/incident.js';

export interface TailOptions {
  readonly url: string;
  readonly token?: string;
  readonly minSeverity?: Severity;
  /** Replay stored alerts with seq > since before live ones. */
  readonly since?: number;
  readonly json?: boolean;
  /** Incidents instead of alerts (issue #19): one line per incident opening, growing and closing. */
  readonly incidents?: boolean;
  readonly color?: boolean;
  /** Output of one alert line (without newline). */
  readonly out: (line: string) => void;
  /** Status messages (connects, reconnects). */
  readonly err: (line: string) => void;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export interface TailHandle {
  /** Highest seq printed (or the `since` given, or the server's lastSeq at the first connect): where a reconnect resumes. */
  lastSeq(): number;
  stop(): void;
  /** Resolves with the exit code: 0 after stop(), 2 on an authentication failure. */
  readonly done: Promise<number>;
}

const COLOURS: Record<Severity, string> = {
  critical: '\x1b[1;31m',
  high: '\x1b[31m',
  medium: '\x1b[33m',
  low: '\x1b[36m',
  info: '\x1b[2m',
};

/**
 * One readable line per alert (tail and the daemon's console). The fields come from SIP messages and from the
 * server, so the line goes through {@link terminalSafe}: no control character of a Call-ID or display name
 * reaches the terminal; only the colour codes added here do. With `maxWidth` the visible line is at most that
 * wide (the title is shortened first, then the line is cut with `…`).
 */
export function formatAlertLine(a: Alert, color: boolean, maxWidth?: number): string {
  const sev = a.severity.toUpperCase().padEnd(8);
  const who = a.presented.number ?? a.presented.displayName ?? '-';
  const head = terminalSafe(`#${a.seq} ${a.captureTs} ${sev} ${a.rule} peer=${a.network.peer ?? '-'} src=${a.network.src}/${a.network.transport} presented=${who}`);
  let title = terminalSafe(a.title);
  const end = terminalSafe(`(Call-ID ${a.call.callId})`);
  let line = `${head} ${title} ${end}`;
  if (maxWidth !== undefined && line.length > maxWidth) {
    // The title is the one part the alert's JSON repeats word for word: shorten it first, then cut the line.
    const room = maxWidth - head.length - end.length - 2;
    title = room >= 2 ? `${title.slice(0, room - 1)}…` : '';
    line = title === '' ? `${head} ${end}` : `${head} ${title} ${end}`;
    if (line.length > maxWidth) line = `${line.slice(0, maxWidth - 1)}…`;
  }
  return color ? `${COLOURS[a.severity]}${line}\x1b[0m` : line;
}

/**
 * One line per incident message (`tail --incidents`, issue #19): event, id, severity, rule, key, counts and span in
 * capture time. Fields from the server go through {@link terminalSafe}.
 */
export function formatIncidentLine(event: string, i: Incident, color: boolean, maxWidth?: number): string {
  const key = i.key.numberPrefix !== undefined ? `number=${i.key.numberPrefix}` : i.key.peer !== undefined ? `peer=${i.key.peer}` : `src=${i.key.src ?? '-'}`;
  let line = terminalSafe(
    `incident #${i.id} ${event.toUpperCase().padEnd(6)} ${i.severity.toUpperCase().padEnd(8)} ${i.rule} ${key} alerts=${i.count} callers=${i.distinctPresented} called=${i.distinctCalled} ${i.firstSeen} .. ${i.lastSeen} seq ${i.firstAlertSeq}..${i.lastAlertSeq}`,
  );
  // A long peer name or key: the line is cut (after escaping, so no escape is cut in half into a control).
  if (maxWidth !== undefined && line.length > maxWidth) line = `${line.slice(0, maxWidth - 1)}…`;
  return color && isSeverity(i.severity) ? `${COLOURS[i.severity]}${line}\x1b[0m` : line;
}

function isIncident(v: unknown): v is Incident {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['id'] === 'number' && typeof o['rule'] === 'string' && typeof o['severity'] === 'string' && typeof o['key'] === 'object' && o['key'] !== null && typeof o['count'] === 'number';
}

/**
 * `url` as tail may print it: the value of every `token` query parameter and a userinfo password replaced by
 * `<redacted>`, so a token given as `ws://…/alerts?token=T` never reaches the terminal or a log (issue #17).
 */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1<redacted>').replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)[^/?#@]*@/i, '$1<redacted>@');
}

function isAlert(v: unknown): v is Alert {
  if (typeof v !== 'object' || v === null) return false;
  const a = v as Partial<Alert>;
  return typeof a.seq === 'number' && typeof a.rule === 'string' && typeof a.severity === 'string' && isSeverity(a.severity);
}

function urlTokens(url: string): string[] {
  try {
    return new URL(url).searchParams.getAll('token');
  } catch {
    return [];
  }
}

export function startTail(opts: TailOptions): TailHandle {
  let last = opts.since ?? -1;
  /** The store epoch of the server's first hello: seqs only compare within one epoch. */
  let epoch: string | undefined;
  let stopped = false;
  let ws: WebSocket | undefined;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const initial = opts.initialBackoffMs ?? 500;
  // Status lines name the URL without its token, and never print the token itself (a server could echo it).
  const shownUrl = terminalSafe(redactUrl(opts.url));
  const secrets = [opts.token, ...urlTokens(opts.url)].filter((t): t is string => t !== undefined && t.length >= 4);
  const status = (line: string): void => {
    let safe = terminalSafe(line);
    for (const t of secrets) safe = safe.split(t).join('<redacted>');
    opts.err(safe);
  };
  const max = opts.maxBackoffMs ?? 30_000;

  const connect = (): void => {
    if (stopped) return;
    const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    const sock = new WebSocket(opts.url, { headers, handshakeTimeout: 10_000 });
    ws = sock;
    sock.on('unexpected-response', (_req, res) => {
      if (res.statusCode === 401) {
        status(`spoofwatch tail: ${shownUrl}: unauthorized (401): check --token`);
        stopped = true;
        finish(2);
      } else {
        status(`spoofwatch tail: ${shownUrl}: HTTP ${res.statusCode ?? '?'}`);
      }
      sock.terminate();
    });
    sock.on('message', (data) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return;
      }
      if (typeof msg !== 'object' || msg === null) return;
      const m = msg as { type?: unknown; alert?: unknown; lastSeq?: unknown; message?: unknown; epoch?: unknown; code?: unknown; incident?: unknown; event?: unknown };
      const subscribe = (since: number | undefined): void =>
        sock.send(
          JSON.stringify({
            type: 'subscribe',
            ...(opts.minSeverity ? { minSeverity: opts.minSeverity } : {}),
            ...(since !== undefined ? { since } : {}),
            ...(opts.incidents ? { streams: ['incidents'] } : {}),
          }),
        );
      if (m.type === 'hello') {
        attempt = 0;
        const helloEpoch = typeof m.epoch === 'string' ? m.epoch : undefined;
        const serverLast = typeof m.lastSeq === 'number' ? m.lastSeq : undefined;
        // Another store (replaced or reset): its seqs are not ours to resume from; everything it holds is new.
        let restart = '';
        if (last >= 0 && epoch !== undefined && helloEpoch !== undefined && helloEpoch !== epoch) {
          restart = `, store epoch changed (${epoch} → ${helloEpoch}): the store was replaced or reset, restarting from 0`;
          last = 0;
        } else if (last >= 0 && serverLast !== undefined && serverLast < last) {
          restart = `, server lastSeq ${serverLast} is below ${last}: the store was replaced or reset, restarting from 0`;
          last = 0;
        }
        epoch = helloEpoch ?? epoch;
        const since = last >= 0 ? last : undefined;
        // Without --since the first connect starts at hello's lastSeq; a reconnect then resumes from there too.
        if (last < 0 && serverLast !== undefined) last = serverLast;
        subscribe(since ?? (serverLast !== undefined ? serverLast : undefined));
        status(`spoofwatch tail: connected to ${shownUrl} (server lastSeq ${String(m.lastSeq)}${restart || (since !== undefined ? `, resuming after ${since}` : '')})`);
      } else if (m.type === 'alert' && isAlert(m.alert)) {
        const a = m.alert;
        if (a.seq <= last) return; // already printed (resume overlap)
        last = a.seq;
        opts.out(opts.json ? jsonTerminalSafe(JSON.stringify(a)) : formatAlertLine(a, opts.color ?? false));
      } else if (m.type === 'incident' && isIncident(m.incident)) {
        const inc = m.incident;
        const event = typeof m.event === 'string' ? m.event : inc.state;
        opts.out(opts.json ? jsonTerminalSafe(JSON.stringify({ event, incident: inc })) : formatIncidentLine(event, inc, opts.color ?? false));
      } else if (m.type === 'error' && m.code === 'SINCE_AHEAD') {
        // Only a --since beyond the store (or an old server without epochs) gets here: start from 0 and say so.
        status(`spoofwatch tail: server: ${String(m.message)}; restarting from 0`);
        last = 0;
        subscribe(0);
      } else if (m.type === 'error') {
        status(`spoofwatch tail: server: ${String(m.message)}`);
      }
    });
    sock.on('error', () => {
      // 'close' follows and schedules the reconnect
    });
    sock.on('close', (code) => {
      ws = undefined;
      if (stopped) return;
      const delay = Math.min(max, initial * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      attempt++;
      status(`spoofwatch tail: disconnected (${code}); reconnecting in ${Math.round(delay)} ms`);
      timer = setTimeout(connect, delay);
    });
  };
  connect();

  return {
    lastSeq: () => last,
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      ws?.close(1000);
      finish(0);
    },
    done,
  };
}
