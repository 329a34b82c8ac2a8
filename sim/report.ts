// What a run reports per scenario and policy, exactly as the scenarios README defines it:
// requests, failed, success_rate, slo_violation_s, p99_ms, detect_s, recover_s, false_cuts, and
// for a scenario with streams (an llm block) ttft_p99_ms and tpot_p99_ms, the client's own.
//
// Traffic share of a cluster in a window = requests the policy sent to it / requests offered by
// clients in that window. A cluster is "cut" in a window when its share is at most half its base
// share (weight / sum of weights) or the policy holds its breaker open at the window's end.
// When a window holds too few requests for its share to mean anything (fewer than
// MIN_EXPECTED_REQUESTS expected at base share), the share is pooled with the preceding windows
// until it does, so a quiet second does not count as a cut by chance; when even
// MAX_POOLED_WINDOWS windows do not hold that many, the share is unknown (NaN) and the window is
// not judged (neither cut nor recovered).
//
// - detect_s (per fault occurrence): end of the first window overlapping the occurrence, up to
//   the end of its effect, in which the cluster is cut, minus its at_s; null if none.
// - recover_s (per occurrence): end of the first window starting at or after the fault's end
//   (at_s + for_s) in which the share is back to at least 90% of base and the breaker is not
//   open, minus that end; null if never within the run.
// - false_cuts: windows where a cluster becomes cut (was not cut in the window before) while no
//   fault occurrence on it is active (from at_s to the end of its recovery ramp) and none ended
//   within the previous 60 s.
// Times have the resolution of one window.
import type { Scenario, ScenarioSlo } from "./scenario.js";
import { baseShares } from "./policy.js";
import { FaultTimeline } from "./faults.js";
import type { RunResult, WindowRecord } from "./runner.js";
import type { MeasuresByPhase } from "./fault-phases.js";
import type { SimTriggerEvent } from "./triggers.js";

/** Seconds after a fault's end during which a cut is not a false cut. */
export const FALSE_CUT_GRACE_S = 60;
/** A cut: share at most this fraction of base. */
export const CUT_FRACTION = 0.5;
/** Recovered: share at least this fraction of base. */
export const RECOVERED_FRACTION = 0.9;
/**
 * Requests expected at base share below which a window's share is pooled with earlier windows.
 * A policy that never cuts still sends a cluster a random count around its expected one (each
 * request's cluster drawn by weight, as Envoy's weighted clusters do): at 50 expected, half or
 * fewer comes by chance about once in 10^4 pooled windows (Poisson: P(X <= 25 | 50) ≈ 1.1e-4);
 * at 20 it was about once in 100 (P(X <= 10 | 20) ≈ 0.011), and `none`, which never cuts, made
 * 66 and 98 "false cuts" on the two families' generalization runs (sim/README.md).
 */
export const MIN_EXPECTED_REQUESTS = 50;
/** Most windows pooled for one share. */
const MAX_POOLED_WINDOWS = 30;

/** The README's per-policy figures. */
export interface PolicyReport {
  requests: number;
  failed: number;
  success_rate: number;
  slo_violation_s: number;
  p99_ms: number;
  detect_s: (number | null)[];
  recover_s: (number | null)[];
  false_cuts: number;
  /** Client p99 time to first token over the run's streams, ms (only in a scenario with streams; null: none). */
  ttft_p99_ms?: number | null;
  /** Client p99 time per output token over the run's streams, ms (likewise). */
  tpot_p99_ms?: number | null;
  /** The scenario's triggers that fired and cleared (absent: none did; sim/triggers.ts). */
  triggers?: SimTriggerEvent[];
  /** failed and slo_violation_s split by where in the fault timeline they fell (fault-phases.ts;
   *  added by the benchmark jobs, absent in files written before it existed). */
  by_phase?: MeasuresByPhase;
}

/** Share of each cluster per window (pooled for sparse windows); NaN where even pooled windows hold too few requests to tell. */
export function shareSeries(result: RunResult): number[][] {
  const base = baseShares(result.scenario);
  const windows = result.windows;
  return base.map((b, c) =>
    windows.map((_, w) => {
      let offered = 0;
      let sent = 0;
      for (let k = w; k >= 0 && w - k < MAX_POOLED_WINDOWS; k--) {
        offered += windows[k]!.offered;
        sent += windows[k]!.clusters[c]!.sent;
        if (offered * b >= MIN_EXPECTED_REQUESTS) return sent / offered;
      }
      // Too few requests even pooled: the share is not known well enough to call a cut.
      return NaN;
    }),
  );
}

