// Operator overrides and the halt (control-plane/src/core/overrides.ts) on plain data: validation,
// expiry, what an override does to a breaker, the book of overrides in force, and what setting one
// through the decision engine's operator does to the engine's breaker.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { DecisionEngine } from "../control-plane/src/core/decision-engine.js";
import { ControlPlaneError } from "../control-plane/src/core/errors.js";
import { applyOverride, expireOverride, OperatorControls, validateOverride } from "../control-plane/src/core/overrides.js";
import type { BreakerState, Override, Transition } from "../control-plane/src/core/types.js";

const B = DEFAULT_CONFIG.breaker;
const CLUSTERS = ["a", "b", "c"];
const override = (over: Partial<Override> = {}): Override => ({ cluster: "a", state: "open", reason: "maintenance", actor: "alice", ...over });
const closed: BreakerState = { kind: "closed", since: 0 };
const openUntil = (until: number, reason = "x"): BreakerState => ({ kind: "open", since: 0, until, reason, openings: 1 });

describe("an override expires at its untilMs", () => {
  const cases: [name: string, o: Override, breaker: BreakerState, nowMs: number, expected: { breaker: BreakerState; transition: Transition } | undefined][] = [
    ["one without untilMs never expires", override(), openUntil(Infinity), 10_000_000, undefined],
    ["before its untilMs nothing changes", override({ untilMs: 2000 }), openUntil(Infinity), 1999, undefined],
    [
      "at its untilMs a forced-open breaker's wait ends now (it turns half-open next), and the expiry is recorded",
      override({ untilMs: 2000 }),
      openUntil(Infinity),
      2000,
      { breaker: openUntil(2000), transition: { cluster: "a", from: "open", to: "open", atMs: 2000, reason: "override by alice expired" } },
    ],
    [
      "after its untilMs an open breaker whose wait ends earlier keeps that wait",
      override({ untilMs: 2000 }),
      openUntil(1500),
      2500,
      { breaker: openUntil(1500), transition: { cluster: "a", from: "open", to: "open", atMs: 2500, reason: "override by alice expired" } },
    ],
    [
      "a forced-closed breaker stays closed, and the expiry is recorded",
      override({ state: "closed", untilMs: 2000, actor: "bob" }),
      closed,
      2000,
      { breaker: closed, transition: { cluster: "a", from: "closed", to: "closed", atMs: 2000, reason: "override by bob expired" } },
    ],
  ];
  for (const [name, o, breaker, nowMs, expected] of cases) it(name, () => assert.deepEqual(expireOverride("a", o, breaker, nowMs), expected));

  it("the book removes only the expired overrides and reports them in the order they were set", () => {
    const controls = new OperatorControls(CLUSTERS);
    controls.set(override({ cluster: "c", untilMs: 2000 }), 1000);
    controls.set(override({ cluster: "b" }), 1000);
    controls.set(override({ cluster: "a", state: "closed", untilMs: 1500 }), 1000);
    const breakers: Record<string, BreakerState> = { a: closed, b: openUntil(Infinity), c: openUntil(Infinity) };
    const expired = controls.expire(2000, (cluster) => breakers[cluster]!);
    assert.deepEqual(
      expired.map((e) => [e.cluster, e.breaker, e.transition.reason]),
      [
        ["c", openUntil(2000), "override by alice expired"],
        ["a", closed, "override by alice expired"],
      ],
    );
    assert.deepEqual(controls.list().map((o) => o.cluster), ["b"]);
    assert.deepEqual(controls.expire(3000, (cluster) => breakers[cluster]!), [], "nothing expires twice");
  });
});

describe("an override in force steps the breaker", () => {
  const reason = "override by alice: maintenance";
  const cases: [name: string, o: Override, from: BreakerState, to: BreakerState, transition: Transition | undefined][] = [
    [
      "open: a closed breaker opens until untilMs, with the override's reason",
      override({ untilMs: 9000 }),
      closed,
      { kind: "open", since: 1000, until: 9000, reason, openings: 1 },
      { cluster: "a", from: "closed", to: "open", atMs: 1000, reason },
    ],
    ["open without untilMs: it stays open without end", override(), closed, { kind: "open", since: 1000, until: Infinity, reason, openings: 1 }, { cluster: "a", from: "closed", to: "open", atMs: 1000, reason }],
    [
      "open: a half-open breaker reopens, counting the opening",
      override(),
      { kind: "half_open", since: 0, probeFraction: 0.2, healthyWindows: 1, openings: 2 },
      { kind: "open", since: 1000, until: Infinity, reason, openings: 3 },
      { cluster: "a", from: "half_open", to: "open", atMs: 1000, reason },
    ],
    ["open: a breaker the detectors opened takes the override's reason and end, without a transition", override(), openUntil(5000), { kind: "open", since: 1000, until: Infinity, reason, openings: 2 }, undefined],
    ["open: a breaker the same override opened is left as it is", override(), openUntil(Infinity, reason), openUntil(Infinity, reason), undefined],
    [
      "closed: an open breaker closes at once, remembering its openings",
      override({ state: "closed" }),
      openUntil(5000),
      { kind: "closed", since: 1000, openings: 1 },
      { cluster: "a", from: "open", to: "closed", atMs: 1000, reason },
    ],
    ["closed: a closed breaker is left as it is", override({ state: "closed" }), closed, closed, undefined],
  ];
  for (const [name, o, from, to, transition] of cases) {
    it(name, () => {
      const step = applyOverride("a", o, from, 1000, B);
      assert.deepEqual(step.state, to);
      assert.deepEqual(step.transition, transition);
    });
  }
});

