// Triggers in scenario files (sim/triggers.ts): the `triggers` field is read with the control
// plane's own rules and refused naming the field; `bench scenarios` runs them in the autoglm
// policy and shows each firing and clearing; the demo's trigger scenario sheds the mesh.
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { command } from "../cli/commands/bench-scenarios.js";
import { runJob } from "../sim/job.js";
import { resultsMarkdown } from "../sim/markdown.js";
import { loadScenarioFile, parseScenario, projectRoot, ScenarioError } from "../sim/scenario.js";
import { triggerLines, type SimTriggerEvent } from "../sim/triggers.js";

const TRIGGER_SCENARIO = join(projectRoot(), "demo", "scenarios", "trigger-shed.json");

/** The shipped trigger scenario with `over` in place of top-level fields. */
function scenarioWith(over: Record<string, unknown>): unknown {
  return { ...(JSON.parse(readFileSync(TRIGGER_SCENARIO, "utf8")) as Record<string, unknown>), ...over };
}

function problems(value: unknown): string[] {
  try {
    parseScenario(value, "t.json");
  } catch (error) {
    assert.ok(error instanceof ScenarioError);
    return error.problems;
  }
  return [];
}

describe("a scenario's triggers field", () => {
  it("is read into the control plane's rules", () => {
    const s = loadScenarioFile(TRIGGER_SCENARIO);
    assert.deepEqual(s.triggers, [
      { name: "mesh-errors", condition: { metric: "error_rate", scope: "mesh", above: 0.25, statistic: "mean" }, forMs: 5000, action: { kind: "shed", fraction: 0.5 }, clear: "auto", clearAfterMs: 10_000 },
    ]);
  });
  it("is optional: a scenario without one has none", () => {
    const { triggers: _t, ...without } = scenarioWith({}) as Record<string, unknown>;
    assert.equal(parseScenario(without).triggers, undefined);
  });
  const cases: [name: string, triggers: unknown, problem: RegExp][] = [
    ["an unknown cluster", [{ name: "x", when: { metric: "error_rate", above: 0.2 }, action: { open: "llm-z" } }], /^triggers\[0\]\.action\.open: unknown cluster "llm-z"; configured: llm-a, llm-b, llm-c$/],
    ["an unknown metric", [{ name: "x", when: { metric: "qps", above: 1 }, action: { halt: true } }], /^triggers\[0\]\.when\.metric/],
    ["not a list", { name: "x" }, /^triggers/],
  ];
  for (const [name, triggers, problem] of cases) {
    it(`with ${name} is refused naming the field`, () => {
      const found = problems(scenarioWith({ triggers }));
      assert.ok(found.some((p) => problem.test(p)), found.join("\n"));
    });
  }
});

describe("bench scenarios runs a scenario's triggers", () => {
  it("the autoglm policy sheds the mesh while every cluster fails, then clears; the report and the table say when and why", async () => {
    const scenario = loadScenarioFile(TRIGGER_SCENARIO);
    const autoglm = await runJob({ scenario, policy: "autoglm" });
    const none = await runJob({ scenario, policy: "none" });
    assert.ok(autoglm.ok && none.ok);
    const events = autoglm.report.triggers ?? [];
    assert.deepEqual(events.map((e) => [e.trigger, e.kind, e.action, e.fraction]), [["mesh-errors", "fired", "shed", 0.5], ["mesh-errors", "cleared", "shed", 0.5]]);
    const [fired, cleared] = events as [SimTriggerEvent, SimTriggerEvent];
    // The clusters fail from 20 s; the rule holds 5 s; it clears 10 s after the errors end (53 s).
    assert.ok(fired.at_s > 25 && fired.at_s < 50, `fired at ${fired.at_s}`);
    assert.ok(fired.value > 0.25, `value ${fired.value}`);
    assert.ok(cleared.at_s >= 60, `cleared at ${cleared.at_s}`);
    assert.equal(none.report.triggers, undefined, "a baseline runs no triggers");
    const table = resultsMarkdown([{ name: scenario.name, policies: { autoglm: autoglm.report, none: none.report } }], "test", 1);
    assert.match(table, /\nTriggers:\n\n- demo-trigger-shed × autoglm: mesh-errors fired at [\d.]+ s: shed 50% of the mesh \(value 0\.\d+ > 0\.25\)\n- demo-trigger-shed × autoglm: mesh-errors cleared at [\d.]+ s\n$/);
  });

  it("the command's results show the triggered shed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sim-triggers-"));
    const err = process.stderr.write.bind(process.stderr);
    const out = process.stdout.write.bind(process.stdout);
    process.stderr.write = (() => true) as typeof process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      const code = await command.run([TRIGGER_SCENARIO, "--policies", "autoglm", "--workers", "1", "--out", dir]);
      assert.equal(code, 0);
      assert.match(readFileSync(join(dir, "results.md"), "utf8"), /- demo-trigger-shed × autoglm: mesh-errors fired at [\d.]+ s: shed 50% of the mesh/);
    } finally {
      process.stderr.write = err;
      process.stdout.write = out;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("each event reads as one line", () => {
    const events: SimTriggerEvent[] = [
      { trigger: "p99", kind: "fired", action: "halt", at_s: 12, value: 6120.4, threshold: 5000 },
      { trigger: "b-err", kind: "fired", action: "open", cluster: "llm-b", at_s: 14.5, value: 0.3333, threshold: 0.2 },
      { trigger: "a-cpu", kind: "fired", action: "shed", cluster: "llm-a", fraction: 0.3, at_s: 20, value: 0.97, threshold: 0.95 },
      { trigger: "p99", kind: "cleared", action: "halt", at_s: 40, value: 6120.4, threshold: 5000 },
    ];
    assert.deepEqual(triggerLines(events), [
      "p99 fired at 12 s: halt the mesh (value 6120 > 5000)",
      "b-err fired at 14.5 s: open llm-b (value 0.333 > 0.2)",
      "a-cpu fired at 20 s: shed 30% of llm-a (value 0.97 > 0.95)",
      "p99 cleared at 40 s",
    ]);
  });
});
