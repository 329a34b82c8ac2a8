// `autoglm bench generalization --reseed k`: the harmed scenarios (with --reseed-all, every
// scenario) run again under more seeds (sim/generalization-reseed.ts), on the worker pool.
import type { JobInput, JobOutput } from "../../sim/job.js";
import type { Scenario } from "../../sim/scenario.js";
import { reseedVerdict, reseeded, type ReseedScope, type ReseedVerdict, type SeedRuns } from "../../sim/generalization-reseed.js";
import type { Measures } from "../../sim/generalization-score.js";
import { measures, type GeneralizationScenario } from "../../sim/generalization-summary.js";

/** Measures of a finished job, or undefined when it is missing or could not run. */
function jobMeasures(output: JobOutput | undefined): Measures | undefined {
  return output?.ok === true ? output.report : undefined;
}

/**
 * `--reseed k`: every scenario where a subject does harm (scope "all": every scenario, for every
 * subject), run again with none and that subject under k more seeds
 * (sim/generalization-reseed.ts), and the verdict per scenario run again.
 */
export async function runReseeds(
  results: readonly GeneralizationScenario[],
  scenarios: readonly Scenario[], subjects: readonly string[], k: number, workers: number,
  scope: ReseedScope = "harmed",
): Promise<ReseedVerdict[]> {
  const chosen: Array<{ scenario: Scenario; subject: string }> = [];
  for (const r of results) {
    const scenario = scenarios.find((s) => s.name === r.name);
    if (scenario === undefined) continue;
    for (const subject of subjects) {
      if (r.scores[subject] === undefined) continue;
      if (scope === "all" || r.scores[subject].harm) chosen.push({ scenario, subject });
    }
  }
  if (chosen.length === 0) return [];
  const inputs: JobInput[] = [];
  const seen = new Set<string>();
  const key = (name: string, seed: number, policy: string): string => `${name}\u0000${seed}\u0000${policy}`;
  for (const { scenario, subject } of chosen) {
    for (let i = 1; i <= k; i++) {
      const again = reseeded(scenario, i);
      for (const policy of ["none", subject]) {
        if (seen.has(key(again.name, again.seed, policy))) continue;
        seen.add(key(again.name, again.seed, policy));
        inputs.push({ scenario: again, policy });
      }
    }
  }
  process.stderr.write(`harm under other seeds: ${chosen.length} ${scope === "all" ? "scenario run(s)" : "harmed scenario run(s)"} × ${k} seed(s), ${inputs.length} run(s)\n`);
  const { runJobs } = await import("../../sim/pool.js");
  const runs = new Map<string, JobOutput>();
  let done = 0;
  await runJobs(inputs, workers, {
    onDone: (_i, input, output) => {
      runs.set(key(input.scenario.name, input.scenario.seed, input.policy), output);
      done++;
      if (done % 10 === 0 || done === inputs.length) process.stderr.write(`  ${done}/${inputs.length}\n`);
    },
  });
  const verdicts: ReseedVerdict[] = [];
  for (const { scenario, subject } of chosen) {
    const own = results.find((r) => r.name === scenario.name)!;
    const first = { seed: scenario.seed, none: measures(own.runs["none"]), subject: measures(own.runs[subject]) };
    const seeds = [first];
    for (let i = 1; i <= k; i++) {
      const again = reseeded(scenario, i);
      seeds.push({ seed: again.seed, none: jobMeasures(runs.get(key(again.name, again.seed, "none"))), subject: jobMeasures(runs.get(key(again.name, again.seed, subject))) });
    }
    if (seeds.some((s) => s.none === undefined || s.subject === undefined)) continue;
    verdicts.push(reseedVerdict(scenario.name, subject, seeds as SeedRuns[]));
  }
  return verdicts;
}
