// Trigger states as several replicas share them (control-plane/src/core/triggers/shared-states.ts):
// an engine that adopts another's shared states continues exactly as that engine would (a hold
// fires, a clearing ends, at the same windows), a clear made elsewhere applies only to the firing
// it names, and damaged stored states are refused with the path of what is wrong. Plain data;
// windows carry their own time.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";
import { encodeTriggerStates, parseTriggerStates, TriggerEngine, type TriggerEvent } from "../control-plane/src/core/triggers/index.js";
import { clusterWindow } from "./cluster-window.js";
import { p99Rule } from "./support/trigger-rules.js";

const T0 = 1_000_000;
/** One merged window of cluster a starting at T0 + i s, with a's p99. */
const window = (i: number, p99Ms: number): ClusterWindowStats[] => [clusterWindow({ cluster: "a", windowStartMs: T0 + i * 1000, windowLengthMs: 1000, p99Ms })];
const RULE = p99Rule({ name: "p99", scope: "a", forMs: 4000, clear: "auto", clearAfterMs: 4000 });

/** Feeds p99 values from window `from` on; returns each event with the window it came in. */
function feed(engine: TriggerEngine, from: number, values: readonly number[]): string[] {
  const out: string[] = [];
  values.forEach((v, k) => {
    for (const e of engine.observe([window(from + k, v)], T0 + (from + k + 1) * 1000)) out.push(`${e.kind}@${from + k}`);
  });
  return out;
}

describe("an engine that adopts shared trigger states continues where the other left off", () => {
  const HIGH = 6000;
  const LOW = 100;
  const cases: { name: string; before: number[]; after: number[]; expected: string[] }[] = [
    { name: "a hold begun elsewhere fires when its forMs is reached counting from its start", before: [HIGH, HIGH], after: [HIGH, HIGH, HIGH], expected: ["fired@3"] },
    { name: "a clearing begun elsewhere ends when its clearAfterMs is reached counting from its start", before: [HIGH, HIGH, HIGH, HIGH, LOW, LOW], after: [LOW, LOW, LOW], expected: ["cleared@7"] },
    { name: "a firing without a clearing stays in force while the condition holds", before: [HIGH, HIGH, HIGH, HIGH], after: [HIGH, HIGH], expected: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const original = new TriggerEngine([RULE]);
      feed(original, 0, c.before);
      const stored = parseTriggerStates(encodeTriggerStates(original.shared(T0)));
      assert.ok(stored.ok, stored.ok ? "" : stored.error);
      const successor = new TriggerEngine([RULE]);
      successor.adopt(stored.states);
      const continued = feed(successor, c.before.length, c.after);
      assert.deepEqual(continued, c.expected);
      assert.deepEqual(continued, feed(original, c.before.length, c.after), "the same as the engine that was not interrupted");
    });
  }

  it("a rule the states do not name is idle, and a name no longer configured is ignored", () => {
    const engine = new TriggerEngine([RULE]);
    feed(engine, 0, [HIGH, HIGH, HIGH, HIGH]);
    engine.adopt({ atMs: T0, rules: [{ name: "gone", state: { kind: "pending", since: T0, value: 1 } }] });
    assert.deepEqual(engine.statuses().map((s) => s.state.kind), ["idle"]);
  });
});

describe("a clear made elsewhere applies to the firing it names only", () => {
  const fired = (): { engine: TriggerEngine; event: TriggerEvent } => {
    const engine = new TriggerEngine([RULE]);
    const events: TriggerEvent[] = [];
    for (let i = 0; i < 4; i++) events.push(...engine.observe([window(i, 7000 + i)], T0 + (i + 1) * 1000));
    return { engine, event: events.find((e) => e.kind === "fired")! };
  };
  it("the same firing is cleared, by the actor named", () => {
    const { engine, event } = fired();
    const cleared = engine.clearFiring("p99", event.values, "ops", T0 + 9000);
    assert.equal(cleared?.clearedBy, "ops");
    assert.equal(engine.statuses()[0]!.state.kind, "idle");
  });
  it("another firing (other values) is not", () => {
    const { engine, event } = fired();
    assert.equal(engine.clearFiring("p99", { ...event.values, value: event.values.value + 1 }, "ops", T0 + 9000), undefined);
    assert.equal(engine.statuses()[0]!.state.kind, "fired");
  });
  it("a rule not fired is not", () => {
    const engine = new TriggerEngine([RULE]);
    assert.equal(engine.clearFiring("p99", { value: 1, peak: 1, threshold: 1, heldMs: 1, reason: "r" }, "ops", T0), undefined);
  });
});

describe("damaged stored trigger states are refused, naming what is wrong", () => {
  const cases: [string, string, RegExp][] = [
    ["not JSON", "{rules", /^not JSON/],
    ["no rules list", JSON.stringify({ atMs: 1 }), /expected \{atMs, rules/],
    ["a rule without a name", JSON.stringify({ atMs: 1, rules: [{ state: { kind: "pending", since: 1, value: 1 } }] }), /rules\[0\]\.name/],
    ["an unknown state", JSON.stringify({ atMs: 1, rules: [{ name: "x", state: { kind: "ajar", since: 1 } }] }), /rules\[0\]\.state\.kind: expected pending or fired, got "ajar"/],
    ["a firing without its values", JSON.stringify({ atMs: 1, rules: [{ name: "x", state: { kind: "fired", since: 1, firedAtMs: 2 } }] }), /rules\[0\]\.state\.fired: expected an object/],
    ["a clearing start that is not a number", JSON.stringify({ atMs: 1, rules: [{ name: "x", state: { kind: "fired", since: 1, firedAtMs: 2, falseSince: "soon", fired: {} } }] }), /rules\[0\]\.state\.falseSince/],
    ["a pending hold without its value", JSON.stringify({ atMs: 1, rules: [{ name: "x", state: { kind: "pending", since: 1 } }] }), /rules\[0\]\.state\.value/],
  ];
  for (const [name, text, error] of cases) {
    it(name, () => {
      const parsed = parseTriggerStates(text);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? "" : parsed.error, error);
    });
  }
});
