// The dashboard page: one HTML document with its CSS (./page-style.ts) and script
// (./page-script.ts) inline, no CDN, no external request; its icon is served by the control
// plane (./favicon.ts). It is fed by the server-sent events of /v1/events. With admin tokens
// configured, the page is opened as /#token=<read token>.

import { PAGE_CSS } from "./page-style.js";
import { PAGE_SCRIPT } from "./page-script.js";

/** A chart: its title, canvas id, and whether a gap in its lines means "no traffic". */
const CHARTS: readonly { id: string; title: string; gaps: boolean }[] = [
  { id: "chart-sent", title: "Traffic share sent (decision weights)", gaps: false },
  { id: "chart-measured", title: "Traffic share measured (sidecar reports)", gaps: true },
  { id: "chart-rps", title: "Requests/s (sidecar reports)", gaps: false },
  { id: "chart-score", title: "Anomaly score", gaps: false },
  { id: "chart-errors", title: "Error rate (per window)", gaps: true },
  { id: "chart-latency", title: "p99 latency (per window)", gaps: true },
  { id: "chart-ttft", title: "TTFT p99, streamed responses (per window)", gaps: true },
  { id: "chart-tpot", title: "TPOT p99, streamed responses (per window)", gaps: true },
];

const chartsHtml = CHARTS.map(
  (c) => `    <div class="chart"><h3>${c.title}</h3><canvas id="${c.id}"></canvas><div class="legend" data-gaps="${c.gaps}"></div></div>`,
).join("\n");

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Open-AutoGLM control plane</title>
<link rel="icon" type="image/svg+xml" href="/favicon.svg">
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
  <h1><img src="/favicon.svg" alt="">Open-AutoGLM</h1>
  <span id="halt" class="pill">…</span>
  <span id="version" class="pill">decisions v–</span>
  <span id="sidecars" class="pill">– sidecar streams</span>
  <span id="model" class="pill">model: –</span>
  <span id="conn" class="pill">connecting…</span>
</header>
<main>
  <section id="sidecar-alert" role="alert" hidden>
    <h2></h2>
    <p>Refusing workers keep enforcing the decisions they had; gone ones run on their fallback (the last decisions until their TTL, then their local breakers and base weights). The weights below are not what they do. Workers back after running without the control plane say for how long, and how much of it on their fallback.</p>
    <ul></ul>
  </section>
  <section><h2 class="title">Clusters</h2><div id="clusters"></div></section>
  <section id="budgets" hidden><h2 class="title">Error budgets</h2>
    <div class="table-wrap"><table><thead><tr><th>scope</th><th>objective</th><th>budget left</th><th>burn alerts</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section id="sources" hidden><h2 class="title">Who sends the traffic (last minute)</h2>
    <div class="table-wrap"><table><thead><tr><th>source</th><th>req/s</th><th>share</th><th>error rate</th><th>state</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section id="charts">
${chartsHtml}
  </section>
  <section><h2 class="title">Recent transitions</h2>
    <div class="table-wrap"><table id="transitions"><thead><tr><th>time</th><th>cluster</th><th>from</th><th>to</th><th>reason</th><th>snapshot</th></tr></thead><tbody></tbody></table></div>
  </section>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
