// Feature extraction for the anomaly model: from each cluster's recent windows to one row of
// FEATURE_NAMES. Pure (no I/O, no clock): the only state is each cluster's baseline, which is
// learnt online from the windows it is shown, so the control plane and the trainer run exactly
// the same code and feed the model raw features (standardisation is inside the model).
//
// Baselines: per cluster, an exponentially weighted mean of requests/s, p50, p95 and p99 over
// the windows that met the SLO (error rate within budget, p99 within the latency objective), with
// a time constant of BASELINE_TAU_S seconds; during warm-up (the first WARMUP_WINDOWS healthy
// windows) it is the plain running mean, so it settles fast. Windows that break the SLO never
// move the baseline, so a fault does not teach the baseline that it is normal.
import type { ClusterWindowStats, Slo } from "../core/types.js";
import { FEATURE_COUNT, HISTORY_WINDOWS, LEVEL_WINDOWS } from "./contract.js";
import { leastSquares } from "../core/least-squares.js";

/** Time constant of the baseline EWMA, seconds. */
export const BASELINE_TAU_S = 300;
/** Healthy windows averaged plainly before the EWMA takes over. */
export const WARMUP_WINDOWS = 30;
/** Ratio features are clipped to [0, RATIO_CAP], slopes to ±SLOPE_CAP per second. */
export const RATIO_CAP = 100;
export const SLOPE_CAP = 10;

/** One cluster's learnt normal: means over its healthy windows. */
export interface ClusterBaseline {
  /** Requests per second. */
  rps: number;
  /** Latency quantiles, milliseconds. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Healthy windows folded in so far. */
  windows: number;
  /** Start (epoch ms) of the newest window already seen, healthy or not. */
  lastWindowStartMs: number;
}

/** Whether a window met the SLO: some traffic, error rate within budget, p99 within the objective. */
export function windowMeetsSlo(w: ClusterWindowStats, slo: Slo): boolean {
  return (
    w.requests > 0 &&
    Number.isFinite(w.p99Ms) &&
    w.errorRate <= 1 - slo.successRate &&
    w.p99Ms <= slo.latencyMs
  );
}

/** Failures counted in a window's error rate. */
function failures(w: ClusterWindowStats): number {
  return w.errorRate * w.requests;
}

function clip(value: number, lo: number, hi: number): number {
  if (Number.isNaN(value)) return 0;
  return value < lo ? lo : value > hi ? hi : value;
}

/** Least-squares slope of ys over xs (seconds); 0 with fewer than two points or no spread. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const fit = leastSquares(xs, ys);
  return fit !== undefined && fit.sxx > 0 ? fit.sxy / fit.sxx : 0;
}

/** Mean of the last `count` values of ys (fewer if there are fewer); `fallback` when empty. */
function tailMean(ys: readonly number[], count: number, fallback: number): number {
  const start = Math.max(0, ys.length - count);
  if (start >= ys.length) return fallback;
  let sum = 0;
  for (let i = start; i < ys.length; i++) sum += ys[i]!;
  return sum / (ys.length - start);
}

/**
 * Computes the model's features for every cluster and keeps each cluster's baseline. Feed it
 * every decision round's history (oldest window first); windows it has already seen are not
 * folded into the baseline twice.
 */
export class FeatureExtractor {
  private readonly baselines = new Map<string, ClusterBaseline>();

  constructor(private readonly slo: Slo) {}

  /** The baseline learnt for a cluster so far, if it has seen a healthy window. */
  baseline(cluster: string): Readonly<ClusterBaseline> | undefined {
    const b = this.baselines.get(cluster);
    return b !== undefined && b.windows > 0 ? b : undefined;
  }

  /** Forgets a cluster's baseline (e.g. the cluster was removed from the configuration). */
  forget(cluster: string): void {
    this.baselines.delete(cluster);
  }

  /**
   * Folds unseen windows into the baselines, then returns one feature row (FEATURE_NAMES order)
   * per cluster that has at least one window, computed from its newest HISTORY_WINDOWS windows.
   */
  extract(history: ReadonlyMap<string, readonly ClusterWindowStats[]>): Map<string, Float32Array> {
    // Traffic of all clusters per window start, for the traffic share.
    const totalRpsByWindow = new Map<number, number>();
    for (const windows of history.values()) {
      for (const w of windows.slice(-HISTORY_WINDOWS)) {
        totalRpsByWindow.set(w.windowStartMs, (totalRpsByWindow.get(w.windowStartMs) ?? 0) + w.rps);
      }
    }
    const rows = new Map<string, Float32Array>();
    for (const [cluster, windows] of history) {
      if (windows.length === 0) continue;
      this.learn(cluster, windows);
      rows.set(cluster, this.row(cluster, windows.slice(-HISTORY_WINDOWS), totalRpsByWindow));
    }
    return rows;
  }

