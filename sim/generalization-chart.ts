// The generalization benchmark's chart (one SVG, hand-written, no dependencies):
//   1. win / tie / loss bars of autoglm and autoglm-rules against the best baseline and against
//      none, on failed requests and on SLO seconds, with the harm count;
//   2. per scenario, the subject's difference to the best baseline in units of the tie
//      tolerance, sorted (left: better, right: worse; the shaded band is a tie), for failed
//      requests and for SLO seconds;
//   3. total failed requests and SLO seconds per policy.
import { esc } from "./chart.js";
import type { GeneralizationScenario, GeneralizationSummary } from "./generalization-summary.js";
import { failedTolerance, sloTolerance, type VerdictCounts } from "./generalization-score.js";

const W = 1170;
const LEFT = 280;
const BAR_W = 700;
const COLORS = { win: "#2ca02c", tie: "#b0b0b0", loss: "#d62728" };
const SUBJECT_COLORS: Record<string, string> = {
  autoglm: "#1f77b4", "autoglm-rules": "#ff7f0e", "autoglm-host-ejection": "#2ca02c", "autoglm-no-load-reports": "#9467bd",
  "oracle-next-window": "#17becf", "oracle-last-window": "#8c564b",
};
/** Differences are drawn within ±CLIP tolerances. */
const CLIP = 6;

function verdictBar(out: string[], y: number, label: string, c: VerdictCounts, extra: string): void {
  const total = c.win + c.tie + c.loss;
  out.push(`<text x="${LEFT - 8}" y="${y + 14}" text-anchor="end">${esc(label)}</text>`);
  let x = LEFT;
  for (const k of ["win", "tie", "loss"] as const) {
    const w = total > 0 ? (c[k] / total) * BAR_W : 0;
    if (w > 0) {
      out.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="20" fill="${COLORS[k]}"/>`);
      if (w > 26) out.push(`<text x="${(x + w / 2).toFixed(1)}" y="${y + 14}" text-anchor="middle" fill="white" font-weight="bold">${c[k]}</text>`);
    }
    x += w;
  }
  out.push(`<text x="${LEFT + BAR_W + 8}" y="${y + 14}">${esc(extra)}</text>`);
}

function differencePanel(
  out: string[], top: number, title: string, scenarios: readonly GeneralizationScenario[], subjects: readonly string[],
  value: (s: GeneralizationScenario, subject: string) => number | undefined,
): number {
  const h = 200;
  out.push(`<text x="${LEFT}" y="${top}" font-size="13" font-weight="bold">${esc(title)}</text>`);
  const y0 = top + 12;
  const y = (d: number): number => y0 + ((CLIP - Math.max(-CLIP, Math.min(CLIP, d))) / (2 * CLIP)) * h;
  out.push(`<rect x="${LEFT}" y="${y(1).toFixed(1)}" width="${BAR_W}" height="${(y(-1) - y(1)).toFixed(1)}" fill="#eeeeee"/>`);
  out.push(`<rect x="${LEFT}" y="${y0}" width="${BAR_W}" height="${h}" fill="none" stroke="#888"/>`);
  for (const d of [-CLIP, -3, -1, 0, 1, 3, CLIP]) {
    out.push(`<line x1="${LEFT - 4}" y1="${y(d).toFixed(1)}" x2="${LEFT}" y2="${y(d).toFixed(1)}" stroke="#888"/>`);
    const label = d === CLIP ? `≥ +${CLIP}` : d === -CLIP ? `≤ −${CLIP}` : d > 0 ? `+${d}` : d < 0 ? `−${-d}` : "0";
    out.push(`<text x="${LEFT - 8}" y="${(y(d) + 4).toFixed(1)}" text-anchor="end">${label}</text>`);
  }
  out.push(`<text x="${LEFT - 60}" y="${y0 + h / 2}" text-anchor="middle" transform="rotate(-90 ${LEFT - 60} ${y0 + h / 2})">tolerances (worse ↑)</text>`);
  subjects.forEach((subject, k) => {
    const values = scenarios.map((s) => value(s, subject)).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
    if (values.length === 0) return;
    const step = BAR_W / Math.max(1, values.length - 1);
    const d = values.map((v, i) => `${i === 0 ? "M" : "L"}${(LEFT + i * step).toFixed(1)},${y(v).toFixed(1)}`).join("");
    out.push(`<path d="${d}" fill="none" stroke="${SUBJECT_COLORS[subject] ?? "#000"}" stroke-width="2"/>`);
    out.push(`<line x1="${LEFT + BAR_W + 10}" y1="${y0 + 20 + k * 18}" x2="${LEFT + BAR_W + 28}" y2="${y0 + 20 + k * 18}" stroke="${SUBJECT_COLORS[subject] ?? "#000"}" stroke-width="2"/>`);
    out.push(`<text x="${LEFT + BAR_W + 32}" y="${y0 + 24 + k * 18}">${esc(subject)}</text>`);
  });
  out.push(`<text x="${LEFT}" y="${y0 + h + 16}" fill="#444">scenarios sorted by the difference; shaded: a tie; below it the policy does better than the best baseline</text>`);
  return y0 + h + 40;
}

