/**
 * Human output of `analyze` (table) — plain text, no colour when not a TTY. Every value that can come from a
 * capture or a file name goes through {@link terminalSafe}: a Call-ID holding `ESC ]0;…BEL` is shown as
 * `\x1b]0;…\x07`, never sent to the terminal (issue #17).
 */
import type { Alert } from '../alerts/alert.js';
import { terminalSafe } from '../util/terminal.js';
import { noSipReason, type AnalyzeReport } from './analyze.js';
import { severityRank } from '../alerts/alert.js';
import type { Incident } from '../incidents/incident.js';

/** Lines of the Incidents section at most: it must fit on one screen; the rest is counted and in `--format json`. */
export const INCIDENT_LINES = 20;

function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function keyText(i: Incident): string {
  if (i.key.numberPrefix !== undefined) return `number ${i.key.numberPrefix}…`;
  if (i.key.peer !== undefined) return `peer ${i.key.peer}`;
  return `unknown ${i.key.src ?? '?'}`;
}

/** `2026-03-01 10:00:00 +41m40s`: where the incident starts in capture time and how long it lasted. */
function span(i: Incident): string {
  const start = i.firstSeen.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
  return `${start} +${duration(Date.parse(i.lastSeen) - Date.parse(i.firstSeen))}`;
}

/**
 * The "Incidents" section (issue #19): one line per incident, the most severe and largest first, at most
 * {@link INCIDENT_LINES}; empty when there are none.
 */
export function formatIncidents(incidents: readonly Incident[]): string[] {
  if (incidents.length === 0) return [];
  const sorted = [...incidents].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || b.count - a.count || a.id - b.id);
  const shown = sorted.slice(0, INCIDENT_LINES);
  const out = [`Incidents (${incidents.length})`];
  out.push(
    table([
      ['ID', 'SEVERITY', 'RULE', 'KEY', 'STATE', 'ALERTS', 'CALLERS', 'CALLED', 'SPAN'],
      ...shown.map((i) => [String(i.id), i.severity.toUpperCase(), i.rule, keyText(i), i.state, String(i.count), String(i.distinctPresented), String(i.distinctCalled), span(i)]),
    ]),
  );
  if (sorted.length > shown.length) out.push(`  … ${sorted.length - shown.length} more incidents (${sorted.slice(INCIDENT_LINES).reduce((n, i) => n + i.count, 0)} alerts): see --format json`);
  out.push('');
  return out;
}

/** Rows per table section unless `--max-rows` says otherwise. */
export const DEFAULT_MAX_ROWS = 200;

/**
 * Text gathered and written in large writes (one write per ~64 KB, not per alert), for output that streams while
 * the capture is read. `drain()` (after each read chunk) flushes and waits while the stream is full, so a slow
 * reader pauses the reading instead of letting output pile up in memory.
 */
export class StreamedText {
  private buf = '';
  private full = false;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly flushAt = 64 * 1024,
  ) {}

  write(s: string): void {
    this.buf += s;
    if (this.buf.length >= this.flushAt) this.flush();
  }

  flush(): void {
    if (this.buf.length === 0) return;
    if (!this.out.write(this.buf)) this.full = true;
    this.buf = '';
  }

  async drain(): Promise<void> {
    this.flush();
    if (!this.full) return;
    await new Promise<void>((res) => this.out.once('drain', () => res()));
    this.full = false;
  }
}

/** `--format ndjson`: one line per alert, written as the alert is raised. */
export function ndjsonAlertWriter(out: StreamedText): (a: Alert) => void {
  return (a) => out.write(JSON.stringify(a) + '\n');
}

/**
 * `--format json` as one streamed document: `{"alerts": [` is written first, each alert as it is raised, and the
 * summary (every other key of {@link AnalyzeReport}, in its usual order) at the end. Byte for byte the document
 * `JSON.stringify(report, null, 2)` gives, except that `alerts` is the first key instead of coming after `noSip`.
 */
export class JsonDocumentWriter {
  private count = 0;
  constructor(private readonly out: StreamedText) {
    out.write('{\n  "alerts": [');
  }

  readonly alert = (a: Alert): void => {
    this.out.write((this.count++ === 0 ? '\n    ' : ',\n    ') + JSON.stringify(a, null, 2).replace(/\n/g, '\n    '));
  };

