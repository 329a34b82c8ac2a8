// The dashboard page's CSS (inlined into the page by ./page.ts). Narrow screens (phones, down
// to about 360 px) get one column and smaller paddings; nothing scrolls sideways but the
// transitions table.
import { PANEL_COLOR, STATE_COLORS } from "./palette.js";

export const PAGE_CSS = `
:root { --bg:#0f1419; --panel:${PANEL_COLOR}; --line:#263140; --text:#d8dee6; --dim:#8593a3;
  --closed:${STATE_COLORS.closed}; --open:${STATE_COLORS.open}; --half:${STATE_COLORS.half_open}; --warn:#f5a524; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
header { display:flex; flex-wrap:wrap; align-items:center; gap:8px 12px; padding:12px 20px; border-bottom:1px solid var(--line); }
header h1 { font-size:18px; margin:0 8px 0 0; font-weight:600; display:flex; align-items:center; gap:8px; }
header h1 img { width:20px; height:20px; }
.pill { padding:2px 10px; border-radius:999px; background:var(--panel); border:1px solid var(--line); color:var(--dim); font-size:12px; white-space:nowrap; }
.pill.bad { color:#fff; background:var(--open); border-color:var(--open); }
.pill.ok { color:var(--closed); }
main { padding:16px 20px; display:grid; gap:16px; }
#sidecar-alert { background:#3a1216; border:1px solid var(--open); border-left:6px solid var(--open); border-radius:8px; padding:10px 14px; }
#sidecar-alert h2 { margin:0 0 6px; font-size:15px; color:#ffb4b6; }
#sidecar-alert p { margin:0 0 6px; color:#f0c9cb; font-size:13px; }
#sidecar-alert ul { margin:0; padding-left:18px; display:grid; gap:4px; font-size:13px; }
#sidecar-alert li { overflow-wrap:anywhere; }
#sidecar-alert .what { color:#fff; font-weight:600; }
#sidecar-alert .seen { color:#f0c9cb; white-space:nowrap; }
#clusters { display:grid; grid-template-columns:repeat(auto-fill, minmax(min(100%, 250px), 1fr)); gap:12px; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; border-left:4px solid var(--closed); min-width:0; }
.card[data-state=open] { border-left-color:var(--open); }
.card[data-state=half_open] { border-left-color:var(--half); }
.card h2 { margin:0 0 6px; font-size:15px; display:flex; justify-content:space-between; align-items:center; gap:8px; }
.card h2 .name { display:flex; align-items:center; gap:6px; overflow-wrap:anywhere; }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; background:var(--c); flex:none; }
.state { font-size:11px; text-transform:uppercase; letter-spacing:.05em; padding:1px 8px; border-radius:4px; color:#fff; background:var(--closed); white-space:nowrap; }
.card[data-state=open] .state { background:var(--open); }
.card[data-state=half_open] .state { background:var(--half); color:#111; }
.kv { display:grid; grid-template-columns:auto 1fr; gap:2px 12px; font-size:13px; margin:0; }
.kv dt { color:var(--dim); } .kv dd { margin:0; text-align:right; font-variant-numeric:tabular-nums; }
.kv dd.diverges { color:var(--warn); font-weight:600; }
.kv dd.none { color:var(--dim); font-style:italic; }
.bar { height:6px; background:var(--line); border-radius:3px; overflow:hidden; margin:6px 0 4px; }
.bar > div { height:100%; background:linear-gradient(90deg, var(--closed), var(--half), var(--open)); }
.reasons { color:var(--dim); font-size:12px; min-height:16px; overflow-wrap:anywhere; }
#charts { display:grid; grid-template-columns:repeat(auto-fill, minmax(min(100%, 420px), 1fr)); gap:12px; }
.chart { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; min-width:0; }
.chart h3 { margin:0 0 6px; font-size:13px; font-weight:600; color:var(--dim); }
canvas { width:100%; height:170px; display:block; }
.legend { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12px; color:var(--dim); margin-top:6px; }
.legend span { white-space:nowrap; }
.legend [data-cluster]::before { content:""; display:inline-block; width:14px; height:3px; margin-right:5px; vertical-align:middle; background:var(--c); }
.legend [data-marker]::before { content:""; display:inline-block; width:0; height:12px; margin:0 6px 0 4px; vertical-align:middle; border-left:2px dashed var(--c); }
.legend [data-note=cluster]::before { content:""; display:inline-block; width:7px; height:7px; margin-right:5px; vertical-align:middle; background:var(--dim); }
.legend [data-note=gaps]::before { content:""; display:inline-block; width:16px; height:3px; margin-right:5px; vertical-align:middle;
  background:linear-gradient(90deg, var(--dim) 0 35%, transparent 35% 65%, var(--dim) 65%); }
.table-wrap { overflow-x:auto; }
table { width:100%; border-collapse:collapse; background:var(--panel); border:1px solid var(--line); border-radius:8px; font-size:13px; }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); }
th { color:var(--dim); font-weight:500; }
td.to-open { color:var(--open); } td.to-closed { color:var(--closed); } td.to-half_open { color:var(--half); }
a.snapshot { color:#8ab4f8; } a.snapshot:visited { color:#c58af9; }
#sources tr.flagged b { color:var(--open); }
section h2.title { font-size:14px; margin:0 0 8px; color:var(--dim); font-weight:600; }
@media (max-width: 600px) {
  header { padding:10px 12px; }
  main { padding:12px; gap:12px; }
  th, td { padding:5px 6px; }
  canvas { height:150px; }
}
`;
