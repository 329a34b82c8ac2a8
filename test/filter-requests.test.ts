// The filter, per request, against the real build/filter.wasm in the project's host: headers it
// injects, trace context, the weighted split, explicit clusters, outcomes it records.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { BASE_CONFIG, BreakerState, FakeControlPlane, startFilter, spread } from "./filter-support.js";
import type { PluginTester } from "../filter/host/index.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const VALID_TRACE = "0af7651916cd43dd8448eb211c80319c";
const VALID_PARENT = "b7ad6b7169203331";

let t: PluginTester;
let cp: FakeControlPlane;

before(async () => {
  ({ t, cp } = await startFilter());
  // A control plane answers every hello with its decision set (here the operator's weights): the
  // message proves the stream live, so the filter keeps it (a stream silent for timeout_ms is
  // given up, and reports wait for the next one).
  cp.push({
    version: 1,
    ttlMs: 3_600_000,
    clusters: [
      { cluster: "llm-a", state: BreakerState.CLOSED, weight: 50 },
      { cluster: "llm-b", state: BreakerState.CLOSED, weight: 50 },
    ],
  });
});
after(() => t.close());

test("a request gets a request id, a trace, the node, the chosen cluster and the decision version", () => {
  const x = t.request({ headers: { ":path": "/v1/chat" } });
  assert.equal(x.trapped, false);
  assert.equal(x.localReply, null);
  assert.match(x.requestHeaders["x-request-id"] ?? "", UUID);
  assert.match(x.requestHeaders["traceparent"] ?? "", TRACEPARENT);
  assert.equal(x.requestHeaders["x-autoglm-node"], "sidecar-1");
  assert.ok(["llm-a", "llm-b"].includes(x.requestHeaders["x-autoglm-cluster"] ?? ""));
  assert.equal(x.requestHeaders["x-autoglm-version"], "1");
});

test("an existing request id is kept", () => {
  const x = t.request({ headers: { "x-request-id": "client-chosen-id" } });
  assert.equal(x.requestHeaders["x-request-id"], "client-chosen-id");
});

test("request ids do not repeat across many requests", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(t.request().requestHeaders["x-request-id"] ?? "");
  assert.equal(seen.size, 2000);
});

test("request ids differ between workers", async () => {
  const { t: two } = await startFilter(BASE_CONFIG, { workers: 2 });
  try {
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) ids.add(two.request({ worker: i % 2 }).requestHeaders["x-request-id"] ?? "");
    assert.equal(ids.size, 200);
    // A restarted worker (new VM instance, same process) must not reuse the ids it gave before.
    const prefixes = new Set([...ids].map((id) => id.slice(0, 18)));
    assert.equal(prefixes.size, 2, "each worker instance has its own id prefix");
  } finally {
    two.close();
  }
});

const traceCases: Array<{ name: string; header: string | undefined; continued: boolean }> = [
  { name: "a valid sampled parent", header: `00-${VALID_TRACE}-${VALID_PARENT}-01`, continued: true },
  { name: "a valid unsampled parent", header: `00-${VALID_TRACE}-${VALID_PARENT}-00`, continued: true },
  { name: "no header", header: undefined, continued: false },
  { name: "an unknown version 01", header: `01-${VALID_TRACE}-${VALID_PARENT}-01`, continued: false },
  { name: "the forbidden version ff", header: `ff-${VALID_TRACE}-${VALID_PARENT}-01`, continued: false },
  { name: "an all-zero trace id", header: `00-${"0".repeat(32)}-${VALID_PARENT}-01`, continued: false },
  { name: "an all-zero parent id", header: `00-${VALID_TRACE}-${"0".repeat(16)}-01`, continued: false },
  { name: "upper-case hex", header: `00-${VALID_TRACE.toUpperCase()}-${VALID_PARENT}-01`, continued: false },
  { name: "a short trace id", header: `00-${VALID_TRACE.slice(1)}-${VALID_PARENT}-01`, continued: false },
  { name: "a trailing field", header: `00-${VALID_TRACE}-${VALID_PARENT}-01-extra`, continued: false },
  { name: "a non-hex character", header: `00-${VALID_TRACE.slice(0, 31)}g-${VALID_PARENT}-01`, continued: false },
  { name: "underscores for dashes", header: `00_${VALID_TRACE}_${VALID_PARENT}_01`, continued: false },
  { name: "one-digit flags", header: `00-${VALID_TRACE}-${VALID_PARENT}-1`, continued: false },
  { name: "garbage", header: "not a traceparent", continued: false },
];