/** Whether each cluster is cut in each window. */
export function cutSeries(result: RunResult, shares = shareSeries(result)): boolean[][] {
  const base = baseShares(result.scenario);
  return base.map((b, c) =>
    result.windows.map((win, w) => {
      const share = shares[c]![w]!;
      return win.clusters[c]!.open || (!Number.isNaN(share) && share <= CUT_FRACTION * b);
    }),
  );
}

/**
 * Seconds in which the client-side success rate or p99 broke the SLO, or the streams' p99 time
 * to first token or per output token broke slo.ttft_ms or slo.tpot_ms (when the scenario sets them).
 */
export function sloViolationSeconds(result: RunResult): number {
  let seconds = 0;
  for (const win of result.windows) if (windowViolatesSlo(win, result.scenario.slo)) seconds += win.endS - win.startS;
  return round(seconds, 3);
}

/** Whether a window with traffic broke the SLO (its seconds count in slo_violation_s). */
export function windowViolatesSlo(win: WindowRecord, slo: ScenarioSlo): boolean {
  if (win.offered === 0) return false;
  const success = 1 - win.failed / win.offered;
  // NaN (no stream in the window) compares false: no breach.
  const streamsBad = win.ttftP99Ms > (slo.ttft_ms ?? Infinity) || win.tpotP99Ms > (slo.tpot_ms ?? Infinity);
  return success < slo.success_rate || win.p99Ms > slo.latency_ms || streamsBad;
}

/** True when some cluster of the scenario streams (has an llm block). */
export function hasStreams(scenario: Scenario): boolean {
  return scenario.clusters.some((c) => c.llm !== undefined);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The README's report for one run. */
export function reportRun(result: RunResult): PolicyReport {
  const scenario: Scenario = result.scenario;
  const base = baseShares(scenario);
  const shares = shareSeries(result);
  const cuts = cutSeries(result, shares);
  const timeline = new FaultTimeline(scenario);
  const windows = result.windows;

  const detect: (number | null)[] = [];
  const recover: (number | null)[] = [];
  for (const o of timeline.occurrences) {
    let detected: number | null = null;
    for (let w = 0; w < windows.length; w++) {
      const win = windows[w]!;
      if (win.endS <= o.startS) continue;
      if (win.startS >= o.effectEndS) break;
      if (cuts[o.cluster]![w]) {
        detected = round(win.endS - o.startS, 3);
        break;
      }
    }
    detect.push(detected);
    let recovered: number | null = null;
    for (let w = 0; w < windows.length; w++) {
      const win = windows[w]!;
      if (win.startS < o.endS - 1e-9) continue;
      const share = shares[o.cluster]![w]!;
      if (!win.clusters[o.cluster]!.open && !Number.isNaN(share) && share >= RECOVERED_FRACTION * base[o.cluster]!) {
        recovered = round(win.endS - o.endS, 3);
        break;
      }
    }
    recover.push(recovered);
  }

  let falseCuts = 0;
  scenario.clusters.forEach((_, c) => {
    const faults = timeline.onCluster(c);
    for (let w = 0; w < windows.length; w++) {
      if (!cuts[c]![w] || (w > 0 && cuts[c]![w - 1])) continue;
      const win = windows[w]!;
      const excused = faults.some((o) => win.endS > o.startS && win.startS < o.effectEndS + FALSE_CUT_GRACE_S);
      if (!excused) falseCuts++;
    }
  });

  const streams = hasStreams(scenario)
    ? {
      ttft_p99_ms: Number.isNaN(result.ttftP99Ms) ? null : round(result.ttftP99Ms, 1),
      tpot_p99_ms: Number.isNaN(result.tpotP99Ms) ? null : round(result.tpotP99Ms, 2),
    }
    : {};
  return {
    requests: result.requests,
    failed: result.failed,
    success_rate: result.requests > 0 ? round(1 - result.failed / result.requests, 6) : 1,
    slo_violation_s: sloViolationSeconds(result),
    p99_ms: Number.isNaN(result.p99Ms) ? 0 : round(result.p99Ms, 1),
    detect_s: detect,
    recover_s: recover,
    false_cuts: falseCuts,
    ...streams,
    ...(result.triggers === undefined ? {} : { triggers: result.triggers }),
  };
}
