// Redistribution of traffic when a cluster is cut: pro rata to base weights, capped by the
// estimated safe capacity, with floors for healthy clusters and hysteresis (no oscillation).
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { computeShares, HEALTHY_FLOOR, SHARE_DEADBAND, type WeightInput } from "../control-plane/src/core/weights.js";

const W = DEFAULT_CONFIG.weights;
const c = (cluster: string, over: Partial<WeightInput> = {}): WeightInput => ({
  cluster,
  baseWeight: 30,
  state: "closed",
  risk: 0,
  probeFraction: 1,
  loadRps: 100,
  limitRps: Infinity,
  ...over,
});

describe("weights: redistribution", () => {
  const cases: [name: string, inputs: WeightInput[], expect: Record<string, [min: number, max: number]>][] = [
    [
      "an open cluster's share goes to the healthy ones in proportion to their base weights",
      [c("a", { state: "open", baseWeight: 40 }), c("b", { baseWeight: 20 }), c("c", { baseWeight: 40 })],
      { a: [0, 0], b: [0.333, 0.334], c: [0.666, 0.667] },
    ],
    [
      "no receiver is concentrated beyond its estimated limit while another has room",
      [c("a", { state: "open", baseWeight: 40, loadRps: 0 }), c("b", { loadRps: 140, limitRps: 100 }), c("c", { loadRps: 140 })],
      { b: [100 / 280 - 0.001, 100 / 280 + 0.001], c: [180 / 280 - 0.001, 180 / 280 + 0.001] },
    ],
    [
      "when every receiver is at its limit the rest is spread pro rata, not piled on one",
      [c("a", { state: "open", baseWeight: 40, loadRps: 0 }), c("b", { loadRps: 140, limitRps: 109 }), c("c", { loadRps: 140, limitRps: 109 })],
      { b: [0.5, 0.5], c: [0.5, 0.5] },
    ],
    [
      "when every cluster is past its limit the overload spreads pro rata to the limits (equal utilisation)",
      [
        c("big", { baseWeight: 60, loadRps: 264, limitRps: 230 }),
        c("small", { baseWeight: 40, loadRps: 176, limitRps: 130, risk: 1, breaking: true }),
      ],
      { big: [230 / 360 - 0.001, 230 / 360 + 0.001], small: [130 / 360 - 0.001, 130 / 360 + 0.001] },
    ],
    [
      "soft risk never pushes a healthy cluster below half its base share",
      [c("a", { risk: 1 }), c("b")],
      { a: [0.5 * HEALTHY_FLOOR, 0.5 * HEALTHY_FLOOR], b: [1 - 0.5 * HEALTHY_FLOOR, 1 - 0.5 * HEALTHY_FLOOR] },
    ],
    [
      "a cluster predicted to break may be drained to the probe floor",
      [c("a", { risk: 1, breaking: true }), c("b")],
      { a: [W.probeFloorShare, W.probeFloorShare], b: [1 - W.probeFloorShare, 1 - W.probeFloorShare] },
    ],
    [
      "a change smaller than the deadband keeps the previous shares",
      [c("a", { previousShare: 0.5 + SHARE_DEADBAND / 2 }), c("b", { previousShare: 0.5 - SHARE_DEADBAND / 2 })],
      { a: [0.5 + SHARE_DEADBAND / 2, 0.5 + SHARE_DEADBAND / 2], b: [0.5 - SHARE_DEADBAND / 2, 0.5 - SHARE_DEADBAND / 2] },
    ],
  ];
  for (const [name, inputs, expect] of cases) {
    it(name, () => {
      const r = computeShares(inputs, W);
      for (const [cluster, [min, max]] of Object.entries(expect)) {
        const s = r.shares.get(cluster)!;
        assert.ok(s >= min - 1e-9 && s <= max + 1e-9, `${cluster}: ${s} not in [${min}, ${max}]`);
      }
      const sum = [...r.shares.values()].reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-9);
    });
  }

  it("shares fed back round after round settle instead of swinging between receivers", () => {
    // One cluster cut, two receivers with equal base weights and limits below what they must take.
    const totalRps = 280;
    let prev: Record<string, number | undefined> = { a: undefined, b: undefined, c: undefined };
    const seen: number[] = [];
    for (let round = 0; round < 30; round++) {
      const load = (k: string) => (prev[k] ?? 1 / 3) * totalRps;
      const r = computeShares(
        [
          c("a", { state: "open", baseWeight: 40, loadRps: 0, previousShare: prev.a }),
          c("b", { loadRps: load("b"), limitRps: 109, previousShare: prev.b }),
          c("c", { loadRps: load("c"), limitRps: 109, previousShare: prev.c }),
        ],
        W,
      );
      prev = { a: r.shares.get("a"), b: r.shares.get("b"), c: r.shares.get("c") };
      seen.push(prev.b!);
    }
    for (const s of seen.slice(3)) assert.ok(Math.abs(s - 0.5) < 1e-9, `b's share ${s} after settling`);
  });
});
