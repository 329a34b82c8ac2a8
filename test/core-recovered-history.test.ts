// After a breaker closes again, the planner judges the cluster on the windows from its probing on
// (cluster-runtime.ts recoveredHistory): the outage before the probes is no evidence of how it
// serves now.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { newClusterRuntime, recoveredHistory, roundCluster } from "../control-plane/src/core/cluster-runtime.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { assessLoadResponse } from "../control-plane/src/core/planner/assessment.js";
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";
import { clusterWindow } from "./cluster-window.js";

const WINDOW_MS = 5000;
/** Windows of 5 s from t = 0: `requests` each, `errorRate` each. */
const windows = (shape: readonly [requests: number, errorRate: number][]): ClusterWindowStats[] =>
  shape.map(([requests, errorRate], i) => clusterWindow({ windowStartMs: i * WINDOW_MS, windowLengthMs: WINDOW_MS, requests, errorRate, rps: requests / 5 }));

// Serving (800 requests a window), an outage (800, all failed), open (no traffic), probes (60, calm).
const OUTAGE_THEN_PROBES = windows([[800, 0], [800, 0], [800, 1], [0, 0], [60, 0]]);

describe("the windows the planner judges a cluster on", () => {
  const cases: { name: string; history: ClusterWindowStats[]; recoveredSinceMs?: number; firstStartMs: number | undefined }[] = [
    { name: "a cluster never reopened is judged on all its windows", history: OUTAGE_THEN_PROBES, firstStartMs: 0 },
    { name: "a cluster that closed again after probing from t = 20 s is judged from the window before the probing on", history: OUTAGE_THEN_PROBES, recoveredSinceMs: 20_000, firstStartMs: 15_000 },
    { name: "probing that began before every window kept leaves the history whole", history: OUTAGE_THEN_PROBES.slice(3), recoveredSinceMs: 0, firstStartMs: 15_000 },
    { name: "probing that began after the newest window leaves the history whole (its windows have not come yet)", history: OUTAGE_THEN_PROBES, recoveredSinceMs: 60_000, firstStartMs: 0 },
    { name: "no windows stay no windows", history: [], recoveredSinceMs: 20_000, firstStartMs: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const kept = recoveredHistory({ history: c.history, ...(c.recoveredSinceMs === undefined ? {} : { recoveredSinceMs: c.recoveredSinceMs }) });
      assert.equal(kept[0]?.windowStartMs, c.firstStartMs);
      assert.equal(kept.at(-1), c.history.at(-1), "the newest window is always kept");
    });
  }
});

describe("a cluster whose probes passed after an outage", () => {
  it("is predicted to serve as its probes did, not as in the outage before them", () => {
    const rt = newClusterRuntime({ name: "a", baseWeight: 1 }, DEFAULT_CONFIG);
    rt.history = [...OUTAGE_THEN_PROBES];
    const before = assessLoadResponse(roundCluster(rt, 0.5, false).history, rt.capacity.estimate());
    // Without the recovery mark, 800 failed requests at a quarter weight outweigh 60 good probes.
    assert.ok(before.badFraction > 0.4, `bad fraction ${before.badFraction}`);
    rt.recoveredSinceMs = 20_000;
    const after = assessLoadResponse(roundCluster(rt, 0.5, false).history, rt.capacity.estimate());
    assert.equal(after.badFraction, 0);
  });
});
