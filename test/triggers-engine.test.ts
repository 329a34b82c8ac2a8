// Triggers on plain data (control-plane/src/core/triggers/): each metric's condition, the hold
// before firing, clearing by itself with hysteresis or only by hand, and how the fired rules'
// actions combine with a decision set. Windows carry their own time; nowMs is passed in.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { ClusterWindowStats, DecisionSet } from "../control-plane/src/core/types.js";
import {
  applyTriggerActions,
  combineActions,
  conditionValue,
  TriggerEngine,
  type TriggerCondition,
  type TriggerRule,
} from "../control-plane/src/core/triggers/index.js";
import { ControlPlaneError } from "../control-plane/src/core/errors.js";
import { clusterWindow } from "./cluster-window.js";

const T0 = 1_000_000;
/** One merged window (clusters a and b) starting at T0 + i s. */
function window(i: number, a: Partial<ClusterWindowStats> = {}, b: Partial<ClusterWindowStats> = {}): ClusterWindowStats[] {
  const at = { windowStartMs: T0 + i * 1000, windowLengthMs: 1000 };
  return [clusterWindow({ cluster: "a", ...at, ...a }), clusterWindow({ cluster: "b", ...at, ...b })];
}
const load = (cpuMean: number, cpuMax: number, count = 10): Partial<ClusterWindowStats> => ({
  upstreamLoad: { reports: count, unparsed: 0, count: { cpuUtilization: count }, mean: { cpuUtilization: cpuMean }, max: { cpuUtilization: cpuMax } },
});
const condition = (over: Partial<TriggerCondition> = {}): TriggerCondition => ({ metric: "p99_ms", scope: "mesh", above: 5000, statistic: "mean", ...over });
const rule = (over: Partial<TriggerRule> = {}): TriggerRule => ({
  name: "p99",
  condition: condition(),
  forMs: 3000,
  action: { kind: "halt" },
  clear: "auto",
  clearAfterMs: 2000,
  ...over,
});

describe("a condition's value in one window", () => {
  const cases: [string, TriggerCondition, ClusterWindowStats[], number | undefined][] = [
    ["a cluster's p99", condition({ scope: "a" }), window(0, { p99Ms: 6200 }), 6200],
    ["the mesh's p99 is the highest of the serving clusters' (an upper bound)", condition(), window(0, { p99Ms: 900 }, { p99Ms: 6200 }), 6200],
    ["a cluster without requests gives no p99", condition({ scope: "a" }), window(0, { requests: 0, p99Ms: Number.NaN }), undefined],
    ["the mesh's error rate is pooled over its requests", condition({ metric: "error_rate" }), window(0, { requests: 300, errorRate: 0.1 }, { requests: 100, errorRate: 0.5 }), 0.2],
    ["a cluster's error rate", condition({ metric: "error_rate", scope: "b" }), window(0, {}, { errorRate: 0.25 }), 0.25],
    ["the mesh's CPU mean is weighted by each cluster's samples", condition({ metric: "cpu_utilization" }), window(0, load(0.9, 0.95, 30), load(0.5, 0.6, 10)), 0.8],
    ["the CPU max is the highest of any cluster", condition({ metric: "cpu_utilization", statistic: "max" }), window(0, load(0.9, 0.95), load(0.5, 0.99)), 0.99],
    ["a window without load reports gives no CPU value", condition({ metric: "cpu_utilization" }), window(0), undefined],
    ["a window without the queue metric gives no queue value", condition({ metric: "queue_size" }), window(0, load(0.9, 0.95)), undefined],
  ];
  for (const [name, c, w, expected] of cases) {
    it(name, () => {
      const v = conditionValue(c, w);
      if (expected === undefined) assert.equal(v, undefined);
      else assert.ok(v !== undefined && Math.abs(v - expected) < 1e-9, `got ${v}, expected ${expected}`);
    });
  }
});

