// The policies the scenario runner knows, by the name the CLI and the report use.
import type { PolicyFactory } from "../policy.js";
import { createNonePolicy } from "./none.js";
import { createEnvoyOutlierPolicy } from "./envoy-outlier.js";
import { createResilience4jPolicy } from "./resilience4j.js";

/** Baselines, always available. The autoglm policy is added by sim/policies/autoglm.ts when its parts are built. */
export const BASELINE_POLICIES: Record<string, PolicyFactory> = {
  none: (scenario) => createNonePolicy(scenario),
  "envoy-outlier": (scenario) => createEnvoyOutlierPolicy(scenario),
  resilience4j: (scenario) => createResilience4jPolicy(scenario),
};

export const ALL_POLICY_NAMES = ["none", "envoy-outlier", "resilience4j", "autoglm"] as const;
