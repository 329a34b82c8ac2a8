// The dashboard page: one HTML document with its CSS and script inline (no CDN, no external
// request), fed by the server-sent events of /v1/events. Charts are drawn on <canvas>. With
// admin tokens configured, the page is opened as /#token=<read token> (see eventsUrl).

const CSS = `
:root { --bg:#0f1419; --panel:#171d24; --line:#263140; --text:#d8dee6; --dim:#8593a3;
  --closed:#2fb36d; --open:#e5484d; --half:#f5a524; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
header { display:flex; align-items:center; gap:16px; padding:12px 20px; border-bottom:1px solid var(--line); }
header h1 { font-size:18px; margin:0; font-weight:600; }
.pill { padding:2px 10px; border-radius:999px; background:var(--panel); border:1px solid var(--line); color:var(--dim); font-size:12px; }
.pill.bad { color:#fff; background:var(--open); border-color:var(--open); }
.pill.ok { color:var(--closed); }
main { padding:16px 20px; display:grid; gap:16px; }
#clusters { display:grid; grid-template-columns:repeat(auto-fill, minmax(260px, 1fr)); gap:12px; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; border-left:4px solid var(--closed); }
.card[data-state=open] { border-left-color:var(--open); }
.card[data-state=half_open] { border-left-color:var(--half); }
.card h2 { margin:0 0 6px; font-size:15px; display:flex; justify-content:space-between; align-items:center; }
.state { font-size:11px; text-transform:uppercase; letter-spacing:.05em; padding:1px 8px; border-radius:4px; color:#fff; background:var(--closed); }
.card[data-state=open] .state { background:var(--open); }
.card[data-state=half_open] .state { background:var(--half); color:#111; }
.kv { display:grid; grid-template-columns:auto 1fr; gap:2px 12px; font-size:13px; }
.kv dt { color:var(--dim); } .kv dd { margin:0; text-align:right; font-variant-numeric:tabular-nums; }
.bar { height:6px; background:var(--line); border-radius:3px; overflow:hidden; margin:6px 0 4px; }
.bar > div { height:100%; background:linear-gradient(90deg, var(--closed), var(--half), var(--open)); }
.reasons { color:var(--dim); font-size:12px; min-height:16px; overflow-wrap:anywhere; }
#charts { display:grid; grid-template-columns:repeat(auto-fill, minmax(420px, 1fr)); gap:12px; }
.chart { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
.chart h3 { margin:0 0 6px; font-size:13px; font-weight:600; color:var(--dim); }
canvas { width:100%; height:160px; display:block; }
.legend { display:flex; gap:14px; font-size:12px; color:var(--dim); margin-top:4px; }
.legend span::before { content:""; display:inline-block; width:10px; height:3px; margin-right:5px; vertical-align:middle; background:var(--c); }
table { width:100%; border-collapse:collapse; background:var(--panel); border:1px solid var(--line); border-radius:8px; font-size:13px; }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); }
th { color:var(--dim); font-weight:500; }
td.to-open { color:var(--open); } td.to-closed { color:var(--closed); } td.to-half_open { color:var(--half); }
section h2.title { font-size:14px; margin:0 0 8px; color:var(--dim); font-weight:600; }
`;

