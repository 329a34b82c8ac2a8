// Where in a scenario's fault timeline a run's failed requests and SLO-violation seconds fall, so
// that a policy's losses can be told apart: detecting a fault late (its onset), serving badly
// while it lasts, coming back badly after it, or doing harm in quiet time.
//
// Each telemetry window is in one phase, the first that applies:
//   - onset: it is the window some fault occurrence starts in or one of the ONSET_WINDOWS − 1
//     windows after it, while the occurrence lasts (a fault shorter than that has a shorter
//     onset): a policy that needs a few windows of evidence has not acted yet, and only a
//     forecast could;
//   - fault: it overlaps some occurrence, from at_s to at_s + for_s;
//   - after: it overlaps the span from an occurrence's end to FALSE_CUT_GRACE_S after its effect
//     ends (its recovery ramp, and the grace the report gives a cut after a fault: report.ts);
//   - quiet: none of these.
// Pure: a function of the scenario and the run's windows.
import type { Scenario } from "./scenario.js";
import { FaultTimeline } from "./faults.js";
import type { RunResult, WindowRecord } from "./runner.js";
import { FALSE_CUT_GRACE_S, windowViolatesSlo } from "./report.js";

export const FAULT_PHASES = ["quiet", "onset", "fault", "after"] as const;
export type FaultPhase = (typeof FAULT_PHASES)[number];

/** Windows from a fault's start counted as its onset. */
export const ONSET_WINDOWS = 3;

/** A run's two measures within one phase. */
export interface PhaseMeasures {
  failed: number;
  slo_violation_s: number;
}

export type MeasuresByPhase = Record<FaultPhase, PhaseMeasures>;

/** The phase of the window [startS, endS) of a scenario whose windows last windowS seconds. */
export function windowPhase(timeline: FaultTimeline, startS: number, endS: number, windowS: number): FaultPhase {
  let phase: FaultPhase = "quiet";
  const overlaps = (fromS: number, toS: number): boolean => endS > fromS && startS < toS;
  for (const o of timeline.occurrences) {
    // The window the fault starts in and the next ONSET_WINDOWS − 1, while the fault lasts.
    const onsetEndS = Math.min((Math.floor(o.startS / windowS) + ONSET_WINDOWS) * windowS, o.endS);
    if (overlaps(o.startS, onsetEndS)) return "onset";
    if (overlaps(o.startS, o.endS)) phase = "fault";
    else if (phase === "quiet" && overlaps(o.endS, o.effectEndS + FALSE_CUT_GRACE_S)) phase = "after";
  }
  return phase;
}

/** Zero in every phase. */
export function emptyByPhase(): MeasuresByPhase {
  return { quiet: { failed: 0, slo_violation_s: 0 }, onset: { failed: 0, slo_violation_s: 0 }, fault: { failed: 0, slo_violation_s: 0 }, after: { failed: 0, slo_violation_s: 0 } };
}

/** Adds `from` into `into`, phase by phase, and returns `into`. */
export function addByPhase(into: MeasuresByPhase, from: Readonly<MeasuresByPhase>): MeasuresByPhase {
  for (const phase of FAULT_PHASES) {
    into[phase].failed += from[phase].failed;
    into[phase].slo_violation_s += from[phase].slo_violation_s;
  }
  return into;
}

/** A run's failed requests and SLO-violation seconds per phase; they sum to the run's own (the
 *  seconds to within their rounding to a millisecond per phase). */
export function measuresByPhase(scenario: Scenario, windows: readonly WindowRecord[]): MeasuresByPhase {
  const timeline = new FaultTimeline(scenario);
  const by = emptyByPhase();
  for (const win of windows) {
    const m = by[windowPhase(timeline, win.startS, win.endS, scenario.window_s)];
    m.failed += win.failed;
    if (windowViolatesSlo(win, scenario.slo)) m.slo_violation_s += win.endS - win.startS;
  }
  for (const phase of FAULT_PHASES) by[phase].slo_violation_s = Math.round(by[phase].slo_violation_s * 1000) / 1000;
  return by;
}

/** measuresByPhase of a run. */
export function runByPhase(result: RunResult): MeasuresByPhase {
  return measuresByPhase(result.scenario, result.windows);
}
