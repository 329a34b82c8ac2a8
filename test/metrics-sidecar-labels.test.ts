// Per-sidecar metric series are bounded: at most N sidecars have their own node_id label value
// (the rest share "other"), and a sidecar's series go when its last stream disconnects, so
// /metrics does not grow with the number of sidecars that ever connected.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Registry } from "prom-client";
import { SidecarMessageSchema, TelemetryReportSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { ControlPlaneMetrics, bindMetrics } from "../control-plane/src/metrics/index.js";
import { createLogger } from "../lib/log.js";

const T0 = 1_700_000_000_000;
const logger = createLogger("test", "silent");

function setup(maxSidecarLabels?: number) {
  let now = T0;
  const cp = new ControlPlane({ clusters: [{ name: "a", baseWeight: 1 }], slo: { latencyMs: 1000, successRate: 0.99 }, now: () => now, logger });
  const registry = new Registry();
  const metrics = new ControlPlaneMetrics(registry, cp, () => now, maxSidecarLabels === undefined ? {} : { maxSidecarLabels });
  bindMetrics(cp, metrics);
  /** A sidecar that says hello, reports once and NACKs version 1. */
  const sidecar = (nodeId: string) => {
    const stream = cp.openInProcessStream({}, { onMessage: () => undefined, onClose: () => undefined });
    const send = (kind: Parameters<typeof create<typeof SidecarMessageSchema>>[1]) => stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, kind)));
    send({ kind: { case: "hello", value: { nodeId, zone: "z", clusters: ["a"] } } });
    send({ kind: { case: "report", value: create(TelemetryReportSchema, { windowStartMs: BigInt(now - 1000), windowLengthMs: 1000, sequence: 1n }) } });
    send({ kind: { case: "nack", value: { version: 1n, reason: "clusters[0].weight: bad", enforcedVersion: 0n } } });
    return stream;
  };
  const seriesOf = async (name: string) => {
    const json = await registry.getMetricsAsJSON();
    return (json.find((m) => m.name === name)?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  };
  return { cp, registry, sidecar, seriesOf, advance: (ms: number) => (now += ms) };
}

const nodeId = (i: number) => `sidecar~10.0.${Math.floor(i / 250)}.${i % 250}~reviews-v1-7d8f9c6b5-${i.toString(36).padStart(5, "x")}.bookinfo~bookinfo.svc.cluster.local`;

describe("per-sidecar metric labels", () => {
  it("200 sidecars that connect and disconnect leave /metrics as small as before", async () => {
    const h = setup();
    h.sidecar(nodeId(9999)).close();
    const before = (await h.registry.metrics()).length;
    const streams = Array.from({ length: 200 }, (_, i) => h.sidecar(nodeId(i)));
    h.advance(2000);
    const during = (await h.registry.metrics()).length;
    for (const s of streams) s.close();
    const after = (await h.registry.metrics()).length;
    assert.ok(after <= before + 1024, `/metrics grew from ${before} to ${after} bytes`);
    // While connected: bounded too (50 own labels and "other" per series).
    assert.ok(during <= before + 60_000, `/metrics with 200 sidecars connected: ${during} bytes (before ${before})`);
  });

  it("while many sidecars are connected, each per-sidecar series has at most N labelled entries plus \"other\"", async () => {
    const h = setup(10);
    for (let i = 0; i < 40; i++) h.sidecar(nodeId(i));
    h.advance(2000);
    for (const name of ["autoglm_sidecar_version_lag", "autoglm_sidecar_report_lag_seconds", "autoglm_decision_nacks_total"]) {
      const series = await h.seriesOf(name);
      assert.ok(series.length <= 11, `${name}: ${series.length} series`);
      assert.ok(series.some((s) => s.labels.node_id === "other"), `${name} has an "other" series`);
    }
    const nacks = await h.seriesOf("autoglm_decision_nacks_total");
    assert.equal(nacks.reduce((a, s) => a + s.value, 0), 40, "every NACK is counted, under its own label or \"other\"");
    const other = (await h.seriesOf("autoglm_sidecar_version_lag")).find((s) => s.labels.node_id === "other")!;
    assert.equal(other.labels.worker_id, "other");
  });

  it("a sidecar's NACK series goes when its last stream disconnects, and stays while another of its streams is connected", async () => {
    const h = setup();
    const one = h.sidecar("node-a");
    const two = h.sidecar("node-a");
    const labelled = async () => (await h.seriesOf("autoglm_decision_nacks_total")).filter((s) => s.labels.node_id === "node-a");
    assert.equal((await labelled())[0]?.value, 2);
    one.close();
    assert.equal((await labelled()).length, 1);
    two.close();
    assert.equal((await labelled()).length, 0);
  });

  it("refused reports are counted by reason", async () => {
    const h = setup();
    const stream = h.cp.openInProcessStream({}, { onMessage: () => undefined, onClose: () => undefined });
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: "n", zone: "z" } } })));
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: create(TelemetryReportSchema, { windowStartMs: 4_102_444_800_000n, windowLengthMs: 1000, sequence: 1n }) } })));
    const refused = await h.seriesOf("autoglm_reports_refused_total");
    assert.equal(refused.find((s) => s.labels.reason === "clock_ahead")?.value, 1);
    assert.equal(refused.find((s) => s.labels.reason === "histogram")?.value, 0, "every reason is exported from the start");
  });
});
