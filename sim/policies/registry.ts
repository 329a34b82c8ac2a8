// The policies the scenario runner knows, by the name the CLI and the report use.
import type { PolicyFactory } from "../policy.js";
import { createNonePolicy } from "./none.js";
import { createEnvoyOutlierPolicy } from "./envoy-outlier.js";
import { createResilience4jPolicy } from "./resilience4j.js";
import { createLinkerdEwmaPolicy } from "./linkerd-ewma.js";
import { createEnvoyCswrrPolicy } from "./envoy-cswrr.js";
import { createOraclePolicy } from "./oracle.js";

/** Baselines, always available. The autoglm policies are added by sim/job.ts when the filter is built. */
export const BASELINE_POLICIES: Record<string, PolicyFactory> = {
  none: (scenario) => createNonePolicy(scenario),
  "envoy-outlier": (scenario) => createEnvoyOutlierPolicy(scenario),
  resilience4j: (scenario) => createResilience4jPolicy(scenario),
  "linkerd-ewma": (scenario, seed) => createLinkerdEwmaPolicy(scenario, seed),
  "envoy-cswrr": (scenario, seed) => createEnvoyCswrrPolicy(scenario, seed),
};

/** What users would run instead of the product: autoglm is scored against the best of these. */
export const BASELINE_POLICY_NAMES = ["none", "envoy-outlier", "resilience4j", "linkerd-ewma", "envoy-cswrr"] as const;

/**
 * The product's policies: `autoglm` (filter, control plane and the anomaly model when
 * models/anomaly.onnx exists, under the shipped sidecar bootstrap), the ablation `autoglm-rules`
 * (the same without the model), and `autoglm-host-ejection` (autoglm where the sidecars take their
 * LLM clusters' endpoints from the control plane's EDS and report load over LRS, so it ejects
 * single hosts mesh-wide; not the shipped bootstrap's default: deploy/envoy/README.md).
 */
export const AUTOGLM_POLICY_NAMES = ["autoglm", "autoglm-rules", "autoglm-host-ejection"] as const;

/**
 * Product policies run only when named (`--policies`, `--subjects`): `autoglm-no-load-reports`,
 * autoglm whose filters do not read the upstreams' ORCA load reports (`headers.upstream_load: ""`),
 * the ablation that shows what the reports add where the upstreams send them.
 */
export const OPTIONAL_AUTOGLM_POLICY_NAMES = ["autoglm-no-load-reports"] as const;

/**
 * Reference policies, run only when named: neither products nor baselines but bounds. They read
 * the scenario's truth, which no real policy sees, and set cluster shares as autoglm does
 * (sim/policies/oracle.ts): with the next window's truth (a perfect forecast) or the last
 * window's (perfect telemetry, no forecast). What separates them is the most any forecast could
 * add at autoglm's decision cadence.
 */
export const REFERENCE_POLICIES: Record<string, PolicyFactory> = {
  "oracle-next-window": (scenario) => createOraclePolicy(scenario, "next-window"),
  "oracle-last-window": (scenario) => createOraclePolicy(scenario, "last-window"),
};
export const REFERENCE_POLICY_NAMES = ["oracle-next-window", "oracle-last-window"] as const;

/** The policies a run has by default: the baselines and the product's default subjects. */
export const ALL_POLICY_NAMES = [...BASELINE_POLICY_NAMES, ...AUTOGLM_POLICY_NAMES] as const;

/** Every policy a run can be asked for. */
export const KNOWN_POLICY_NAMES = [...ALL_POLICY_NAMES, ...OPTIONAL_AUTOGLM_POLICY_NAMES, ...REFERENCE_POLICY_NAMES] as const;
/** Every policy a generalization run can score: the product's and the references. */
export const KNOWN_SUBJECT_NAMES = [...AUTOGLM_POLICY_NAMES, ...OPTIONAL_AUTOGLM_POLICY_NAMES, ...REFERENCE_POLICY_NAMES] as const;
