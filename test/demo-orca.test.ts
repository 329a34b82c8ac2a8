// The demo's stand-in LLM servers report their load as ORCA `endpoint-load-metrics` (TEXT form),
// which the filter reads (filter/src/core/orca.ts): the header's figures, and a real stand-in's
// responses carrying it with a fault's reduced capacity.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { orcaLoadHeader, startLlmServer } from "../demo/llm-server.js";
import { FaultTimeline } from "../sim/faults.js";
import { loadScenarioFile } from "../sim/scenario.js";

const cases: [string, number, number, string][] = [
  ["a host at a quarter of its capacity", 25, 100, "TEXT cpu_utilization=0.25, application_utilization=0.25, rps_fractional=25"],
  ["a host over its capacity (CPU capped at 1)", 150, 100, "TEXT cpu_utilization=1, application_utilization=1.5, rps_fractional=150"],
  ["a host without capacity (fully used)", 3, 0, "TEXT cpu_utilization=1, application_utilization=1, rps_fractional=3"],
];
for (const [name, rps, capacity, header] of cases) {
  test(`the ORCA header of ${name}`, () => assert.equal(orcaLoadHeader(rps, capacity), header));
}

test("a stand-in host's answers carry its load, against its share of the cluster's capacity", async () => {
  const scenario = loadScenarioFile("demo/scenarios/default.json");
  // llm-a: 200 rps over 2 hosts = 100 rps per host; a fixed clock: every arrival within the last second.
  const server = await startLlmServer({ scenario, cluster: 0, host: 0, faults: new FaultTimeline(scenario), scenarioSeconds: () => 0, latencyScale: 0, random: () => 0.5, now: () => 1_700_000_000_000 });
  try {
    const headers: string[] = [];
    for (let i = 0; i < 3; i++) {
      headers.push(await new Promise<string>((resolve, reject) => {
        const [host, port] = server.address.split(":");
        const req = request({ host, port: Number(port), method: "POST", path: "/v1/chat/completions", headers: { "content-type": "application/json" } }, (res) => {
          res.resume();
          res.on("end", () => resolve(String(res.headers["endpoint-load-metrics"])));
        });
        req.on("error", reject);
        req.end(JSON.stringify({ model: "m", messages: [] }));
      }));
    }
    assert.deepEqual(headers, [1, 2, 3].map((n) => orcaLoadHeader(n, 100)));
  } finally {
    await server.close();
  }
});
