import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { ControlPlaneMetrics, bindMetrics, reasonLabel, timedScorer } from "../control-plane/src/metrics/index.js";
import { mergedStreams, times } from "./support/streams.js";

function setup() {
  const registry = new Registry();
  const cp = new FakeControlPlane([
    { name: "llm-a", baseWeight: 60 },
    { name: "llm-b", baseWeight: 40 },
  ]);
  const metrics = new ControlPlaneMetrics(registry, cp);
  const unbind = bindMetrics(cp, metrics);
  return { registry, cp, metrics, unbind };
}

/** The value of one sample line `name{labels} value`, undefined when absent. */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const json = await registry.getMetricsAsJSON();
  const metric = json.find((m) => m.name === name);
  const values = (metric?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  const hit = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return hit?.value;
}

test("breaker state, weight and score gauges follow the control plane at scrape time", async () => {
  const { registry, cp } = setup();
  assert.equal(await sample(registry, "autoglm_cluster_breaker_state", { cluster: "llm-a", state: "closed" }), 1);
  assert.equal(await sample(registry, "autoglm_cluster_breaker_state", { cluster: "llm-a", state: "open" }), 0);
  assert.equal(await sample(registry, "autoglm_cluster_weight", { cluster: "llm-a" }), 60);
  cp.openBreaker("llm-a", "error rate 0.31 > 0.05", 0.9);
  assert.equal(await sample(registry, "autoglm_cluster_breaker_state", { cluster: "llm-a", state: "open" }), 1);
  assert.equal(await sample(registry, "autoglm_cluster_breaker_state", { cluster: "llm-a", state: "closed" }), 0);
  assert.equal(await sample(registry, "autoglm_cluster_weight", { cluster: "llm-a" }), 0);
  assert.equal(await sample(registry, "autoglm_cluster_anomaly_score", { cluster: "llm-a" }), 0.9);
});

test("window rates and latency quantiles are exported, latency in seconds", async () => {
  const { registry, cp } = setup();
  assert.equal(await sample(registry, "autoglm_cluster_window_latency_seconds", { cluster: "llm-b" }), undefined, "no window yet: no sample");
  cp.addWindow("llm-b", { rps: 42, errorRate: 0.125, p50Ms: 200, p95Ms: 700, p99Ms: 1500 });
  assert.equal(await sample(registry, "autoglm_cluster_window_requests_per_second", { cluster: "llm-b" }), 42);
  assert.equal(await sample(registry, "autoglm_cluster_window_error_ratio", { cluster: "llm-b" }), 0.125);
  assert.equal(await sample(registry, "autoglm_cluster_window_latency_seconds", { cluster: "llm-b", percentile: "p99" }), 1.5);
  assert.equal(await sample(registry, "autoglm_cluster_window_latency_seconds", { cluster: "llm-b", percentile: "p50" }), 0.2);
});

test("transitions, decisions, halts and overrides are counted from the events", async () => {
  const { registry, cp, unbind } = setup();
  cp.openBreaker("llm-b", "p99 2300ms > slo 2000ms");
  cp.halt("incident", "ops");
  cp.resume("fixed", "ops");
  cp.setOverride({ cluster: "llm-a", state: "open", reason: "drain", actor: "ops" });
  assert.equal(await sample(registry, "autoglm_breaker_transitions_total", { cluster: "llm-b", from: "closed", to: "open", reason: "pN Nms > slo Nms" }), 1);
  assert.equal(await sample(registry, "autoglm_decision_sets_total", { halted: "false" }), 3);
  assert.equal(await sample(registry, "autoglm_decision_sets_total", { halted: "true" }), 1);
  assert.equal(await sample(registry, "autoglm_halts_total", { action: "halt" }), 1);
  assert.equal(await sample(registry, "autoglm_halts_total", { action: "resume" }), 1);
  assert.equal(await sample(registry, "autoglm_mesh_halted"), 0);
  unbind();
  cp.openBreaker("llm-a", "x");
  assert.equal(await sample(registry, "autoglm_breaker_transitions_total", { cluster: "llm-a" }), undefined, "unbound: not counted");
});

test("sidecar streams, reports and nacks are counted", async () => {
  const { registry, cp } = setup();
  const status = {
    streamId: "s1", transport: "grpc" as const, peer: "p", nodeId: "sidecar-1", zone: "z", workerId: 0, instanceId: "1",
    filterVersion: "0", connectedAtMs: 0, ackedVersion: 1, rejectedVersion: 2, rejectReason: "clusters[0].weight: bad",
    enforcedVersion: 1, lagVersions: 1, refusing: true, reports: 0, duplicates: 0, lateReports: 0, droppedPushes: 0,
  };
  cp.sidecars.push(status);
  cp.emit("sidecar", { kind: "connected", status });
  cp.emit("report", { streamId: "s1", nodeId: "sidecar-1", windowStartMs: 0, outcome: "accepted", atMs: 0 });
  cp.emit("report", { streamId: "s1", nodeId: "sidecar-1", windowStartMs: 0, outcome: "duplicate", atMs: 0 });
  cp.emit("nack", { streamId: "s1", nodeId: "sidecar-1", version: 2, reason: "bad", enforcedVersion: 1, atMs: 0 });
  cp.openBreaker("llm-a", "x");
  assert.equal(await sample(registry, "autoglm_sidecars_connected", { transport: "grpc" }), 1);
  assert.equal(await sample(registry, "autoglm_sidecars_rejecting"), 1);
  assert.equal(await sample(registry, "autoglm_grpc_streams_opened_total", { transport: "grpc" }), 1);
  assert.equal(await sample(registry, "autoglm_reports_total", { outcome: "accepted" }), 1);
  assert.equal(await sample(registry, "autoglm_reports_total", { outcome: "duplicate" }), 1);
  assert.equal(await sample(registry, "autoglm_decision_nacks_total", { node_id: "sidecar-1" }), 1);
  assert.equal(await sample(registry, "autoglm_grpc_messages_sent_total", { kind: "decisions" }), 1);
  assert.equal(await sample(registry, "autoglm_sidecar_version_lag", { node_id: "sidecar-1", worker_id: "0" }), 1);
});