  private learn(cluster: string, windows: readonly ClusterWindowStats[]): void {
    let b = this.baselines.get(cluster);
    if (b === undefined) {
      b = { rps: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, windows: 0, lastWindowStartMs: -Infinity };
      this.baselines.set(cluster, b);
    }
    for (const w of windows) {
      if (w.windowStartMs <= b.lastWindowStartMs) continue;
      b.lastWindowStartMs = w.windowStartMs;
      if (!windowMeetsSlo(w, this.slo) || !Number.isFinite(w.p50Ms) || !Number.isFinite(w.p95Ms)) continue;
      b.windows += 1;
      const alpha =
        b.windows <= WARMUP_WINDOWS ? 1 / b.windows : Math.min(1, w.windowLengthMs / 1000 / BASELINE_TAU_S);
      b.rps += alpha * (w.rps - b.rps);
      b.p50Ms += alpha * (w.p50Ms - b.p50Ms);
      b.p95Ms += alpha * (w.p95Ms - b.p95Ms);
      b.p99Ms += alpha * (w.p99Ms - b.p99Ms);
    }
  }

  private row(
    cluster: string,
    windows: readonly ClusterWindowStats[],
    totalRpsByWindow: ReadonlyMap<number, number>,
  ): Float32Array {
    const b = this.baseline(cluster);
    const errorBudget = Math.max(1e-6, 1 - this.slo.successRate);
    // Per-window series; a window without answers carries the previous latency forward (a cluster
    // with no traffic has no latency of its own), or the baseline when there is none before it.
    const t0 = windows[0]!.windowStartMs;
    const xs: number[] = [];
    const rate: number[] = [];
    const err: number[] = [];
    const p50: number[] = [];
    const p95: number[] = [];
    const p99: number[] = [];
    const p99Ms: number[] = [];
    const share: number[] = [];
    let last50 = b?.p50Ms ?? NaN;
    let last95 = b?.p95Ms ?? NaN;
    let last99 = b?.p99Ms ?? NaN;
    for (const w of windows) {
      xs.push((w.windowStartMs - t0) / 1000);
      rate.push(b !== undefined && b.rps > 0 ? w.rps / b.rps : 1);
      err.push(w.requests > 0 ? w.errorRate : 0);
      if (w.requests > 0 && Number.isFinite(w.p99Ms)) {
        last50 = w.p50Ms;
        last95 = w.p95Ms;
        last99 = w.p99Ms;
      }
      // Without a baseline, latency ratios are neutral (1); p99_over_slo still sees the latency.
      p50.push(b !== undefined && Number.isFinite(last50) ? last50 / b.p50Ms : 1);
      p95.push(b !== undefined && Number.isFinite(last95) ? last95 / b.p95Ms : 1);
      p99.push(b !== undefined && Number.isFinite(last99) ? last99 / b.p99Ms : 1);
      p99Ms.push(Number.isFinite(last99) ? last99 : 0);
      const total = totalRpsByWindow.get(w.windowStartMs) ?? 0;
      share.push(total > 0 ? w.rps / total : 0);
    }
    // The error-rate level is pooled over the level windows (weighted by requests).
    let failed = 0;
    let requests = 0;
    for (const w of windows.slice(-LEVEL_WINDOWS)) {
      failed += failures(w);
      requests += w.requests;
    }
    const errorRate = requests > 0 ? failed / requests : 0;

    const out = new Float32Array(FEATURE_COUNT);
    out[0] = clip(tailMean(rate, LEVEL_WINDOWS, 1), 0, RATIO_CAP);
    out[1] = clip(errorRate, 0, 1);
    out[2] = clip(tailMean(p50, LEVEL_WINDOWS, 1), 0, RATIO_CAP);
    out[3] = clip(tailMean(p95, LEVEL_WINDOWS, 1), 0, RATIO_CAP);
    out[4] = clip(tailMean(p99, LEVEL_WINDOWS, 1), 0, RATIO_CAP);
    out[5] = clip(slope(xs, rate), -SLOPE_CAP, SLOPE_CAP);
    out[6] = clip(slope(xs, err), -SLOPE_CAP, SLOPE_CAP);
    out[7] = clip(slope(xs, p50), -SLOPE_CAP, SLOPE_CAP);
    out[8] = clip(slope(xs, p95), -SLOPE_CAP, SLOPE_CAP);
    out[9] = clip(slope(xs, p99), -SLOPE_CAP, SLOPE_CAP);
    out[10] = clip(tailMean(share, LEVEL_WINDOWS, 0), 0, 1);
    out[11] = clip(tailMean(p99Ms, LEVEL_WINDOWS, 0) / this.slo.latencyMs, 0, RATIO_CAP);
    out[12] = clip(errorRate / errorBudget, 0, RATIO_CAP);
    return out;
  }
}
