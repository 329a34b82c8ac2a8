// `promtool check metrics` (Prometheus's exposition linter) on what the control plane's /metrics
// and the local sidecar's /metrics serve, with every kind of series present.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { ControlPlaneMetrics, ErrorBudgetMetrics, ExportMetrics, alertMetricsHooks, bindMetrics, timedScorer } from "../control-plane/src/metrics/index.js";
import { ErrorBudgetTracker } from "../control-plane/src/core/error-budget/index.js";
import { DEFAULT_BURN_ALERTS } from "../control-plane/src/config/error-budgets.js";
import { startSidecar } from "../sidecar/index.js";
import { promtool } from "./promtool.js";
import { mergedStreams } from "./support/streams.js";

function assertLintClean(what: string, text: string): void {
  const result = promtool(["check", "metrics"], text);
  assert.equal(result.status, 0, `promtool check metrics on ${what}:\n${result.output}`);
}

test("promtool check metrics passes on the control plane's /metrics", async () => {
  const registry = new Registry();
  const cp = new FakeControlPlane([
    { name: "llm-a", baseWeight: 60 },
    { name: "llm-b", baseWeight: 40 },
  ]);
  const metrics = new ControlPlaneMetrics(registry, cp);
  bindMetrics(cp, metrics);
  cp.addWindow("llm-a", { rps: 10, errorRate: 0.5, p50Ms: 200, p95Ms: 700, p99Ms: 1500, streams: mergedStreams({ ttftMs: [200, 300, 2500], tpotMs: [20, 30, 90], maxGapMs: [80, 90, 900], cut: 1, failedInStream: 1, tokensOut: 600 }, { ttftMs: 1000, tpotMs: 50 }) });
  cp.openBreaker("llm-a", "error rate 0.5 > 0.05", 0.9);
  await timedScorer({ name: "onnx", score: async () => new Map() }, metrics).score(new Map(), 0);
  metrics.modelFallbacks.inc({ reason: "load_failed" });
  const alertHooks = alertMetricsHooks(metrics);
  const alert = { kind: "breaker_open", cluster: "llm-a", severity: "critical", summary: "s", atMs: 0, details: {} } as const;
  alertHooks.onAlert(alert, "routed");
  alertHooks.onDelivery({ channel: "oncall-mail", type: "email", message: { id: "1", alert, suppressedSinceLast: 0 }, outcome: "sent", attempts: 1, detail: "" });
  alertHooks.onRetry("oncall-mail");
  // Error budgets and audit export metrics, with series.
  const tracker = new ErrorBudgetTracker(
    { objective: 0.99, clusterObjectives: new Map(), periodMs: 30 * 86_400_000, alerts: DEFAULT_BURN_ALERTS, countLocalRejects: true, persistIntervalMs: 300_000 },
    ["llm-a", "llm-b"],
  );
  const budgetMetrics = new ErrorBudgetMetrics(registry, { statuses: () => tracker.statuses(0) });
  budgetMetrics.countWindow([{ scope: "mesh", good: 90, total: 100 }, { scope: "llm-a", good: 40, total: 50 }, { scope: "llm-b", good: 50, total: 50 }]);
  const exportMetrics = new ExportMetrics(registry);
  exportMetrics.active.inc();
  exportMetrics.bytes.inc(65536);
  exportMetrics.duration.observe({ outcome: "done" }, 0.3);
  exportMetrics.refused.inc({ limit: "max_concurrent" });
  const text = await registry.metrics();
  for (const name of ["autoglm_error_budget_remaining_ratio", "autoglm_error_budget_burn_rate", "autoglm_slo_bad_events_total", "autoglm_audit_export_duration_seconds_bucket", "autoglm_audit_exports_refused_total"]) {
    assert.match(text, new RegExp(`^${name}\\{`, "m"));
  }
  for (const name of ["autoglm_stream_ttft_seconds", "autoglm_stream_tpot_seconds", "autoglm_stream_max_gap_seconds", "autoglm_stream_window_streams", "autoglm_stream_window_tokens_per_second", "autoglm_stream_window_over_objective"]) {
    assert.match(text, new RegExp(`^${name}\\{`, "m"), `${name} has series`);
  }
  for (const name of ["autoglm_alerts_total", "autoglm_alert_deliveries_total", "autoglm_alert_delivery_retries_total"]) assert.match(text, new RegExp(`^${name}\\{`, "m"));
  assertLintClean("the control plane", text);
});

test("promtool check metrics passes on the local sidecar's /metrics, filter metrics included", async () => {
  const upstream = http.createServer((_req, res) => {
    res.writeHead(500, { "content-type": "text/plain" });
    res.end("boom");
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const port = (upstream.address() as AddressInfo).port;
  const sidecar = await startSidecar({
    listen: "127.0.0.1:0",
    workers: 1,
    filter: {
      wasm: "build/filter.wasm",
      configuration: { node_id: "sidecar-lint", clusters: [{ name: "llm-a", weight: 60 }, { name: "llm-b", weight: 40 }], fail_open: true },
    },
    clusters: [
      { name: "llm-a", endpoints: [`127.0.0.1:${port}`] },
      { name: "llm-b", endpoints: [`127.0.0.1:${port}`] },
    ],
    default_cluster: "llm-a",
    metrics: { listen: "127.0.0.1:0" },
  });
  try {
    for (let i = 0; i < 4; i++) assert.equal((await fetch(`${sidecar.url}/v1/chat/completions`)).status, 500);
    const text = await (await fetch(`${sidecar.metricsUrl}/metrics`)).text();
    assert.match(text, /_bucket\{/, "the filter's latency histogram is there");
    assertLintClean("the sidecar", text);
  } finally {
    await sidecar.close();
    await new Promise<void>((r) => upstream.close(() => r()));
  }
});
