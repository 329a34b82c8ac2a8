// Sidecars that receive the same decision set at the same moment must not all send to the same
// cluster at the same moment: each worker's smooth weighted round robin takes its own phase in
// every new set of weights, not only in the configuration's (a small cluster otherwise gets the
// whole mesh's requests in bursts, one window full and the next empty).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BreakerState, startFilter } from "./filter-support.js";

const CONFIG = (node: string) => ({
  node_id: node,
  zone: "zone-a",
  window_ms: 1000,
  clusters: [
    { name: "small", weight: 7 },
    { name: "mid", weight: 29 },
    { name: "large", weight: 64 },
  ],
});

/** Index of the first request (of 40) that the sidecar sends to `small` after the set. */
async function firstSmallPick(node: string, weights: [number, number, number]): Promise<number> {
  const { t, cp } = await startFilter(CONFIG(node));
  try {
    cp.push({
      version: 1,
      ttlMs: 60_000,
      clusters: [
        { cluster: "small", state: BreakerState.CLOSED, weight: weights[0] },
        { cluster: "mid", state: BreakerState.CLOSED, weight: weights[1] },
        { cluster: "large", state: BreakerState.CLOSED, weight: weights[2] },
      ],
    });
    for (let i = 0; i < 40; i++) {
      if (t.request({ headers: { ":path": "/v1/chat" } }).requestHeaders["x-autoglm-cluster"] === "small") return i;
    }
    return -1;
  } finally {
    t.close();
  }
}

const cases: Array<{ name: string; weights: [number, number, number] }> = [
  { name: "weights on the control plane's scale (a total of 1000)", weights: [100, 300, 600] },
  { name: "weights close to the operator's", weights: [70, 290, 640] },
];

for (const c of cases) {
  test(`twelve sidecars given the same set reach the small cluster at different requests: ${c.name}`, async () => {
    const firsts: number[] = [];
    for (let s = 0; s < 12; s++) firsts.push(await firstSmallPick(`sidecar-${s}`, c.weights));
    assert.ok(firsts.every((i) => i >= 0), `every sidecar reaches the small cluster within 40 requests: ${firsts}`);
    // In step, they pick it first at one or two requests; with independent phases (ten or more
    // positions), fewer than four distinct ones has odds below 1 in 10^4. (The clock is virtual:
    // the run is deterministic.)
    assert.ok(new Set(firsts).size >= 4, `first picks of the small cluster per sidecar: ${firsts}`);
  });
}
