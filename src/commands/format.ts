/**
 * Human output of `analyze` (table) — plain text, no colour when not a TTY. Every value that can come from a
 * capture or a file name goes through {@link terminalSafe}: a Call-ID holding `ESC ]0;…BEL` is shown as
 * `\x1b]0;…\x07`, never sent to the terminal (issue #17).
 */
import { terminalSafe } from '../util/terminal.js';
import { noSipReason, type AnalyzeReport } from './analyze.js';

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

export function formatTable(r: AnalyzeReport, configLabel: string): string {
  const out: string[] = [];
  for (const f of r.files) {
    out.push(`${terminalSafe(f.file)}: ${f.format ?? 'unreadable'}, ${f.bytes} bytes, ${f.frames} frames, ${f.sipMessages} SIP messages${f.error ? `  [ERROR ${terminalSafe(f.error.code)} at byte ${f.error.offset}]` : ''}`);
  }
  out.push('');
  out.push(`frames ${r.frames}   SIP messages ${r.sipMessages}   other payloads ${r.notSip}   calls ${r.calls}   alerts ${r.alerts.length}   anomalies ${Object.values(r.anomalies).reduce((a, b) => a + b, 0)}`);
  const noSip = noSipReason(r);
  if (noSip !== undefined) out.push(noSip);
  if (Object.keys(r.notDecoded).length > 0) out.push(`not decoded: ${counts(r.notDecoded)}`);
  out.push(`requests:  ${counts(r.byMethod)}`);
  out.push(`responses: ${counts(r.byStatus)}`);
  out.push(`anomalies: ${counts(r.anomalies)}`);
  out.push(`config:    ${terminalSafe(configLabel)}`);
  if (r.alertedCalls.length) {
    out.push('', 'Calls with alerts');
    out.push(
      table([
        ['CALL-ID', 'PEER', 'STATE', 'FRAME', 'MSGS', 'ALERTS'],
        ...r.alertedCalls.map((c) => [c.callId, c.peer ?? '-', c.finalStatus ? `${c.state} ${c.finalStatus}` : c.state, String(c.firstFrame), String(c.messages), c.alerts.join(',')]),
      ]),
    );
  }
  if (r.alerts.length) {
    out.push('', 'Alerts');
    out.push(
      table([
        ['SEVERITY', 'RULE', 'PEER', 'PRESENTED', 'CALL-ID', 'FRAME', 'SUMMARY'],
        ...r.alerts.map((a) => [
          a.severity.toUpperCase(),
          a.rule,
          a.network.peer ?? `unknown ${a.network.src}`,
          a.presented.number ?? '-',
          a.call.callId,
          String(a.evidence[0]?.frame ?? ''),
          a.summary,
        ]),
      ]),
    );
  } else {
    out.push('', 'No alerts.');
  }
  return out.join('\n') + '\n';
}
