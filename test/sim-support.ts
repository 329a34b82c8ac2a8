// Shared pieces of the simulator tests (test/sim-*.test.ts): a small valid scenario to vary.
import type { Scenario } from "../sim/scenario.js";
import { parseScenario } from "../sim/scenario.js";

/** A small valid scenario file's JSON (as parsed), to copy and vary in tests. */
export function scenarioJson(): Record<string, unknown> {
  return {
    name: "test",
    description: "two clusters",
    seed: 3,
    duration_s: 60,
    window_s: 1,
    sidecars: 2,
    slo: { latency_ms: 2000, success_rate: 0.99, client_timeout_ms: 5000 },
    clusters: [
      { name: "a", weight: 50, endpoints: 4, capacity_rps: 400, latency_ms: { p50: 100, p99: 500 }, error_rate: 0.001 },
      { name: "b", weight: 50, endpoints: 4, capacity_rps: 400, latency_ms: { p50: 120, p99: 600 }, error_rate: 0.001 },
    ],
    traffic: [{ at_s: 0, rps: 100 }],
    faults: [{ at_s: 20, cluster: "a", error_rate: 0.9, for_s: 15 }],
  };
}

export function testScenario(changes: (json: Record<string, unknown>) => void = () => {}): Scenario {
  const json = scenarioJson();
  changes(json);
  return parseScenario(json, "test");
}
