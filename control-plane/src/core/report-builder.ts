// Builds WorkerReport entries from raw samples (latencies in ms, counts): for tests, simulated
// sidecars and the benchmark. Uses the wire histogram's bucket scheme.
import { bucketOf } from "./latency-buckets.js";
import type { LatencyCounts, WorkerClusterWindow } from "./types.js";

/** Trimmed histogram of latencies given in milliseconds. */
export function latencyCounts(latenciesMs: readonly number[]): LatencyCounts {
  if (latenciesMs.length === 0) return { firstBucket: 0, counts: [], sumUs: 0, maxUs: 0 };
  const buckets = latenciesMs.map((ms) => bucketOf(Math.round(ms * 1000)));
  const first = Math.min(...buckets);
  const last = Math.max(...buckets);
  const counts = new Array<number>(last - first + 1).fill(0);
  for (const b of buckets) counts[b - first]!++;
  return {
    firstBucket: first,
    counts,
    sumUs: latenciesMs.reduce((a, ms) => a + Math.round(ms * 1000), 0),
    maxUs: Math.round(Math.max(...latenciesMs) * 1000),
  };
}

export interface WindowSample {
  cluster: string;
  latenciesMs: readonly number[];
  /** Of the requests (latencies), how many answered 5xx. */
  errors5xx?: number;
  timeouts?: number;
  resets?: number;
  localRejects?: number;
}

export function clusterWindow(sample: WindowSample): WorkerClusterWindow {
  return {
    cluster: sample.cluster,
    requests: sample.latenciesMs.length,
    errors5xx: sample.errors5xx ?? 0,
    localRejects: sample.localRejects ?? 0,
    timeouts: sample.timeouts ?? 0,
    resets: sample.resets ?? 0,
    grpcErrors: 0,
    totalLatency: latencyCounts(sample.latenciesMs),
  };
}
