// The runs of an earlier generalization run, read back from its JSON: the baselines'
// (`autoglm bench generalization --baselines-from FILE`), so that trying a change of autoglm on a
// tuning batch runs only autoglm: the baselines do not depend on autoglm's code, and the
// simulator is deterministic given a scenario (its seed draws every request), so their runs are
// the ones a full run would make again, as long as the simulator and the baselines' code did not
// change since FILE was written (the caller says so in its help); and the subjects' too, to
// compare a run with an earlier one (`--compare FILE`, generalization-compare.ts).
//
// Pure: text in, runs or an error naming what is wrong out.
import type { PolicyReport } from "./report.js";
import { FAULT_PHASES } from "./fault-phases.js";

export type StoredRun = PolicyReport | { unavailable: string };

/** What identifies a generated scenario: a scenario of another family or other options differs in one of them. */
export interface ScenarioIdentity {
  name: string;
  seed: number;
  description: string;
  duration_s: number;
}

export type BaselinesRead = { ok: true; runs: Map<string, Record<string, StoredRun>> } | { ok: false; error: string };

/** The measures scoring reads of a run (sim/generalization-score.ts Measures). */
const MEASURES = ["requests", "failed", "slo_violation_s", "false_cuts"] as const;

/**
 * Every scenario's runs from `text` (a `--json` file of `bench generalization`), keyed by scenario
 * name. Each scenario must be in it with the same seed, description and duration (else it was
 * generated with other options). Each of `required` (the baselines) must have a run of every
 * scenario; each of `optional` (the subjects, for --compare) is taken where the file has it and
 * left out where it has none (an earlier run of other subjects). A run's measures must be counts,
 * or the run marked unavailable, as written.
 */
export function readStoredRuns(text: string, scenarios: readonly ScenarioIdentity[], required: readonly string[], optional: readonly string[] = []): BaselinesRead {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  const stored = isObject(parsed) ? parsed.scenarios : undefined;
  if (!Array.isArray(stored)) return { ok: false, error: "no list of scenarios (expected the --json file of an earlier bench generalization run)" };
  const byName = new Map<string, Record<string, unknown>>();
  for (const s of stored) if (isObject(s) && typeof s.name === "string") byName.set(s.name, s);
  const runs = new Map<string, Record<string, StoredRun>>();
  for (const scenario of scenarios) {
    const s = byName.get(scenario.name);
    if (s === undefined) return { ok: false, error: `scenario ${scenario.name} is not in it (was it an earlier run of the same --family, --seed or --tuning and --count?)` };
    for (const key of ["seed", "description", "duration_s"] as const) {
      if (s[key] !== scenario[key]) {
        return { ok: false, error: `scenario ${scenario.name} there is another scenario: its ${key} is ${JSON.stringify(s[key])}, this run's is ${JSON.stringify(scenario[key])} (other --family or --llm-share?)` };
      }
    }
    const stored = isObject(s.runs) ? s.runs : {};
    const own: Record<string, StoredRun> = {};
    for (const baseline of [...required, ...optional]) {
      const run = stored[baseline];
      if (run === undefined && optional.includes(baseline)) continue;
      if (!isObject(run)) return { ok: false, error: `scenario ${scenario.name} has no run of ${baseline}` };
      if (typeof run.unavailable === "string") {
        own[baseline] = { unavailable: run.unavailable };
        continue;
      }
      for (const m of MEASURES) {
        const v = run[m];
        if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return { ok: false, error: `scenario ${scenario.name}, run of ${baseline}: ${m} is ${JSON.stringify(v)}, expected a count` };
      }
      if (run.by_phase !== undefined && !isByPhase(run.by_phase)) {
        return { ok: false, error: `scenario ${scenario.name}, run of ${baseline}: by_phase is ${JSON.stringify(run.by_phase).slice(0, 120)}, expected failed and slo_violation_s counts for each of ${FAULT_PHASES.join(", ")}` };
      }
      // The measures are checked; the rest of the report is passed on as written (tables print it).
      own[baseline] = run as unknown as PolicyReport;
    }
    runs.set(scenario.name, own);
  }
  return { ok: true, runs };
}

/** A run's split by fault phase (fault-phases.ts) as written: counts for every phase. */
function isByPhase(x: unknown): boolean {
  if (!isObject(x)) return false;
  return FAULT_PHASES.every((phase) => {
    const m = x[phase];
    return isObject(m) && ["failed", "slo_violation_s"].every((k) => typeof m[k] === "number" && Number.isFinite(m[k]) && (m[k] as number) >= 0);
  });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