describe("a rule fires once its condition has held for forMs and clears after clearAfterMs without it", () => {
  /** p99 of the mesh per window (b idle), and the events each window gives: "F" fired, "C" cleared. */
  const cases: [string, Partial<TriggerRule>, number[], string][] = [
    ["held for three 1 s windows it fires at the end of the third", {}, [6000, 6000, 6000, 6000], "..F."],
    ["a window below the threshold starts the hold again", {}, [6000, 6000, 100, 6000, 6000, 6000], ".....F"],
    ["exactly the threshold does not hold (strictly above)", {}, [5000, 5000, 5000, 5000], "...."],
    ["after firing, two windows without it clear it (hysteresis)", {}, [6000, 6000, 6000, 100, 100, 6000], "..F.C."],
    ["a window with it again during clearing starts the clearing anew", {}, [6000, 6000, 6000, 100, 6000, 100, 100], "..F...C"],
    ["with forMs 0 the first window fires", { forMs: 0 }, [6000, 100], "F."],
    ["a manual rule never clears by itself", { clear: "manual" }, [6000, 6000, 6000, 100, 100, 100, 100], "..F...."],
  ];
  for (const [name, over, p99s, expected] of cases) {
    it(name, () => {
      const engine = new TriggerEngine([rule(over)]);
      let marks = "";
      p99s.forEach((p99, i) => {
        const events = engine.observe([window(i, { p99Ms: p99 }, { requests: 0, p99Ms: Number.NaN })], T0 + (i + 1) * 1000 + 50);
        marks += events.length === 0 ? "." : events.map((e) => (e.kind === "fired" ? "F" : "C")).join("");
      });
      assert.equal(marks, expected);
    });
  }

  it("the firing event carries the values that fired it, the time it fired and the hold", () => {
    const engine = new TriggerEngine([rule({ condition: condition({ scope: "a" }) })]);
    const events = [6200, 7100, 6500].flatMap((p99, i) => engine.observe([window(i, { p99Ms: p99 })], 5_000_000 + i));
    assert.deepEqual(events, [{
      kind: "fired",
      trigger: "p99",
      action: { kind: "halt" },
      atMs: 5_000_002,
      values: { value: 6500, peak: 7100, threshold: 5000, heldMs: 3000, reason: "trigger p99: p99_ms of a 6500 > 5000 for 3 s" },
    }]);
    const status = engine.statuses()[0]!;
    assert.equal(status.state.kind, "fired");
    assert.equal(status.lastValue, 6500);
    assert.deepEqual(engine.persisted(), [{ name: "p99", since: T0, firedAtMs: 5_000_002, fired: events[0]!.values }]);
  });
});

describe("a human clears a fired rule", () => {
  it("clearing a fired manual rule ends it, names who cleared it, and it may fire again after a new hold", () => {
    const engine = new TriggerEngine([rule({ clear: "manual", forMs: 1000 })]);
    engine.observe([window(0, { p99Ms: 6000 })], 1);
    const event = engine.clear("p99", "admin@10.0.0.1", 2);
    assert.equal(event.kind, "cleared");
    assert.equal(event.clearedBy, "admin@10.0.0.1");
    assert.equal(engine.statuses()[0]!.state.kind, "idle");
    assert.equal(engine.observe([window(1, { p99Ms: 6000 })], 3)[0]?.kind, "fired");
  });

  const refusals: [string, (e: TriggerEngine) => void, RegExp][] = [
    ["an unknown rule", (e) => e.clear("nope", "x", 0), /trigger "nope" is not configured; configured: p99/],
    ["a rule that has not fired", (e) => e.clear("p99", "x", 0), /trigger "p99" has not fired \(it is idle\)/],
  ];
  for (const [name, call, message] of refusals) {
    it(`clearing ${name} is refused with CP_ERR_TRIGGER`, () => {
      const engine = new TriggerEngine([rule()]);
      assert.throws(() => call(engine), (err: unknown) => err instanceof ControlPlaneError && err.code === "CP_ERR_TRIGGER" && message.test(err.message));
    });
  }

  it("a restored fired rule is in force again; a name no longer configured is ignored", () => {
    const engine = new TriggerEngine([rule()]);
    const fired = { value: 6000, peak: 6000, threshold: 5000, heldMs: 3000, reason: "r" };
    engine.restore([{ name: "p99", since: 1, firedAtMs: 2, fired }, { name: "gone", since: 1, firedAtMs: 2, fired }]);
    assert.deepEqual(engine.firedRules().map((f) => f.rule.name), ["p99"]);
  });
});

