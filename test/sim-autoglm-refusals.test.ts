// The autoglm policy hands a refused connection to the filter as Envoy does: the router's local
// 503 with the response flag UF (upstream connection failure; Filter::onUpstreamReset in
// source/common/router/router.cc), while a host's own 5xx carries no flag. The filter then counts
// the refusal as a reset, and every failed request once. Needs build/filter.wasm
// (`npm run build:filter`; `npm test` builds it) and fails without it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createAutoglmPolicy } from "../sim/policies/autoglm.js";
import { runScenario } from "../sim/runner.js";
import { testScenario } from "./sim-support.js";
import type { ClusterStatus } from "../control-plane/src/core/types.js";

test("a refused connection reaches the filter as Envoy's local 503 with the flag UF, a host's own 5xx without a flag", async () => {
  // 20 s at 100 requests/s: every host of a refuses connections at 5-10 s; b answers half of its
  // requests with a 500 then.
  const scenario = testScenario((j) => {
    j.duration_s = 20;
    j.faults = [
      { at_s: 5, cluster: "a", endpoints: 4, down: true, for_s: 5 },
      { at_s: 5, cluster: "b", endpoints: 4, error_rate: 0.5, for_s: 5 },
    ];
  });
  const decoder = new TextDecoder();
  const flagsByStatus = new Map<number, Set<string>>();
  const rounds: ClusterStatus[][] = [];
  const policy = await createAutoglmPolicy(scenario, scenario.seed, {
    modelPath: "",
    onStreamComplete(stream, status) {
      const raw = stream.properties?.getRaw("response\0flags");
      const seen = flagsByStatus.get(status) ?? new Set<string>();
      seen.add(raw === undefined ? "" : decoder.decode(raw));
      flagsByStatus.set(status, seen);
    },
    onRound(statuses) {
      rounds.push([...statuses]);
    },
  });
  await runScenario(scenario, policy);
  assert.deepEqual([...(flagsByStatus.get(503) ?? [])], ["UF"], "every refusal flagged UF");
  assert.deepEqual([...(flagsByStatus.get(500) ?? [])], [""], "a host's 500 carries no flag");
  // The control plane's windows of a during its outage: refusals counted as resets (and as the
  // 5xx they are), each failed request once.
  const windows = rounds.flat().filter((s) => s.cluster === "a").flatMap((s) => s.recent);
  const refused = windows.filter((w) => w.resets > 0);
  assert.ok(refused.length > 0, "some window of a holds refusals");
  for (const w of refused) {
    assert.equal(w.resets, w.errors5xx, "each refusal is a local 503 and a reset");
    assert.ok(Math.abs(w.errorRate * w.requests - w.resets) < 1e-6, `failures counted once: ${w.errorRate} of ${w.requests} with ${w.resets} refusals`);
  }
});
