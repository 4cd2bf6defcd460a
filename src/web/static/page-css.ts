/**
 * The live page's style sheet (issue #6), embedded for the same reason as page-html.ts. Colours keep WCAG AA
 * contrast (≥ 4.5:1 for text) on their backgrounds; feed and incident rows have a fixed height so streaming alerts
 * never shift what is on screen; focus is always visible. Alert rows take two lines so the summary has the pane's
 * whole width (issue #20: at 1280 px it was cut to ~7 characters).
 */
export const PAGE_CSS = `
:root {
  --bg: #f6f7f9; --panel: #ffffff; --text: #1b1f24; --muted: #4a5360; --line: #c9cfd8; --accent: #0b57d0;
  --focus: #0b57d0; --row-h: 46px; --inc-row-h: 50px;
  --sev-info-bg: #e6edf7; --sev-info-fg: #1d3557;
  --sev-low-bg: #ddf1e3; --sev-low-fg: #14532d;
  --sev-medium-bg: #fff1c2; --sev-medium-fg: #5c4300;
  --sev-high-bg: #ffdcc7; --sev-high-fg: #7a2500;
  --sev-critical-bg: #a8001c; --sev-critical-fg: #ffffff;
  --mark-bg: #ffe36e; --mark-fg: #1b1f24;
  --bad: #b3001b;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  font-size: 14px; color: var(--text); background: var(--bg);
}
* { box-sizing: border-box; }
/* Filtered rows use the hidden attribute; author display rules must not bring them back. */
[hidden] { display: none !important; }
body { margin: 0; min-height: 100vh; }
h1, h2, h3 { margin: 0; }
h1 { font-size: 18px; }
h1 .sub { font-weight: 400; color: var(--muted); }
h2 { font-size: 16px; }
h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 14px 0 6px; }
button, select { font: inherit; color: var(--text); }
button { background: var(--panel); border: 1px solid #8a94a3; border-radius: 4px; padding: 3px 10px; cursor: pointer; }
button[aria-pressed="true"] { background: #1d3557; color: #fff; border-color: #1d3557; }
select { border: 1px solid #8a94a3; border-radius: 4px; padding: 2px 4px; background: var(--panel); width: 11em; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; }
a { color: var(--accent); }

.topbar { display: flex; align-items: baseline; gap: 16px; padding: 10px 16px; background: #1d3557; color: #fff; }
.topbar .sub { color: #d7e0ec; }
.conn { margin: 0 0 0 auto; font-size: 13px; width: 26em; max-width: 60vw; text-align: left; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.conn.ok::before { content: "● "; color: #7ee2a0; }
.conn.down::before { content: "● "; color: #ffb4b4; }

.layout { display: grid; grid-template-columns: minmax(440px, 50%) 1fr; gap: 12px; padding: 12px; height: calc(100vh - 46px); }
.feed-pane, .detail-pane { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; min-height: 0; }
.feed-pane { display: flex; flex-direction: column; padding: 10px; }
.detail-pane { padding: 12px 16px; overflow: auto; }

.tabs { display: flex; gap: 4px; border-bottom: 1px solid var(--line); margin-bottom: 8px; }
.tab { border: 1px solid transparent; border-bottom: none; border-radius: 4px 4px 0 0; padding: 5px 14px; font-weight: 600; color: var(--muted); background: none; margin-bottom: -1px; }
.tab .count { min-width: 0; margin-left: 4px; }
.tab[aria-selected="true"] { color: var(--text); background: var(--panel); border-color: var(--line); border-bottom: 1px solid var(--panel); }
.panel { display: flex; flex-direction: column; flex: 1 1 0; min-height: 0; }

.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; margin-bottom: 8px; }
.toolbar label { display: flex; gap: 4px; align-items: center; color: var(--muted); }
.count { display: inline-block; min-width: 6ch; font-weight: 400; color: var(--muted); font-variant-numeric: tabular-nums; }
.new-alerts { background: #fff1c2; border-color: #5c4300; color: #3d2c00; width: 14em; text-align: left; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
/* Always laid out, only shown when there is something new: appearing never reflows the toolbar. */
.new-alerts.idle { visibility: hidden; }

/* rem, not em: the header's smaller font must not narrow its columns. The summary is the row's second line, as wide
   as the row. */
.feed-head, .row { display: grid; grid-template-columns: 2.6rem 4.6rem 5.2rem minmax(8rem, 12.5rem) minmax(5rem, 1fr); column-gap: 6px; align-items: center; }
.row { grid-template-rows: 20px 18px; row-gap: 2px; }
.row .summary { grid-column: 1 / -1; font-size: 13px; }
.feed-head { font-size: 12px; color: var(--muted); padding: 0 8px 4px 12px; border-bottom: 1px solid var(--line); scrollbar-gutter: stable; overflow: hidden; }
.feed, .incidents { flex: 1 1 0; overflow-y: auto; scrollbar-gutter: stable; min-height: 120px; overflow-anchor: none; contain: strict; }
.row, .inc-row { height: var(--row-h); padding: 0 8px 0 8px; border-left: 4px solid transparent; border-bottom: 1px solid #eef0f3;
  white-space: nowrap; cursor: pointer; }
.row > span, .inc-row > span { overflow: hidden; text-overflow: ellipsis; }
.row:hover, .inc-row:hover { background: #f0f4fa; }
.row[aria-selected="true"], .inc-row[aria-selected="true"] { background: #dbe7fb; }
.row:focus-visible, .inc-row:focus-visible { outline-offset: -3px; }
.row .seq, .row .time { font-variant-numeric: tabular-nums; color: var(--muted); }
.sev-info:is(.row, .inc-row) { border-left-color: #5b7aa6; }
.sev-low:is(.row, .inc-row) { border-left-color: #2f7d4a; }
.sev-medium:is(.row, .inc-row) { border-left-color: #b08600; }
.sev-high:is(.row, .inc-row) { border-left-color: #c4510f; }
.sev-critical:is(.row, .inc-row) { border-left-color: #a8001c; }

/* Incident rows, two lines: badge, rule, key, state; then the rate sparkline, count, distinct numbers and span. */
.inc-row { height: var(--inc-row-h); display: flex; flex-direction: column; justify-content: center; gap: 2px; }
.inc-row .i-line { display: grid; column-gap: 8px; align-items: center; height: 22px; }
.inc-row .i-line > span { overflow: hidden; text-overflow: ellipsis; }
.inc-row .i-head { grid-template-columns: 5.2rem minmax(0, 13.5rem) minmax(0, 1fr) 4.2rem; }
.inc-row .i-facts { grid-template-columns: 120px 6rem minmax(0, 1fr) minmax(0, 1.15fr); }
.inc-row .i-rule { font-weight: 600; }
.inc-row .i-state { text-align: right; font-size: 12px; font-weight: 600; }
.inc-row .i-state.open { color: var(--bad); }
.inc-row .i-state.closed { color: var(--muted); }
.inc-row .i-spark { display: flex; align-items: center; height: 22px; }
.inc-row .i-count { font-variant-numeric: tabular-nums; }
.inc-row .i-distinct, .inc-row .i-span { color: var(--muted); font-size: 13px; font-variant-numeric: tabular-nums; }
svg.spark { display: block; overflow: visible; }
svg.spark .spark-line { fill: none; stroke: #0b57d0; stroke-width: 1.5; stroke-linejoin: round; }
svg.spark .spark-area { fill: #dbe7fb; stroke: none; }
.spark-wrap { border: 1px solid var(--line); border-radius: 4px; background: #fbfcfd; padding: 6px 8px; max-width: 500px; }
.spark-wrap .legend { margin: 4px 0 0; }
table.inc-alerts { width: 100%; }
table.inc-alerts td.value { overflow-wrap: normal; white-space: nowrap; }
table.inc-alerts tr.inc-alert { cursor: pointer; }
table.inc-alerts tr.inc-alert:hover { background: #f0f4fa; }
table.inc-alerts tr.inc-alert[aria-selected="true"] { background: #dbe7fb; }
.hint { flex: none; font-size: 12px; color: var(--muted); margin: 6px 0; }

.badge { display: inline-block; padding: 1px 6px; border-radius: 3px; font-size: 12px; font-weight: 600; text-align: center; min-width: 4.8em; }
.badge.sev-info { background: var(--sev-info-bg); color: var(--sev-info-fg); }
.badge.sev-low { background: var(--sev-low-bg); color: var(--sev-low-fg); }
.badge.sev-medium { background: var(--sev-medium-bg); color: var(--sev-medium-fg); }
.badge.sev-high { background: var(--sev-high-bg); color: var(--sev-high-fg); }
.badge.sev-critical { background: var(--sev-critical-bg); color: var(--sev-critical-fg); }

/* Fixed height: counters growing never resize the feed above them. */
.counters { flex: 0 0 180px; display: grid; grid-template-columns: 1fr 1fr; align-items: start; gap: 12px; overflow: auto; scrollbar-gutter: stable; border-top: 1px solid var(--line); }
.counter-list { list-style: none; margin: 0; padding: 0; }
.counter-list li { display: flex; justify-content: space-between; gap: 8px; }
.counter-list button { border: none; background: none; padding: 1px 2px; color: var(--accent); text-align: left; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.counter-list .n { font-variant-numeric: tabular-nums; color: var(--muted); }

.detail-pane .empty { color: var(--muted); }
.summary { font-size: 15px; margin: 6px 0 10px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; overflow-wrap: anywhere; }
.reasons { margin: 0; padding-left: 20px; }
.reasons li { margin: 3px 0; }
table.evidence { border-collapse: collapse; font-size: 13px; }
table.evidence th, table.evidence td { text-align: left; border-bottom: 1px solid #eef0f3; padding: 3px 8px 3px 0; vertical-align: top; }
table.evidence td.value { font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.downloads { margin: 10px 0; display: flex; gap: 16px; align-items: center; }
.missing { color: var(--bad); }

.ladder-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 4px; background: #fbfcfd; }
svg.ladder { display: block; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
svg.ladder .lifeline { stroke: #8a94a3; stroke-dasharray: 4 3; }
svg.ladder .col-addr { fill: var(--text); font-weight: 600; }
svg.ladder .col-peer { fill: var(--muted); }
svg.ladder .column.source .col-peer { fill: var(--bad); font-weight: 600; }
svg.ladder .hit { fill: transparent; }
svg.ladder .arrow { cursor: pointer; }
svg.ladder .arrow .shaft { stroke: #33404f; stroke-width: 1.5; fill: none; }
svg.ladder .arrow.response .shaft { stroke-dasharray: 6 3; }
svg.ladder .arrow .label { fill: var(--text); }
svg.ladder .arrow .time { fill: var(--muted); }
svg.ladder .arrow.offending .shaft { stroke: var(--bad); stroke-width: 2.5; }
svg.ladder .arrow.offending .label { fill: var(--bad); font-weight: 700; }
svg.ladder .arrow:hover .hit { fill: #eef3fb; }
svg.ladder .arrow.selected .hit { fill: #dbe7fb; }
svg.ladder .arrow:focus { outline: none; }
svg.ladder .arrow:focus-visible .hit { stroke: var(--focus); stroke-width: 3; }
svg.ladder .head { fill: #33404f; }
svg.ladder .head.offending { fill: var(--bad); }
svg.ladder .head.selected { fill: #0b57d0; }

.raw-title { display: flex; gap: 12px; align-items: baseline; }
.raw-title .legend { text-transform: none; letter-spacing: normal; font-weight: 400; }
pre.raw { margin: 0; padding: 8px; background: #fbfcfd; border: 1px solid var(--line); border-radius: 4px; font-size: 12.5px;
  line-height: 1.45; overflow: auto; max-height: 420px; white-space: pre; }
pre.raw .line { display: block; min-height: 1.45em; }
pre.raw mark { display: block; background: var(--mark-bg); color: var(--mark-fg); border-left: 3px solid #8a6d00; margin-left: -8px; padding-left: 5px; }
.legend { font-size: 12px; color: var(--muted); }
.legend mark { background: var(--mark-bg); color: var(--mark-fg); padding: 0 3px; }

@media (max-width: 900px) {
  .layout { grid-template-columns: 1fr; height: auto; }
  .feed, .incidents { height: 50vh; flex: none; }
}
`;
