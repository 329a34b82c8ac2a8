import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Registry } from "prom-client";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { ControlPlaneMetrics } from "../control-plane/src/metrics/index.js";

test("every metric the Grafana dashboard queries is one the control plane exports", async () => {
  const dashboard = JSON.parse(await readFile("deploy/grafana/autoglm-control-plane.json", "utf8")) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const registry = new Registry();
  new ControlPlaneMetrics(registry, new FakeControlPlane([{ name: "a", baseWeight: 1 }]));
  const exported = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    exported.add(m.name);
    if (String(m.type) === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) exported.add(m.name + suffix);
  }
  let queried = 0;
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      for (const name of target.expr.match(/autoglm_[a-z0-9_]+/g) ?? []) {
        queried++;
        assert.ok(exported.has(name), `panel "${panel.title}" queries ${name}, which is not exported`);
      }
    }
  }
  assert.ok(queried >= 15, `the dashboard queries ${queried} metrics`);
});
