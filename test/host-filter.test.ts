// The real filter (build/filter.wasm, built by the FILTER part) through the host: it loads, takes
// its configuration, decorates requests, opens its control-plane stream as the conventions say, and
// rejects a bad configuration with a message naming the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Action, PluginTester, ProxyWasmPlugin, ManualClock, type GrpcRequest } from "../filter/host/index.js";

const WASM = "build/filter.wasm";
const skip = existsSync(WASM) ? false : `${WASM} is missing (built by \`npm run build:filter\` once the filter exists)`;

const configuration = {
  node_id: "sidecar-1",
  zone: "zone-a",
  control_plane: { cluster: "autoglm-control-plane", timeout_ms: 5000, token: "t0ken" },
  clusters: [
    { name: "llm-a", weight: 50 },
    { name: "llm-b", weight: 50 },
  ],
};

test("the filter loads, configures and gives a request an id, a trace and a cluster", { skip }, async () => {
  const t = await PluginTester.start({ wasm: WASM, configuration, workers: 2 });
  const x = t.request({ headers: { ":method": "POST", ":path": "/v1/chat/completions" }, body: "{}", response: { status: 200, body: "ok" } });
  assert.equal(x.requestAction, Action.Continue);
  assert.equal(x.localReply, null);
  assert.match(x.requestHeaders["x-request-id"] ?? "", /\S/, "x-request-id set");
  assert.match(x.requestHeaders["traceparent"] ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  assert.ok(["llm-a", "llm-b"].includes(x.requestHeaders["x-autoglm-cluster"] ?? ""), "a configured cluster was chosen");
  assert.equal(x.requestHeaders["x-autoglm-node"], "sidecar-1");
  const kept = t.request({ headers: { "x-request-id": "given-id" } });
  assert.equal(kept.requestHeaders["x-request-id"], "given-id", "an existing request id is kept");
  t.close();
});

test("the filter opens its control-plane stream with the agreed service, method and bearer token", { skip }, async () => {
  const opened: GrpcRequest[] = [];
  const t = await PluginTester.start({
    wasm: WASM,
    configuration,
    grpc: (request) => {
      opened.push(request);
      return { send: () => {}, close: () => {} };
    },
  });
  t.advance(2000);
  t.request();
  t.advance(2000);
  assert.ok(opened.length >= 1, "a stream was opened");
  const first = opened[0]!;
  assert.equal(first.cluster, "autoglm-control-plane");
  assert.equal(first.service, "autoglm.v1.TrafficGuard");
  assert.equal(first.method, "Connect");
  assert.ok(first.metadata.some(([k, v]) => k === "authorization" && v === "Bearer t0ken"));
  t.close();
});

test("the filter's metrics are exported as Prometheus text", { skip }, async () => {
  const t = await PluginTester.start({ wasm: WASM, configuration });
  for (let i = 0; i < 3; i++) t.request();
  const text = t.prometheus();
  assert.match(text, /# TYPE \S+ (counter|gauge|histogram)\n/, "at least one metric is defined");
  t.close();
});

test("the filter refuses a configuration without node_id, and the error names the field", { skip }, async () => {
  await assert.rejects(
    ProxyWasmPlugin.start({ wasm: WASM, configuration: { clusters: [{ name: "a", weight: 1 }] }, clock: new ManualClock(), logLevel: "trace", captureLogs: true }),
    /proxy_on_configure returned false.*node_id/s,
  );
});
