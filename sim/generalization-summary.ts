// The generalization benchmark's results: per scenario every policy's report and the scores of
// autoglm and autoglm-rules (sim/generalization-score.ts), and the summary over all scenarios
// with the targets. Plain data, written as JSON by the CLI.
import type { PolicyReport } from "./report.js";
import { addByPhase, emptyByPhase, FAULT_PHASES, type MeasuresByPhase } from "./fault-phases.js";
import {
  countVerdicts, scoreScenario, verdict, failedTolerance, sloTolerance,
  type Measures, type ScenarioScore, type VerdictCounts,
} from "./generalization-score.js";

export interface GeneralizationScenario {
  name: string;
  seed: number;
  description: string;
  duration_s: number;
  fault_free_s: number;
  runs: Record<string, PolicyReport | { unavailable: string }>;
  /** Per subject (autoglm, autoglm-rules); absent when a needed run is missing or unavailable. */
  scores: Record<string, ScenarioScore>;
}

export interface SubjectSummary {
  /** Scenarios where the subject and every baseline ran. */
  scored: number;
  vsBest: { failed: VerdictCounts; slo: VerdictCounts };
  vsNone: { failed: VerdictCounts; slo: VerdictCounts };
  harm: number;
  harmScenarios: string[];
}

export interface PolicyTotals {
  runs: number;
  requests: number;
  failed: number;
  slo_violation_s: number;
  false_cuts: number;
  /** False cuts over the fault-free hours of the scenarios it ran. */
  false_cuts_per_fault_free_hour: number;
  /** failed and slo_violation_s by where in the fault timeline they fell (fault-phases.ts), when
   *  every run has them (runs read from a file written before they existed do not). */
  by_phase?: MeasuresByPhase;
}

export interface Target {
  what: string;
  value: string;
  target: string;
  met: boolean;
}

export interface GeneralizationSummary {
  scenarios: number;
  fault_free_hours: number;
  subjects: Record<string, SubjectSummary>;
  totals: Record<string, PolicyTotals>;
  /** autoglm against autoglm-rules, per scenario with the same tie rules, and in all. */
  modelVsRules: {
    scenarios: number;
    failed: VerdictCounts;
    slo: VerdictCounts;
    /** (autoglm − rules) / rules over the scenarios both ran, percent; negative: the model helps. */
    failedChangePct: number;
    sloChangePct: number;
  } | null;
  targets: Target[];
}

/** A run's measures, or undefined when it is missing or could not run. */
export function measures(r: PolicyReport | { unavailable: string } | undefined): Measures | undefined {
  return r === undefined || "unavailable" in r ? undefined : r;
}

/** Scores each subject on a scenario whose runs are all in. */
export function scoreRuns(
  runs: Record<string, PolicyReport | { unavailable: string }>, subjects: readonly string[], baselines: readonly string[],
): Record<string, ScenarioScore> {
  const scores: Record<string, ScenarioScore> = {};
  const base: Record<string, Measures> = {};
  for (const b of baselines) {
    const m = measures(runs[b]);
    if (m === undefined) return scores;
    base[b] = m;
  }
  for (const s of subjects) {
    const m = measures(runs[s]);
    if (m !== undefined) scores[s] = scoreScenario({ ...base, [s]: m }, s, baselines);
  }
  return scores;
}

const pct = (part: number, whole: number): string => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "–");

