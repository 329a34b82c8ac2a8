// A generalization run against an earlier run of the same scenarios (`autoglm bench
// generalization --compare FILE`): per subject, the totals before and after, how many scenarios
// changed, and the largest changes each way, so that a policy change tried on a tuning batch
// reads at once against the policy in force. Both runs are scored against their own baselines'
// runs (which are the same when the simulator and the baselines did not change).
//
// Pure: runs in, comparisons and Markdown out.
import { scoreScenario, type Measures } from "./generalization-score.js";
import type { StoredRun } from "./generalization-baselines.js";

export interface ComparedTotals {
  failed: number;
  slo_violation_s: number;
  false_cuts: number;
  /** Scenarios where the subject does worse than `none` (the harm rule). */
  harm: number;
}

export interface RunChange {
  scenario: string;
  before: Pick<Measures, "failed" | "slo_violation_s">;
  after: Pick<Measures, "failed" | "slo_violation_s">;
}

export interface SubjectComparison {
  subject: string;
  /** Scenarios where both runs have the subject's run and every baseline's. */
  scenarios: number;
  before: ComparedTotals;
  after: ComparedTotals;
  /** Scenarios whose failed requests or SLO seconds differ. */
  changed: number;
  /** The largest changes in failed requests, fewest first (better) and most first (worse). */
  better: RunChange[];
  worse: RunChange[];
}

export type ScenarioRuns = ReadonlyMap<string, Readonly<Record<string, StoredRun>>>;

/**
 * Each subject that both runs have, compared over the scenarios where both have its run and every
 * baseline's; `largest` changes each way (by failed requests, then SLO seconds).
 */
export function compareSubjects(before: ScenarioRuns, after: ScenarioRuns, subjects: readonly string[], baselines: readonly string[], largest = 5): SubjectComparison[] {
  const out: SubjectComparison[] = [];
  for (const subject of subjects) {
    const totals = (): ComparedTotals => ({ failed: 0, slo_violation_s: 0, false_cuts: 0, harm: 0 });
    const b = totals();
    const a = totals();
    const changes: RunChange[] = [];
    let scenarios = 0;
    for (const [name, afterRuns] of after) {
      const beforeRuns = before.get(name);
      if (beforeRuns === undefined) continue;
      const m = (runs: Readonly<Record<string, StoredRun>>) => measuresOf(runs, [subject, ...baselines]);
      const mb = m(beforeRuns);
      const ma = m(afterRuns);
      if (mb === undefined || ma === undefined) continue;
      scenarios++;
      for (const [t, runs] of [[b, mb], [a, ma]] as const) {
        const own = runs[subject]!;
        t.failed += own.failed;
        t.slo_violation_s += own.slo_violation_s;
        t.false_cuts += own.false_cuts;
        if (scoreScenario(runs, subject, baselines).harm) t.harm++;
      }
      const x = mb[subject]!;
      const y = ma[subject]!;
      if (x.failed !== y.failed || x.slo_violation_s !== y.slo_violation_s) {
        changes.push({ scenario: name, before: { failed: x.failed, slo_violation_s: x.slo_violation_s }, after: { failed: y.failed, slo_violation_s: y.slo_violation_s } });
      }
    }
    if (scenarios === 0) continue;
    const delta = (c: RunChange) => [c.after.failed - c.before.failed, c.after.slo_violation_s - c.before.slo_violation_s] as const;
    const order = (x: RunChange, y: RunChange) => delta(x)[0] - delta(y)[0] || delta(x)[1] - delta(y)[1];
    const sorted = [...changes].sort(order);
    const isBetter = (c: RunChange) => delta(c)[0] < 0 || (delta(c)[0] === 0 && delta(c)[1] < 0);
    out.push({
      subject, scenarios, before: b, after: a, changed: changes.length,
      better: sorted.filter(isBetter).slice(0, largest),
      worse: sorted.filter((c) => !isBetter(c)).reverse().slice(0, largest),
    });
  }
  return out;
}

/** The comparison as a Markdown section ("## Against FILE"). */
export function comparisonMarkdown(file: string, comparisons: readonly SubjectComparison[]): string[] {
  const out: string[] = ["", `## Against ${file}`, ""];
  if (comparisons.length === 0) return [...out, "No subject of this run is in it with its baselines' runs."];
  out.push("| subject | scenarios | failed | SLO violation s | harm | false cuts | changed |", "|---|---:|---|---|---|---|---:|");
  const arrow = (x: number, y: number) => `${x} → ${y}${x > 0 ? ` (${y >= x ? "+" : "−"}${(Math.abs(y - x) / x * 100).toFixed(1)} %)` : ""}`;
  for (const c of comparisons) {
    out.push(`| ${c.subject} | ${c.scenarios} | ${arrow(c.before.failed, c.after.failed)} | ${arrow(c.before.slo_violation_s, c.after.slo_violation_s)} | ${c.before.harm} → ${c.after.harm} | ${c.before.false_cuts} → ${c.after.false_cuts} | ${c.changed} |`);
  }
  for (const c of comparisons) {
    if (c.better.length + c.worse.length === 0) continue;
    out.push("", `Largest changes of ${c.subject} (failed requests, SLO seconds):`, "");
    for (const [label, list] of [["better", c.better], ["worse", c.worse]] as const) {
      for (const r of list) out.push(`- ${label}: ${r.scenario} ${r.before.failed} → ${r.after.failed}, ${r.before.slo_violation_s} → ${r.after.slo_violation_s}`);
    }
  }
  return out;
}

/** The measures of every named policy's run, or undefined when one is missing or unavailable. */
function measuresOf(runs: Readonly<Record<string, StoredRun>>, policies: readonly string[]): Record<string, Measures> | undefined {
  const out: Record<string, Measures> = {};
  for (const p of policies) {
    const r = runs[p];
    if (r === undefined || "unavailable" in r) return undefined;
    out[p] = r;
  }
  return out;
}