test("a timed scorer records one inference observation per call", async () => {
  const { registry, metrics } = setup();
  const scorer = timedScorer({ name: "onnx", score: async () => new Map() }, metrics);
  await scorer.score(new Map(), 0);
  await scorer.score(new Map(), 0);
  const text = await registry.getSingleMetricAsString("autoglm_model_inference_duration_seconds");
  assert.match(text, /^autoglm_model_inference_duration_seconds_count\{scorer="onnx"\} 2$/m);
});

test("every metric name carries its unit or _total and has help text", async () => {
  const { registry } = setup();
  for (const m of await registry.getMetricsAsJSON()) {
    if (/^(process|nodejs)_/.test(m.name)) continue; // prom-client's default metrics
    assert.match(m.name, /^autoglm_/);
    assert.ok(m.help.length > 10, `${m.name} has help`);
    if (String(m.type) === "counter") assert.match(m.name, /_total$/);
    if (String(m.type) === "histogram") assert.match(m.name, /_seconds$/);
    if (/latency|lag_seconds|duration/.test(m.name)) assert.match(m.name, /_seconds(_total)?$/);
  }
});

const reasonCases: [string, string][] = [
  ["p99 2300ms > slo 2000ms", "pN Nms > slo Nms"],
  ["error rate 0.31 > 0.05", "error rate N > N"],
  ["", "none"],
];
for (const [reason, label] of reasonCases) {
  test(`the reason "${reason}" becomes the bounded label "${label}"`, () => {
    assert.equal(reasonLabel(reason), label);
  });
}

test("the registry carries prom-client's process and Node.js metrics unless turned off", async () => {
  const { registry } = setup();
  const names = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  for (const name of ["process_cpu_seconds_total", "process_start_time_seconds", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
    assert.ok(names.has(name), `${name} is exported`);
  }
  const bare = new Registry();
  new ControlPlaneMetrics(bare, new FakeControlPlane([{ name: "a", baseWeight: 1 }]), Date.now, { processMetrics: false });
  assert.ok((await bare.getMetricsAsJSON()).every((m) => m.name.startsWith("autoglm_")));
});

test("each cluster's streams in its last window are exported: TTFT, TPOT and max gap in seconds, counts, tokens per second", async () => {
  const { registry, cp } = setup();
  const streams = mergedStreams({ ttftMs: [...times(99, 200), 2500], tpotMs: times(100, 30), maxGapMs: times(100, 90), cut: 4, failedInStream: 2, tokensOut: 5000 }, { ttftMs: 1000, tpotMs: 50 });
  cp.addWindow("llm-a", { streams });
  cp.addWindow("llm-b", {});
  const cases: [name: string, labels: Record<string, string>, value: number | undefined][] = [
    ["autoglm_stream_ttft_seconds", { cluster: "llm-a", percentile: "p99" }, streams.ttftP99Ms / 1000],
    ["autoglm_stream_ttft_seconds", { cluster: "llm-a", percentile: "p50" }, streams.ttftP50Ms / 1000],
    ["autoglm_stream_tpot_seconds", { cluster: "llm-a", percentile: "p99" }, streams.tpotP99Ms / 1000],
    ["autoglm_stream_max_gap_seconds", { cluster: "llm-a", percentile: "p99" }, streams.maxGapP99Ms / 1000],
    ["autoglm_stream_window_streams", { cluster: "llm-a" }, 100],
    ["autoglm_stream_window_cut", { cluster: "llm-a" }, 4],
    ["autoglm_stream_window_failed_in_stream", { cluster: "llm-a" }, 2],
    ["autoglm_stream_window_tokens_per_second", { cluster: "llm-a" }, 5000],
    ["autoglm_stream_window_over_objective", { cluster: "llm-a", objective: "ttft" }, 1],
    ["autoglm_stream_window_over_objective", { cluster: "llm-a", objective: "tpot" }, 0],
    ["autoglm_stream_window_streams", { cluster: "llm-b" }, undefined],
    ["autoglm_stream_ttft_seconds", { cluster: "llm-b", percentile: "p99" }, undefined],
  ];
  for (const [name, labels, value] of cases) assert.equal(await sample(registry, name, labels), value, `${name} ${JSON.stringify(labels)}`);
  assert.ok(streams.tpotP99Ms > 25 && streams.tpotP99Ms < 35, "TPOT p99 near the 30 ms of every stream");
});
