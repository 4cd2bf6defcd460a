/**
 * The live page's HTML (issue #6). Embedded as a string module, like page-css.ts, so `npm run build` puts it in
 * dist/ and the runtime image (which ships only dist/) serves it; no CDN, no inline script or style (the page is
 * served with a strict Content-Security-Policy). URLs are relative so the page also works under a path prefix.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>spoofwatch — live incidents and alerts</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%23b00020'/%3E%3C/svg%3E">
<link rel="stylesheet" href="web/app.css">
<script type="module" src="web/client/app.js"></script>
</head>
<body>
<header class="topbar">
  <h1>spoofwatch <span class="sub">live incidents and alerts</span></h1>
  <p id="conn" class="conn" role="status" aria-live="polite">connecting…</p>
</header>
<main class="layout">
  <section class="feed-pane" aria-label="Incidents and alerts">
    <div class="tabs" role="tablist" aria-label="View">
      <button id="tab-incidents" class="tab" type="button" role="tab" aria-selected="true" aria-controls="incidents-panel">Incidents <span id="incident-count" class="count">0</span></button>
      <button id="tab-alerts" class="tab" type="button" role="tab" aria-selected="false" aria-controls="alerts-panel" tabindex="-1">Alerts <span id="feed-count" class="count">0</span></button>
    </div>
    <div id="incidents-panel" class="panel" role="tabpanel" aria-labelledby="tab-incidents">
      <div class="toolbar">
        <label>State
          <select id="i-state">
            <option value="">all</option>
            <option value="open">open</option>
            <option value="closed">closed</option>
          </select>
        </label>
        <span class="legend">Alerts grouped by rule and peer, source or number prefix; newest first.</span>
      </div>
      <div id="incidents" class="incidents" role="listbox" aria-labelledby="tab-incidents" tabindex="-1"></div>
      <p id="incidents-empty" class="hint">No incidents yet: alerts are grouped here as they are raised.</p>
    </div>
    <div id="alerts-panel" class="panel" role="tabpanel" aria-labelledby="tab-alerts" hidden>
      <div class="toolbar">
        <label>Severity
          <select id="f-severity">
            <option value="info">all</option>
            <option value="low">low and up</option>
            <option value="medium">medium and up</option>
            <option value="high">high and up</option>
            <option value="critical">critical</option>
          </select>
        </label>
        <label>Rule <select id="f-rule"><option value="">all</option></select></label>
        <label>Peer <select id="f-peer"><option value="">all</option></select></label>
        <button id="pause" type="button" aria-pressed="false">Pause</button>
        <button id="new-alerts" type="button" class="new-alerts idle" aria-hidden="true" tabindex="-1">0 new</button>
      </div>
      <div class="feed-head" aria-hidden="true">
        <span>seq</span><span>time</span><span>severity</span><span>rule</span><span>peer</span>
      </div>
      <div id="feed" class="feed" role="listbox" aria-labelledby="tab-alerts" tabindex="-1"></div>
      <p class="hint">↑/↓ move, Enter opens, Home/End first/last, Space pauses when the list has focus.</p>
    </div>
    <div class="counters">
      <section aria-labelledby="c-rule-title"><h3 id="c-rule-title" title="stored alerts">Per rule</h3><ul id="c-rule" class="counter-list"></ul></section>
      <section aria-labelledby="c-peer-title"><h3 id="c-peer-title" title="stored alerts">Per peer</h3><ul id="c-peer" class="counter-list"></ul></section>
    </div>
  </section>
  <section id="detail" class="detail-pane" aria-labelledby="d-title">
    <h2 id="d-title">Select an incident or an alert</h2>
    <div id="d-body" class="empty">
      <p>Incidents and alerts appear on the left as they are raised. Choose an incident to see its rate, its alerts
      and the ladder of a sample call; choose an alert to see why it was raised, the ladder of its call and the
      messages the rule looked at.</p>
    </div>
  </section>
</main>
</body>
</html>
`;
