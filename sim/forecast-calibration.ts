// How well the planner's load–response model (control-plane/src/core/planner/load-response.ts)
// predicts what a cluster does next: the evidence a forecaster (a rule or a trained model) has
// to beat before it may steer traffic (issue 15: the model earns its place by predicting better).
//
// Each round the recorder takes every closed cluster's load–response model, assessed from the
// engine's own windows and capacity estimate exactly as the planner assesses it, and keeps it.
// `lagWindows` windows later it looks at what the cluster did: the load it was offered in its
// newest window (offeredRps) and the fraction of that window's requests that went bad (failed or
// slower than the SLO: badRequests). Each predictor then says what it expected at that load:
//   - load_response: predictBadFraction of the model at the load the cluster got, what the
//     planner would have predicted for a move that brought the cluster there;
//   - persistence: the bad fraction the cluster showed at the time (no load effect at all).
// The load ratio is the later load over the load at the time: above 1 the cluster took more,
// as a receiver of a move or at the rise of a wave, which is where the planner's trust in a
// receiver is decided.
// When the run has the anomaly model, its risk at the time (ClusterStatus.scorers, the model's)
// is kept too: it is a probability of breaking the SLO within its horizon, not a bad fraction, so
// it is scored only as a caller of trouble (an alarm at or over its threshold), beside the others.
//
// Pure: fed ClusterStatus snapshots (as the control plane reports them after each round), no clock.
import { assessLoadResponse, badRequests, offeredRps } from "../control-plane/src/core/planner/assessment.js";
import { predictBadFraction, type LoadResponse } from "../control-plane/src/core/planner/load-response.js";
import type { ClusterStatus } from "../control-plane/src/core/types.js";
import { SCORER_NAME as MODEL_SCORER } from "../control-plane/src/model/contract.js";

export const FORECAST_PREDICTORS = ["load_response", "persistence"] as const;
export type ForecastPredictor = (typeof FORECAST_PREDICTORS)[number];

/** One prediction paired with its outcome. */
export interface ForecastRow {
  cluster: string;
  /** Offered load in the outcome window over the model's load at prediction time. */
  loadRatio: number;
  /** Requests in the outcome window (each row weighs this much in the summary). */
  requests: number;
  /** Bad fraction of the outcome window, [0, 1]. */
  observed: number;
  /** The cluster's pooled bad fraction at prediction time, [0, 1]. */
  now: number;
  predicted: Record<ForecastPredictor, number>;
  /** The anomaly model's risk at prediction time, [0, 1]; absent: the run had no model. */
  modelRisk?: number;
}

/** What the recorder needs of a cluster's status. */
export type ForecastStatus = Pick<ClusterStatus, "cluster" | "state" | "capacity" | "recent"> & Partial<Pick<ClusterStatus, "scorers">>;

interface Kept {
  /** Undefined: the cluster was not closed, nothing was predicted (the entry keeps the lag counted in windows). */
  response: LoadResponse | undefined;
  modelRisk: number | undefined;
  /** Start of the newest window the response was assessed on, epoch ms. */
  windowStartMs: number;
}

/**
 * Pairs each closed cluster's load–response model with the window `lagWindows` windows later.
 * Windows with fewer than `minRequests` requests are not judged (their bad fraction is noise);
 * a cluster that is not closed at prediction time is not predicted (it carries no load to
 * predict from). A round without a new window for a cluster adds nothing for it.
 */
export class ForecastRecorder {
  private readonly kept = new Map<string, Kept[]>();
  private readonly out: ForecastRow[] = [];

  constructor(
    private readonly lagWindows: number,
    private readonly minRequests: number,
  ) {
    if (!Number.isInteger(lagWindows) || lagWindows < 1) throw new RangeError(`lagWindows: expected a whole number of at least 1, got ${lagWindows}`);
    if (!(minRequests >= 1)) throw new RangeError(`minRequests: expected at least 1, got ${minRequests}`);
  }

  /** Takes the clusters' statuses after a decision round. */
  observe(statuses: readonly ForecastStatus[]): void {
    for (const s of statuses) {
      const newest = s.recent.at(-1);
      if (newest === undefined) continue;
      const kept = this.kept.get(s.cluster) ?? [];
      if (kept.length > 0 && kept.at(-1)!.windowStartMs >= newest.windowStartMs) continue;
      if (kept.length >= this.lagWindows) this.judge(s.cluster, kept.shift()!, newest);
      kept.push({ response: s.state.kind === "closed" ? assessLoadResponse(s.recent, s.capacity) : undefined, modelRisk: s.scorers?.[MODEL_SCORER]?.score, windowStartMs: newest.windowStartMs });
      this.kept.set(s.cluster, kept);
    }
  }