describe("an override is validated before it is recorded", () => {
  const cases: [name: string, o: Override, message: RegExp][] = [
    ["an unknown cluster is refused, naming the known ones", override({ cluster: "z" }), /^override\.cluster: unknown cluster "z"; known: a, b, c$/],
    ["a state other than open, closed or auto is refused", override({ state: "half_open" as Override["state"] }), /^override\.state: expected "open", "closed" or "auto", got "half_open"$/],
    ["an expiry not in the future is refused", override({ untilMs: 1000 }), /^override\.untilMs: expected a time in the future/],
    ["an expiry that is not finite is refused", override({ untilMs: Infinity }), /^override\.untilMs: expected a time in the future/],
    ["a blank reason is refused", override({ reason: "  " }), /^override\.reason: expected a non-empty string$/],
    ["a blank actor is refused", override({ actor: "" }), /^override\.actor: expected a non-empty string$/],
  ];
  for (const [name, o, message] of cases) {
    it(name, () => assert.throws(() => validateOverride(o, CLUSTERS, 1000), (err: unknown) => err instanceof ControlPlaneError && err.code === "CP_ERR_OVERRIDE" && message.test(err.message)));
  }
  it("a valid override passes", () => assert.doesNotThrow(() => validateOverride(override({ untilMs: 1001 }), CLUSTERS, 1000)));
});

describe("the book of overrides and the halt", () => {
  it("setting an override replaces the cluster's earlier one and returns it; auto removes it", () => {
    const controls = new OperatorControls(CLUSTERS);
    assert.equal(controls.set(override(), 0), undefined);
    assert.deepEqual(controls.set(override({ state: "closed" }), 0), override());
    assert.deepEqual(controls.set(override({ state: "auto" }), 0), override({ state: "closed" }));
    assert.equal(controls.get("a"), undefined);
    assert.deepEqual(controls.list(), []);
  });

  it("an invalid override changes nothing", () => {
    const controls = new OperatorControls(CLUSTERS);
    controls.set(override(), 0);
    assert.throws(() => controls.set(override({ state: "auto", actor: "" }), 0), ControlPlaneError);
    assert.deepEqual(controls.list(), [override()]);
  });

  it("restored overrides of unknown clusters, expired ones and auto ones are dropped", () => {
    const controls = new OperatorControls(CLUSTERS);
    controls.restore([override({ cluster: "z" }), override({ cluster: "a", untilMs: 1000 }), override({ cluster: "b", state: "auto" }), override({ cluster: "c", untilMs: 1001 })], undefined, 1000);
    assert.deepEqual(controls.list(), [override({ cluster: "c", untilMs: 1001 })]);
  });

  it("the halt is recorded with its time and restored as it was; copies are handed out", () => {
    const controls = new OperatorControls(CLUSTERS);
    assert.deepEqual(controls.haltState(), { halted: false, reason: "", actor: "", atMs: 0 });
    controls.setHalt(true, "incident", "carol", 5000);
    const halt = controls.haltState();
    assert.deepEqual(halt, { halted: true, reason: "incident", actor: "carol", atMs: 5000 });
    halt.halted = false;
    assert.equal(controls.haltState().halted, true);
    const restored = new OperatorControls(CLUSTERS);
    restored.restore([], { halted: true, reason: "r", actor: "d", atMs: 7 }, 1000);
    assert.deepEqual(restored.haltState(), { halted: true, reason: "r", actor: "d", atMs: 7 });
  });
});

describe("every override set reaches the book's onSet, with the override it replaced", () => {
  const cases: Array<{ name: string; set: Array<Partial<Override>>; expected: Array<[Override["state"], Override["state"] | undefined]> }> = [
    { name: "a first override replaces nothing", set: [{}], expected: [["open", undefined]] },
    { name: "auto after open hands over the open one", set: [{}, { state: "auto" }], expected: [["open", undefined], ["auto", "open"]] },
    { name: "an invalid override reaches nothing", set: [{ actor: "" }], expected: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const seen: Array<[Override["state"], Override["state"] | undefined]> = [];
      const controls = new OperatorControls(CLUSTERS, (o, had) => seen.push([o.state, had?.state]));
      for (const o of c.set) {
        try {
          controls.set(override(o), 0);
        } catch {
          // refused: nothing recorded, nothing called
        }
      }
      assert.deepEqual(seen, c.expected);
    });
  }
});

describe("the decision engine's operator", () => {
  it("an override set to auto through it sends a forced-open breaker to the detectors through half-open at the next round", async () => {
    const engine = new DecisionEngine([{ name: "a", baseWeight: 1 }, { name: "b", baseWeight: 1 }], { latencyMs: 2000, successRate: 0.99 }, DEFAULT_CONFIG);
    const t0 = 1_700_000_000_000;
    engine.operator.set(override({ state: "open" }), t0);
    assert.equal((await engine.round(t0 + 1)).decisions.clusters.find((c) => c.cluster === "a")!.state, "open");
    engine.operator.set(override({ state: "auto" }), t0 + 2);
    const after = await engine.round(t0 + 3);
    assert.deepEqual(engine.operator.list(), []);
    assert.equal(after.decisions.clusters.find((c) => c.cluster === "a")!.state, "half_open");
  });
});
