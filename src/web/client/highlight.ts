/**
 * Which lines of a raw SIP message an alert's evidence points at (pure; runs in the page and in Node tests).
 * Evidence names a header (`From`, `P-Asserted-Identity`, `Diversion`, `Identity` …) — matched case-insensitively
 * and by its compact form (RFC 3261 §7.3.3, RFC 8224 `y`), with folded continuation lines — or `Request-URI`
 * (the start line). `Source` points at the network source, not at a line: the ladder marks that column.
 */

/** RFC 3261 §7.3.3 and later RFCs: compact form → full header name (lower case). */
const COMPACT: Readonly<Record<string, string>> = {
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  v: 'via',
  l: 'content-length',
  c: 'content-type',
  e: 'content-encoding',
  k: 'supported',
  s: 'subject',
  o: 'event',
  u: 'allow-events',
  r: 'refer-to',
  b: 'referred-by',
  x: 'session-expires',
  y: 'identity',
};

/** Evidence names that are not header names. */
const START_LINE = 'request-uri';

/**
 * Canonical lower-case header name an evidence entry refers to (`sip.duplicate-from` → `from`; alerts stored before
 * the anomaly names took their layer prefix say `duplicate-from`).
 */
export function evidenceHeaderName(header: string): string {
  let h = header.trim().toLowerCase();
  if (h.startsWith('sip.')) h = h.slice('sip.'.length);
  return h.startsWith('duplicate-') ? h.slice('duplicate-'.length) : h;
}

export interface RawLine {
  readonly text: string;
  /** The evidence header name this line belongs to, when highlighted. */
  readonly highlight?: string;
}

/**
 * Split `raw` into lines (CRLF or LF) and mark the lines of the headers in `headers`. The body (after the first
 * empty line) is never highlighted.
 */
export function highlightLines(raw: string, headers: readonly string[]): RawLine[] {
  const wanted = new Set(headers.map(evidenceHeaderName));
  const lines = raw.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const out: RawLine[] = [];
  let inBody = false;
  let current: string | undefined; // header of the previous line, for folded continuations
  lines.forEach((text, i) => {
    if (inBody) {
      out.push({ text });
      return;
    }
    if (i === 0) {
      current = undefined;
      out.push(wanted.has(START_LINE) ? { text, highlight: 'Request-URI' } : { text });
      return;
    }
    if (text === '') {
      inBody = true;
      out.push({ text });
      return;
    }
    if (/^[ \t]/.test(text)) {
      out.push(current !== undefined ? { text, highlight: current } : { text });
      return;
    }
    const colon = text.indexOf(':');
    const rawName = colon > 0 ? text.slice(0, colon).trim().toLowerCase() : '';
    const name = COMPACT[rawName] ?? rawName;
    current = name !== '' && wanted.has(name) ? name : undefined;
    out.push(current !== undefined ? { text, highlight: current } : { text });
  });
  return out;
}
