// From simulated scenarios to the model's training rows: the simulator's per-window,
// per-cluster telemetry (sim/windows.ts, the scenario runner's upstream model under policy
// "none") is turned into the control plane's ClusterWindowStats, fed window by window through the
// same FeatureExtractor the control plane runs, and labelled with whether the cluster breaks
// its SLO within the next HORIZON_S seconds.
//
// SLO breach of one cluster in one window (the label's event):
//   - its p99 latency is above slo.latency_ms, or
//   - its failures exceed the error budget by more than sampling noise explains: with n requests
//     and budget b = 1 - slo.success_rate, failures >= the smallest k with
//     P(Poisson(n·b) >= k) < BREACH_SIGNIFICANCE.
// The plain per-window rule (failures / n > b) fires on a single unlucky failure among a few
// dozen requests of a healthy cluster (about one healthy window in ten in generated traffic):
// such "breaches" are unpredictable noise, and labels made of them teach nothing.
import type { ClusterWindowStats, Slo } from "../../control-plane/src/core/types.js";
import { FEATURE_COUNT, HISTORY_WINDOWS, HORIZON_S } from "../../control-plane/src/model/contract.js";
import { FeatureExtractor } from "../../control-plane/src/model/features.js";
import type { Scenario } from "../../sim/scenario.js";
import type { SimWindow } from "../../sim/windows.js";

/** One-sided significance of the error-budget test in the breach definition. */
export const BREACH_SIGNIFICANCE = 0.001;
/** Windows at the start of a run left out of the rows: the baselines are still settling. */
export const WARMUP_SKIP_WINDOWS = 30;

/** Smallest k with P(Poisson(lambda) >= k) < alpha. */
export function poissonCriticalCount(lambda: number, alpha: number): number {
  let p = Math.exp(-lambda); // P(X = 0)
  let cdf = p; // P(X <= k - 1) for k = 1
  let k = 1;
  while (1 - cdf >= alpha && k < 1_000_000) {
    p *= lambda / k;
    cdf += p;
    k += 1;
  }
  return k;
}

/** Whether a window breaks the SLO in the sense of the label (see the file comment). */
export function windowBreaksSlo(requests: number, failures: number, p99Ms: number, slo: Slo): boolean {
  if (requests <= 0) return false;
  if (Number.isFinite(p99Ms) && p99Ms > slo.latencyMs) return true;
  const budget = 1 - slo.successRate;
  return failures > budget * requests && failures >= poissonCriticalCount(requests * budget, BREACH_SIGNIFICANCE);
}

/** The rows of one scenario: features, labels and what evaluation needs per row. */
export interface ScenarioRows {
  scenario: string;
  rows: number;
  /** Row-major [rows][FEATURE_COUNT]. */
  features: Float32Array;
  /** 1: the cluster breaks its SLO within the next HORIZON_S seconds (excluding this window). */
  labels: Uint8Array;
  /** Per row: the cluster index in the scenario, the window index, and per-window facts. */
  cluster: Uint16Array;
  window: Uint32Array;
  /** 1: this very window breaks the SLO. */
  breachNow: Uint8Array;
  /** 1: a fault has an effect on the cluster in this window. */
  faultActive: Uint8Array;
  /** 1: no fault on the cluster in this window nor within 60 s before it. */
  faultFree: Uint8Array;
  /** Window length, seconds. */
  windowS: number;
}

/** The scenario's SLO in the control plane's terms. */
export function sloOf(scenario: Scenario): Slo {
  return { latencyMs: scenario.slo.latency_ms, successRate: scenario.slo.success_rate };
}

/** Turns simulated windows into labelled feature rows. */
export function rowsOf(scenario: Scenario, windows: readonly SimWindow[]): ScenarioRows {
  const slo = sloOf(scenario);
  const clusters = scenario.clusters.map((c) => c.name);
  const windowS = scenario.window_s;
  const horizon = Math.max(1, Math.round(HORIZON_S / windowS));
  const count = windows.length;
  // Per cluster and window: breach, fault facts.
  const breach = clusters.map(() => new Uint8Array(count));
  const active = clusters.map(() => new Uint8Array(count));
  windows.forEach((w, t) => {
    w.clusters.forEach((c, i) => {
      breach[i]![t] = windowBreaksSlo(c.requests, c.errors + c.timeouts, c.p99Ms, slo) ? 1 : 0;
      active[i]![t] = c.faultActive ? 1 : 0;
    });
  });
  const quiet = Math.round(60 / windowS);
  const first = Math.max(WARMUP_SKIP_WINDOWS, 1);
  const last = count - horizon; // rows need a full horizon after them
  const perWindow = clusters.length;
  const rows = Math.max(0, last - first) * perWindow;
  const out: ScenarioRows = {
    scenario: scenario.name,
    rows,
    features: new Float32Array(rows * FEATURE_COUNT),
    labels: new Uint8Array(rows),
    cluster: new Uint16Array(rows),
    window: new Uint32Array(rows),
    breachNow: new Uint8Array(rows),
    faultActive: new Uint8Array(rows),
    faultFree: new Uint8Array(rows),
    windowS,
  };
  const extractor = new FeatureExtractor(slo);
  const history = new Map<string, ClusterWindowStats[]>(clusters.map((name) => [name, []]));
  let r = 0;
  for (let t = 0; t < count && t < last; t++) {
    const w = windows[t]!;
    w.clusters.forEach((c, i) => {
      const h = history.get(clusters[i]!)!;
      h.push({
        cluster: clusters[i]!,
        windowStartMs: Math.round(w.startS * 1000),
        windowLengthMs: Math.round((w.endS - w.startS) * 1000),
        requests: c.requests,
        errors5xx: c.errors,
        localRejects: 0,
        timeouts: c.timeouts,
        resets: 0,
        grpcErrors: 0,
        errorRate: c.errorRate,
        p50Ms: c.p50Ms,
        p95Ms: c.p95Ms,
        p99Ms: c.p99Ms,
        rps: c.rps,
        reporters: scenario.sidecars,
      });
      if (h.length > HISTORY_WINDOWS) h.shift();
    });
    const features = extractor.extract(history);
    if (t < first) continue;
    clusters.forEach((name, i) => {
      out.features.set(features.get(name)!, r * FEATURE_COUNT);
      let future = 0;
      for (let u = t + 1; u <= t + horizon; u++) future |= breach[i]![u]!;
      out.labels[r] = future;
      out.cluster[r] = i;
      out.window[r] = t;
      out.breachNow[r] = breach[i]![t]!;
      out.faultActive[r] = active[i]![t]!;
      let recent = 0;
      for (let u = Math.max(0, t - quiet); u <= t; u++) recent |= active[i]![u]!;
      out.faultFree[r] = recent === 0 ? 1 : 0;
      r += 1;
    });
  }
  return out;
}

/** Concatenates scenarios' rows (in the order given) into one dataset. */
export function concatRows(parts: readonly ScenarioRows[]): { features: Float32Array; labels: Uint8Array; rows: number } {
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const features = new Float32Array(rows * FEATURE_COUNT);
  const labels = new Uint8Array(rows);
  let offset = 0;
  for (const p of parts) {
    features.set(p.features, offset * FEATURE_COUNT);
    labels.set(p.labels, offset);
    offset += p.rows;
  }
  return { features, labels, rows };
}
