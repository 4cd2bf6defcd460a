/**
 * The incident view's pure parts (issue #19) and its sparkline: how an incident's key, span and numbers read, which
 * of two copies of an incident is the newer, and the rate line drawn from `GET /api/incidents/:id/rate`.
 * `sparkPoints` and the text helpers are pure (tested in Node); `renderSparkline` draws with the DOM. Every piece of
 * incident data reaches the page as text (textContent, attribute values), never as markup: keys come from SIP.
 */
import type { Incident, IncidentKey } from '../../incidents/incident.js';

/** `peer access-untrusted`, `src 127.0.0.99`, `prefix 312055`. */
export function keyText(key: IncidentKey): string {
  const parts: string[] = [];
  if (key.peer !== undefined) parts.push(`peer ${key.peer}`);
  if (key.src !== undefined) parts.push(`src ${key.src}`);
  if (key.numberPrefix !== undefined) parts.push(`prefix ${key.numberPrefix}`);
  return parts.join(' · ') || '(no key)';
}

/** `250 ms`, `42 s`, `3 m 29 s`, `2 h 05 m`, `3 d 4 h`: a duration in the two largest units. */
export function durationText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** `14:59:11 → 15:02:40 (3 m 29 s)` in capture time (UTC, as captured); the dates too when they differ; one time for one instant. */
export function spanText(firstSeen: string, lastSeen: string): string {
  const a = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(firstSeen);
  const b = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(lastSeen);
  if (!a || !b) return `${firstSeen} → ${lastSeen}`;
  if (firstSeen === lastSeen) return a[2]!;
  const sameDay = a[1] === b[1];
  const from = sameDay ? a[2] : `${a[1]} ${a[2]}`;
  const to = sameDay ? b[2] : `${b[1]} ${b[2]}`;
  return `${from} → ${to} (${durationText(Date.parse(lastSeen) - Date.parse(firstSeen))})`;
}

/** `60 presented · 1 called`. */
export function distinctText(i: Pick<Incident, 'distinctPresented' | 'distinctCalled'>): string {
  return `${i.distinctPresented} presented · ${i.distinctCalled} called`;
}

/**
 * Whether `next` should replace `current` (the same incident from the list API and from WebSocket messages, in
 * any order): more alerts, or the same alerts and now closed.
 */
export function isNewer(current: Incident | undefined, next: Incident): boolean {
  if (!current) return true;
  if (next.lastAlertSeq !== current.lastAlertSeq) return next.lastAlertSeq > current.lastAlertSeq;
  if (next.count !== current.count) return next.count > current.count;
  return next.state === 'closed' && current.state === 'open';
}

/**
 * The points of a sparkline of `counts` in a `width` × `height` box (1 px inset): x spreads the buckets evenly,
 * y is 0 at the top for the largest bucket. One bucket gives a flat line across.
 */
export function sparkPoints(counts: readonly number[], width: number, height: number): [number, number][] {
  if (counts.length === 0) return [];
  const max = Math.max(1, ...counts);
  const y = (c: number): number => Math.round((1 + (height - 2) * (1 - c / max)) * 10) / 10;
  if (counts.length === 1) return [
    [1, y(counts[0]!)],
    [width - 1, y(counts[0]!)],
  ];
  const step = (width - 2) / (counts.length - 1);
  return counts.map((c, i) => [Math.round((1 + i * step) * 10) / 10, y(c)]);
}

/** `N alerts per <bucket>` at the peak, for the sparkline's accessible name. */
export function rateLabel(counts: readonly number[], bucketMs: number): string {
  const peak = Math.max(0, ...counts);
  return `rate: at most ${peak} alert${peak === 1 ? '' : 's'} per ${durationText(bucketMs)}, ${counts.length} buckets`;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The sparkline as inline SVG (the CSP allows no images from elsewhere; nothing here is markup). */
export function renderSparkline(counts: readonly number[], bucketMs: number, width: number, height: number, cls = 'spark'): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  const label = rateLabel(counts, bucketMs);
  svg.setAttribute('aria-label', label);
  const title = document.createElementNS(SVG_NS, 'title');
  title.textContent = label;
  svg.append(title);
  const pts = sparkPoints(counts, width, height);
  if (pts.length > 0) {
    const line = pts.map(([x, y]) => `${x},${y}`).join(' ');
    const area = document.createElementNS(SVG_NS, 'polygon');
    area.setAttribute('class', 'spark-area');
    area.setAttribute('points', `${pts[0]![0]},${height - 1} ${line} ${pts[pts.length - 1]![0]},${height - 1}`);
    const poly = document.createElementNS(SVG_NS, 'polyline');
    poly.setAttribute('class', 'spark-line');
    poly.setAttribute('points', line);
    svg.append(area, poly);
  }
  return svg;
}