for (const c of traceCases) {
  test(`traceparent with ${c.name} is ${c.continued ? "continued with a new span" : "replaced by a new trace"}`, () => {
    const headers: Record<string, string> = { tracestate: "vendor=abc" };
    if (c.header !== undefined) headers["traceparent"] = c.header;
    const x = t.request({ headers });
    const out = x.requestHeaders["traceparent"] ?? "";
    const m = TRACEPARENT.exec(out);
    assert.ok(m, `sent traceparent ${out} is well-formed`);
    assert.notEqual(m[1], "0".repeat(32));
    assert.notEqual(m[2], "0".repeat(16));
    if (c.continued) {
      assert.equal(m[1], VALID_TRACE);
      assert.notEqual(m[2], VALID_PARENT, "a new span id as parent");
      assert.equal(m[3], c.header!.slice(-2), "flags kept");
      assert.equal(x.requestHeaders["tracestate"], "vendor=abc");
    } else {
      assert.notEqual(m[1], VALID_TRACE);
      assert.equal(x.requestHeaders["tracestate"], undefined, "the rejected trace's state is dropped");
    }
  });
}

test("the weighted split follows the configured weights exactly over whole rounds", async () => {
  const { t: w } = await startFilter({ ...BASE_CONFIG, clusters: [
    { name: "llm-a", weight: 60 }, { name: "llm-b", weight: 30 }, { name: "llm-c", weight: 10 },
  ] });
  try {
    assert.deepEqual(spread(w, 1000), { "llm-a": 600, "llm-b": 300, "llm-c": 100 });
  } finally {
    w.close();
  }
});

test("consecutive picks interleave instead of running in blocks", () => {
  const seq: string[] = [];
  for (let i = 0; i < 20; i++) seq.push(t.request().requestHeaders["x-autoglm-cluster"] ?? "");
  let longestRun = 1;
  let run = 1;
  for (let i = 1; i < seq.length; i++) {
    run = seq[i] === seq[i - 1] ? run + 1 : 1;
    longestRun = Math.max(longestRun, run);
  }
  assert.ok(longestRun <= 2, `50/50 should alternate, got ${seq.join(" ")}`);
});

test("a request naming a configured cluster keeps it", () => {
  for (let i = 0; i < 5; i++) {
    assert.equal(t.request({ headers: { "x-autoglm-target": "llm-b" } }).requestHeaders["x-autoglm-cluster"], "llm-b");
  }
});

test("a request naming an unknown cluster is balanced like any other", () => {
  const x = t.request({ headers: { "x-autoglm-target": "nope" } });
  assert.equal(x.localReply, null);
  assert.ok(["llm-a", "llm-b"].includes(x.requestHeaders["x-autoglm-cluster"] ?? ""));
});

test("outcomes are counted per cluster and class, and reported in the window", () => {
  t.advance(1000); // close the window that holds the earlier tests' requests
  const before = cp.sent("report").length;
  const countersBefore = (name: string): number => t.metric(name) ?? 0;
  const timeoutsBefore = countersBefore("autoglm.requests.llm-a.timeout");
  const resetsBefore = countersBefore("autoglm.requests.llm-a.reset");
  const target = { "x-autoglm-target": "llm-a" };
  t.request({ headers: target, response: { status: 200 } });
  t.request({ headers: target, response: { status: 503 } });
  t.request({ headers: target, response: { status: 504, properties: { "response.flags": 0x4 } } });
  t.request({ headers: target, response: { status: 503, properties: { "response.flags": 0x20 } } });
  t.request({
    headers: target,
    response: { status: 200, headers: { "content-type": "application/grpc" }, body: "x", trailers: { "grpc-status": "14" } },
  });
  t.advance(1000);
  const reports = cp.sent("report").slice(before);
  assert.ok(reports.length >= 1, "a report per window");
  const a = reports.flatMap((r) => r.clusters).filter((c) => c.cluster === "llm-a");
  const sum = (f: (c: (typeof a)[number]) => number): number => a.reduce((s, c) => s + f(c), 0);
  assert.equal(sum((c) => c.requests), 5);
  assert.equal(sum((c) => c.errors5xx), 3);
  assert.equal(sum((c) => c.timeouts), 1);
  assert.equal(sum((c) => c.resets), 1);
  assert.equal(sum((c) => c.grpcErrors), 1);
  const total = a.reduce((s, c) => s + (c.totalLatency?.counts.reduce((x, y) => x + y, 0) ?? 0), 0);
  assert.equal(total, 5, "every request is in the latency histogram");
  assert.equal(countersBefore("autoglm.requests.llm-a.timeout") - timeoutsBefore, 1);
  assert.equal(countersBefore("autoglm.requests.llm-a.reset") - resetsBefore, 1);
  assert.ok((t.metric("autoglm.requests.llm-a.5xx") ?? 0) >= 1);
  assert.ok((t.histogram("autoglm.latency_us.llm-a")?.count ?? 0) >= 5);
});

