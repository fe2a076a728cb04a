"""The dashboard's one HTML page: it fetches `/api/state` every few seconds and redraws with plotly.js.

plotly.js is served by the dashboard itself (`/static/plotly.min.js`, the copy bundled in the `plotly` package): the
page loads nothing from the internet.
"""

from __future__ import annotations

import json

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lab dashboard</title>
<script src="static/plotly.min.js"></script>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #222; }
  header { background: #1f3b57; color: #fff; padding: 10px 18px; display: flex; flex-wrap: wrap; gap: 18px;
           align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { font-size: 13px; opacity: .85; }
  main { padding: 12px 18px; display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 12px; }
  section { background: #fff; border-radius: 6px; padding: 10px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.12); }
  section h2 { font-size: 14px; margin: 0 0 6px; color: #1f3b57; }
  .cards { display: flex; gap: 10px; flex-wrap: wrap; }
  .card { background: #eef2f6; border-radius: 5px; padding: 6px 12px; min-width: 90px; }
  .card b { display: block; font-size: 22px; }
  .card span { font-size: 12px; color: #555; }
  .fig { height: 300px; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; }
  th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
  .failed { color: #b3261e; } .measured { color: #1b7f3b; }
  .banner { padding: 6px 10px; border-radius: 4px; margin-bottom: 6px; font-size: 13px; }
  .warn { background: #fff4d6; border: 1px solid #e8c35a; } .err { background: #fde2e0; border: 1px solid #e39a94; }
  .ok { background: #e3f4e8; border: 1px solid #9bd2ab; }
  select { font-size: 13px; }
</style>
</head>
<body>
<header>
  <h1 id="title">lab dashboard</h1>
  <span class="meta" id="meta"></span>
  <span class="meta" id="runner"></span>
  <span class="meta">campaign <select id="campaign"></select></span>
  <span class="meta" id="read-at"></span>
</header>
<div id="error" class="banner err" style="display:none; margin: 10px 18px 0"></div>
<main>
  <section>
    <h2>Films</h2>
    <div class="cards">
      <div class="card"><b id="film-count">0</b><span>films</span></div>
      <div class="card"><b id="measured-count">0</b><span>measured</span></div>
      <div class="card"><b id="failed-count">0</b><span>failed</span></div>
      <div class="card"><b id="days">-</b><span>days done</span></div>
    </div>
    <div id="quarantine" style="margin-top:8px"></div>
    <div id="lock" style="margin-top:4px"></div>
  </section>
  <section><h2 id="today-title">Today's progress per station</h2><div id="progress" class="fig"></div></section>
  <section><h2>Pareto front of measured films</h2><div id="pareto" class="fig"></div></section>
  <section><h2>Best so far per day</h2><div id="best" class="fig"></div></section>
  <section><h2>Films per state per day</h2><div id="per-day" class="fig"></div></section>
  <section><h2>Recent films</h2><table id="recent"></table></section>
  <section><h2>Failures</h2><table id="reasons"></table><br><table id="failures"></table></section>
</main>
<script>
const REFRESH_MS = __REFRESH_MS__;
const STATE_COLORS = {planned: '#c9ced6', cast: '#8fb3d9', measured: '#2e9e57', failed: '#d0453b'};
const ROUTE_COLORS = ['#f0a43a', '#8a6fc7', '#3fb6b2', '#c76fa6', '#7f8c3a'];
const params = new URLSearchParams(location.search);
let chosen = params.get('campaign');
let timer = null;

function esc(s) { return String(s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c])); }
function table(el, head, rows) {
  el.innerHTML = '<tr>' + head.map(h => '<th>' + esc(h) + '</th>').join('') + '</tr>' +
    rows.map(r => '<tr>' + r.map(c => '<td class="' + esc(c.cls || '') + '">' + esc(c.v ?? c) + '</td>').join('') + '</tr>').join('');
}
function stateColor(state, states) {
  if (STATE_COLORS[state]) return STATE_COLORS[state];
  return ROUTE_COLORS[Math.max(0, states.indexOf(state) - 2) % ROUTE_COLORS.length];
}
const LAYOUT = {margin: {l: 60, r: 20, t: 10, b: 45}, legend: {orientation: 'h', y: -0.2}, font: {size: 11}};
const CONFIG = {displayModeBar: false, responsive: true};

function drawProgress(c) {
  const t = c.today, states = c.states;
  document.getElementById('today-title').textContent = t ? `Today's progress per station (day ${t.day}, ${t.status}, ${t.films} films)` : "Today's progress per station";
  const sp = c.station_progress;
  const y = sp.map(s => s.station);
  const traces = [
    {name: 'done', x: sp.map(s => s.done), marker: {color: '#2e9e57'}},
    {name: 'waiting', x: sp.map(s => s.waiting), marker: {color: '#c9ced6'}},
    {name: 'failed', x: sp.map(s => s.failed), marker: {color: '#d0453b'}},
  ].map(tr => ({...tr, y: y, type: 'bar', orientation: 'h'}));
  Plotly.react('progress', traces, {...LAYOUT, barmode: 'stack', xaxis: {title: {text: 'films today'}}, margin: {...LAYOUT.margin, l: 90}}, CONFIG);
}
function drawPerDay(c) {
  const days = c.days.map(d => 'day ' + d.day);
  const traces = c.states.map(s => ({name: s, type: 'bar', x: days, y: c.days.map(d => d.counts[s] || 0),
                                     marker: {color: stateColor(s, c.states)}}));
  Plotly.react('per-day', traces, {...LAYOUT, barmode: 'stack', yaxis: {title: {text: 'films'}}}, CONFIG);
}
function axisTitle(o) {
  return o.name + (o.unit ? ' [' + o.unit + ']' : '') + (o.goal ? ' (' + o.goal + ')' : '') +
    (o.source === 'recorded truth' ? ', recorded at cast' : '');
}
function drawPareto(c) {
  const obj = c.objectives;
  if (obj.length < 2) {
    Plotly.react('pareto', [], {...LAYOUT, annotations: [{text: obj.length ? 'one objective: see best so far' : 'no objectives known', showarrow: false}]}, CONFIG);
    return;
  }
  const [a, b] = obj;
  const pts = c.points, front = pts.filter(p => p.front).sort((p, q) => p.values[a.name] - q.values[a.name]);
  const hover = p => p.sample_id + ' (day ' + p.day + ')';
  const traces = [
    {name: 'measured films', mode: 'markers', type: 'scatter', x: pts.map(p => p.values[a.name]), y: pts.map(p => p.values[b.name]),
     text: pts.map(hover), marker: {color: pts.map(p => p.day), colorscale: 'Viridis', size: 8, line: {width: 1, color: '#345'}}},
    {name: 'Pareto front', mode: 'lines+markers', type: 'scatter', x: front.map(p => p.values[a.name]), y: front.map(p => p.values[b.name]),
     text: front.map(hover), line: {shape: 'hv', color: '#d0453b'}, marker: {color: '#d0453b', size: 10, symbol: 'diamond'}},
  ];
  Plotly.react('pareto', traces, {...LAYOUT,
    xaxis: {title: {text: axisTitle(a)}, type: a.scale === 'log' ? 'log' : 'linear'},
    yaxis: {title: {text: axisTitle(b)}, type: b.scale === 'log' ? 'log' : 'linear'}}, CONFIG);
}
function drawBest(c) {
  const obj = c.objectives, n = obj.length;
  const layout = {...LAYOUT, grid: {rows: 1, columns: Math.max(n, 1), pattern: 'independent'}, showlegend: false, annotations: []};
  const traces = obj.map((o, k) => {
    const ax = k ? String(k + 1) : '';
    const ys = c.best.map(r => r[o.name]).filter(v => v !== null), log = o.scale === 'log';
    const yaxis = {title: {text: o.name + (o.unit ? ' [' + o.unit + ']' : '')}, type: log ? 'log' : 'linear', tickformat: log ? '' : '.3~g'};
    if (!log && ys.length && Math.min(...ys) === Math.max(...ys)) {  // one value: a range around it, not +-1
      const v = ys[0], pad = Math.abs(v) * 0.1 || 1;
      yaxis.range = [v - pad, v + pad];
    }
    layout['yaxis' + ax] = yaxis;
    layout['xaxis' + ax] = {title: {text: 'day (' + (o.goal || 'goal unknown') + ')'}, dtick: 1};
    return {type: 'scatter', mode: 'lines+markers', xaxis: 'x' + ax, yaxis: 'y' + ax, name: o.name,
            x: c.best.map(r => r.day), y: c.best.map(r => r[o.name]), line: {shape: 'hv'}};
  });
  Plotly.react('best', traces, layout, CONFIG);
}
function drawTables(c) {
  table(document.getElementById('recent'), ['film', 'day', 'state', 'failure'],
        c.recent.map(r => [r.sample_id, r.day, {v: r.status, cls: r.status}, r.failure]));
  table(document.getElementById('reasons'), ['reason', 'films'], c.failure_reasons.map(r => [r.reason, r.films]));
  table(document.getElementById('failures'), ['film', 'day', 'failure'], c.failures.map(r => [r.sample_id, r.day, {v: r.failure, cls: 'failed'}]));
}
function drawHeader(s, c) {
  const sel = document.getElementById('campaign');
  const names = s.campaigns.map(x => x.name).join('|');
  if (sel.dataset.names !== names) {
    sel.innerHTML = s.campaigns.map(x => '<option>' + esc(x.name) + '</option>').join('');
    sel.dataset.names = names;
  }
  if (c) sel.value = c.name;
  document.getElementById('read-at').textContent = 'read ' + s.read_at;
  if (!c) { document.getElementById('title').textContent = 'no campaign in the store yet'; return; }
  document.getElementById('title').textContent = c.name;
  document.getElementById('meta').textContent = `${c.scenario} · ${c.hardware || ''} · ${c.status}`;
  const l = c.lock;
  document.getElementById('runner').textContent = l ? `runner pid ${l.pid} on ${l.host}, heartbeat ${l.heartbeat_age_s.toFixed(0)} s ago` + (l.stale ? ' (stale)' : '') : 'no runner';
  document.getElementById('lock').innerHTML = l
    ? `<div class="banner ${l.stale ? 'err' : 'ok'}">lock held by pid ${esc(l.pid)} on ${esc(l.host)}; heartbeat <b id="heartbeat-age">${l.heartbeat_age_s.toFixed(1)}</b> s ago${l.stale ? ' — stale: runner gone' : ''}${l.stop_requested ? ' — stop requested' : ''}</div>`
    : '<div class="banner">no runner holds the lock</div>';
  const q = Object.entries(c.quarantined);
  document.getElementById('quarantine').innerHTML = q.length
    ? q.map(([st, why]) => `<div class="banner warn">station <b>${esc(st)}</b> quarantined: ${esc(why)}</div>`).join('')
    : '<div class="banner ok">no station quarantined</div>';
  document.getElementById('film-count').textContent = c.films.total;
  document.getElementById('measured-count').textContent = c.films.by_state.measured || 0;
  document.getElementById('failed-count').textContent = c.films.by_state.failed || 0;
  document.getElementById('days').textContent = `${c.days_done}/${c.days_total}`;
}
async function refresh() {
  clearTimeout(timer);
  const err = document.getElementById('error');
  try {
    const r = await fetch('api/state' + (chosen ? '?campaign=' + encodeURIComponent(chosen) : ''), {cache: 'no-store'});
    const s = await r.json();
    if (!r.ok) throw new Error(s.error || r.statusText);
    err.style.display = 'none';
    const c = s.campaign;
    drawHeader(s, c);
    if (c) { drawProgress(c); drawPerDay(c); drawPareto(c); drawBest(c); drawTables(c); }
  } catch (e) {
    err.textContent = 'cannot read the store: ' + e.message + ' (retrying)';
    err.style.display = 'block';
  }
  clearTimeout(timer);
  timer = setTimeout(refresh, REFRESH_MS);
}
document.getElementById('campaign').addEventListener('change', e => {
  chosen = e.target.value;
  history.replaceState(null, '', '?campaign=' + encodeURIComponent(chosen));
  refresh();
});
refresh();
</script>
</body>
</html>
"""


def render_page(refresh_s: float) -> str:
    """The page, polling the JSON endpoint every `refresh_s` seconds."""
    return _PAGE.replace("__REFRESH_MS__", json.dumps(max(250, int(round(refresh_s * 1000)))))

