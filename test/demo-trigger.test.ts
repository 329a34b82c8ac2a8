// The demo in real time with a scenario whose trigger fires (demo/scenarios/trigger-shed.json,
// shortened): every cluster fails, the trigger sheds half of the mesh's requests, the terminal
// says so at once, and it clears once the errors have ended.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { runDemo } from "../demo/run.js";
import { loadScenarioFile, projectRoot } from "../sim/scenario.js";

test("the demo's trigger scenario sheds the mesh while every cluster fails, says so, and clears after", { timeout: 200_000 }, async () => {
  const shipped = loadScenarioFile(join(projectRoot(), "demo", "scenarios", "trigger-shed.json"));
  assert.equal(shipped.triggers?.[0]?.action.kind, "shed");
  // The same story in 26 s: the clusters fail from 3 s to 12 s; the rule holds 2 s and clears 3 s after.
  const scenario = {
    ...shipped,
    duration_s: 26,
    faults: shipped.faults.map((f) => ({ ...f, at_s: 3, for_s: 9, ramp_s: 0, recover_ramp_s: 0 })),
    triggers: shipped.triggers!.map((t) => ({ ...t, forMs: 2000, clearAfterMs: 3000 })),
  };
  const lines: string[] = [];
  const summary = await runDemo({ scenario, print: (l) => lines.push(l) });
  assert.equal(summary.aborted, false);
  assert.deepEqual(summary.triggers.map((t) => [t.trigger, t.kind]), [["mesh-errors", "fired"], ["mesh-errors", "cleared"]], lines.join("\n"));
  const [fired, cleared] = summary.triggers;
  assert.ok(fired!.atS >= 3 && cleared!.atS > fired!.atS, JSON.stringify(summary.triggers));
  assert.match(fired!.reason, /error_rate of the mesh/);
  assert.ok(lines.some((l) => /^trigger mesh-errors fired at t=\d+s: .*error_rate of the mesh/.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => /^trigger mesh-errors cleared at t=\d+s: its condition no longer holds$/.test(l)), lines.join("\n"));
  assert.ok(summary.totals.failed > 0);
});