export function summarize(
  scenarios: readonly GeneralizationScenario[], policies: readonly string[], subjects: readonly string[],
): GeneralizationSummary {
  const faultFreeHours = scenarios.reduce((a, s) => a + s.fault_free_s, 0) / 3600;
  const totals: Record<string, PolicyTotals> = {};
  for (const p of policies) {
    let runs = 0, requests = 0, failed = 0, slo = 0, cuts = 0, freeS = 0;
    let byPhase: MeasuresByPhase | undefined = emptyByPhase();
    for (const s of scenarios) {
      const m = measures(s.runs[p]);
      if (m === undefined) continue;
      const run = s.runs[p];
      const phases = run !== undefined && "by_phase" in run ? run.by_phase : undefined;
      byPhase = byPhase === undefined || phases === undefined ? undefined : addByPhase(byPhase, phases);
      runs++;
      requests += m.requests;
      failed += m.failed;
      slo += m.slo_violation_s;
      cuts += m.false_cuts;
      freeS += s.fault_free_s;
    }
    if (byPhase !== undefined) for (const phase of FAULT_PHASES) byPhase[phase].slo_violation_s = Math.round(byPhase[phase].slo_violation_s * 1000) / 1000;
    totals[p] = {
      runs, requests, failed, slo_violation_s: Math.round(slo * 1000) / 1000, false_cuts: cuts,
      false_cuts_per_fault_free_hour: freeS > 0 ? Math.round((cuts / (freeS / 3600)) * 1000) / 1000 : 0,
      ...(byPhase !== undefined && runs > 0 ? { by_phase: byPhase } : {}),
    };
  }
  const subjectSummaries: Record<string, SubjectSummary> = {};
  for (const subject of subjects) {
    const scored = scenarios.filter((s) => s.scores[subject] !== undefined);
    const pick = (f: (x: ScenarioScore) => "win" | "tie" | "loss"): VerdictCounts => countVerdicts(scored.map((s) => f(s.scores[subject]!)));
    subjectSummaries[subject] = {
      scored: scored.length,
      vsBest: { failed: pick((x) => x.vsBest.failed), slo: pick((x) => x.vsBest.slo) },
      vsNone: { failed: pick((x) => x.vsNone.failed), slo: pick((x) => x.vsNone.slo) },
      harm: scored.filter((s) => s.scores[subject]!.harm).length,
      harmScenarios: scored.filter((s) => s.scores[subject]!.harm).map((s) => s.name),
    };
  }

  let modelVsRules: GeneralizationSummary["modelVsRules"] = null;
  const both = scenarios.filter((s) => measures(s.runs["autoglm"]) !== undefined && measures(s.runs["autoglm-rules"]) !== undefined);
  if (both.length > 0) {
    const sum = (p: string, key: "failed" | "slo_violation_s"): number => both.reduce((a, s) => a + measures(s.runs[p])![key], 0);
    const change = (a: number, b: number): number => (b > 0 ? Math.round(((a - b) / b) * 1000) / 10 : 0);
    modelVsRules = {
      scenarios: both.length,
      failed: countVerdicts(both.map((s) => {
        const rules = measures(s.runs["autoglm-rules"])!.failed;
        return verdict(measures(s.runs["autoglm"])!.failed, rules, failedTolerance(rules));
      })),
      slo: countVerdicts(both.map((s) => {
        const rules = measures(s.runs["autoglm-rules"])!.slo_violation_s;
        return verdict(measures(s.runs["autoglm"])!.slo_violation_s, rules, sloTolerance(rules));
      })),
      failedChangePct: change(sum("autoglm", "failed"), sum("autoglm-rules", "failed")),
      sloChangePct: change(sum("autoglm", "slo_violation_s"), sum("autoglm-rules", "slo_violation_s")),
    };
  }

  const targets: Target[] = [];
  const a = subjectSummaries["autoglm"];
  if (a !== undefined) {
    const wt = (c: VerdictCounts): number => c.win + c.tie;
    targets.push(
      { what: "scenarios run", value: String(a.scored), target: ">= 200", met: a.scored >= 200 },
      { what: "harm (worse than none)", value: String(a.harm), target: "0", met: a.harm === 0 },
      { what: "failed requests: win or tie vs best baseline", value: pct(wt(a.vsBest.failed), a.scored), target: ">= 90%", met: a.scored > 0 && wt(a.vsBest.failed) >= 0.9 * a.scored },
      { what: "SLO seconds: win or tie vs best baseline", value: pct(wt(a.vsBest.slo), a.scored), target: ">= 85%", met: a.scored > 0 && wt(a.vsBest.slo) >= 0.85 * a.scored },
    );
    const t = totals["autoglm"];
    if (t !== undefined) {
      targets.push({ what: "false cuts per fault-free hour", value: String(t.false_cuts_per_fault_free_hour), target: "<= 0.5", met: t.false_cuts_per_fault_free_hour <= 0.5 });
    }
    const r = subjectSummaries["autoglm-rules"];
    const tr = totals["autoglm-rules"];
    if (modelVsRules !== null && r !== undefined && t !== undefined && tr !== undefined) {
      const better = modelVsRules.failedChangePct <= -10 || modelVsRules.sloChangePct <= -10;
      targets.push({
        what: "the model earns its place (vs autoglm-rules)",
        value: `failed ${modelVsRules.failedChangePct}%, SLO s ${modelVsRules.sloChangePct}%, harm ${a.harm} vs ${r.harm}, false cuts ${t.false_cuts} vs ${tr.false_cuts}`,
        target: "failed or SLO s <= -10%, no more harm, no more false cuts",
        met: better && a.harm <= r.harm && t.false_cuts <= tr.false_cuts,
      });
    }
  }
  return { scenarios: scenarios.length, fault_free_hours: Math.round(faultFreeHours * 1000) / 1000, subjects: subjectSummaries, totals, modelVsRules, targets };
}
