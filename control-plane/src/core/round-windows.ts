// Step 1 of a decision round (decision-engine.ts), on the engine's cluster records: windows that
// late reports changed replace theirs in each cluster's history, and the windows due close in the
// aggregator and join the histories, feeding each cluster's capacity estimator
// (cluster-runtime.ts appendWindow).
import type { WindowAggregator } from "./aggregator.js";
import { appendWindow, replaceWindow, type ClusterRuntime } from "./cluster-runtime.js";
import type { CoreConfig } from "./config.js";
import type { ClusterWindowStats } from "./types.js";

/** The windows closed at `nowMs`, oldest first, each with every cluster's merged stats. */
export function takeWindows(aggregator: WindowAggregator, runtime: ReadonlyMap<string, ClusterRuntime>, nowMs: number, config: Pick<CoreConfig, "aggregation" | "detector">): ClusterWindowStats[][] {
  for (const updated of aggregator.takeLateUpdates()) for (const stats of updated) replaceWindow(runtime.get(stats.cluster)!, stats);
  const closed = aggregator.close(nowMs);
  for (const window of closed) for (const stats of window) appendWindow(runtime.get(stats.cluster)!, stats, config);
  return closed;
}
