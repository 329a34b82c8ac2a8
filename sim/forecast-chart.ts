// The forecast benchmark's chart (one SVG, hand-written, no dependencies):
//   1. calibration where clusters took more load: for each band of the planner's prediction, the
//      mean predicted bad fraction (x) against the mean observed one (y), both on log scales, with
//      a whisker up to the observed 99th percentile; on the diagonal a predictor is right on
//      average, below it pessimistic;
//   2. each caller of trouble: the share of troubles it called (bar) and its false alarms.
import { esc } from "./chart.js";
import { FORECAST_PREDICTORS, type ForecastSummary } from "./forecast-calibration.js";

const W = 980;
const PLOT = { left: 90, top: 60, size: 380 };
/** Bad fractions drawn from LO to 1 (log scale); smaller values sit on the axis. */
const LO = 0.001;
const COLORS: Record<string, string> = { load_response: "#1f77b4", persistence: "#ff7f0e", model: "#2ca02c" };

function logPos(fraction: number): number {
  const f = Math.min(1, Math.max(LO, fraction));
  return (Math.log10(f) - Math.log10(LO)) / -Math.log10(LO);
}

function pct(x: number): string {
  return `${Number((x * 100).toPrecision(2))} %`;
}

/** The chart of a forecast summary; `title` names the run. */
export function forecastChart(s: ForecastSummary, title: string): string {
  const out: string[] = [];
  const h = PLOT.top + PLOT.size + 90;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${h}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);

  // 1. Calibration under more load.
  const { left, top, size } = PLOT;
  const x = (f: number) => left + logPos(f) * size;
  const y = (f: number) => top + size - logPos(f) * size;
  out.push(`<text x="${left + size / 2}" y="${top - 12}" text-anchor="middle" font-weight="bold">Taking more load (ratio ≥ 1.1): predicted vs observed bad fraction</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#888"/>`);
  for (const tick of [0.001, 0.01, 0.1, 1]) {
    out.push(`<line x1="${x(tick)}" y1="${top}" x2="${x(tick)}" y2="${top + size}" stroke="#eee"/>`);
    out.push(`<line x1="${left}" y1="${y(tick)}" x2="${left + size}" y2="${y(tick)}" stroke="#eee"/>`);
    out.push(`<text x="${x(tick)}" y="${top + size + 16}" text-anchor="middle">${pct(tick)}</text>`);
    out.push(`<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${pct(tick)}</text>`);
  }
  out.push(`<line x1="${x(LO)}" y1="${y(LO)}" x2="${x(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 3"/>`);
  out.push(`<text x="${left + size / 2}" y="${top + size + 34}" text-anchor="middle">predicted (mean of the band)</text>`);
  out.push(`<text x="${left - 62}" y="${top + size / 2}" text-anchor="middle" transform="rotate(-90 ${left - 62} ${top + size / 2})">observed (mean; whisker: p99)</text>`);
  for (const band of s.byPredictionUnderMoreLoad) {
    for (const p of FORECAST_PREDICTORS) {
      const px = x(band.predictors[p].mean);
      out.push(`<line x1="${px}" y1="${y(band.observed)}" x2="${px}" y2="${y(band.observedP99)}" stroke="${COLORS[p]}" stroke-opacity="0.4"/>`);
      out.push(`<circle cx="${px}" cy="${y(band.observed)}" r="${Math.max(3, Math.min(9, Math.sqrt(band.rows) / 8))}" fill="${COLORS[p]}" fill-opacity="0.8"><title>${esc(`${p}, band ${band.label}: predicted ${pct(band.predictors[p].mean)}, observed ${pct(band.observed)} (p99 ${pct(band.observedP99)}), ${band.rows} pairs`)}</title></circle>`);
    }
  }
  FORECAST_PREDICTORS.forEach((p, i) => {
    out.push(`<circle cx="${left + 14}" cy="${top + 16 + i * 18}" r="5" fill="${COLORS[p]}"/><text x="${left + 24}" y="${top + 20 + i * 18}">${esc(p)}</text>`);
  });
  out.push(`<text x="${left + size - 6}" y="${top + size - 8}" text-anchor="end" fill="#666">below the diagonal: pessimistic</text>`);

  // 2. Callers of trouble.
  const cx = left + size + 130;
  const barW = W - cx - 40;
  out.push(`<text x="${cx + barW / 2}" y="${top - 12}" text-anchor="middle" font-weight="bold">Calls of trouble (${s.trouble.rows} troubles)</text>`);
  const callers = [
    ...FORECAST_PREDICTORS.map((p) => ({ name: p, color: COLORS[p]!, caught: s.trouble.caught[p], falseAlarms: s.trouble.falseAlarms[p] })),
    ...(s.trouble.model === undefined ? [] : [{ name: `model alarm (risk ≥ ${s.trouble.model.threshold})`, color: COLORS.model!, caught: s.trouble.model.caught, falseAlarms: s.trouble.model.falseAlarms }]),
  ];
  callers.forEach((c, i) => {
    const by = top + 20 + i * 70;
    const share = s.trouble.rows > 0 ? c.caught / s.trouble.rows : 0;
    out.push(`<text x="${cx}" y="${by}">${esc(c.name)}</text>`);
    out.push(`<rect x="${cx}" y="${by + 8}" width="${barW}" height="18" fill="#f0f0f0"/>`);
    out.push(`<rect x="${cx}" y="${by + 8}" width="${(share * barW).toFixed(1)}" height="18" fill="${c.color}"/>`);
    out.push(`<text x="${cx + 4}" y="${by + 42}">called ${c.caught} of ${s.trouble.rows} (${Math.round(share * 100)} %); false alarms ${c.falseAlarms}</text>`);
  });
  out.push(`<text x="${cx}" y="${top + size + 16}" fill="#666">trouble: a window at least 10 % bad and 5 points</text>`);
  out.push(`<text x="${cx}" y="${top + size + 32}" fill="#666">above the cluster's level when predicted</text>`);
  out.push("</svg>");
  return out.join("\n");
}
