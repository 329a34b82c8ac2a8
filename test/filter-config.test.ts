// The filter's plugin configuration: what proxy_on_configure accepts, and that every bad one is
// refused with one critical log naming every bad field and what was expected (never a trap).
import { test } from "node:test";
import assert from "node:assert/strict";
import { PluginTester } from "../filter/host/index.js";
import { BASE_CONFIG, FILTER_WASM, seeded, startFilter } from "./filter-support.js";

/** Starts the filter with `configuration`; resolves to the rejection message, or null when accepted. */
async function rejection(configuration: unknown): Promise<string | null> {
  try {
    const t = await PluginTester.start({
      wasm: FILTER_WASM,
      configuration: typeof configuration === "string" ? configuration : (configuration as object),
      logLevel: "critical", // the rejection's critical log is part of the start error
    });
    const trapped = t.plugin.restarts;
    t.close();
    assert.equal(trapped, 0, "no trap");
    return null;
  } catch (e) {
    const message = (e as Error).message;
    assert.doesNotMatch(message, /trap|unreachable|RuntimeError/i, `a rejection, not a trap: ${message}`);
    return message;
  }
}

const withClusters = (clusters: unknown): object => ({ ...BASE_CONFIG, clusters });

const badConfigs: Array<{ name: string; config: unknown; expect: RegExp }> = [
  { name: "an empty configuration", config: "", expect: /\(configuration\): expected an object/ },
  { name: "text that is not JSON", config: "{node_id: x}", expect: /\(configuration\): invalid JSON: expected a string key, found .n. at line 1, column 2/ },
  { name: "a JSON array", config: "[]", expect: /\(configuration\): expected an object, got an array/ },
  { name: "a missing node_id", config: { clusters: BASE_CONFIG.clusters }, expect: /node_id: required \(or Envoy's node\.id\)/ },
  { name: "an empty node_id", config: { ...BASE_CONFIG, node_id: "" }, expect: /node_id: expected a non-empty string/ },
  { name: "a numeric node_id", config: { ...BASE_CONFIG, node_id: 7 }, expect: /node_id: expected a string, got 7/ },
  { name: "missing clusters", config: { node_id: "n" }, expect: /clusters: expected an array, got nothing/ },
  { name: "an empty cluster list", config: withClusters([]), expect: /clusters: expected 1 to 64 clusters, got 0/ },
  { name: "a cluster without a name", config: withClusters([{ weight: 1 }]), expect: /clusters\[0\]\.name: expected a non-empty string/ },
  { name: "a weight given as text", config: withClusters([{ name: "a", weight: "5" }]), expect: /clusters\[0\]\.weight: expected an integer 0\.\.4294967295, got "5"/ },
  { name: "a negative weight", config: withClusters([{ name: "a", weight: -1 }]), expect: /clusters\[0\]\.weight: expected an integer/ },
  { name: "a fractional weight", config: withClusters([{ name: "a", weight: 1.5 }]), expect: /clusters\[0\]\.weight: expected an integer/ },
  { name: "weights summing to zero", config: withClusters([{ name: "a", weight: 0 }]), expect: /clusters: expected a weight > 0, got all 0/ },
  { name: "a repeated cluster name", config: withClusters([{ name: "a", weight: 1 }, { name: "a", weight: 1 }]), expect: /clusters\[1\]\.name: expected a unique name, got "a" again/ },
  { name: "a window too short", config: { ...BASE_CONFIG, window_ms: 1 }, expect: /window_ms: expected an integer 10\.\.3600000, got 1/ },
  { name: "a failure rate above 1", config: { ...BASE_CONFIG, fallback: { failure_rate: 1.5 } }, expect: /fallback\.failure_rate: expected a number in \(0, 1\], got 1\.5/ },
  { name: "a zero failure rate", config: { ...BASE_CONFIG, fallback: { failure_rate: 0 } }, expect: /fallback\.failure_rate: expected a number in \(0, 1\]/ },
  { name: "zero probe requests", config: { ...BASE_CONFIG, fallback: { probe_requests: 0 } }, expect: /fallback\.probe_requests: expected an integer 1\.\.100000, got 0/ },
  { name: "a misspelt fallback option", config: { ...BASE_CONFIG, fallback: { failure_ratio: 0.5 } }, expect: /fallback\.failure_ratio: unknown field/ },
  { name: "an unknown top-level field", config: { ...BASE_CONFIG, colour: "blue" }, expect: /colour: unknown field/ },
  { name: "a control_plane that is not an object", config: { ...BASE_CONFIG, control_plane: "cp" }, expect: /control_plane: expected an object, got "cp"/ },
  { name: "an empty control-plane cluster", config: { ...BASE_CONFIG, control_plane: { cluster: "" } }, expect: /control_plane\.cluster: expected a non-empty string/ },
  { name: "a zero timeout", config: { ...BASE_CONFIG, control_plane: { timeout_ms: 0 } }, expect: /control_plane\.timeout_ms: expected an integer 1\.\.3600000, got 0/ },
  { name: "a reconnect cap below the base", config: { ...BASE_CONFIG, control_plane: { reconnect_base_ms: 5000, reconnect_max_ms: 100 } }, expect: /control_plane\.reconnect_max_ms: expected >= reconnect_base_ms \(5000\), got 100/ },
  { name: "an upper-case header name", config: { ...BASE_CONFIG, headers: { cluster: "X-Cluster" } }, expect: /headers\.cluster: expected a lower-case header name/ },
  { name: "an empty cluster header", config: { ...BASE_CONFIG, headers: { cluster: "" } }, expect: /headers\.cluster: expected a non-empty string/ },
  { name: "latency_header given as text", config: { ...BASE_CONFIG, latency_header: "yes" }, expect: /latency_header: expected a boolean, got "yes"/ },
  { name: "fail_open given as a number", config: { ...BASE_CONFIG, fail_open: 1 }, expect: /fail_open: expected a boolean, got 1/ },
  { name: "banned_output given as one string", config: { ...BASE_CONFIG, banned_output: "secret" }, expect: /banned_output: expected at most 32 strings of 1-128 bytes, got "secret"/ },
  { name: "banned_output with 33 literals", config: { ...BASE_CONFIG, banned_output: Array.from({ length: 33 }, (_, i) => `w${i}`) }, expect: /banned_output: expected at most 32 strings of 1-128 bytes, got an array/ },
  { name: "an empty banned literal", config: { ...BASE_CONFIG, banned_output: ["ok", ""] }, expect: /banned_output\[1\]: expected at most 32 strings of 1-128 bytes, got ""/ },
  { name: "a banned literal of 129 bytes", config: { ...BASE_CONFIG, banned_output: ["é".repeat(64) + "x"] }, expect: /banned_output\[0\]: expected at most 32 strings of 1-128 bytes/ },
  { name: "a banned literal that is a number", config: { ...BASE_CONFIG, banned_output: [7] }, expect: /banned_output\[0\]: expected at most 32 strings of 1-128 bytes, got 7/ },
];

test("a deny-list at its bounds (32 literals, 128 bytes each) is accepted", async () => {
  const words = Array.from({ length: 32 }, (_, i) => String(i).padEnd(128, "x"));
  words[0] = "é".repeat(64);
  assert.equal(await rejection({ ...BASE_CONFIG, banned_output: words }), null);
});

for (const c of badConfigs) {
  test(`a configuration with ${c.name} is rejected naming the field`, async () => {
    const message = await rejection(c.config);
    assert.ok(message !== null, "rejected");
    assert.match(message, /invalid plugin configuration/);
    assert.match(message, c.expect);
  });
}

test("every problem of a configuration is reported at once, in one log line", async () => {
  const message = await rejection({
    node_id: 7,
    colour: "blue",
    window_ms: 1,
    control_plane: { authority: "a|b", reconnect_base_ms: 0 },
    clusters: [{ name: "a", weight: "5" }, 3, { name: "a", weight: 1 }, { weight: 1 }],
    hosts: ["ok.example", "Upper.example"],
    headers: { cluster: "X-Cluster", node: "" },
    fallback: { failure_rate: 2, probe_requests: 0, failure_ratio: 0.5 },
    fast_trip: { hold_ms: -1 },
    fail_open: 1,
  });
  assert.ok(message !== null, "rejected");
  const line = /invalid plugin configuration: (.*)/.exec(message)?.[1] ?? "";
  const problems = line.split("; ").map((p) => p.replace(/:.*/s, ""));
  assert.deepEqual(problems, [
    "colour",
    "node_id",
    "control_plane.authority",
    "control_plane.reconnect_base_ms",
    "window_ms",
    "clusters[0].weight",
    "clusters[1]",
    "clusters[2].name",
    "clusters[3].name",
    "hosts[1]",
    "headers.cluster",
    "headers.node",
    "fallback.failure_ratio",
    "fallback.failure_rate",
    "fallback.probe_requests",
    "fast_trip.hold_ms",
    "fail_open",
  ]);
});

const dependentChecks: Array<{ name: string; config: object; absent: RegExp }> = [
  {
    name: "a bad reconnect base does not also blame the cap",
    config: { ...BASE_CONFIG, control_plane: { reconnect_base_ms: "x", reconnect_max_ms: 100 } },
    absent: /reconnect_max_ms/,
  },
  {
    name: "a cluster with a bad weight does not also make the weights sum to zero",
    config: withClusters([{ name: "a", weight: -1 }]),
    absent: /clusters: expected a weight > 0/,
  },
  {
    name: "two clusters without a name are not called duplicates",
    config: withClusters([{ weight: 1 }, { weight: 1 }]),
    absent: /expected a unique name/,
  },
];

for (const c of dependentChecks) {
  test(`a check that depends on another field stays quiet when that field is bad: ${c.name}`, async () => {
    const message = await rejection(c.config);
    assert.ok(message !== null, "rejected");
    assert.doesNotMatch(message, c.absent);
  });
}

test("the full documented configuration is accepted", async () => {
  const full = {
    node_id: "sidecar-1", zone: "zone-a",
    control_plane: { cluster: "autoglm-control-plane", timeout_ms: 5000, token: "" },
    window_ms: 1000,
    clusters: [{ name: "llm-a", weight: 50 }, { name: "llm-b", weight: 50 }],
    headers: { cluster: "x-autoglm-cluster", explicit_cluster: "x-autoglm-target" },
    latency_header: false,
    fallback: { failure_rate: 0.5, min_requests: 20, slow_call_ms: 0, slow_call_rate: 0.5, open_ms: 5000, probe_requests: 10 },
    fail_open: true,
  };
  assert.equal(await rejection(full), null);
});

test("configured header names are used", async () => {
  const { t } = await startFilter({ ...BASE_CONFIG, headers: { cluster: "x-route-to", explicit_cluster: "x-pin", node: "x-n", version: "x-v" } });
  try {
    const x = t.request({ headers: { "x-pin": "llm-b" } });
    assert.equal(x.requestHeaders["x-route-to"], "llm-b");
    assert.equal(x.requestHeaders["x-n"], "sidecar-1");
    assert.equal(x.requestHeaders["x-v"], "0");
    assert.equal(x.requestHeaders["x-autoglm-cluster"], undefined);
  } finally {
    t.close();
  }
});

test("random configurations are accepted or rejected, never trapped on", async () => {
  const random = seeded(20260101);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const values: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, "", "x", "llm-a", [], {}, [1, 2], { name: "a" }, 4294967296];
  const keys = ["node_id", "zone", "control_plane", "window_ms", "clusters", "headers", "latency_header", "fallback",
    "fail_open", "decision_check_ms", "retry_after_s", "banned_output", "weird"];
  let accepted = 0;
  for (let i = 0; i < 40; i++) {
    const config: Record<string, unknown> = { ...BASE_CONFIG };
    const mutations = 1 + Math.floor(random() * 3);
    for (let m = 0; m < mutations; m++) config[pick(keys)] = pick(values);
    const text = random() < 0.2 ? JSON.stringify(config).slice(0, Math.floor(random() * 80)) : JSON.stringify(config);
    const message = await rejection(text);
    if (message === null) accepted++;
    else assert.match(message, /invalid plugin configuration: \S+: /, message);
  }
  assert.ok(accepted < 40, "most mutations are rejected");
});