  /** Closes the alerts array and writes the summary; `alerts` in the report is ignored (already written). */
  end(report: AnalyzeReport): void {
    const { alerts: _written, notKept: _notKept, ...summary } = report;
    const rest = JSON.stringify(summary, null, 2);
    this.out.write((this.count > 0 ? '\n  ]' : ']') + (rest.length > 2 ? ',\n' + rest.slice(2) : '\n}') + '\n');
  }
}

/** `… and 9,812 more` under a table cut at its first N rows. */
function more(n: number): string[] {
  return n > 0 ? [`  … and ${n.toLocaleString('en-US')} more`] : [];
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  const safe = rows.map((r) => r.map(terminalSafe));
  for (const r of safe) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return safe.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]!))).join('  ')).join('\n');
}

function counts(m: Record<string, number>): string {
  const e = Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return e.length ? e.map(([k, v]) => `${terminalSafe(k)} ${v}`).join(', ') : '(none)';
}

/**
 * The table of `analyze`: counts of everything, then the kept rows of each section (the report holds the first
 * `--max-rows` alerts and alerted calls; `notKept` says how many more there were).
 */
export function formatTable(r: AnalyzeReport, configLabel: string): string {
  const out: string[] = formatIncidents(r.incidents);
  for (const f of r.files) {
    out.push(`${terminalSafe(f.file)}: ${f.format ?? 'unreadable'}, ${f.bytes} bytes, ${f.frames} frames, ${f.sipMessages} SIP messages${f.error ? `  [ERROR ${terminalSafe(f.error.code)} at byte ${f.error.offset}]` : ''}`);
  }
  out.push('');
  const alertsNotShown = r.notKept?.alerts ?? 0;
  const callsNotShown = r.notKept?.alertedCalls ?? 0;
  const held = r.notStreamed ? ` (suppressed ${r.notStreamed.suppressed}, below threshold ${r.notStreamed.belowThreshold})` : '';
  out.push(`frames ${r.frames}   SIP messages ${r.sipMessages}   other payloads ${r.notSip}   calls ${r.calls}   alerts ${r.alerts.length + alertsNotShown}${held}   anomalies ${Object.values(r.anomalies).reduce((a, b) => a + b, 0)}`);
  const noSip = noSipReason(r);
  if (noSip !== undefined) out.push(noSip);
  if (Object.keys(r.notDecoded).length > 0) out.push(`not decoded: ${counts(r.notDecoded)}`);
  out.push(`requests:  ${counts(r.byMethod)}`);
  out.push(`responses: ${counts(r.byStatus)}`);
  out.push(`anomalies: ${counts(r.anomalies)}`);
  out.push(`config:    ${terminalSafe(configLabel)}`);
  // Frame numbers are per file: with several files a FILE column says which one (an alert's network.origin).
  const files = r.files.length > 1;
  if (r.alertedCalls.length || callsNotShown) {
    out.push('', 'Calls with alerts');
    out.push(
      table([
        ['CALL-ID', 'PEER', 'STATE', ...(files ? ['FILE'] : []), 'FRAME', 'MSGS', 'ALERTS'],
        ...r.alertedCalls.map((c) => [
          c.callId,
          c.peer ?? '-',
          c.finalStatus ? `${c.state} ${c.finalStatus}` : c.state,
          ...(files ? [c.file ?? '-'] : []),
          String(c.firstFrame),
          String(c.messages),
          c.alerts.join(','),
        ]),
      ]),
      ...more(callsNotShown),
    );
  }
  // Sections that summarise alerts (incidents) go here, before the alert rows.
  if (r.alerts.length || alertsNotShown) {
    out.push('', 'Alerts');
    out.push(
      table([
        ['SEVERITY', 'RULE', 'PEER', 'PRESENTED', 'CALL-ID', ...(files ? ['FILE'] : []), 'FRAME', 'SUMMARY'],
        ...r.alerts.map((a) => [
          a.severity.toUpperCase(),
          a.rule,
          a.network.peer ?? `unknown ${a.network.src}`,
          a.presented.number ?? '-',
          a.call.callId,
          ...(files ? [a.network.origin] : []),
          String(a.evidence[0]?.frame ?? ''),
          a.suppressed ? `[suppressed] ${a.summary}` : a.belowThreshold ? `[below threshold] ${a.summary}` : a.summary,
        ]),
      ]),
      ...more(alertsNotShown),
    );
  } else {
    out.push('', 'No alerts.');
  }
  return out.join('\n') + '\n';
}