export function generalizationChart(
  summary: GeneralizationSummary, scenarios: readonly GeneralizationScenario[], policies: readonly string[], title: string,
): string {
  const out: string[] = [];
  let y = 30;
  out.push(`<text x="20" y="${y}" font-size="16" font-weight="bold">${esc(title)}</text>`);
  y += 30;
  out.push(`<text x="${LEFT}" y="${y}" font-size="13" font-weight="bold">Win / tie / loss per scenario (green / grey / red)</text>`);
  y += 10;
  for (const [subject, s] of Object.entries(summary.subjects)) {
    const rows: Array<[string, VerdictCounts, string]> = [
      [`${subject}: failed vs best baseline`, s.vsBest.failed, `harm in ${s.harm} of ${s.scored}`],
      [`${subject}: SLO s vs best baseline`, s.vsBest.slo, ""],
      [`${subject}: failed vs none`, s.vsNone.failed, ""],
      [`${subject}: SLO s vs none`, s.vsNone.slo, ""],
    ];
    for (const [label, c, extra] of rows) {
      verdictBar(out, y, label, c, extra);
      y += 26;
    }
    y += 8;
  }
  y += 20;
  const subjects = Object.keys(summary.subjects);
  y = differencePanel(out, y, "Failed requests: (subject − best baseline) / tie tolerance", scenarios, subjects, (s, subject) => {
    const sc = s.scores[subject];
    const r = s.runs[subject];
    if (sc === undefined || r === undefined || "unavailable" in r) return undefined;
    return (r.failed - sc.bestFailed.value) / failedTolerance(sc.bestFailed.value);
  });
  y = differencePanel(out, y, "SLO-violation seconds: (subject − best baseline) / tie tolerance", scenarios, subjects, (s, subject) => {
    const sc = s.scores[subject];
    const r = s.runs[subject];
    if (sc === undefined || r === undefined || "unavailable" in r) return undefined;
    return (r.slo_violation_s - sc.bestSlo.value) / sloTolerance(sc.bestSlo.value);
  });

  out.push(`<text x="${LEFT}" y="${y}" font-size="13" font-weight="bold">Totals over all scenarios</text>`);
  y += 10;
  for (const [key, label] of [["failed", "failed requests"], ["slo_violation_s", "SLO-violation s"]] as const) {
    const max = Math.max(1, ...policies.map((p) => summary.totals[p]?.[key] ?? 0));
    for (const p of policies) {
      const v = summary.totals[p]?.[key] ?? 0;
      const w = (v / max) * BAR_W;
      out.push(`<text x="${LEFT - 8}" y="${y + 12}" text-anchor="end">${esc(`${p}: ${label}`)}</text>`);
      out.push(`<rect x="${LEFT}" y="${y}" width="${w.toFixed(1)}" height="16" fill="${SUBJECT_COLORS[p] ?? "#7f7f7f"}"/>`);
      out.push(`<text x="${LEFT + w + 6}" y="${y + 12}">${Math.round(v)}</text>`);
      y += 20;
    }
    y += 10;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...out,
    `</svg>`,
  ].join("\n") + "\n";
}
