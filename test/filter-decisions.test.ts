// The filter enforcing the control plane's decisions (real build/filter.wasm, virtual time):
// ACK/NACK, open and half-open clusters, halt, fail-static then the local fallback breaker,
// reconnects, and decisions shared between workers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE_CONFIG, BreakerState, startFilter, spread, type DecisionInit } from "./filter-support.js";

test("a valid decision set is applied and acknowledged, and its version marks requests", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 7, clusters: [{ cluster: "llm-a", weight: 1 }, { cluster: "llm-b", weight: 3 }] });
    assert.deepEqual(cp.sent("ack").map((a) => a.version), [7n]);
    assert.equal(t.request().requestHeaders["x-autoglm-version"], "7");
    assert.deepEqual(spread(t, 400), { "llm-a": 100, "llm-b": 300 });
    t.advance(1000);
    assert.equal(t.metric("autoglm.decisions.applied"), 1);
    assert.equal(t.metric("autoglm.weight.llm-b"), 3);
    assert.equal(t.metric("autoglm.decision_version"), 7);
    const report = cp.sent("report").at(-1)!;
    assert.equal(report.enforcedVersion, 7n);
  } finally {
    t.close();
  }
});

test("an open cluster gets no traffic, and a request naming it gets a local 503", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 1, clusters: [
      { cluster: "llm-a", state: BreakerState.OPEN, weight: 50, retryAfterS: 12 },
      { cluster: "llm-b", weight: 50 },
    ] });
    assert.deepEqual(spread(t, 100), { "llm-b": 100 });
    const x = t.request({ headers: { "x-autoglm-target": "llm-a" } });
    assert.equal(x.localReply?.status, 503);
    assert.equal(x.localReply?.headers.get("retry-after"), "12");
    assert.equal(x.localReply?.headers.get("x-autoglm-local-reply"), "cluster_open");
    const body = JSON.parse(x.localReplyBody) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ["cluster", "error", "retry_after_s"]);
    assert.equal(body["cluster"], "llm-a");
    assert.equal(body["retry_after_s"], 12);
    t.advance(1000);
    assert.equal(t.metric("autoglm.breaker_state.llm-a"), BreakerState.OPEN);
    assert.equal(t.metric("autoglm.requests.llm-a.local_reject"), 1);
  } finally {
    t.close();
  }
});

test("a half-open cluster gets only its probe fraction of its share", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 2, clusters: [
      { cluster: "llm-a", state: BreakerState.HALF_OPEN, weight: 50, probeFraction: 0.2 },
      { cluster: "llm-b", weight: 50 },
    ] });
    const counts = spread(t, 1000);
    assert.equal((counts["llm-a"] ?? 0) + (counts["llm-b"] ?? 0), 1000);
    assert.ok(Math.abs((counts["llm-a"] ?? 0) - 100) <= 1, `llm-a got ${counts["llm-a"]}, expected 100`);
  } finally {
    t.close();
  }
});

test("when every cluster is open requests get a local 503 with JSON", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 3, clusters: [
      { cluster: "llm-a", state: BreakerState.OPEN, weight: 50 },
      { cluster: "llm-b", state: BreakerState.OPEN, weight: 50 },
    ] });
    const x = t.request();
    assert.equal(x.localReply?.status, 503);
    assert.equal(x.localReply?.headers.get("x-autoglm-local-reply"), "no_cluster_available");
    assert.equal(x.localReply?.headers.get("content-type"), "application/json");
    const body = JSON.parse(x.localReplyBody) as { error: string; retry_after_s: number };
    assert.match(body.error, /no cluster/);
    assert.equal(typeof body.retry_after_s, "number");
  } finally {
    t.close();
  }
});

test("a halted mesh answers every request with a local 503 naming the halt", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 4, halted: true, haltReason: "operator stop", clusters: [
      { cluster: "llm-a", weight: 50 }, { cluster: "llm-b", weight: 50 },
    ] });
    for (let i = 0; i < 3; i++) {
      const x = t.request();
      assert.equal(x.localReply?.status, 503);
      assert.equal(x.localReply?.headers.get("x-autoglm-local-reply"), "halted");
      assert.equal(x.localReply?.headers.get("retry-after"), "5");
      const body = JSON.parse(x.localReplyBody) as { error: string; cluster: string; retry_after_s: number };
      assert.match(body.error, /halted: operator stop/);
      assert.equal(body.retry_after_s, 5);
    }
  } finally {
    t.close();
  }
});

