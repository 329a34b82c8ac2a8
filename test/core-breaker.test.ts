// The breaker state machine (control-plane/src/core/breaker.ts) on plain data.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { openWaitMs, stepBreaker, type BreakerInput } from "../control-plane/src/core/breaker.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import type { BreakerState } from "../control-plane/src/core/types.js";

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

  it("a close says how many healthy probe windows it rests on, and what else the probe verdict gave", () => {
    const halfOpen: BreakerState = { kind: "half_open", since: 0, probeFraction: 0.1, healthyWindows: 0, openings: 1 };
    const cases: Array<{ windows: number; probeReason?: string; reason: string }> = [
      { windows: 1, reason: "1 healthy probe window" },
      { windows: 3, reason: "3 healthy probe windows" },
      { windows: 1, probeReason: "the others strain under its load", reason: "1 healthy probe window: the others strain under its load" },
    ];
    for (const c of cases) {
      let state: BreakerState = halfOpen;
      let step = stepBreaker("a", state, input(1000, { probe: "healthy", ...(c.probeReason ? { probeReason: c.probeReason } : {}) }), { ...B, healthyProbeWindows: c.windows });
      for (let i = 1; i < c.windows; i++) {
        state = step.state;
        step = stepBreaker("a", state, input(1000 + i, { probe: "healthy", ...(c.probeReason ? { probeReason: c.probeReason } : {}) }), { ...B, healthyProbeWindows: c.windows });
      }
      assert.equal(step.transition?.reason, c.reason);
    }
  });

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