const SCRIPT = `
"use strict";
const COLORS = ["#4ea1ff", "#f778ba", "#b392f0", "#56d4dd", "#e3b341", "#7ee787"];
const WINDOW_MS = 5 * 60 * 1000;
let samples = [];
let transitions = [];
let clusterNames = [];
let tickMs = 1000;

const $ = (sel) => document.querySelector(sel);
const fmtPct = (x) => (x * 100).toFixed(1) + "%";
const fmtMs = (x) => x == null ? "–" : x >= 1000 ? (x / 1000).toFixed(2) + " s" : Math.round(x) + " ms";
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const colorOf = (name) => COLORS[Math.max(0, clusterNames.indexOf(name)) % COLORS.length];

function renderHeader(snap) {
  const d = snap.decisions;
  const halt = $("#halt");
  halt.textContent = d.halted ? "HALTED: " + d.halt_reason : "traffic flowing";
  halt.className = "pill " + (d.halted ? "bad" : "ok");
  $("#version").textContent = "decisions v" + d.version;
  $("#sidecars").textContent = snap.sidecars + " sidecar stream" + (snap.sidecars === 1 ? "" : "s");
  $("#model").textContent = snap.model === "model" ? "model: ONNX" : "model: " + snap.model;
}

function renderClusters(clusters) {
  clusterNames = clusters.map((c) => c.name);
  const total = clusters.reduce((s, c) => s + c.weight, 0) || 1;
  const root = $("#clusters");
  for (const c of clusters) {
    let card = root.querySelector('[data-cluster="' + CSS.escape(c.name) + '"]');
    if (!card) {
      card = document.createElement("div");
      card.className = "card";
      card.dataset.cluster = c.name;
      root.appendChild(card);
    }
    card.dataset.state = c.state;
    const w = c.last_window;
    card.innerHTML =
      '<h2><span class="name">' + esc(c.name) + '</span><span class="state">' + esc(c.state.replace("_", "-")) + "</span></h2>" +
      '<div class="bar" title="anomaly score"><div style="width:' + (c.score * 100).toFixed(1) + '%"></div></div>' +
      '<dl class="kv">' +
      "<dt>weight</dt><dd class=\\"weight\\">" + c.weight + " (" + fmtPct(c.weight / total) + ")</dd>" +
      "<dt>anomaly score</dt><dd class=\\"score\\">" + c.score.toFixed(2) + "</dd>" +
      "<dt>requests/s</dt><dd>" + (w ? w.rps.toFixed(1) : "–") + "</dd>" +
      "<dt>error rate</dt><dd>" + (w ? fmtPct(w.error_rate) : "–") + "</dd>" +
      "<dt>p99 latency</dt><dd>" + (w ? fmtMs(w.p99_ms) : "–") + "</dd>" +
      (c.override ? "<dt>override</dt><dd>" + esc(c.override.state) + "</dd>" : "") +
      "</dl>" +
      '<div class="reasons">' + esc(c.reasons.join("; ")) + "</div>";
  }
  for (const card of [...root.children]) if (!clusterNames.includes(card.dataset.cluster)) card.remove();
}

function renderTransitions() {
  const body = $("#transitions tbody");
  body.innerHTML = transitions.slice().reverse().slice(0, 20).map((t) =>
    "<tr><td>" + new Date(t.at_ms).toLocaleTimeString() + "</td><td>" + esc(t.cluster) + "</td><td>" + esc(t.from) +
    '</td><td class="to-' + esc(t.to) + '">' + esc(t.to) + "</td><td>" + esc(t.reason) + "</td></tr>").join("") ||
    '<tr><td colspan="5" style="color:var(--dim)">no transitions yet</td></tr>';
}

const CHARTS = [
  { id: "chart-weight", value: (s, all) => { const t = Object.values(all).reduce((a, x) => a + x.weight, 0); return t ? s.weight / t : 0; }, max: () => 1, fmt: fmtPct },
  { id: "chart-score", value: (s) => s.score, max: () => 1, fmt: (x) => x.toFixed(2) },
  { id: "chart-errors", value: (s) => s.error_rate, max: (m) => Math.max(0.05, m), fmt: fmtPct },
  { id: "chart-latency", value: (s) => s.p99_ms, max: (m) => Math.max(100, m), fmt: fmtMs },
];

function drawChart(spec) {
  const canvas = document.getElementById(spec.id);
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w * dpr || canvas.height !== h * dpr) { canvas.width = w * dpr; canvas.height = h * dpr; }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const left = 52, right = 8, top = 8, bottom = 18;
  const now = samples.length ? samples[samples.length - 1].t : Date.now();
  const t0 = now - WINDOW_MS;
  let peak = 0;
  for (const s of samples) for (const name of clusterNames) {
    const c = s.clusters[name]; if (!c) continue;
    const v = spec.value(c, s.clusters); if (v != null && v > peak) peak = v;
  }
  const max = spec.max(peak * 1.1);
  const x = (t) => left + ((t - t0) / WINDOW_MS) * (w - left - right);
  const y = (v) => top + (1 - Math.min(v, max) / max) * (h - top - bottom);
  ctx.strokeStyle = "#263140"; ctx.fillStyle = "#8593a3"; ctx.font = "11px system-ui"; ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4, yy = Math.round(y(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(w - right, yy); ctx.stroke();
    ctx.fillText(spec.fmt(v), 2, yy + 4);
  }
  ctx.fillText("-5 min", left, h - 4); ctx.fillText("now", w - right - 22, h - 4);
  for (const t of transitions) {
    if (t.at_ms < t0) continue;
    const xx = Math.round(x(t.at_ms)) + 0.5;
    ctx.strokeStyle = t.to === "open" ? "rgba(229,72,77,.6)" : t.to === "closed" ? "rgba(47,179,109,.6)" : "rgba(245,165,36,.6)";
    ctx.setLineDash([3, 3]); ctx.beginPath(); ctx.moveTo(xx, top); ctx.lineTo(xx, h - bottom); ctx.stroke(); ctx.setLineDash([]);
  }
  ctx.lineWidth = 2;
  for (const name of clusterNames) {
    ctx.strokeStyle = colorOf(name); ctx.beginPath(); let pen = false;
    for (const s of samples) {
      if (s.t < t0) continue;
      const c = s.clusters[name]; const v = c ? spec.value(c, s.clusters) : null;
      if (v == null) { pen = false; continue; }
      if (pen) ctx.lineTo(x(s.t), y(v)); else { ctx.moveTo(x(s.t), y(v)); pen = true; }
    }
    ctx.stroke();
  }
}

function renderLegend() {
  const html = clusterNames.map((n) => '<span style="--c:' + colorOf(n) + '">' + esc(n) + "</span>").join("");
  for (const el of document.querySelectorAll(".legend")) el.innerHTML = html;
}

function redraw() { for (const spec of CHARTS) drawChart(spec); }

// With admin tokens configured, open the page as /#token=<read token>: the token stays in this
// tab (sessionStorage), leaves the address bar, and goes to the event stream as access_token
// (an EventSource cannot send an Authorization header).
function eventsUrl() {
  const given = new URLSearchParams(location.hash.slice(1)).get("token");
  if (given) {
    sessionStorage.setItem("autoglm-token", given);
    history.replaceState(null, "", location.pathname + location.search);
  }
  const token = sessionStorage.getItem("autoglm-token");
  return token ? "/v1/events?access_token=" + encodeURIComponent(token) : "/v1/events";
}

function connect() {
  const source = new EventSource(eventsUrl());
  source.addEventListener("open", () => { $("#conn").textContent = "live"; $("#conn").className = "pill ok"; });
  source.addEventListener("error", () => { $("#conn").textContent = "reconnecting…"; $("#conn").className = "pill bad"; });
  source.addEventListener("history", (e) => {
    const h = JSON.parse(e.data);
    samples = h.samples; transitions = h.transitions; tickMs = h.tick_ms;
    renderTransitions();
  });
  source.addEventListener("snapshot", (e) => {
    const snap = JSON.parse(e.data);
    renderHeader(snap);
    renderClusters(snap.clusters);
    renderLegend();
    if (snap.sample) { samples.push(snap.sample); const cut = snap.sample.t - WINDOW_MS - tickMs; while (samples.length && samples[0].t < cut) samples.shift(); }
    redraw();
    document.body.dataset.updatedAt = String(snap.at_ms);
  });
  source.addEventListener("transition", (e) => {
    transitions.push(JSON.parse(e.data));
    if (transitions.length > 50) transitions.shift();
    renderTransitions(); redraw();
  });
}

window.addEventListener("resize", redraw);
renderTransitions();
connect();
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Open-AutoGLM control plane</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>Open-AutoGLM</h1>
  <span id="halt" class="pill">…</span>
  <span id="version" class="pill">decisions v–</span>
  <span id="sidecars" class="pill">– sidecar streams</span>
  <span id="model" class="pill">model: –</span>
  <span id="conn" class="pill">connecting…</span>
</header>
<main>
  <section><h2 class="title">Clusters</h2><div id="clusters"></div></section>
  <section id="charts">
    <div class="chart"><h3>Traffic share (weight)</h3><canvas id="chart-weight"></canvas><div class="legend"></div></div>
    <div class="chart"><h3>Anomaly score</h3><canvas id="chart-score"></canvas><div class="legend"></div></div>
    <div class="chart"><h3>Error rate (per window)</h3><canvas id="chart-errors"></canvas><div class="legend"></div></div>
    <div class="chart"><h3>p99 latency (per window)</h3><canvas id="chart-latency"></canvas><div class="legend"></div></div>
  </section>
  <section><h2 class="title">Recent transitions</h2>
    <table id="transitions"><thead><tr><th>time</th><th>cluster</th><th>from</th><th>to</th><th>reason</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