const badSets: Array<{ name: string; clusters: DecisionInit["clusters"]; field: RegExp; version?: number }> = [
  { name: "an unknown cluster", clusters: [{ cluster: "llm-z", weight: 1 }], field: /clusters\[0\]\.cluster: unknown cluster "llm-z"/ },
  { name: "weights summing to zero", clusters: [{ cluster: "llm-a", weight: 0 }, { cluster: "llm-b", weight: 0 }], field: /clusters: weights sum to 0/ },
  { name: "a probe fraction above 1", clusters: [{ cluster: "llm-a", weight: 1, state: BreakerState.HALF_OPEN, probeFraction: 1.5 }], field: /clusters\[0\]\.probe_fraction/ },
  { name: "a zero probe fraction", clusters: [{ cluster: "llm-a", weight: 1, state: BreakerState.HALF_OPEN, probeFraction: 0 }], field: /clusters\[0\]\.probe_fraction/ },
  { name: "a NaN probe fraction", clusters: [{ cluster: "llm-a", weight: 1, probeFraction: NaN }], field: /clusters\[0\]\.probe_fraction: NaN/ },
  { name: "an unspecified state", clusters: [{ cluster: "llm-a", weight: 1, state: BreakerState.UNSPECIFIED }], field: /clusters\[0\]\.state/ },
  { name: "an unknown state", clusters: [{ cluster: "llm-a", weight: 1, state: 9 as BreakerState }], field: /clusters\[0\]\.state/ },
  { name: "a cluster named twice", clusters: [{ cluster: "llm-a", weight: 1 }, { cluster: "llm-a", weight: 1 }], field: /clusters\[1\]\.cluster: "llm-a" appears twice/ },
  { name: "a NaN anomaly score", clusters: [{ cluster: "llm-a", weight: 1, anomalyScore: NaN }], field: /clusters\[0\]\.anomaly_score/ },
  { name: "an older version", clusters: [{ cluster: "llm-a", weight: 1 }], field: /version: 5 < enforced 10/, version: 5 },
  { name: "version zero", clusters: [{ cluster: "llm-a", weight: 1 }], field: /version: must be > 0/, version: 0 },
];

for (const bad of badSets) {
  test(`a decision set with ${bad.name} is NACKed naming the field and the last good set is kept`, async () => {
    const { t, cp } = await startFilter();
    try {
      cp.push({ version: 10, clusters: [{ cluster: "llm-a", weight: 1 }, { cluster: "llm-b", weight: 0 }] });
      cp.push({ version: bad.version ?? 11, clusters: bad.clusters });
      const nacks = cp.sent("nack");
      assert.equal(nacks.length, 1);
      assert.match(nacks[0]!.reason, bad.field);
      assert.equal(nacks[0]!.enforcedVersion, 10n);
      const x = t.request();
      assert.equal(x.requestHeaders["x-autoglm-version"], "10");
      assert.deepEqual(spread(t, 20), { "llm-a": 20 });
      t.advance(1000);
      assert.equal(t.metric("autoglm.decisions.rejected"), 1);
    } finally {
      t.close();
    }
  });
}

test("bytes that do not decode are NACKed with the decoder's reason", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 1, clusters: [{ cluster: "llm-a", weight: 1 }, { cluster: "llm-b", weight: 1 }] });
    cp.sendRaw(new Uint8Array([0x0a, 0x7f, 0x01]));
    const nack = cp.sent("nack")[0];
    assert.ok(nack);
    assert.match(nack.reason, /^decode: /);
    assert.equal(t.request().requestHeaders["x-autoglm-version"], "1");
  } finally {
    t.close();
  }
});