describe("the engine's actions follow its rules' states", () => {
  const opening = () => new TriggerEngine([rule({ name: "o", forMs: 1000, clear: "manual", action: { kind: "open", cluster: "a" } })]);
  const fired = { value: 6000, peak: 6000, threshold: 5000, heldMs: 3000, reason: "trigger o: p99" };
  const cases: { name: string; act: (e: TriggerEngine) => void; open: string[] }[] = [
    { name: "none before any rule fired", act: () => undefined, open: [] },
    { name: "a rule that fires holds its cluster open", act: (e) => e.observe([window(0, { p99Ms: 6000 })], 1), open: ["a"] },
    {
      name: "a rule cleared by hand holds nothing",
      act: (e) => {
        e.observe([window(0, { p99Ms: 6000 })], 1);
        e.clear("o", "ops", 2);
      },
      open: [],
    },
    {
      name: "a clear made on another replica, of the same firing, holds nothing",
      act: (e) => {
        e.observe([window(0, { p99Ms: 6000 })], 1);
        const values = e.firedRules()[0]!.fired;
        e.clearFiring("o", values, "ops", 2);
      },
      open: [],
    },
    { name: "a fired rule restored after a restart holds its cluster open", act: (e) => e.restore([{ name: "o", since: 1, firedAtMs: 2, fired }]), open: ["a"] },
    {
      name: "states adopted from the leader hold what they fired",
      act: (e) => e.adopt({ atMs: 2, rules: [{ name: "o", state: { kind: "fired", since: 1, firedAtMs: 2, fired } }] }),
      open: ["a"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const engine = opening();
      c.act(engine);
      assert.deepEqual([...engine.actions.open.keys()], c.open);
    });
  }
});

describe("the fired rules' actions combine with a decision set", () => {
  const values = (reason: string) => ({ value: 1, peak: 1, threshold: 0, heldMs: 0, reason });
  const set: DecisionSet = {
    version: 9, issuedAtMs: 0, ttlMs: 30_000, halted: false, haltReason: "",
    clusters: [
      { cluster: "a", state: "closed", weight: 500, probeFraction: 1, retryAfterS: 0, reason: "", anomalyScore: 0 },
      { cluster: "b", state: "closed", weight: 500, probeFraction: 1, retryAfterS: 0, reason: "planned", anomalyScore: 0 },
    ],
  };

  it("a halting rule halts a set the operator did not halt, with the rule's reason", () => {
    const out = applyTriggerActions(set, combineActions([{ rule: rule(), fired: values("trigger p99: x") }]));
    assert.equal(out.halted, true);
    assert.equal(out.haltReason, "trigger p99: x");
    assert.equal(set.halted, false, "the input is not changed");
  });

  it("an operator's halt keeps its own reason", () => {
    const out = applyTriggerActions({ ...set, halted: true, haltReason: "operator" }, combineActions([{ rule: rule(), fired: values("trigger") }]));
    assert.equal(out.haltReason, "operator");
  });

  it("shed rules set the mesh's and a cluster's fractions; on one scope the largest wins", () => {
    const actions = combineActions([
      { rule: rule({ name: "m1", action: { kind: "shed", fraction: 0.2 } }), fired: values("m1") },
      { rule: rule({ name: "m2", action: { kind: "shed", fraction: 0.4 } }), fired: values("m2") },
      { rule: rule({ name: "b1", action: { kind: "shed", fraction: 0.5, cluster: "b" } }), fired: values("b1") },
      { rule: rule({ name: "b2", action: { kind: "shed", fraction: 0.3, cluster: "b" } }), fired: values("b2") },
    ]);
    const out = applyTriggerActions(set, actions);
    assert.deepEqual([out.shedFraction, out.shedReason], [0.4, "m2"]);
    assert.deepEqual(out.clusters.map((c) => [c.cluster, c.shedFraction, c.reason]), [["a", undefined, ""], ["b", 0.5, "planned; b1"]]);
    assert.equal(out.halted, false);
  });

  it("an opening rule asks for its cluster to be held open (the engine applies it to the breaker)", () => {
    const actions = combineActions([{ rule: rule({ name: "o", action: { kind: "open", cluster: "a" } }), fired: values("trigger o: y") }]);
    assert.deepEqual([...actions.open], [["a", { trigger: "o", reason: "trigger o: y" }]]);
  });
});