test("a finished request's context is reused without its state: gRPC status, reset and timing start over", () => {
  t.advance(1000);
  const before = cp.sent("report").length;
  const target = { "x-autoglm-target": "llm-a" };
  t.request({
    headers: target,
    response: { status: 200, headers: { "content-type": "application/grpc" }, body: "x", trailers: { "grpc-status": "14" } },
  });
  t.request({ headers: target, response: { status: 200 } });
  t.request({ headers: target, response: { status: 503, properties: { "response.flags": 0x20 } } });
  t.request({ headers: target, response: { status: 200 } });
  t.advance(1000);
  const a = cp.sent("report").slice(before).flatMap((r) => r.clusters).filter((c) => c.cluster === "llm-a");
  const sum = (f: (c: (typeof a)[number]) => number): number => a.reduce((s, c) => s + f(c), 0);
  assert.equal(sum((c) => c.requests), 4);
  assert.equal(sum((c) => c.grpcErrors), 1, "only the gRPC request failed as gRPC");
  assert.equal(sum((c) => c.resets), 1, "only the reset request counts as reset");
  assert.equal(sum((c) => c.errors5xx), 1);
});

test("a trailers-only gRPC response's grpc-status is read from its headers; a non-gRPC one's is not", () => {
  t.advance(1000);
  const before = cp.sent("report").length;
  const target = { "x-autoglm-target": "llm-a" };
  const grpc = { "content-type": "application/grpc" };
  t.request({ headers: target, response: { status: 200, headers: { ...grpc, "grpc-status": "14" } } });
  t.request({ headers: target, response: { status: 200, headers: { ...grpc, "grpc-status": "0" } } });
  t.request({ headers: target, response: { status: 200, headers: { "content-type": "application/json", "grpc-status": "14" } } });
  t.advance(1000);
  const a = cp.sent("report").slice(before).flatMap((r) => r.clusters).filter((c) => c.cluster === "llm-a");
  const sum = (f: (c: (typeof a)[number]) => number): number => a.reduce((s, c) => s + f(c), 0);
  assert.equal(sum((c) => c.requests), 3);
  assert.equal(sum((c) => c.grpcErrors), 1, "only the gRPC response with UNAVAILABLE in its headers");
});

test("latency header is added to responses only when enabled", async () => {
  assert.equal(t.request().responseHeaders?.["x-autoglm-latency-us"], undefined);
  const { t: l } = await startFilter({ ...BASE_CONFIG, latency_header: true });
  try {
    const x = l.request();
    assert.match(x.responseHeaders?.["x-autoglm-latency-us"] ?? "", /^\d+$/);
  } finally {
    l.close();
  }
});

test("the control-plane stream opens with a hello naming node, zone, worker and clusters", () => {
  const hello = cp.sent("hello")[0];
  assert.ok(hello);
  assert.equal(cp.streams[0]!.request.service, "autoglm.v1.TrafficGuard");
  assert.equal(cp.streams[0]!.request.method, "Connect");
  assert.equal(cp.streams[0]!.request.cluster, "autoglm-control-plane");
  assert.equal(hello.nodeId, "sidecar-1");
  assert.equal(hello.zone, "zone-a");
  assert.deepEqual(hello.clusters, ["llm-a", "llm-b"]);
  assert.notEqual(hello.instanceId, 0n);
});

test("a configured token goes out as bearer authorization metadata", async () => {
  const { t: k, cp: kcp } = await startFilter({ ...BASE_CONFIG, control_plane: { token: "s3cret" } });
  try {
    const md = kcp.streams[0]!.request.metadata;
    assert.ok(md.some(([key, value]) => key === "authorization" && value === "Bearer s3cret"));
  } finally {
    k.close();
  }
});
