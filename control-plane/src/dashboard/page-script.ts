// The dashboard page's script (plain browser JavaScript, inlined into the page by ./page.ts):
// it reads the server-sent events of /v1/events and draws the banner, the cluster cards and the
// charts on <canvas>. Each chart's canvas carries what it drew in data attributes (time span and
// ticks, y maximum) for the browser test.
//
// Time axis: the span of the samples the page has (at least 10 s, at most the last 5 minutes),
// ticks at 1/2/5/10/15/30 s or 1/2/5 min steps counted back from the newest sample, as many as
// fit the width. Y axes end at a round number above the peak; shares and error rates at 100 %.
// A window without requests is a gap in the error-rate and latency lines, and "no traffic" on
// the card, not 0 %.
import { CLUSTER_COLORS, STATE_COLORS } from "./palette.js";

/** Transition markers: colour of the new state and the legend's words for it. */
const MARKERS = [
  { to: "open", color: STATE_COLORS.open, label: "opened" },
  { to: "half_open", color: STATE_COLORS.half_open, label: "half-open" },
  { to: "closed", color: STATE_COLORS.closed, label: "closed" },
];

export const PAGE_SCRIPT = `
"use strict";
const COLORS = ${JSON.stringify(CLUSTER_COLORS)};
const MARKERS = ${JSON.stringify(MARKERS)};
const WINDOW_MS = 5 * 60 * 1000;
const MIN_SPAN_MS = 10 * 1000;
const TIME_STEPS_MS = [1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3];
const MAX_ALERTS_LISTED = 12;
let samples = [];
let transitions = [];
let clusterNames = [];
let tickMs = 1000;

const $ = (sel) => document.querySelector(sel);
const fmtPct = (x) => (x * 100).toFixed(1) + "%";
const fmtAxisPct = (x) => String(+(x * 100).toFixed(2)) + "%";
const fmtMs = (x) => x == null ? "–" : x >= 1000 ? (x / 1000).toFixed(2) + " s" : Math.round(x) + " ms";
const fmtAxisMs = (x) => x >= 1000 ? String(+(x / 1000).toFixed(2)) + " s" : Math.round(x) + " ms";
const fmtRps = (x) => String(+x.toFixed(1));
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const colorOf = (name) => COLORS[Math.max(0, clusterNames.indexOf(name)) % COLORS.length];
const markerOf = (to) => MARKERS.find((m) => m.to === to) || MARKERS[0];

/** "12 s", "3 min", "1:30 min", "2 h 5 min": a duration for people. */
function fmtDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + " s";
  const m = Math.floor(s / 60), rest = s % 60;
  if (m < 60) return rest === 0 ? m + " min" : m + ":" + String(rest).padStart(2, "0") + " min";
  return Math.floor(m / 60) + " h " + (m % 60) + " min";
}

/** The smallest of 1, 2, 2.5, 5 times a power of ten that is >= v (v > 0). */
function niceCeil(v) {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v * (1 - 1e-9)) return f * p;
  return 10 * p;
}

function renderHeader(snap) {
  const d = snap.decisions;
  const halt = $("#halt");
  halt.textContent = d.halted ? "HALTED: " + d.halt_reason : "traffic flowing";
  halt.className = "pill " + (d.halted ? "bad" : "ok");
  $("#version").textContent = "decisions v" + d.version;
  $("#sidecars").textContent = snap.sidecars + " sidecar stream" + (snap.sidecars === 1 ? "" : "s");
  $("#model").textContent = snap.model === "model" ? "model: ONNX" : "model: " + snap.model;
}

function renderAlerts(snap) {
  const alerts = snap.sidecar_alerts;
  const { refusing, gone } = snap.sidecar_alert_counts;
  const unconfirmed = snap.sidecar_alert_counts.unconfirmed || 0;
  const back = snap.sidecar_alert_counts.back || 0;
  const total = refusing + unconfirmed + gone;
  const listed = total + back;
  const box = $("#sidecar-alert");
  box.hidden = listed === 0;
  if (listed === 0) { box.querySelector("ul").innerHTML = ""; return; }
  const parts = [];
  if (refusing) parts.push(refusing + " refus" + (refusing === 1 ? "es" : "e") + " the decisions");
  if (unconfirmed) parts.push(unconfirmed + " did not confirm the decisions in force");
  if (gone) parts.push(gone + (gone === 1 ? " is" : " are") + " gone");
  box.querySelector("h2").textContent = total > 0
    ? total + " sidecar worker" + (total === 1 ? "" : "s") + " not following the control plane: " + parts.join(", ")
    : back + " sidecar worker" + (back === 1 ? " is" : "s are") + " back from running without the control plane";
  box.querySelector("ul").innerHTML = alerts.slice(0, MAX_ALERTS_LISTED).map((a) => {
    const who = "<b>" + esc(a.node_id) + "</b> worker " + a.worker_id + (a.zone ? " (" + esc(a.zone) + ")" : "");
    const what = a.kind === "refusing"
      ? "refuses decisions, keeps enforcing v" + a.enforced_version
      : a.kind === "unconfirmed"
        ? "unconfirmed, last confirmed v" + a.enforced_version
        : a.kind === "gone" ? "gone, runs on its fallback" : "follows again";
    const seen = (a.kind === "back" ? "said hello " : "last seen ") + new Date(a.last_seen_at_ms).toLocaleTimeString() + " (" + fmtDuration(snap.at_ms - a.last_seen_at_ms) + " ago)";
    return '<li data-kind="' + a.kind + '" data-node="' + esc(a.node_id) + '">' + who + ': <span class="what">' + what + "</span>: " +
      '<span class="reason">' + esc(a.reason || "no reason given") + '</span> · <span class="seen">' + seen + "</span></li>";
  }).join("") + (listed > MAX_ALERTS_LISTED ? "<li>and " + (listed - MAX_ALERTS_LISTED) + " more (GET /v1/sidecars)</li>" : "");
}

function renderClusters(snap) {
  const clusters = snap.clusters;
  clusterNames = clusters.map((c) => c.name);
  const traffic = new Map((snap.traffic || []).map((t) => [t.cluster, t]));
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
    const quiet = !w || w.requests === 0;
    const t = traffic.get(c.name);
    let measured = '<dd class="measured none">no traffic</dd>';
    if (t && t.measured_requests === 0 && t.diverges) measured = '<dd class="measured none diverges" title="the weight sent gives it traffic; the sidecars report none">⚠ no traffic</dd>';
    else if (t && t.measured_requests > 0 && t.measured_share != null) {
      const title = t.measured_requests + " requests in the last " + t.windows + " windows" +
        (t.diverges ? "; far from the weight sent: sidecars do not enforce it" : "");
      measured = '<dd class="measured' + (t.diverges ? " diverges" : "") + '" title="' + esc(title) + '">' +
        (t.diverges ? "⚠ " : "") + fmtPct(t.measured_share) + (t.measured_rps != null ? " · " + fmtRps(t.measured_rps) + " req/s" : "") + "</dd>";
    }
    card.innerHTML =
      '<h2><span class="name"><span class="swatch" style="--c:' + colorOf(c.name) + '"></span>' + esc(c.name) + '</span><span class="state">' + esc(c.state.replace("_", "-")) + "</span></h2>" +
      '<div class="bar" title="anomaly score"><div style="width:' + (c.score * 100).toFixed(1) + '%"></div></div>' +
      '<dl class="kv">' +
      '<dt>weight sent</dt><dd class="weight">' + c.weight + " (" + fmtPct(c.weight / total) + ")</dd>" +
      "<dt>measured share</dt>" + measured +
      '<dt>anomaly score</dt><dd class="score">' + c.score.toFixed(2) + "</dd>" +
      "<dt>requests/s</dt><dd>" + (w ? fmtRps(w.rps) : "–") + "</dd>" +
      "<dt>error rate</dt>" + (quiet ? '<dd class="errors none">no traffic</dd>' : '<dd class="errors">' + fmtPct(w.error_rate) + "</dd>") +
      "<dt>p99 latency</dt><dd>" + (quiet ? "–" : fmtMs(w.p99_ms)) + "</dd>" +
      (w && w.streams ? '<dt>TTFT p99</dt><dd class="ttft">' + fmtMs(w.streams.ttft_p99_ms) + "</dd>" +
        '<dt>TPOT p99</dt><dd class="tpot">' + fmtMs(w.streams.tpot_p99_ms) + "</dd>" +
        '<dt>streams</dt><dd class="streams">' + w.streams.streams + (w.streams.cut > 0 ? " (" + w.streams.cut + " cut)" : "") + " · " + fmtRps(w.streams.tokens_per_second) + " tok/s</dd>" : "") +
      (c.override ? "<dt>override</dt><dd>" + esc(c.override.state) + "</dd>" : "") +
      "</dl>" +
      '<div class="reasons">' + esc(c.reasons.join("; ")) + "</div>";
  }
  for (const card of [...root.children]) if (!clusterNames.includes(card.dataset.cluster)) card.remove();
}

function renderBudgets(snap) {
  const rows = snap.error_budgets || [];
  $("#budgets").hidden = rows.length === 0;
  $("#budgets tbody").innerHTML = rows.map((b) =>
    '<tr data-scope="' + esc(b.scope) + '"><td>' + esc(b.scope) + "</td><td>" + fmtPct(b.objective) + '</td><td class="' +
    (b.remaining < 0 ? "to-open" : b.remaining < 0.25 ? "to-half_open" : "to-closed") + '">' + fmtPct(b.remaining) + "</td><td>" +
    (b.firing.length === 0 ? "none" : '<b class="to-open">' + b.firing.map(esc).join(", ") + "</b>") + "</td></tr>").join("");
}

// Who sends the traffic: the top sources, a jump flagged in red, a limit in force named.
function renderSources(snap) {
  const rows = snap.sources || [];
  $("#sources").hidden = rows.length === 0;
  $("#sources tbody").innerHTML = rows.map((s) => {
    const state = [s.flagged ? '<b class="to-open">jumped</b>' : "", s.limit ? esc(s.limit) : ""].filter(Boolean).join(" · ") || "normal";
    return '<tr data-source="' + esc(s.source) + '"' + (s.flagged ? ' class="flagged"' : "") + "><td>" + (s.source === "" ? "(none)" : esc(s.source)) +
      "</td><td>" + fmtRps(s.qps) + "</td><td>" + fmtPct(s.share) + "</td><td>" + (s.error_rate == null ? "–" : fmtPct(s.error_rate)) +
      "</td><td>" + state + "</td></tr>";
  }).join("");
}

// A breaker opening links to its fault snapshot (GET /v1/snapshots/{id}), fetched with the
// page's token and opened as a JSON file.
function snapshotCell(t) {
  return t.snapshot_id ? '<a href="#" class="snapshot" data-id="' + esc(t.snapshot_id) + '">snapshot</a>' : "";
}

async function openSnapshot(id) {
  const token = sessionStorage.getItem("autoglm-token");
  const res = await fetch("/v1/snapshots/" + encodeURIComponent(id), { headers: token ? { authorization: "Bearer " + token } : {} });
  if (!res.ok) { alert("snapshot " + id + ": HTTP " + res.status); return; }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url; a.download = "autoglm-snapshot-" + id + ".json";
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function renderTransitions() {
  const body = $("#transitions tbody");
  body.innerHTML = transitions.slice().reverse().slice(0, 20).map((t) =>
    "<tr><td>" + new Date(t.at_ms).toLocaleTimeString() + "</td><td>" + esc(t.cluster) + "</td><td>" + esc(t.from) +
    '</td><td class="to-' + esc(t.to) + '">' + esc(t.to) + "</td><td>" + esc(t.reason) + "</td><td>" + snapshotCell(t) + "</td></tr>").join("") ||
    '<tr><td colspan="6" style="color:var(--dim)">no transitions yet</td></tr>';
}

$("#transitions").addEventListener("click", (e) => {
  const link = e.target.closest("a.snapshot");
  if (!link) return;
  e.preventDefault();
  void openSnapshot(link.dataset.id);
});

const weightShare = (s, all) => { const t = Object.values(all).reduce((a, x) => a + x.weight, 0); return t ? s.weight / t : null; };
const CHARTS = [
  { id: "chart-sent", value: weightShare, max: () => 1, fmt: fmtAxisPct },
  { id: "chart-measured", value: (s) => s.measured_share, max: () => 1, fmt: fmtAxisPct, gaps: true },
  { id: "chart-rps", value: (s) => s.rps, max: (m) => niceCeil(Math.max(1, m)), fmt: fmtRps },
  { id: "chart-score", value: (s) => s.score, max: () => 1, fmt: (x) => x.toFixed(2) },
  { id: "chart-errors", value: (s) => s.error_rate, max: (m) => Math.min(1, niceCeil(Math.max(0.05, m))), fmt: fmtAxisPct, gaps: true },
  { id: "chart-latency", value: (s) => s.p99_ms, max: (m) => niceCeil(Math.max(100, m)), fmt: fmtAxisMs, gaps: true },
  { id: "chart-ttft", value: (s) => s.ttft_p99_ms, max: (m) => niceCeil(Math.max(100, m)), fmt: fmtAxisMs, gaps: true },
  { id: "chart-tpot", value: (s) => s.tpot_p99_ms, max: (m) => niceCeil(Math.max(10, m)), fmt: (x) => x < 100 && !Number.isInteger(x) ? x.toFixed(1) + " ms" : fmtAxisMs(x), gaps: true },
];

/** The x axis: from the oldest sample in the last WINDOW_MS (at least MIN_SPAN_MS) to the newest. */
function timeAxis(plotWidth) {
  const last = samples.length ? samples[samples.length - 1].t : Date.now();
  const first = samples.length ? Math.max(samples[0].t, last - WINDOW_MS) : last;
  const span = Math.max(MIN_SPAN_MS, last - first);
  const maxTicks = Math.max(2, Math.floor(plotWidth / 64));
  const step = TIME_STEPS_MS.find((s) => span / s <= maxTicks) || TIME_STEPS_MS[TIME_STEPS_MS.length - 1];
  const ticks = [];
  for (let back = 0; back <= span; back += step) ticks.push({ t: last - back, label: back === 0 ? "now" : "-" + fmtDuration(back) });
  return { t0: last - span, t1: last, span, ticks };
}

function drawChart(spec) {
  const canvas = document.getElementById(spec.id);
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w * dpr || canvas.height !== h * dpr) { canvas.width = w * dpr; canvas.height = h * dpr; }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const left = 52, right = 10, top = 10, bottom = 20;
  const axis = timeAxis(w - left - right);
  let peak = 0;
  for (const s of samples) {
    if (s.t < axis.t0) continue;
    for (const name of clusterNames) {
      const c = s.clusters[name]; if (!c) continue;
      const v = spec.value(c, s.clusters); if (v != null && v > peak) peak = v;
    }
  }
  const max = spec.max(peak);
  const x = (t) => left + ((t - axis.t0) / axis.span) * (w - left - right);
  const y = (v) => top + (1 - Math.min(v, max) / max) * (h - top - bottom);
  ctx.strokeStyle = "#263140"; ctx.fillStyle = "#8593a3"; ctx.font = "11px system-ui, sans-serif"; ctx.lineWidth = 1;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4, yy = Math.round(y(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(w - right, yy); ctx.stroke();
    ctx.fillText(spec.fmt(v), left - 6, yy);
  }
  ctx.textBaseline = "alphabetic";
  for (const tick of axis.ticks) {
    const xx = Math.round(x(tick.t)) + 0.5;
    ctx.beginPath(); ctx.moveTo(xx, h - bottom); ctx.lineTo(xx, h - bottom + 4); ctx.stroke();
    const width = ctx.measureText(tick.label).width;
    ctx.textAlign = "left";
    ctx.fillText(tick.label, Math.min(w - right - width, Math.max(left, xx - width / 2)), h - 5);
  }
  for (const t of transitions) {
    if (t.at_ms < axis.t0 || t.at_ms > axis.t1) continue;
    const xx = Math.round(x(t.at_ms)) + 0.5;
    ctx.strokeStyle = markerOf(t.to).color; ctx.lineWidth = 1.5;
    ctx.setLineDash([4, 3]); ctx.beginPath(); ctx.moveTo(xx, top + 6); ctx.lineTo(xx, h - bottom); ctx.stroke(); ctx.setLineDash([]);
    ctx.fillStyle = colorOf(t.cluster); ctx.fillRect(xx - 3, top - 1, 6, 6);
  }
  ctx.lineWidth = 2; ctx.lineJoin = "round";
  for (const name of clusterNames) {
    ctx.strokeStyle = colorOf(name); ctx.fillStyle = colorOf(name);
    let run = [];
    const flush = () => {
      if (run.length === 1) { ctx.beginPath(); ctx.arc(run[0][0], run[0][1], 2, 0, 2 * Math.PI); ctx.fill(); }
      else if (run.length > 1) { ctx.beginPath(); ctx.moveTo(run[0][0], run[0][1]); for (const p of run.slice(1)) ctx.lineTo(p[0], p[1]); ctx.stroke(); }
      run = [];
    };
    for (const s of samples) {
      if (s.t < axis.t0) continue;
      const c = s.clusters[name]; const v = c ? spec.value(c, s.clusters) : null;
      if (v == null) { flush(); continue; }
      run.push([x(s.t), y(v)]);
    }
    flush();
  }
  canvas.dataset.spanMs = String(axis.span);
  canvas.dataset.ticks = axis.ticks.map((t) => t.label).join(",");
  canvas.dataset.yMax = String(max);
}

function renderLegend() {
  const clusters = clusterNames.map((n) => '<span data-cluster="' + esc(n) + '" style="--c:' + colorOf(n) + '">' + esc(n) + "</span>").join("");
  const markers = MARKERS.map((m) => '<span data-marker="' + m.to + '" style="--c:' + m.color + '">' + m.label + "</span>").join("");
  const note = '<span data-note="cluster">square on a marker: its cluster</span>';
  for (const el of document.querySelectorAll(".legend")) {
    const gaps = el.dataset.gaps === "true" ? '<span data-note="gaps">gap: no traffic</span>' : "";
    el.innerHTML = clusters + markers + note + gaps;
  }
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
    renderAlerts(snap);
    renderClusters(snap);
    renderBudgets(snap);
    renderSources(snap);
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