  /** The pairs recorded so far, in the order their outcomes came. */
  rows(): readonly ForecastRow[] {
    return this.out;
  }

  private judge(cluster: string, then: Kept, outcome: ClusterStatus["recent"][number]): void {
    const m = then.response;
    if (m === undefined || m.loadRps <= 0 || m.requests <= 0 || outcome.requests < this.minRequests) return;
    const load = offeredRps(outcome);
    this.out.push({
      cluster,
      loadRatio: load / m.loadRps,
      requests: outcome.requests,
      observed: badRequests(outcome) / outcome.requests,
      now: m.badFraction,
      predicted: { load_response: predictBadFraction(m, load), persistence: m.badFraction },
      ...(then.modelRisk === undefined ? {} : { modelRisk: then.modelRisk }),
    });
  }
}

/** Rows grouped by a range of a value, [lo, hi). */
export interface ForecastBand {
  label: string;
  rows: number;
  /** Outcome windows' requests in the band. */
  requests: number;
  /** Request-weighted mean observed bad fraction. */
  observed: number;
  /** The 99th percentile of the rows' observed bad fractions (unweighted): the tail a move risks. */
  observedP99: number;
  /** Per predictor: request-weighted mean prediction, mean absolute error and bias (prediction − outcome). */
  predictors: Record<ForecastPredictor, { mean: number; mae: number; bias: number }>;
}

/**
 * Outcomes where the cluster went bad: observed at least TROUBLE_FRACTION and TROUBLE_RISE above
 * its level then. A predictor calls trouble when its prediction is that bad by the same rule; a
 * call on an outcome that was not trouble is a false alarm, the kind that moves traffic off a
 * cluster that needed no help (false cuts).
 */
export interface ForecastTrouble {
  rows: number;
  /** Per predictor: request-weighted mean shortfall on the trouble rows, max(0, observed − predicted). */
  shortfall: Record<ForecastPredictor, number>;
  /** Per predictor: trouble rows it called. */
  caught: Record<ForecastPredictor, number>;
  /** Per predictor: rows it called that were not trouble. */
  falseAlarms: Record<ForecastPredictor, number>;
  /** The anomaly model's alarm (risk at or over its threshold) as a caller, when every row has its risk. */
  model?: { threshold: number; caught: number; falseAlarms: number };
}

export interface ForecastSummary {
  rows: number;
  byLoadRatio: ForecastBand[];
  /** Rows taking more load (ratio ≥ 1.1), by the load–response model's own prediction: its calibration where trust in a receiver is decided. */
  byPredictionUnderMoreLoad: ForecastBand[];
  trouble: ForecastTrouble;
}

/** An outcome window this bad, and this much worse than the cluster was, is trouble a forecast should have seen. */
export const TROUBLE_FRACTION = 0.1;
export const TROUBLE_RISE = 0.05;
/** Load ratio from which a row counts as taking more load. */
export const MORE_LOAD_RATIO = 1.1;

const LOAD_RATIO_BANDS: Array<[number, number]> = [[0, 0.9], [0.9, 1.1], [1.1, 1.3], [1.3, 1.7], [1.7, Infinity]];
const PREDICTION_BANDS: Array<[number, number]> = [[0, 0.01], [0.01, 0.03], [0.03, 0.1], [0.1, 0.2], [0.2, 0.4], [0.4, Infinity]];

/** The summary of a run's rows (bands without rows are left out). */
export function summariseForecasts(rows: readonly ForecastRow[], modelAlarmThreshold = 0.5): ForecastSummary {
  const byLoadRatio = bands(rows, LOAD_RATIO_BANDS, (r) => r.loadRatio, (lo, hi) => (hi === Infinity ? `≥ ${lo}` : `${lo}–${hi}`));
  const more = rows.filter((r) => r.loadRatio >= MORE_LOAD_RATIO);
  const byPredictionUnderMoreLoad = bands(more, PREDICTION_BANDS, (r) => r.predicted.load_response, (lo, hi) => (hi === Infinity ? `≥ ${pct(lo)}` : `${pct(lo)}–${pct(hi)}`));
  const isTrouble = (r: ForecastRow, value: number) => value >= TROUBLE_FRACTION && value >= r.now + TROUBLE_RISE;
  const bad = rows.filter((r) => isTrouble(r, r.observed));
  const weight = bad.reduce((a, r) => a + r.requests, 0);
  const shortfall = perPredictor((p) => (weight > 0 ? bad.reduce((a, r) => a + r.requests * Math.max(0, r.observed - r.predicted[p]), 0) / weight : 0));
  const caught = perPredictor((p) => bad.filter((r) => isTrouble(r, r.predicted[p])).length);
  const falseAlarms = perPredictor((p) => rows.filter((r) => isTrouble(r, r.predicted[p]) && !isTrouble(r, r.observed)).length);
  const withModel = rows.length > 0 && rows.every((r) => r.modelRisk !== undefined);
  const alarm = (r: ForecastRow) => r.modelRisk! >= modelAlarmThreshold;
  const model = withModel ? { threshold: modelAlarmThreshold, caught: bad.filter(alarm).length, falseAlarms: rows.filter((r) => alarm(r) && !isTrouble(r, r.observed)).length } : undefined;
  return { rows: rows.length, byLoadRatio, byPredictionUnderMoreLoad, trouble: { rows: bad.length, shortfall, caught, falseAlarms, ...(model === undefined ? {} : { model }) } };
}

