// The picture of one `autoglm bench control-plane` run (`--chart <file.svg>`): over the measured
// seconds, each window's decision latency and each decision set's push latency (dots), against the
// worst timer lateness per second of the control plane's process and of an idle reference process
// (lines), with the targets as dashed lines. It shows at a glance whether a latency tail is the
// control plane's or the machine's. Hand-written SVG, no dependencies.

import { esc } from "../../sim/chart.js";

/** A point in time (epoch ms) with a value (ms). */
export type TimedMs = [atMs: number, valueMs: number];

export interface ControlPlaneBenchSeries {
  sidecars: number;
  /** Start of the measured period, epoch ms. */
  startMs: number;
  /** End of the measured period, epoch ms. */
  endMs: number;
  /** Decision latency per window: [decision computed at, latency]. */
  decisions: TimedMs[];
  /** Push latency per decision set: [decision computed at, latency]. */
  pushes: TimedMs[];
  /** Largest timer lateness per second of the control plane's process. */
  controlPlaneStalls: TimedMs[];
  /** Largest timer lateness per second of the idle reference process. */
  idleStalls: TimedMs[];
  decisionTargetMs: number;
  pushTargetMs: number;
}

const W = 900;
const H = 360;
const LEFT = 64;
const RIGHT = 20;
const TOP = 48;
const BOTTOM = 46;

/** A round upper bound for the y axis (1, 2 or 5 × a power of ten) at or above v. */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(v, 1)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function controlPlaneBenchChart(s: ControlPlaneBenchSeries): string {
  const spanMs = Math.max(1, s.endMs - s.startMs);
  const all = [...s.decisions, ...s.pushes, ...s.controlPlaneStalls, ...s.idleStalls].map(([, v]) => v);
  const yMax = niceCeil(Math.max(s.pushTargetMs * 1.5, ...all.filter(Number.isFinite)));
  const x = (atMs: number) => LEFT + ((atMs - s.startMs) / spanMs) * (W - LEFT - RIGHT);
  const y = (ms: number) => TOP + (1 - Math.min(ms, yMax) / yMax) * (H - TOP - BOTTOM);
  const inRange = (p: TimedMs) => p[0] >= s.startMs && p[0] <= s.endMs && Number.isFinite(p[1]);
  const line = (points: TimedMs[], color: string, label: string) => {
    const d = points.filter(inRange).map(([t, v], i) => `${i === 0 ? "M" : "L"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join("");
    return d === "" ? "" : `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"><title>${esc(label)}</title></path>`;
  };
  const dots = (points: TimedMs[], color: string, label: string) =>
    points
      .filter(inRange)
      .map(([t, v]) => `<circle cx="${x(t).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(`${label}: ${v.toFixed(1)} ms`)}</title></circle>`)
      .join("");
  const hline = (ms: number, color: string, label: string) =>
    `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(ms).toFixed(1)}" y2="${y(ms).toFixed(1)}" stroke="${color}" stroke-dasharray="5,4"/>` +
    `<text x="${W - RIGHT - 4}" y="${(y(ms) - 4).toFixed(1)}" text-anchor="end" font-size="11" fill="${color}">${esc(label)}</text>`;
  const ticks: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    ticks.push(`<line x1="${LEFT - 4}" x2="${LEFT}" y1="${y(v)}" y2="${y(v)}" stroke="#444"/><text x="${LEFT - 8}" y="${y(v) + 4}" text-anchor="end" font-size="11">${Math.round(v)}</text>`);
  }
  const seconds = Math.round(spanMs / 1000);
  const step = seconds <= 30 ? 5 : seconds <= 120 ? 10 : 60;
  for (let t = 0; t <= seconds; t += step) {
    const px = x(s.startMs + t * 1000);
    ticks.push(`<line x1="${px}" x2="${px}" y1="${H - BOTTOM}" y2="${H - BOTTOM + 4}" stroke="#444"/><text x="${px}" y="${H - BOTTOM + 16}" text-anchor="middle" font-size="11">${t}</text>`);
  }
  const legend = [
    ["#1f77b4", "decision latency (per window)"],
    ["#d62728", "push latency (per decision set)"],
    ["#ff7f0e", "control plane: worst timer lateness per second"],
    ["#7f7f7f", "idle reference process: worst timer lateness per second"],
  ]
    .map(([color, text], i) => `<rect x="${LEFT + (i % 2) * 400}" y="${16 + Math.floor(i / 2) * 14}" width="10" height="10" fill="${color}"/><text x="${LEFT + 14 + (i % 2) * 400}" y="${25 + Math.floor(i / 2) * 14}" font-size="11">${esc(text)}</text>`)
    .join("");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    legend,
    `<rect x="${LEFT}" y="${TOP}" width="${W - LEFT - RIGHT}" height="${H - TOP - BOTTOM}" fill="none" stroke="#444"/>`,
    ticks.join(""),
    `<text x="${(LEFT + W - RIGHT) / 2}" y="${H - 8}" text-anchor="middle" font-size="12">seconds measured (${s.sidecars} sidecar streams)</text>`,
    `<text x="14" y="${(TOP + H - BOTTOM) / 2}" font-size="12" transform="rotate(-90 14 ${(TOP + H - BOTTOM) / 2})" text-anchor="middle">ms (clipped at ${yMax})</text>`,
    hline(s.decisionTargetMs, "#1f77b4", `decision target ${s.decisionTargetMs} ms`),
    hline(s.pushTargetMs, "#d62728", `push target ${s.pushTargetMs} ms`),
    line(s.idleStalls, "#7f7f7f", "idle reference process"),
    line(s.controlPlaneStalls, "#ff7f0e", "control plane process"),
    dots(s.decisions, "#1f77b4", "decision"),
    dots(s.pushes, "#d62728", "push"),
    `</svg>`,
  ].join("\n");
}
