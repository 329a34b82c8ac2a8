// The control plane's side of the filter's banned-output scan (proto BodyScan): the report
// converted, the counts merged per cluster over workers, shown in the admin view, counted in the
// metrics, and the trigger condition "banned output seen" acting on them.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Registry } from "prom-client";
import { WindowAggregator } from "../control-plane/src/core/aggregator.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { clusterWindow as workerWindow } from "../control-plane/src/core/report-builder.js";
import type { ClusterWindowStats, ControlPlaneEvents, WorkerReport } from "../control-plane/src/core/types.js";
import type { BodyScanCounts } from "../control-plane/src/core/body-scan.js";
import { conditionValue, TriggerEngine, type TriggerRule } from "../control-plane/src/core/triggers/index.js";
import { readTriggers } from "../control-plane/src/config/triggers.js";
import { reportFromProto } from "../control-plane/src/grpc/convert.js";
import { windowView } from "../control-plane/src/admin/views.js";
import { bindMetrics, type EventSource } from "../control-plane/src/metrics/bind.js";
import { ControlPlaneMetrics } from "../control-plane/src/metrics/control-plane-metrics.js";
import { TelemetryReportSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { clusterWindow } from "./cluster-window.js";

const T0 = 1_700_000_000_000;

const report = (seq: number, scans: Record<string, BodyScanCounts | undefined>): WorkerReport => ({
  windowStartMs: T0,
  windowLengthMs: 1000,
  sequence: seq,
  enforcedVersion: 0,
  clusters: Object.entries(scans).map(([cluster, bodyScan]) => ({
    ...workerWindow({ cluster, latenciesMs: [10] }),
    ...(bodyScan === undefined ? {} : { bodyScan }),
  })),
});

describe("body scans merge per cluster over the workers' reports", () => {
  const cases: Array<{ name: string; reports: Array<Record<string, BodyScanCounts | undefined>>; expected: Record<string, BodyScanCounts | undefined> }> = [
    {
      name: "counts of two workers add up per cluster",
      reports: [{ a: { scanned: 10, matched: 1, compressed: 2 }, b: { scanned: 4, matched: 0, compressed: 0 } }, { a: { scanned: 5, matched: 2, compressed: 0 } }],
      expected: { a: { scanned: 15, matched: 3, compressed: 2 }, b: { scanned: 4, matched: 0, compressed: 0 } },
    },
    {
      name: "a cluster no worker scanned has no body scan (not zeros)",
      reports: [{ a: { scanned: 1, matched: 0, compressed: 0 }, b: undefined }],
      expected: { a: { scanned: 1, matched: 0, compressed: 0 }, b: undefined },
    },
    {
      name: "a worker without a deny-list adds nothing to another's counts",
      reports: [{ a: undefined }, { a: { scanned: 0, matched: 0, compressed: 7 } }],
      expected: { a: { scanned: 0, matched: 0, compressed: 7 }, b: undefined },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const agg = new WindowAggregator(["a", "b"], 2000, DEFAULT_CONFIG.aggregation);
      c.reports.forEach((r, i) => agg.ingest(`w${i}`, report(1, r), T0 + 500));
      const [closed] = agg.close(T0 + 1000 + DEFAULT_CONFIG.aggregation.closeDelayMs);
      assert.deepEqual(Object.fromEntries(closed!.map((w) => [w.cluster, w.bodyScan])), c.expected);
    });
  }
});

it("a report's BodyScan is read from the wire, and its absence stays absent", () => {
  const converted = reportFromProto(create(TelemetryReportSchema, {
    windowStartMs: BigInt(T0), windowLengthMs: 1000, sequence: 1n,
    clusters: [{ cluster: "a", requests: 1, bodyScan: { scanned: 3, matched: 1, compressed: 4_294_967_295 } }, { cluster: "b", requests: 1 }],
  }), new Set(["a", "b"]));
  assert.ok(converted.ok);
  assert.deepEqual(converted.value.clusters.map((c) => c.bodyScan), [{ scanned: 3, matched: 1, compressed: 4_294_967_295 }, undefined]);
});

it("the admin view of a window shows its body scan, or null", () => {
  assert.deepEqual(windowView(clusterWindow({ cluster: "a", bodyScan: { scanned: 9, matched: 2, compressed: 1 } })).body_scan, { scanned: 9, matched: 2, compressed: 1 });
  assert.equal(windowView(clusterWindow({ cluster: "a" })).body_scan, null);
});