function bands(rows: readonly ForecastRow[], edges: Array<[number, number]>, value: (r: ForecastRow) => number, label: (lo: number, hi: number) => string): ForecastBand[] {
  const out: ForecastBand[] = [];
  for (const [lo, hi] of edges) {
    const inBand = rows.filter((r) => value(r) >= lo && value(r) < hi);
    if (inBand.length === 0) continue;
    const requests = inBand.reduce((a, r) => a + r.requests, 0);
    const mean = (f: (r: ForecastRow) => number) => inBand.reduce((a, r) => a + r.requests * f(r), 0) / requests;
    out.push({
      label: label(lo, hi),
      rows: inBand.length,
      requests,
      observed: mean((r) => r.observed),
      observedP99: quantile(inBand.map((r) => r.observed), 0.99),
      predictors: perPredictor((p) => ({ mean: mean((r) => r.predicted[p]), mae: mean((r) => Math.abs(r.predicted[p] - r.observed)), bias: mean((r) => r.predicted[p] - r.observed) })),
    });
  }
  return out;
}

function perPredictor<T>(f: (p: ForecastPredictor) => T): Record<ForecastPredictor, T> {
  return Object.fromEntries(FORECAST_PREDICTORS.map((p) => [p, f(p)])) as Record<ForecastPredictor, T>;
}

/** Nearest-rank quantile of `values` (not empty), q in [0, 1]. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function pct(x: number): string {
  return `${Number((x * 100).toFixed(2))} %`;
}

/** The summary as Markdown tables. */
export function forecastMarkdown(s: ForecastSummary): string {
  const head = `| band | rows | observed (mean) | observed p99 | ${FORECAST_PREDICTORS.map((p) => `${p}: mean / MAE / bias`).join(" | ")} |`;
  const rule = `|---|---:|---:|---:|${FORECAST_PREDICTORS.map(() => "---").join("|")}|`;
  const line = (b: ForecastBand) => `| ${b.label} | ${b.rows} | ${pct(b.observed)} | ${pct(b.observedP99)} | ${FORECAST_PREDICTORS.map((p) => `${pct(b.predictors[p].mean)} / ${pct(b.predictors[p].mae)} / ${signed(b.predictors[p].bias)}`).join(" | ")} |`;
  return [
    `${s.rows} predictions paired with their outcomes (bad fraction: failed or slower than the SLO; means weighted by the outcome window's requests).`,
    "",
    "By load ratio (the load the cluster got over its load at prediction time):",
    "",
    head,
    rule,
    ...s.byLoadRatio.map(line),
    "",
    `Taking more load (ratio ≥ ${MORE_LOAD_RATIO}), by what load_response predicted:`,
    "",
    head,
    rule,
    ...s.byPredictionUnderMoreLoad.map(line),
    "",
    `Trouble (outcome ≥ ${pct(TROUBLE_FRACTION)} bad and ${pct(TROUBLE_RISE)} above the cluster's level then): ${s.trouble.rows} rows. A predictor calls trouble when its prediction is that bad:`,
    "",
    "| predictor | mean shortfall on trouble | trouble called | false alarms (called, not trouble) |",
    "|---|---:|---:|---:|",
    ...FORECAST_PREDICTORS.map((p) => `| ${p} | ${pct(s.trouble.shortfall[p])} | ${s.trouble.caught[p]} of ${s.trouble.rows} | ${s.trouble.falseAlarms[p]} |`),
    ...(s.trouble.model === undefined ? [] : [`| the anomaly model's alarm (risk ≥ ${s.trouble.model.threshold}) | — | ${s.trouble.model.caught} of ${s.trouble.rows} | ${s.trouble.model.falseAlarms} |`]),
    "",
  ].join("\n");
}

function signed(x: number): string {
  return `${x >= 0 ? "+" : "−"}${pct(Math.abs(x))}`;
}
