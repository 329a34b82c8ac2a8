// One benchmark job: one scenario with one policy, run to the end. Runs in the main thread or in a
// worker thread (sim/worker.ts); everything in and out is plain data, so it crosses threads.
import type { Scenario } from "./scenario.js";
import type { Policy } from "./policy.js";
import { runScenario } from "./runner.js";
import { reportRun, type PolicyReport } from "./report.js";
import { runSeries, type RunSeries } from "./series.js";
import { runByPhase } from "./fault-phases.js";
import { BASELINE_POLICIES, REFERENCE_POLICIES } from "./policies/registry.js";
import { autoglmUnavailableReason, createAutoglmPolicy } from "./policies/autoglm.js";
import { KNOWN_SUBJECT_NAMES } from "./policies/registry.js";

export interface JobInput {
  scenario: Scenario;
  policy: string;
}

export type JobOutput =
  | { ok: true; scenario: string; policy: string; report: PolicyReport; series: RunSeries; wallMs: number; cpuMs: number }
  | { ok: false; scenario: string; policy: string; unavailable: string; wallMs: number; cpuMs: number };

/** Builds a policy by name; throws with the reason when it cannot run here. */
export async function createPolicy(name: string, scenario: Scenario): Promise<Policy> {
  const baseline = BASELINE_POLICIES[name];
  if (baseline !== undefined) return baseline(scenario, scenario.seed);
  const reference = REFERENCE_POLICIES[name];
  if (reference !== undefined) return reference(scenario, scenario.seed);
  if (name === "autoglm") return createAutoglmPolicy(scenario, scenario.seed);
  // The ablation: the same product with no anomaly model ("" loads none).
  if (name === "autoglm-rules") return createAutoglmPolicy(scenario, scenario.seed, { modelPath: "", name: "autoglm-rules" });
  // The product where the sidecars take their LLM clusters' endpoints from the control plane's
  // EDS and report load over LRS: mesh-wide host ejection (control-plane/src/xds/host-health.ts).
  if (name === "autoglm-host-ejection") return createAutoglmPolicy(scenario, scenario.seed, { hostEjection: true, name: "autoglm-host-ejection" });
  // The ablation of the load reports: filters that do not read them.
  if (name === "autoglm-no-load-reports") return createAutoglmPolicy(scenario, scenario.seed, { readLoadReports: false, name: "autoglm-no-load-reports" });
  throw new Error(`unknown policy "${name}"`);
}

/** Why a policy cannot run here, or undefined. */
export function policyUnavailableReason(name: string): string | undefined {
  if (BASELINE_POLICIES[name] !== undefined || REFERENCE_POLICIES[name] !== undefined) return undefined;
  if ((KNOWN_SUBJECT_NAMES as readonly string[]).includes(name)) return autoglmUnavailableReason();
  return `unknown policy "${name}"`;
}

export async function runJob(input: JobInput, onProgress?: (fraction: number) => void): Promise<JobOutput> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const elapsed = () => ({
    wallMs: Math.round(performance.now() - started),
    cpuMs: Math.round((process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000),
  });
  const base = { scenario: input.scenario.name, policy: input.policy };
  const reason = policyUnavailableReason(input.policy);
  if (reason !== undefined) return { ok: false, ...base, unavailable: reason, ...elapsed() };
  let policy: Policy;
  try {
    policy = await createPolicy(input.policy, input.scenario);
  } catch (error) {
    return { ok: false, ...base, unavailable: (error as Error).message, ...elapsed() };
  }
  const result = await runScenario(input.scenario, policy, onProgress === undefined ? {} : { onProgress });
  return { ok: true, ...base, report: { ...reportRun(result), by_phase: runByPhase(result) }, series: runSeries(result), ...elapsed() };
}
