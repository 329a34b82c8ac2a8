// A gRPC stream belongs to the plugin's root context whichever context opened it, as in
// proxy-wasm-cpp-host (src/exports.cc, grpc_stream: contextOrEffectiveContext()->root_context()):
// the filter opens its control-plane stream on the first tick or the first request, whichever
// comes first, and a stream opened from a request must still hear the control plane after that
// request ends. Real build/filter.wasm, virtual time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PluginTester } from "../filter/host/index.js";
import { BASE_CONFIG, FakeControlPlane, FILTER_WASM } from "./filter-support.js";

const openers: Array<{ name: string; open: (t: PluginTester) => void }> = [
  { name: "its first tick", open: (t) => t.advance(10) },
  { name: "a request before its first tick", open: (t) => void t.request() },
];

for (const o of openers) {
  test(`a control-plane stream opened on ${o.name} hears the control plane's decisions after that`, async () => {
    const cp = new FakeControlPlane();
    const t = await PluginTester.start({ wasm: FILTER_WASM, configuration: BASE_CONFIG, grpc: cp.accept, workers: 1, logLevel: "warn" });
    try {
      o.open(t);
      assert.equal(cp.streams.length, 1, "the worker opened its stream");
      cp.push({ version: 5, clusters: [{ cluster: "llm-a", weight: 1 }, { cluster: "llm-b", weight: 3 }] });
      assert.deepEqual(cp.sent("ack").map((a) => a.version), [5n], "the set reached the filter and was acknowledged");
      assert.equal(t.request().requestHeaders["x-autoglm-version"], "5");
      t.advance(6000);
      assert.equal(cp.streams.length, 1, "no reconnect: the stream was heard from");
    } finally {
      t.close();
    }
  });
}