describe("the trigger condition banned_output", () => {
  const at = (i: number) => ({ windowStartMs: T0 + i * 1000, windowLengthMs: 1000 });
  const window = (i: number, a?: BodyScanCounts, b?: BodyScanCounts): ClusterWindowStats[] => [
    clusterWindow({ cluster: "a", ...at(i), ...(a === undefined ? {} : { bodyScan: a }) }),
    clusterWindow({ cluster: "b", ...at(i), ...(b === undefined ? {} : { bodyScan: b }) }),
  ];
  const scan = (matched: number): BodyScanCounts => ({ scanned: 100, matched, compressed: 0 });
  const valueCases: Array<[string, string, ClusterWindowStats[], number | undefined]> = [
    ["the mesh's value is the matches summed over the clusters", "mesh", window(0, scan(2), scan(3)), 5],
    ["a cluster's value is its own matches", "b", window(0, scan(2), scan(3)), 3],
    ["a window whose bodies were scanned without a match is 0", "mesh", window(0, scan(0)), 0],
    ["a window without any body scan has no value", "mesh", window(0), undefined],
    ["a cluster without a body scan has no value though another has one", "b", window(0, scan(4)), undefined],
  ];
  for (const [name, scope, w, expected] of valueCases) {
    it(name, () => assert.equal(conditionValue({ metric: "banned_output", scope, above: 0, statistic: "mean" }, w), expected));
  }

  it("a rule from the configuration fires on the first window with a match and, manual, stays fired", () => {
    const { rules, problems } = readTriggers([{ name: "banned", when: { metric: "banned_output", scope: "a", above: 0 }, for_s: 0, action: { open: "a" }, clear: "manual" }],
      [{ name: "a", baseWeight: 1 }, { name: "b", baseWeight: 1 }]);
    assert.deepEqual(problems, []);
    const engine = new TriggerEngine(rules as TriggerRule[]);
    const marks = [scan(0), scan(0), scan(1), scan(0), scan(0)].map((a, i) => {
      const events = engine.observe([window(i, a, scan(9))], T0 + (i + 1) * 1000 + 50);
      return events.length === 0 ? "." : events.map((e) => `${e.kind}:${e.values.reason}`).join();
    });
    assert.deepEqual(marks, [".", ".", "fired:trigger banned: banned_output of a 1 > 0 for 1 s", ".", "."]);
    assert.equal(engine.statuses()[0]!.state.kind, "fired");
  });

  it("a statistic on banned_output is refused, naming the field", () => {
    const { problems } = readTriggers([{ name: "x", when: { metric: "banned_output", above: 0, statistic: "max" }, action: { halt: true } }], [{ name: "a", baseWeight: 1 }]);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^triggers\[0\]\.when\.statistic: only for the upstream-load metrics/);
  });
});

it("closed windows count banned output and scanned and compressed bodies per cluster in the metrics", async () => {
  const listeners = new Map<string, (payload: never) => void>();
  const source: EventSource = {
    on: (event, listener) => listeners.set(event, listener as (payload: never) => void),
    off: (event) => listeners.delete(event),
  };
  const registry = new Registry();
  const m = new ControlPlaneMetrics(registry, { clusterStatuses: () => [], sidecarStatuses: () => [], currentDecisions: () => ({ version: 0, halted: false }) });
  bindMetrics(source, m);
  const windows: ControlPlaneEvents["windows"] = [
    [clusterWindow({ cluster: "a", bodyScan: { scanned: 10, matched: 2, compressed: 1 } }), clusterWindow({ cluster: "b" })],
    [clusterWindow({ cluster: "a", bodyScan: { scanned: 5, matched: 1, compressed: 0 } })],
  ];
  listeners.get("windows")!(windows as never);
  const banned = await registry.getSingleMetric("autoglm_banned_output_total")!.get();
  assert.deepEqual(banned.values.map((v) => [v.labels, v.value]), [[{ cluster: "a" }, 3]]);
  const bodies = await registry.getSingleMetric("autoglm_response_bodies_total")!.get();
  assert.deepEqual(bodies.values.map((v) => [v.labels, v.value]), [[{ cluster: "a", scan: "scanned" }, 15], [{ cluster: "a", scan: "compressed" }, 1]]);
});
