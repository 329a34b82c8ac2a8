// The linkerd-ewma baseline: the Peak-EWMA estimate, consecutive-failures accrual with Linkerd's
// defaults, and the balancer pooling every cluster's endpoints.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConsecutiveFailures, PeakEwma } from "../sim/policies/peak-ewma.js";
import { createLinkerdEwmaPolicy } from "../sim/policies/linkerd-ewma.js";
import { createNonePolicy } from "../sim/policies/none.js";
import { runScenario } from "../sim/runner.js";
import { testScenario } from "./sim-support.js";

test("Peak-EWMA takes a higher sample at once, folds a lower one in with decay 10 s, and decays toward 0 when read later", () => {
  const e = new PeakEwma();
  assert.equal(e.estimateAt(0), 30, "an endpoint with no answer yet is assumed at 30 ms");
  e.observe(200, 1);
  assert.equal(e.estimateAt(1), 200);
  e.observe(100, 11);
  const expected = 200 * Math.exp(-1) + 100 * (1 - Math.exp(-1));
  assert.ok(Math.abs(e.estimateAt(11) - expected) < 1e-9);
  assert.ok(Math.abs(e.estimateAt(21) - expected * Math.exp(-1)) < 1e-9);
});

const cases: Array<[string, Array<["fail" | "ok" | "send", number]>, { state: string; readyAt?: number; notReadyAt?: number }]> = [
  ["six failures in a row leave the endpoint available", Array.from({ length: 6 }, () => ["fail", 1] as ["fail", number]), { state: "available" }],
  ["a success resets the count", [...Array.from({ length: 6 }, () => ["fail", 1] as ["fail", number]), ["ok", 1], ["fail", 1]], { state: "available" }],
  ["the seventh failure in a row trips it for 1–1.5 s", Array.from({ length: 7 }, () => ["fail", 1] as ["fail", number]), { state: "backoff", notReadyAt: 1.99, readyAt: 2.5 }],
  ["after the backoff one probe goes and nothing else", [...Array.from({ length: 7 }, () => ["fail", 1] as ["fail", number]), ["send", 3]], { state: "probing", notReadyAt: 3 }],
  ["a failed probe backs off longer (2–3 s)", [...Array.from({ length: 7 }, () => ["fail", 1] as ["fail", number]), ["send", 3], ["fail", 3.1]], { state: "backoff", notReadyAt: 5.09, readyAt: 6.1 }],
  ["a successful probe makes it available again", [...Array.from({ length: 7 }, () => ["fail", 1] as ["fail", number]), ["send", 3], ["ok", 3.1]], { state: "available" }],
];
for (const [name, events, expected] of cases) {
  test(`consecutive-failures accrual: ${name}`, () => {
    const a = new ConsecutiveFailures();
    for (const [what, t] of events) {
      if (what === "send") a.onSend(t);
      else a.onResult(what === "fail", t, 0.99);
    }
    assert.equal(a.state, expected.state);
    if (expected.notReadyAt !== undefined) assert.equal(a.ready(expected.notReadyAt), false);
    if (expected.readyAt !== undefined) assert.equal(a.ready(expected.readyAt), true);
  });
}

test("the backoff doubles up to one minute", () => {
  const a = new ConsecutiveFailures();
  let t = 0;
  for (let i = 0; i < 7; i++) a.onResult(true, t, 0);
  const lengths: number[] = [];
  for (let trip = 0; trip < 9; trip++) {
    lengths.push(Math.round((a.until - t) * 1000) / 1000);
    t = a.until;
    a.onSend(t);
    a.onResult(true, t, 0);
  }
  assert.deepEqual(lengths, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
});

test("linkerd-ewma moves traffic off a cluster that is down and fails far fewer requests than none", async () => {
  const scenario = testScenario((json) => {
    json.duration_s = 60;
    json.faults = [{ at_s: 20, cluster: "a", down: true, for_s: 20 }];
  });
  const none = await runScenario(scenario, createNonePolicy(scenario));
  const linkerd = await runScenario(scenario, createLinkerdEwmaPolicy(scenario, scenario.seed));
  assert.ok(linkerd.failed < none.failed / 5, `linkerd ${linkerd.failed} vs none ${none.failed}`);
  const during = linkerd.windows.slice(25, 40);
  const sentToA = during.reduce((n, w) => n + w.clusters[0]!.sent, 0);
  const offered = during.reduce((n, w) => n + w.offered, 0);
  assert.ok(sentToA < 0.1 * offered, `share of a while down: ${sentToA}/${offered}`);
});

test("linkerd-ewma pools the endpoints of every cluster and prefers the faster ones, whatever the weights", async () => {
  const scenario = testScenario((json) => {
    json.faults = [];
    const clusters = json.clusters as Array<Record<string, unknown>>;
    clusters[0]!.weight = 90;
    clusters[0]!.latency_ms = { p50: 400, p99: 1200 };
    clusters[1]!.weight = 10;
    clusters[1]!.latency_ms = { p50: 40, p99: 120 };
  });
  const result = await runScenario(scenario, createLinkerdEwmaPolicy(scenario, scenario.seed));
  const toFast = result.windows.reduce((n, w) => n + w.clusters[1]!.sent, 0);
  assert.ok(toFast > 0.5 * result.requests, `the fast cluster got ${toFast} of ${result.requests} despite weight 10 of 100`);
});
