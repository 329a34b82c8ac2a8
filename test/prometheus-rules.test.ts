// The alerting and recording rules in deploy/prometheus: valid (promtool check rules / check
// config), their unit tests pass (promtool test rules; autoglm-slo.test.yml proves the fast and
// slow burn alerts fire and stay quiet), and every metric they query is one the project exports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { ConfirmationMetrics, ControlPlaneMetrics, ErrorBudgetMetrics, ExportMetrics } from "../control-plane/src/metrics/index.js";
import { promtool } from "./promtool.js";

const DIR = join("deploy", "prometheus");

const runs: [string, string[]][] = [
  ["promtool check rules", ["check", "rules", join(DIR, "autoglm-alerts.yml")]],
  ["promtool test rules", ["test", "rules", join(DIR, "autoglm-alerts.test.yml")]],
  ["promtool check rules (error budgets)", ["check", "rules", join(DIR, "autoglm-slo.yml")]],
  ["promtool test rules (error budgets)", ["test", "rules", join(DIR, "autoglm-slo.test.yml")]],
  ["promtool check config", ["check", "config", join(DIR, "prometheus.yml")]],
];
for (const [what, args] of runs) {
  test(`${what} passes on deploy/prometheus`, () => {
    const result = promtool(args);
    assert.equal(result.status, 0, `${what}:\n${result.output}`);
  });
}

test("every metric the alerting rules query is exported by the control plane or the filter", async () => {
  const registry = new Registry();
  new ControlPlaneMetrics(registry, new FakeControlPlane([{ name: "a", baseWeight: 1 }]));
  new ErrorBudgetMetrics(registry, { statuses: () => [] });
  new ExportMetrics(registry);
  new ConfirmationMetrics(registry, { sidecarStatuses: () => [], haltStatus: () => ({ halted: false }), rollbackInForce: () => undefined });
  const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  // The filter's gauges on each sidecar (deploy/envoy/README.md, "expected scrape").
  for (const name of ["autoglm_fallback", "autoglm_breaker_state", "autoglm_weight", "autoglm_decision_version"]) exported.add(name);
  const rules = ["autoglm-alerts.yml", "autoglm-slo.yml"].map((f) => readFileSync(join(DIR, f), "utf8")).join("\n");
  const queried = [...rules.matchAll(/expr: (.*)/g)].flatMap((m) => m[1]!.match(/autoglm_[a-z0-9_]+/g) ?? []);
  assert.ok(queried.includes("autoglm_slo_bad_events_total"), "the error budget rules query the SLI counters");
  assert.ok(queried.length >= 5, `the rules query ${queried.length} metrics`);
  for (const name of queried) assert.ok(exported.has(name), `a rule queries ${name}, which nothing exports`);
});
