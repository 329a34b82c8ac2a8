import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { openWaitMs, stepBreaker, type BreakerInput } from "../control-plane/src/core/breaker.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import type { BreakerState } from "../control-plane/src/core/types.js";
import { computeShares, type WeightInput } from "../control-plane/src/core/weights.js";

const B = DEFAULT_CONFIG.breaker;
const input = (nowMs: number, over: Partial<BreakerInput> = {}): BreakerInput => ({ nowMs, trip: false, tripReason: "test", probe: "none", ...over });

describe("breaker state machine", () => {
  const cases: [name: string, from: BreakerState, inp: BreakerInput, to: BreakerState["kind"]][] = [
    ["closed stays closed without a trip", { kind: "closed", since: 0 }, input(1000), "closed"],
    ["closed opens on a trip", { kind: "closed", since: 0 }, input(1000, { trip: true }), "open"],
    ["open stays open before its wait ends", { kind: "open", since: 0, until: 5000, reason: "x", openings: 1 }, input(4999), "open"],
    ["open turns half-open when its wait ends", { kind: "open", since: 0, until: 5000, reason: "x", openings: 1 }, input(5000), "half_open"],
    ["half-open reopens on an unhealthy probe", { kind: "half_open", since: 0, probeFraction: 0.1, healthyWindows: 2, openings: 1 }, input(1000, { probe: "unhealthy" }), "open"],
    ["half-open stays half-open on one healthy probe", { kind: "half_open", since: 0, probeFraction: 0.1, healthyWindows: 0, openings: 1 }, input(1000, { probe: "healthy" }), "half_open"],
    ["half-open closes after enough healthy probes", { kind: "half_open", since: 0, probeFraction: 0.4, healthyWindows: B.healthyProbeWindows - 1, openings: 1 }, input(1000, { probe: "healthy" }), "closed"],
  ];
  for (const [name, from, inp, to] of cases) {
    it(name, () => {
      const step = stepBreaker("a", from, inp, B);
      assert.equal(step.state.kind, to);
      if (to !== from.kind) {
        assert.equal(step.transition?.from, from.kind);
        assert.equal(step.transition?.to, to);
        assert.equal(step.transition?.atMs, inp.nowMs);
        assert.ok(step.transition!.reason.length > 0);
      } else assert.equal(step.transition, undefined);
    });
  }

  it("the open wait grows with repeated openings and is capped", () => {
    const waits = [1, 2, 3, 4, 5, 6, 10].map((n) => openWaitMs(n, B));
    assert.deepEqual(waits.slice(0, 3), [B.openBaseMs, B.openBaseMs * B.openBackoff, B.openBaseMs * B.openBackoff ** 2]);
    assert.equal(waits.at(-1), B.openMaxMs);
    let state: BreakerState = { kind: "closed", since: 0 };
    let t = 0;
    const opened: number[] = [];
    for (let i = 0; i < 4; i++) {
      state = stepBreaker("a", state, input(t, { trip: true }), B).state;
      assert.equal(state.kind, "open");
      if (state.kind === "open") {
        opened.push(state.until - state.since);
        t = state.until;
      }
      state = stepBreaker("a", state, input(t), B).state; // half-open
      state = stepBreaker("a", state, input(t + 1000, { probe: "unhealthy" }), B).state;
      assert.equal(state.kind, "open");
      if (state.kind === "open") t = state.until;
      state = stepBreaker("a", state, input(t), B).state;
      for (let k = 0; k < B.healthyProbeWindows; k++) state = stepBreaker("a", state, input(t + 1000 * (k + 1), { probe: "healthy" }), B).state;
      assert.equal(state.kind, "closed");
      t += 10_000;
    }
    assert.ok(opened[1]! > opened[0]!, `waits ${opened}`);
  });

  it("openings are forgotten after a long time closed", () => {
    const closed: BreakerState = { kind: "closed", since: 0, openings: 5 };
    const step = stepBreaker("a", closed, input(B.openingsResetMs + 1, { trip: true }), B);
    assert.equal(step.state.kind === "open" && step.state.until - step.state.since, B.openBaseMs);
  });
});

const W = DEFAULT_CONFIG.weights;
const c = (cluster: string, over: Partial<WeightInput> = {}): WeightInput => ({
  cluster,
  baseWeight: 50,
  state: "closed",
  risk: 0,
  probeFraction: 1,
  loadRps: 100,
  limitRps: Infinity,
  ...over,
});

describe("weights", () => {
  const cases: [name: string, inputs: WeightInput[], expect: Record<string, [min: number, max: number]>, panic?: boolean][] = [
    ["healthy clusters keep their base shares", [c("a"), c("b", { baseWeight: 150 })], { a: [0.25, 0.25], b: [0.75, 0.75] }],
    ["an open cluster gets nothing, the others take its share", [c("a", { state: "open" }), c("b")], { a: [0, 0], b: [1, 1] }],
    ["risk moves traffic away from a cluster predicted to break in proportion", [c("a", { risk: 0.6, breaking: true }), c("b")], { a: [0.19, 0.21], b: [0.79, 0.81] }],
    ["small risk moves nothing", [c("a", { risk: 0.2 }), c("b")], { a: [0.5, 0.5], b: [0.5, 0.5] }],
    ["equal risk everywhere moves nothing (a surge, not a fault)", [c("a", { risk: 0.9 }), c("b", { risk: 0.9 })], { a: [0.5, 0.5], b: [0.5, 0.5] }],
    [
      "a healthy cluster is never pushed past its capacity limit",
      [c("a", { risk: 1 }), c("b", { limitRps: 120 })],
      { a: [0.39, 0.41], b: [0.59, 0.61] },
    ],
    ["a half-open cluster gets at least the probe floor", [c("a", { state: "half_open", probeFraction: 0.01 }), c("b")], { a: [W.probeFloorShare - 0.001, W.probeFloorShare + 0.001], b: [0.94, 0.96] }],
    ["a drained closed cluster predicted to break keeps the probe floor", [c("a", { risk: 1, breaking: true }), c("b")], { a: [W.probeFloorShare - 0.001, W.probeFloorShare + 0.001], b: [0.94, 0.96] }],
    ["a share moves at most maxStepShare per round", [c("a", { risk: 1, breaking: true, previousShare: 0.5 }), c("b", { previousShare: 0.5 })], { a: [0.5 - W.maxStepShare - 0.01, 0.5 - W.maxStepShare + 0.01], b: [0.74, 0.76] }],
    ["every cluster open: panic, base weights", [c("a", { state: "open" }), c("b", { state: "open", baseWeight: 150 })], { a: [0.25, 0.25], b: [0.75, 0.75] }, true],
  ];
  for (const [name, inputs, expect, panic] of cases) {
    it(name, () => {
      const r = computeShares(inputs, W);
      assert.equal(r.panic, panic ?? false);
      for (const [cluster, [min, max]] of Object.entries(expect)) {
        const s = r.shares.get(cluster)!;
        assert.ok(s >= min - 1e-9 && s <= max + 1e-9, `${cluster}: ${s} not in [${min}, ${max}]`);
      }
      const sum = [...r.shares.values()].reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-9);
    });
  }
});
