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

/** The llm block of llmScenario's cluster, before overrides. */
export const LLM_DEFAULTS = {
  stream_fraction: 1, ttft_ms: { p50: 300, p99: 1200 }, tpot_ms: { p50: 25, p99: 60 },
  output_tokens: { p50: 100, p99: 400 }, tokens_per_event: 4,
};

/**
 * A one-cluster scenario whose every request streams (60 s at 10 requests/s, capacity 200/s,
 * no errors, SLO ttft_ms 2000 and tpot_ms 100), its llm block changed by `llm`, then the JSON by `changes`.
 */
export function llmScenario(llm: Record<string, unknown>, changes: (json: Record<string, unknown>) => void = () => {}): Scenario {
  const json: Record<string, unknown> = {
    name: "llm-test",
    seed: 5,
    duration_s: 60,
    window_s: 1,
    sidecars: 1,
    slo: { latency_ms: 60000, success_rate: 0.99, client_timeout_ms: 10000, ttft_ms: 2000, tpot_ms: 100 },
    clusters: [
      { name: "a", weight: 1, endpoints: 1, capacity_rps: 200, latency_ms: { p50: 100, p99: 500 }, error_rate: 0, llm: { ...LLM_DEFAULTS, ...llm } },
    ],
    traffic: [{ at_s: 0, rps: 10 }],
  };
  changes(json);
  return parseScenario(json, "llm-test");
}
