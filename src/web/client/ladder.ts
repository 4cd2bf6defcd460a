/**
 * The ladder (sequence) diagram of one call: columns are the network elements by address, arrows are the SIP
 * messages in capture order with method/status and time since the first message. `ladderModel` is pure (tested in
 * Node); `renderLadder` draws it as SVG with the DOM.
 */
import type { Alert } from '../../alerts/alert.js';
import type { EvidenceMessageJson } from '../api-types.js';

export interface LadderColumn {
  readonly address: string;
  /** Peer name, for the alert's network source. */
  readonly peer?: string;
  /** True for the address the alert's evidence calls `Source` (the column of the sender). */
  readonly source: boolean;
  readonly x: number;
}

export interface LadderArrow {
  readonly index: number;
  readonly from: number;
  readonly to: number;
  readonly y: number;
  readonly label: string;
  /** `+0.012 s` since the first message. */
  readonly time: string;
  readonly offending: boolean;
  readonly kind: EvidenceMessageJson['kind'];
}

export interface LadderModel {
  readonly columns: readonly LadderColumn[];
  readonly arrows: readonly LadderArrow[];
  readonly width: number;
  readonly height: number;
}

export const LADDER = { colWidth: 220, left: 96, top: 64, row: 38, bottom: 24 } as const;

/** Seconds between two `epoch.nnnnnnnnn` strings, without float loss on the epoch part. */
export function secondsBetween(first: string, ts: string): number {
  const [as = '0', an = '0'] = first.split('.');
  const [bs = '0', bn = '0'] = ts.split('.');
  return Number(bs) - Number(as) + (Number(bn.padEnd(9, '0')) - Number(an.padEnd(9, '0'))) / 1e9;
}

export function formatOffset(seconds: number): string {
  return `+${seconds.toFixed(3)} s`;
}

/** Columns in order of first appearance (the alert's source first), one arrow per message. */
export function ladderModel(alert: Pick<Alert, 'network'>, messages: readonly EvidenceMessageJson[]): LadderModel {
  const order: string[] = [];
  const add = (a: string): void => {
    if (!order.includes(a)) order.push(a);
  };
  if (messages.some((m) => m.src === alert.network.src || m.dst === alert.network.src)) add(alert.network.src);
  for (const m of messages) {
    add(m.src);
    add(m.dst);
  }
  const columns = order.map((address, i) => ({
    address,
    ...(address === alert.network.src && alert.network.peer ? { peer: alert.network.peer } : {}),
    source: address === alert.network.src,
    x: LADDER.left + LADDER.colWidth / 2 + i * LADDER.colWidth,
  }));
  const first = messages[0]?.ts ?? '0.0';
  const arrows = messages.map((m, i) => ({
    index: m.index,
    from: order.indexOf(m.src),
    to: order.indexOf(m.dst),
    y: LADDER.top + LADDER.row / 2 + i * LADDER.row + 8,
    label: m.label,
    time: formatOffset(secondsBetween(first, m.ts)),
    offending: m.offending,
    kind: m.kind,
  }));
  return {
    columns,
    arrows,
    width: LADDER.left + Math.max(1, columns.length) * LADDER.colWidth,
    height: LADDER.top + messages.length * LADDER.row + LADDER.bottom,
  };
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

export interface LadderHandlers {
  /** A message arrow was chosen (click, Enter or Space). */
  readonly onSelect: (index: number) => void;
}

/**
 * Draw `model` as an SVG element. Arrows are focusable buttons (`g.arrow[data-index]`); the selected one gets
 * `selected`, offending ones `offending`.
 */
export function renderLadder(model: LadderModel, selected: number | undefined, handlers: LadderHandlers, title: string): SVGSVGElement {
  const root = svg('svg', {
    class: 'ladder',
    width: model.width,
    height: model.height,
    viewBox: `0 0 ${model.width} ${model.height}`,
    role: 'group',
    'aria-label': title,
  });
  const defs = svg('defs', {});
  for (const [id, cls] of [
    ['head', 'head'],
    ['head-bad', 'head offending'],
    ['head-sel', 'head selected'],
  ] as const) {
    const marker = svg('marker', { id: `ladder-${id}`, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: cls }));
    defs.append(marker);
  }
  root.append(defs);
  for (const c of model.columns) {
    const g = svg('g', { class: c.source ? 'column source' : 'column' });
    g.append(svg('line', { x1: c.x, y1: LADDER.top - 8, x2: c.x, y2: model.height - 8, class: 'lifeline' }));
    g.append(svg('text', { x: c.x, y: 22, 'text-anchor': 'middle', class: 'col-addr' }, c.address));
    g.append(svg('text', { x: c.x, y: 40, 'text-anchor': 'middle', class: 'col-peer' }, c.peer ? `peer ${c.peer}` : c.source ? 'source' : ''));
    root.append(g);
  }
  for (const a of model.arrows) {
    const from = model.columns[a.from];
    const to = model.columns[a.to];
    if (!from || !to) continue;
    const cls = ['arrow', a.kind, a.offending ? 'offending' : '', a.index === selected ? 'selected' : ''].filter(Boolean).join(' ');
    const g = svg('g', {
      class: cls,
      'data-index': a.index,
      tabindex: 0,
      role: 'button',
      'aria-pressed': a.index === selected ? 'true' : 'false',
      'aria-label': `${a.label} from ${from.address} to ${to.address} at ${a.time}${a.offending ? ', offending message' : ''}`,
    });
    const marker = a.index === selected ? 'head-sel' : a.offending ? 'head-bad' : 'head';
    // A wide transparent band makes the arrow easy to hit with a pointer.
    const x1 = Math.min(from.x, to.x);
    g.append(svg('rect', { x: x1 - 4, y: a.y - LADDER.row + 10, width: Math.max(Math.abs(to.x - from.x), 40) + 8, height: LADDER.row - 2, class: 'hit' }));
    if (from === to) {
      g.append(svg('path', { d: `M${from.x},${a.y - 8} h40 v14 h-40`, class: 'shaft', 'marker-end': `url(#ladder-${marker})` }));
    } else {
      const dir = to.x > from.x ? 1 : -1;
      g.append(svg('line', { x1: from.x + dir * 2, y1: a.y, x2: to.x - dir * 2, y2: a.y, class: 'shaft', 'marker-end': `url(#ladder-${marker})` }));
    }
    const mid = from === to ? from.x + 48 : (from.x + to.x) / 2;
    g.append(svg('text', { x: mid, y: a.y - 7, 'text-anchor': from === to ? 'start' : 'middle', class: 'label' }, a.offending ? `⚠ ${a.label}` : a.label));
    g.append(svg('text', { x: 8, y: a.y + 4, class: 'time' }, a.time));
    const choose = (): void => handlers.onSelect(a.index);
    g.addEventListener('click', choose);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        choose();
      }
    });
    root.append(g);
  }
  return root;
}