test("after losing the control plane decisions hold for their ttl, then the fallback breaker and base weights rule", async () => {
  const config = { ...BASE_CONFIG, fallback: { min_requests: 20, failure_rate: 0.5, open_ms: 5000, probe_requests: 4 } };
  const { t, cp } = await startFilter(config);
  try {
    cp.push({ version: 1, ttlMs: 10_000, clusters: [
      { cluster: "llm-a", state: BreakerState.OPEN, weight: 50 }, { cluster: "llm-b", weight: 50 },
    ] });
    cp.down = true;
    cp.closeAll();
    t.advance(9_000);
    assert.deepEqual(spread(t, 10), { "llm-b": 10 }, "fail-static: the open cluster stays skipped");
    t.advance(2_000);
    assert.deepEqual(spread(t, 10), { "llm-a": 5, "llm-b": 5 }, "after the ttl: base weights, nothing open");
    t.advance(1_000);
    assert.equal(t.metric("autoglm.fallback"), 1);

    // llm-a fails every request: after 20 outcomes its local breaker opens.
    for (let i = 0; i < 20; i++) t.request({ headers: { "x-autoglm-target": "llm-a" }, response: { status: 503 } });
    assert.deepEqual(spread(t, 10), { "llm-b": 10 });
    const rejected = t.request({ headers: { "x-autoglm-target": "llm-a" } });
    assert.equal(rejected.localReply?.headers.get("x-autoglm-local-reply"), "cluster_open");

    // Open for 5 s, then half-open: exactly probe_requests probes get through (held open here).
    t.advance(5_000);
    const held: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const x = t.request({ response: null, complete: false });
      const key = x.localReply !== null ? "503" : (x.requestHeaders["x-autoglm-cluster"] ?? "none");
      held[key] = (held[key] ?? 0) + 1;
    }
    assert.deepEqual(held, { "llm-a": 4, "llm-b": 36 });
    // Probes that never finish are given up after twice the open time; new probes that succeed close it.
    t.advance(10_001);
    for (let i = 0; i < 4; i++) {
      const x = t.request({ headers: { "x-autoglm-target": "llm-a" }, response: { status: 200 } });
      assert.equal(x.localReply, null);
    }
    assert.deepEqual(spread(t, 10), { "llm-a": 5, "llm-b": 5 });
  } finally {
    t.close();
  }
});

test("a control plane that never answers does not block traffic", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.down = true;
    cp.closeAll();
    for (let i = 0; i < 5; i++) t.advance(10_000);
    assert.deepEqual(spread(t, 10), { "llm-a": 5, "llm-b": 5 });
  } finally {
    t.close();
  }
});

test("a closed stream is reopened with backoff, each new stream starting with a hello", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, control_plane: { reconnect_base_ms: 1000, reconnect_max_ms: 8000 } });
  try {
    assert.equal(cp.streams.length, 1);
    cp.down = true;
    cp.closeAll();
    const attemptsAt: number[] = [];
    let refused = cp.attempts;
    const startMs = t.clock.now();
    // Record when refused attempts happen over 30 s of virtual time.
    for (let ms = 0; ms < 30_000; ms += 100) {
      t.advance(100);
      if (cp.attempts > refused) {
        refused = cp.attempts;
        attemptsAt.push(t.clock.now() - startMs);
      }
    }
    assert.ok(attemptsAt.length >= 3 && attemptsAt.length <= 8, `attempts at ${attemptsAt.join(", ")}`);
    const gaps = attemptsAt.slice(1).map((v, i) => v - attemptsAt[i]!);
    assert.ok(gaps.at(-1)! >= 4000 && gaps.at(-1)! <= 9100, `backoff grows to the cap: gaps ${gaps.join(", ")}`);
    cp.down = false;
    t.advance(10_000);
    const latest = cp.latest();
    assert.equal(latest.fromFilter[0]?.kind.case, "hello");
    t.advance(3_000);
    t.request();
    assert.ok(cp.streams.length >= 2);
  } finally {
    t.close();
  }
});

test("two workers share decisions through shared data and report only their own traffic", async () => {
  const { t, cp } = await startFilter(BASE_CONFIG, { workers: 2 });
  try {
    const workerIds = cp.sent("hello").map((h) => h.workerId).sort();
    assert.deepEqual(workerIds, [0, 1]);
    cp.push({ version: 5, clusters: [{ cluster: "llm-a", weight: 0 }, { cluster: "llm-b", weight: 10 }] }, cp.latest(0));
    t.advance(200);
    const other = t.request({ worker: 1 });
    assert.equal(other.requestHeaders["x-autoglm-version"], "5");
    assert.deepEqual(spread(t, 10, {}, 1), { "llm-b": 10 });

    const before0 = cp.latest(0).fromFilter.length;
    const before1 = cp.latest(1).fromFilter.length;
    t.advance(1000);
    spread(t, 30, {}, 0);
    spread(t, 20, {}, 1);
    t.advance(1000);
    const reported = (w: number, since: number): number =>
      cp.latest(w).fromFilter.slice(since).flatMap((m) => (m.kind.case === "report" ? m.kind.value.clusters : []))
        .reduce((s, c) => s + c.requests, 0);
    assert.equal(reported(0, before0), 30);
    assert.equal(reported(1, before1), 20 + 11);
  } finally {
    t.close();
  }
});
