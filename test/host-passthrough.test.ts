// The pass-through fixture (test/fixtures/passthrough.ts, built to build/passthrough.wasm) driven
// through the host: plain pass-through, then its "probe" mode exercising headers, properties,
// shared data across two VM instances, metrics, ticks on virtual time, a gRPC stream over the
// in-process transport, a shared queue and local replies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  Action,
  ManualClock,
  PluginTester,
  ProxyWasmPlugin,
  SharedStore,
  type InProcessPeer,
  type GrpcRequest,
} from "../filter/host/index.js";

const WASM = "build/passthrough.wasm";
const skip = existsSync(WASM) ? false : `${WASM} is missing: run \`npm run build:filter\` first`;
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

test("the pass-through module lets a request and its streamed response through unchanged", { skip }, async () => {
  const t = await PluginTester.start({ wasm: WASM });
  const x = t.request({
    headers: { ":method": "POST", ":path": "/v1/chat", "x-user": "u1" },
    body: "hello",
    response: { status: 200, headers: { "content-type": "text/event-stream" }, body: ["data: 1\n\n", "data: 2\n\n"] },
  });
  assert.equal(x.requestAction, Action.Continue);
  assert.equal(x.localReply, null);
  assert.equal(x.requestHeaders["x-user"], "u1");
  assert.equal(x.responseHeaders?.[":status"], "200");
  assert.equal(text(x.responseBody), "data: 1\n\ndata: 2\n\n");
  assert.equal(x.stream.phase, "deleted", "on_done returned true, so on_log and on_delete ran");
  assert.equal(t.plugin.vms[0]!.streams.size, 0, "the stream context is gone");
  t.close();
});

test("the probe sets headers from properties and counts requests in shared data", { skip }, async () => {
  const t = await PluginTester.start({ wasm: WASM, configuration: "probe", properties: { "node.id": "sidecar-7" } });
  const x = t.request({ headers: { ":path": "/v1/models" } });
  assert.equal(x.requestHeaders["x-probe-path"], "/v1/models");
  assert.equal(x.requestHeaders["x-probe-node"], "sidecar-7");
  assert.equal(x.requestHeaders["x-probe-count"], "1");
  assert.equal(x.requestHeaders["x-autoglm-cluster"], "probe-upstream");
  assert.equal(x.responseHeaders?.["x-probe-status"], "200", "response.code is an int64 property");
  assert.equal(t.metric("probe_requests_total"), 1);
  assert.equal(t.metric("probe_last_status"), 200);
  t.request({ response: { status: 503, body: "12345" } });
  assert.equal(t.metric("probe_last_status"), 503);
  assert.equal(t.histogram("probe_response_body_bytes")?.count, 1);
  assert.equal(text(t.sharedData("probe-count")), "2");
  assert.match(t.prometheus(), /# TYPE probe_requests_total counter\nprobe_requests_total 2\n/);
  t.close();
});

test("two VM instances of one module share data and update it with compare-and-swap", { skip }, async () => {
  const t = await PluginTester.start({ wasm: WASM, configuration: "probe", workers: 2 });
  const counts: string[] = [];
  for (let i = 0; i < 6; i++) counts.push(t.request({ worker: i % 2 }).requestHeaders["x-probe-count"]!);
  assert.deepEqual(counts, ["1", "2", "3", "4", "5", "6"], "each VM saw the other's writes");
  assert.equal(t.plugin.vms.length, 2);
  assert.notEqual(t.plugin.vms[0]!.instance, t.plugin.vms[1]!.instance);
  assert.equal(t.metric("probe_requests_total"), 6, "metrics are process-wide");
  t.close();
});

test("separately started plugins share data only when given one store", { skip }, async () => {
  const store = new SharedStore();
  const clock = new ManualClock();
  const a = await ProxyWasmPlugin.start({ wasm: WASM, configuration: "probe", store, clock, logLevel: "silent" });
  const b = await ProxyWasmPlugin.start({ wasm: WASM, configuration: "probe", store, clock, logLevel: "silent" });
  const run = (p: ProxyWasmPlugin) => {
    const s = p.createHttpStream();
    s.sendRequestHeaders({ ":path": "/" }, true);
    s.complete();
    return s.requestHeaders.get("x-probe-count");
  };
  assert.equal(run(a), "1");
  assert.equal(run(b), "2");
  a.close();
  b.close();
});

test("the probe answers locally; its response callback sees the local reply, as in Envoy", { skip }, async () => {
  const t = await PluginTester.start({ wasm: WASM, configuration: "probe" });
  const x = t.request({ headers: { "x-local-reply": "1" } });
  assert.equal(x.requestAction, Action.Pause);
  assert.equal(x.localReply?.status, 429);
  assert.equal(x.localReply?.details, "probe_local_reply");
  assert.equal(x.localReplyBody, "slow down");
  assert.equal(x.localReply?.headers.get("retry-after"), "3");
  assert.equal(x.localReply?.headers.get("x-probe-status"), "429", "on_response_headers ran on the local reply");
  assert.equal(x.responseHeaders, null, "nothing went upstream");
  t.close();
});

test("ticks follow virtual time and feed a gRPC stream over the in-process transport", { skip }, async () => {
  const fromServer: InProcessPeer[] = [];
  const opened: GrpcRequest[] = [];
  const t = await PluginTester.start({
    wasm: WASM,
    configuration: "probe",
    // The probe opens its stream in proxy_on_configure: Envoy's configuration canary would open one
    // more (the filter opens its stream on the first tick for that reason).
    configurationCanary: false,
    grpc: (request, toSidecar) => {
      if (request.cluster !== "probe-cp") return null;
      opened.push(request);
      fromServer.push(toSidecar);
      return { send: () => {}, close: () => {} };
    },
  });
  assert.equal(opened.length, 1);
  assert.equal(opened[0]!.service, "test.Probe");
  assert.equal(opened[0]!.method, "Chat");
  assert.deepEqual(opened[0]!.metadata, [["authorization", "Bearer probe-token"]]);
  const start = t.clock.now();
  t.advance(250);
  assert.equal(t.metric("probe_ticks_total"), 2, "period 100 ms: ticks at +100 and +200");
  assert.deepEqual(t.grpcSent().map(text), [`tick ${start + 100}`, `tick ${start + 200}`]);

  // A message from the server: the module stores it, queues it (on_queue_ready logs it) and echoes.
  fromServer[0]!.onMessage(new TextEncoder().encode("hello"));
  assert.equal(text(t.sharedData("probe-last-grpc")), "hello");
  assert.ok(t.logMessages("info").includes("queue hello"), "on_queue_ready dequeued the item");
  assert.equal(text(t.grpcSent().at(-1)), "echo hello");

  fromServer[0]!.onClose(14, "control plane gone");
  assert.ok(t.logMessages("warn").includes("grpc closed 14 control plane gone"), "proxy_get_status gave code and message");
  t.advance(100);
  assert.equal(t.grpcSent().length, 3, "no sends on the closed stream");
  t.close();
});

test("a module refusing its configuration fails to start with a clear error", { skip }, async () => {
  await assert.rejects(
    ProxyWasmPlugin.start({ wasm: WASM, configuration: "fail", clock: new ManualClock(), logLevel: "silent" }),
    /passthrough\.wasm: proxy_on_configure returned false \(plugin configuration rejected\)/,
  );
});
