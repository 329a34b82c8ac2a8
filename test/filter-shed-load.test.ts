// The filter's load shedding (DecisionSet.shed_fraction, ClusterDecision.shed_fraction: a local
// 429 with retry-after for the refused share), its capabilities in the hello, and the upstream
// load (ORCA endpoint-load-metrics) it reports per cluster. Real build/filter.wasm, virtual time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE_CONFIG, startFilter, spread, type DecisionInit } from "./filter-support.js";

test("a cluster's shed fraction refuses that share of its requests with a 429 and counts them", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 5, clusters: [
      { cluster: "llm-a", weight: 50, shedFraction: 0.25, retryAfterS: 7 },
      { cluster: "llm-b", weight: 50 },
    ] });
    assert.deepEqual(cp.sent("ack").map((a) => a.version), [5n]);
    assert.deepEqual(spread(t, 800), { "llm-a": 300, "429:shed": 100, "llm-b": 400 });
    const x = t.request({ headers: { "x-autoglm-target": "llm-a" } });
    const shed = [x, ...Array.from({ length: 3 }, () => t.request({ headers: { "x-autoglm-target": "llm-a" } }))].filter((e) => e.localReply !== null);
    assert.equal(shed.length, 1, "one in four requests that name the cluster is shed too");
    const reply = shed[0]!;
    assert.equal(reply.localReply?.status, 429);
    assert.equal(reply.localReply?.headers.get("retry-after"), "7");
    const body = JSON.parse(reply.localReplyBody) as { error: string; cluster: string; retry_after_s: number };
    assert.equal(body.cluster, "llm-a");
    assert.equal(body.error, "load shed");
    t.advance(1000);
    assert.equal(t.metric("autoglm.shed.llm-a"), 101);
    assert.equal(t.metric("autoglm.shed.llm-b"), 0);
    assert.equal(t.metric("autoglm.requests.llm-a.local_reject"), 101);
    const window = cp.sent("report").at(-1)!.clusters.find((c) => c.cluster === "llm-a")!;
    assert.equal(window.shed, 101);
    assert.equal(window.localRejects, 101);
  } finally {
    t.close();
  }
});

test("a mesh-wide shed refuses its share of every cluster's requests, combined with a cluster's own", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 6, shedFraction: 0.5, shedReason: "trigger cpu: cpu 0.97 > 0.95 for 10 s", clusters: [
      { cluster: "llm-a", weight: 50, shedFraction: 0.5 },
      { cluster: "llm-b", weight: 50 },
    ] });
    // llm-a admits (1 - 0.5) * (1 - 0.5) = 25 %, llm-b 50 % of what the pick sends them.
    assert.deepEqual(spread(t, 800), { "llm-a": 100, "429:shed": 500, "llm-b": 200 });
    const x = t.request();
    const refused = x.localReply !== null ? x : t.request();
    assert.equal(refused.localReply?.headers.get("retry-after"), "5", "the configured retry_after_s when the decision names none");
    assert.match((JSON.parse(refused.localReplyBody) as { error: string }).error, /^load shed: trigger cpu/);
  } finally {
    t.close();
  }
});

test("shed fractions outside [0, 1] are refused naming the field, and the last good plan stays", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 1, clusters: [{ cluster: "llm-a", weight: 50 }, { cluster: "llm-b", weight: 50 }] });
    const cases: [number, Omit<DecisionInit, "version">, string][] = [
      [2, { shedFraction: 1.5, clusters: [{ cluster: "llm-a", weight: 1 }] }, "shed_fraction: expected [0, 1], got 1.5"],
      [3, { clusters: [{ cluster: "llm-a", weight: 1 }, { cluster: "llm-b", weight: 1, shedFraction: -0.25 }] }, "clusters[1].shed_fraction: expected [0, 1], got -0.25"],
      [4, { clusters: [{ cluster: "llm-a", weight: 1, shedFraction: Number.NaN }] }, "clusters[0].shed_fraction: expected [0, 1], got NaN"],
    ];
    for (const [version, set, reason] of cases) {
      cp.push({ version, ...set });
      assert.equal(cp.sent("nack").at(-1)?.reason, reason);
    }
    assert.deepEqual(spread(t, 100), { "llm-a": 50, "llm-b": 50 });
  } finally {
    t.close();
  }
});

test("a plan without shedding refuses nothing, and shedding all of a cluster refuses all of it", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 1, clusters: [{ cluster: "llm-a", weight: 50, shedFraction: 1 }, { cluster: "llm-b", weight: 50 }] });
    assert.deepEqual(spread(t, 100), { "429:shed": 50, "llm-b": 50 });
    cp.push({ version: 2, clusters: [{ cluster: "llm-a", weight: 50 }, { cluster: "llm-b", weight: 50 }] });
    assert.deepEqual(spread(t, 100), { "llm-a": 50, "llm-b": 50 });
  } finally {
    t.close();
  }
});

test("the hello names the capabilities: shed, streams, fallback_time, sent and halt_immediate always, upstream_load unless its header is disabled", async () => {
  for (const [config, expected] of [
    [BASE_CONFIG, ["shed", "streams", "fallback_time", "sent", "halt_immediate", "upstream_load"]],
    [{ ...BASE_CONFIG, headers: { upstream_load: "" } }, ["shed", "streams", "fallback_time", "sent", "halt_immediate"]],
  ] as const) {
    const { t, cp } = await startFilter(config);
    try {
      assert.deepEqual(cp.sent("hello")[0]?.capabilities, expected);
    } finally {
      t.close();
    }
  }
});

test("ORCA load reports on responses are reported per cluster as count, sum and max; unreadable ones are counted", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 1, clusters: [{ cluster: "llm-a", weight: 1 }, { cluster: "llm-b", weight: 0 }] });
    const headers = [
      "TEXT cpu_utilization=0.5, application_utilization=0.25, named_metrics.num_requests_waiting=3",
      "JSON {\"cpu_utilization\": 0.9, \"rps_fractional\": 12.5}",
      "BIN CghkAAAAAAAA",
      "TEXT cpu_utilization=oops",
    ];
    for (const value of headers) t.request({ response: { status: 200, headers: [["endpoint-load-metrics", value]] } });
    t.request(); // no header: not a sample
    t.advance(1000);
    const window = cp.sent("report").at(-1)!.clusters.find((c) => c.cluster === "llm-a")!;
    const load = window.upstreamLoad!;
    assert.equal(window.requests, 5);
    assert.equal(load.reports, 2);
    assert.equal(load.unparsed, 2);
    assert.deepEqual([load.cpuUtilization?.count, load.cpuUtilization?.sum, load.cpuUtilization?.max], [2, 1.4, 0.9]);
    assert.equal(load.applicationUtilization?.count, 1);
    assert.equal(load.rpsFractional?.max, 12.5);
    assert.equal(load.queueSize?.sum, 3);
    assert.equal(load.memUtilization, undefined);
  } finally {
    t.close();
  }
});

test("with the upstream_load header disabled, ORCA headers are not read", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, headers: { upstream_load: "" } });
  try {
    t.request({ response: { status: 200, headers: [["endpoint-load-metrics", "TEXT cpu_utilization=0.5"]] } });
    t.advance(1000);
    const window = cp.sent("report").at(-1)!.clusters[0]!;
    assert.equal(window.requests, 1);
    assert.equal(window.upstreamLoad, undefined);
  } finally {
    t.close();
  }
});
