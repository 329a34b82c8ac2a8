// Scoring of the generalization benchmark (`autoglm bench generalization`), exactly as issue 15
// states it. Per scenario, a subject policy (autoglm, or the ablation autoglm-rules) is compared
// on failed requests and on SLO-violation seconds:
//   - against the best baseline (the lowest value among the baselines, BASELINE_POLICY_NAMES of
//     policies/registry.ts, taken per measure) and against `none`, as win, tie or loss. Tie: within
//     max(5 % of the reference's failed requests, 30) on failed requests, and within 5 % of the
//     reference's SLO seconds + 5 s on SLO seconds (routing alone moves results that much). Win:
//     better than the reference by more than that; loss: worse by more than that.
//   - harm: worse than doing nothing, i.e. failed > 1.1 × none's failed + 50, or SLO seconds >
//     1.1 × none's SLO seconds + 10.
// False cuts are totalled per fault-free hour: the seconds of a scenario in which no fault
// occurrence is active on any cluster nor ended within the report's grace period
// (FALSE_CUT_GRACE_S), summed over all scenarios.
import type { Scenario } from "./scenario.js";
import { FaultTimeline } from "./faults.js";
import { FALSE_CUT_GRACE_S } from "./report.js";

export type Verdict = "win" | "tie" | "loss";

/** The figures of one run that the scoring uses. */
export interface Measures {
  requests: number;
  failed: number;
  slo_violation_s: number;
  false_cuts: number;
}

/** Tolerance of a tie on failed requests around a reference value. */
export function failedTolerance(reference: number): number {
  return Math.max(0.05 * reference, 30);
}

/** Tolerance of a tie on SLO-violation seconds around a reference value. */
export function sloTolerance(reference: number): number {
  return 0.05 * reference + 5;
}

/** Win when below the reference by more than the tolerance, loss when above by more, else tie. */
export function verdict(value: number, reference: number, tolerance: number): Verdict {
  if (value < reference - tolerance) return "win";
  if (value > reference + tolerance) return "loss";
  return "tie";
}

/** Worse than doing nothing (`none`) on either measure, by the margins. */
export function isHarm(subject: Measures, none: Measures): boolean {
  return subject.failed > 1.1 * none.failed + 50 || subject.slo_violation_s > 1.1 * none.slo_violation_s + 10;
}

export interface Comparison {
  failed: Verdict;
  slo: Verdict;
}

export interface ScenarioScore {
  /** The best baseline per measure and its value. */
  bestFailed: { policy: string; value: number };
  bestSlo: { policy: string; value: number };
  vsBest: Comparison;
  vsNone: Comparison;
  harm: boolean;
}

/** Scores `subject` on one scenario. `baselines` must include "none"; every named policy must have measures. */
export function scoreScenario(runs: Readonly<Record<string, Measures>>, subject: string, baselines: readonly string[]): ScenarioScore {
  const get = (policy: string): Measures => {
    const m = runs[policy];
    if (m === undefined) throw new Error(`no results for policy "${policy}"`);
    return m;
  };
  const s = get(subject);
  const none = get("none");
  let bestFailed = { policy: "", value: Infinity };
  let bestSlo = { policy: "", value: Infinity };
  for (const b of baselines) {
    const m = get(b);
    if (m.failed < bestFailed.value) bestFailed = { policy: b, value: m.failed };
    if (m.slo_violation_s < bestSlo.value) bestSlo = { policy: b, value: m.slo_violation_s };
  }
  return {
    bestFailed,
    bestSlo,
    vsBest: {
      failed: verdict(s.failed, bestFailed.value, failedTolerance(bestFailed.value)),
      slo: verdict(s.slo_violation_s, bestSlo.value, sloTolerance(bestSlo.value)),
    },
    vsNone: {
      failed: verdict(s.failed, none.failed, failedTolerance(none.failed)),
      slo: verdict(s.slo_violation_s, none.slo_violation_s, sloTolerance(none.slo_violation_s)),
    },
    harm: isHarm(s, none),
  };
}

/** Seconds of the scenario with no fault active on any cluster and none ended within FALSE_CUT_GRACE_S. */
export function faultFreeSeconds(scenario: Scenario): number {
  const intervals = new FaultTimeline(scenario).occurrences
    .map((o) => [Math.max(0, o.startS), Math.min(scenario.duration_s, o.effectEndS + FALSE_CUT_GRACE_S)] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let end = -Infinity;
  for (const [a, b] of intervals) {
    if (a >= end) {
      covered += b - a;
      end = b;
    } else if (b > end) {
      covered += b - end;
      end = b;
    }
  }
  return scenario.duration_s - covered;
}

export interface VerdictCounts {
  win: number;
  tie: number;
  loss: number;
}

export function countVerdicts(verdicts: readonly Verdict[]): VerdictCounts {
  const counts: VerdictCounts = { win: 0, tie: 0, loss: 0 };
  for (const v of verdicts) counts[v]++;
  return counts;
}
