// One SVG chart per scenario: a panel per policy with each cluster's traffic share (lines, left
// axis 0–100%) and the client success rate (black line, right axis, 90–100% clipped), fault
// periods shaded. Hand-written SVG, no dependencies.
import type { Scenario } from "./scenario.js";
import { faultOccurrences } from "./faults.js";
import type { RunSeries } from "./series.js";

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];
const PANEL_W = 900;
const PANEL_H = 170;
const MARGIN_L = 60;
const MARGIN_R = 60;
const GAP = 46;
const TOP = 56;
/** Lowest success rate drawn; below it the line sits on the panel's floor. */
const SUCCESS_FLOOR = 0.9;

/** Text escaped for SVG/XML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function path(points: Array<[number, number] | null>): string {
  let d = "";
  let pen = false;
  for (const p of points) {
    if (p === null) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
    pen = true;
  }
  return d;
}

export interface ChartPanel {
  policy: string;
  series?: RunSeries;
  /** Shown instead of lines when the policy could not run. */
  note?: string;
}

export function scenarioChart(scenario: Scenario, panels: readonly ChartPanel[]): string {
  const width = MARGIN_L + PANEL_W + MARGIN_R;
  const height = TOP + panels.length * (PANEL_H + GAP) + 10;
  const x = (t: number): number => MARGIN_L + (t / scenario.duration_s) * PANEL_W;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${MARGIN_L}" y="18" font-size="15" font-weight="bold">${esc(scenario.name)}</text>`);
  out.push(`<text x="${MARGIN_L}" y="34" fill="#444">${esc(scenario.description)}</text>`);
  // Legend.
  let lx = MARGIN_L;
  scenario.clusters.forEach((c, i) => {
    out.push(`<line x1="${lx}" y1="46" x2="${lx + 18}" y2="46" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 22}" y="50">${esc(c.name)} share</text>`);
    lx += 40 + c.name.length * 7 + 40;
  });
  out.push(`<line x1="${lx}" y1="46" x2="${lx + 18}" y2="46" stroke="black" stroke-width="1.5"/>`);
  out.push(`<text x="${lx + 22}" y="50">client success rate (right axis, ${SUCCESS_FLOOR * 100}–100%)</text>`);
  lx += 260;
  out.push(`<rect x="${lx}" y="40" width="18" height="10" fill="#d62728" fill-opacity="0.12"/>`);
  out.push(`<text x="${lx + 22}" y="50">fault</text>`);

  const occurrences = faultOccurrences(scenario);
  const totalWeight = scenario.clusters.reduce((s, c) => s + c.weight, 0);
  panels.forEach((panel, k) => {
    const top = TOP + k * (PANEL_H + GAP) + 18;
    const y = (share: number): number => top + PANEL_H - share * PANEL_H;
    const ys = (rate: number): number => top + PANEL_H - ((Math.max(rate, SUCCESS_FLOOR) - SUCCESS_FLOOR) / (1 - SUCCESS_FLOOR)) * PANEL_H;
    out.push(`<text x="${MARGIN_L}" y="${top - 6}" font-weight="bold" font-size="13">${esc(panel.policy)}</text>`);
    out.push(`<rect x="${MARGIN_L}" y="${top}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
    for (const o of occurrences) {
      const x0 = x(o.startS);
      const x1 = x(Math.min(scenario.duration_s, o.effectEndS));
      const color = COLORS[o.cluster % COLORS.length];
      out.push(`<rect x="${x0.toFixed(1)}" y="${top}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${PANEL_H}" fill="#d62728" fill-opacity="0.10"/>`);
      out.push(`<rect x="${x0.toFixed(1)}" y="${top + PANEL_H - 4}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="4" fill="${color}"/>`);
    }
    for (const frac of [0, 0.25, 0.5, 0.75, 1]) {
      out.push(`<line x1="${MARGIN_L}" y1="${y(frac)}" x2="${MARGIN_L + PANEL_W}" y2="${y(frac)}" stroke="#eee"/>`);
      out.push(`<text x="${MARGIN_L - 6}" y="${y(frac) + 4}" text-anchor="end">${frac * 100}%</text>`);
      const rate = SUCCESS_FLOOR + frac * (1 - SUCCESS_FLOOR);
      out.push(`<text x="${MARGIN_L + PANEL_W + 6}" y="${y(frac) + 4}">${(rate * 100).toFixed(1)}%</text>`);
    }
    const ticks = 10;
    for (let i = 0; i <= ticks; i++) {
      const t = (scenario.duration_s * i) / ticks;
      out.push(`<text x="${x(t)}" y="${top + PANEL_H + 14}" text-anchor="middle" fill="#555">${Math.round(t)}s</text>`);
    }
    // Base shares, dashed.
    scenario.clusters.forEach((c, i) => {
      const base = c.weight / totalWeight;
      out.push(`<line x1="${MARGIN_L}" y1="${y(base)}" x2="${MARGIN_L + PANEL_W}" y2="${y(base)}" stroke="${COLORS[i % COLORS.length]}" stroke-dasharray="4 4" stroke-opacity="0.6"/>`);
    });
    if (panel.series === undefined) {
      out.push(`<text x="${MARGIN_L + PANEL_W / 2}" y="${top + PANEL_H / 2}" text-anchor="middle" fill="#a00">${esc(panel.note ?? "not run")}</text>`);
      return;
    }
    const s = panel.series;
    s.shares.forEach((shares, i) => {
      const pts = shares.map((v, j): [number, number] | null => (Number.isNaN(v) ? null : [x(s.t[j]!), y(v)]));
      out.push(`<path d="${path(pts)}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.4"/>`);
    });
    const pts = s.success.map((v, j): [number, number] | null => (Number.isNaN(v) ? null : [x(s.t[j]!), ys(v)]));
    out.push(`<path d="${path(pts)}" fill="none" stroke="black" stroke-width="1.2"/>`);
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
