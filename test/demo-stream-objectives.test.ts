// The demo's control plane takes a scenario's stream objectives (slo.ttft_ms, slo.tpot_ms) with
// its latency objective, so a streaming demo judges TTFT and TPOT; a scenario without them has none.
import { test } from "node:test";
import assert from "node:assert/strict";
import { controlPlaneConfigFor } from "../demo/control-plane-host.js";
import { loadScenarioFile } from "../sim/scenario.js";

const cases: { file: string; slo: object }[] = [
  { file: "demo/scenarios/llm-streams.json", slo: { latencyMs: 20000, successRate: 0.99, ttftMs: 2000, tpotMs: 80 } },
  { file: "demo/scenarios/default.json", slo: { latencyMs: 2000, successRate: 0.99 } },
];

for (const c of cases) {
  test(`the demo's control plane for ${c.file} has the scenario's objectives`, () => {
    const scenario = loadScenarioFile(c.file);
    assert.deepEqual(controlPlaneConfigFor(scenario).slo, c.slo);
  });
}
