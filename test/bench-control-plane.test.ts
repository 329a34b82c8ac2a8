// `autoglm bench control-plane` end to end at a small scale: the control plane, a fleet of
// simulated sidecar streams in a child process over real gRPC, and the figures it reports.
// Real time (runs in the serial phase of scripts/run-tests.mjs); no figure is asserted against a
// speed target here (benchmarks print figures, tests check behaviour).
import { test } from "node:test";
import assert from "node:assert/strict";
import { runControlPlaneBench } from "../cli/commands/bench-control-plane.js";
import { controlPlaneBenchChart } from "../cli/commands/bench-control-plane-chart.js";

test("bench control-plane: 20 streams report for 8 s, every report arrives, every decision set reaches every stream", async () => {
  const lines: string[] = [];
  // A cluster failing 3 s of every 6: decision sets change (breaker opens, then probes) within 8 s.
  const { figures: result, series } = await runControlPlaneBench(20, 8, (line) => lines.push(line), { faultEveryS: 6, faultOnS: 3 });
  assert.equal(result.sidecars, 20);
  // 20 streams, one report a second each (late ones folded in count too).
  assert.ok(result.reports_per_s >= 10 && result.reports_per_s <= 30, `reports_per_s ${result.reports_per_s}\n${lines.join("\n")}`);
  assert.equal(result.errors, 0, lines.join("\n"));
  for (const key of ["decision_p99_ms", "push_p99_ms", "control_plane_loop_delay_p99_ms", "idle_process_loop_delay_p99_ms"] as const) {
    const value = result[key];
    assert.ok(typeof value === "number" && Number.isFinite(value) && value >= 0, `${key}: ${value}`);
  }
  assert.ok(result.rss_mb > 0);
  assert.ok(lines.some((l) => l.startsWith("20 streams connected")), lines.join("\n"));
  // The chart's series: one point per measured window and per decision set, one stall sample a second.
  assert.ok(series.decisions.length >= 5, `decision points: ${series.decisions.length}`);
  assert.ok(series.pushes.length >= 1, `push points: ${series.pushes.length}`);
  assert.ok(series.controlPlaneStalls.length >= 6 && series.idleStalls.length >= 6, `stall samples: ${series.controlPlaneStalls.length}, ${series.idleStalls.length}`);
  const svg = controlPlaneBenchChart(series);
  assert.match(svg, /^<svg /);
  assert.equal((svg.match(/<circle /g) ?? []).length, series.decisions.length + series.pushes.length);
});

test("bench control-plane --replicas 3: the streams spread over three replicas on etcd, every report arrives, every decision set reaches every stream", async () => {
  const lines: string[] = [];
  const { figures } = await runControlPlaneBench(30, 8, (line) => lines.push(line), { faultEveryS: 6, faultOnS: 3 }, 3);
  assert.equal(figures.replicas, 3);
  assert.equal(figures.streams_per_replica?.length, 3);
  assert.equal(figures.streams_per_replica!.reduce((a, b) => a + b, 0), 30, lines.join("\n"));
  for (const n of figures.streams_per_replica!) assert.ok(n > 0, `every replica serves streams: ${figures.streams_per_replica!.join(", ")}`);
  assert.ok(figures.leader_replica !== undefined && figures.leader_replica >= 0 && figures.leader_replica < 3);
  assert.equal(figures.errors, 0, lines.join("\n"));
  assert.ok(figures.reports_per_s >= 15 && figures.reports_per_s <= 45, `reports_per_s ${figures.reports_per_s}\n${lines.join("\n")}`);
  assert.ok(lines.some((l) => /^replicas: .*\(leader\).*merged windows forwarded to the leader [1-9]\d*, dropped 0$/.test(l)), lines.join("\n"));
});
