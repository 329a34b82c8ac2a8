// A merged window of one cluster for the control plane's core tests: 100 calm requests over one
// second (no errors, p50 100 ms, p95 300 ms, p99 500 ms), with `over` replacing any field.
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";

export function clusterWindow(over: Partial<ClusterWindowStats> = {}): ClusterWindowStats {
  return {
    cluster: "a",
    windowStartMs: 1_000_000,
    windowLengthMs: 1000,
    requests: 100,
    errors5xx: 0,
    localRejects: 0,
    timeouts: 0,
    resets: 0,
    grpcErrors: 0,
    errorRate: 0,
    p50Ms: 100,
    p95Ms: 300,
    p99Ms: 500,
    rps: 100,
    reporters: 1,
    slowRequests: 0,
    ...over,
  };
}
