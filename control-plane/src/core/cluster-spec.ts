// Validation of what the operator configures the decision core with: the cluster list (names and
// base weights) and the SLO. Pure: throws a ControlPlaneError (CP_ERR_CLUSTERS, CP_ERR_SLO) that
// names the offending field, returns nothing otherwise.
import { ControlPlaneError } from "./errors.js";
import type { ClusterSpec, Slo } from "./types.js";

/** At least one cluster; every name a non-empty string, once; every base weight a finite number > 0. */
export function validateClusters(clusters: readonly ClusterSpec[]): void {
  if (!Array.isArray(clusters) || clusters.length === 0) throw new ControlPlaneError("CP_ERR_CLUSTERS", "clusters: expected at least one cluster");
  const seen = new Set<string>();
  clusters.forEach((c, i) => {
    if (typeof c?.name !== "string" || c.name === "") throw new ControlPlaneError("CP_ERR_CLUSTERS", `clusters[${i}].name: expected a non-empty string`);
    if (seen.has(c.name)) throw new ControlPlaneError("CP_ERR_CLUSTERS", `clusters[${i}].name: "${c.name}" appears twice`);
    seen.add(c.name);
    if (typeof c.baseWeight !== "number" || !(c.baseWeight > 0) || !Number.isFinite(c.baseWeight)) {
      throw new ControlPlaneError("CP_ERR_CLUSTERS", `clusters[${i}].baseWeight: expected a number > 0, got ${JSON.stringify(c.baseWeight)}`);
    }
  });
}

/** latencyMs a number > 0 (milliseconds); successRate a fraction in (0, 1]; ttftMs and tpotMs,
 *  when given, finite numbers > 0 (milliseconds). */
export function validateSlo(slo: Slo): void {
  if (typeof slo?.latencyMs !== "number" || !(slo.latencyMs > 0)) throw new ControlPlaneError("CP_ERR_SLO", `slo.latencyMs: expected a number > 0, got ${JSON.stringify(slo?.latencyMs)}`);
  if (typeof slo.successRate !== "number" || !(slo.successRate > 0 && slo.successRate <= 1)) {
    throw new ControlPlaneError("CP_ERR_SLO", `slo.successRate: expected a number in (0, 1], got ${JSON.stringify(slo.successRate)}`);
  }
  for (const key of ["ttftMs", "tpotMs"] as const) {
    const v = slo[key];
    if (v !== undefined && (typeof v !== "number" || !(v > 0) || !Number.isFinite(v))) {
      throw new ControlPlaneError("CP_ERR_SLO", `slo.${key}: expected a number > 0 (milliseconds) or nothing, got ${JSON.stringify(v)}`);
    }
  }
}
