// Good and total events of a closed telemetry window, per cluster and for the mesh (their sum).
// The SLI is availability as the mesh's clients see it: a request is bad when it failed upstream
// (5xx, timeout, reset, gRPC server error: the counters of ClusterWindowStats.errorRate) and,
// with countLocalRejects, when the sidecar refused it locally (breaker open, halt, shed).
import type { ClusterWindowStats } from "../types.js";
import { MESH_SCOPE, type ScopeCounts } from "./types.js";

export function windowCounts(window: readonly ClusterWindowStats[], countLocalRejects: boolean): ScopeCounts[] {
  const out: ScopeCounts[] = [];
  let meshGood = 0;
  let meshTotal = 0;
  for (const w of window) {
    // The failure counters overlap (a 5xx may also be a reset): bad is at most the requests.
    const failed = Math.min(w.requests, Math.round(w.errorRate * w.requests));
    const rejected = countLocalRejects ? w.localRejects : 0;
    const total = w.requests + rejected;
    const good = w.requests - failed;
    out.push({ scope: w.cluster, good, total });
    meshGood += good;
    meshTotal += total;
  }
  out.unshift({ scope: MESH_SCOPE, good: meshGood, total: meshTotal });
  return out;
}
