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
<title>spoofwatch — live alerts</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%23b00020'/%3E%3C/svg%3E">
<link rel="stylesheet" href="web/app.css">
<script type="module" src="web/client/app.js"></script>
</head>
<body>
<header class="topbar">
  <h1>spoofwatch <span class="sub">live alerts</span></h1>
  <p id="conn" class="conn" role="status" aria-live="polite">connecting…</p>
</header>
<main class="layout">
  <section class="feed-pane" aria-labelledby="feed-title">
    <div class="toolbar">
      <h2 id="feed-title">Alerts <span id="feed-count" class="count">0</span></h2>
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
      <span>seq</span><span>time</span><span>severity</span><span>rule</span><span>peer</span><span>summary</span>
    </div>
    <div id="feed" class="feed" role="listbox" aria-labelledby="feed-title" tabindex="-1"></div>
    <p class="hint">↑/↓ move, Enter opens, Home/End first/last, Space pauses when the list has focus.</p>
    <div class="counters">
      <section aria-labelledby="c-rule-title"><h3 id="c-rule-title">Per rule</h3><ul id="c-rule" class="counter-list"></ul></section>
      <section aria-labelledby="c-peer-title"><h3 id="c-peer-title">Per peer</h3><ul id="c-peer" class="counter-list"></ul></section>
    </div>
  </section>
  <section id="detail" class="detail-pane" aria-labelledby="d-title">
    <h2 id="d-title">Select an alert</h2>
    <div id="d-body" class="empty">
      <p>Alerts appear on the left as they are raised. Choose one to see why it was raised, the ladder of its call
      and the messages the rule looked at.</p>
    </div>
  </section>
</main>
</body>
</html>
`;
