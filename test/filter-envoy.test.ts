// The filter as Envoy and Istio run it: the gRPC upstream as a serialized GrpcService, the client's
// cluster header, the hosts allow-list, Envoy's clear_route_cache, the configuration canary VM and
// identity from Envoy's node properties.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { clearRouteCache, parseGrpcUpstream, PluginTester } from "../filter/host/index.js";
import { BASE_CONFIG, FakeControlPlane, FILTER_WASM, FIRST_TICK_MS, startFilter } from "./filter-support.js";

const DEPS = join("node_modules", "@grpc", "grpc-js-xds", "deps");

/** Envoy's own envoy.config.core.v3.GrpcService (the API protos shipped with @grpc/grpc-js-xds). */
function envoyGrpcService(): protobuf.Type {
  const root = new protobuf.Root();
  const include = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => join(DEPS, d)).concat([join("node_modules", "protobufjs")]);
  root.resolvePath = (_origin, target) => include.map((d) => join(d, target)).find((p) => existsSync(p)) ?? target;
  root.loadSync(["envoy/config/core/v3/grpc_service.proto"], { keepCase: true });
  root.resolveAll();
  return root.lookupType("envoy.config.core.v3.GrpcService");
}

const ISTIO_CP = "outbound|50051||autoglm-control-plane.autoglm-system.svc.cluster.local";

test("with control_plane.authority the stream's upstream is a GrpcService naming cluster and authority, as Envoy's proto decodes it", async () => {
  const authority = "autoglm-control-plane.autoglm-system.svc.cluster.local:50051";
  const { t, cp } = await startFilter({ ...BASE_CONFIG, control_plane: { cluster: ISTIO_CP, authority } });
  const request = cp.latest().request;
  assert.equal(request.cluster, ISTIO_CP);
  assert.equal(request.authority, authority);
  const decoded = envoyGrpcService().toObject(envoyGrpcService().decode(request.upstream!)) as { envoy_grpc?: { cluster_name: string; authority: string } };
  assert.deepEqual(decoded.envoy_grpc, { cluster_name: ISTIO_CP, authority });
  t.close();
});

test("without an authority the upstream stays the bare cluster name, which Envoy also uses as :authority", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, control_plane: { cluster: "autoglm-control-plane" } });
  const request = cp.latest().request;
  assert.equal(new TextDecoder().decode(request.upstream), "autoglm-control-plane");
  assert.equal(request.authority, "autoglm-control-plane");
  t.close();
});

test("the host reads an upstream as Envoy does: GrpcService first, then a bare cluster name", () => {
  const type = envoyGrpcService();
  const cases: Array<[string, Uint8Array, { cluster: string; authority: string; form: string }]> = [
    ["GrpcService with authority", type.encode({ envoy_grpc: { cluster_name: ISTIO_CP, authority: "cp:50051" } }).finish(), { cluster: ISTIO_CP, authority: "cp:50051", form: "grpc_service" }],
    ["GrpcService without authority", type.encode({ envoy_grpc: { cluster_name: "cp" } }).finish(), { cluster: "cp", authority: "cp", form: "grpc_service" }],
    ["bare Istio cluster name", new TextEncoder().encode(ISTIO_CP), { cluster: ISTIO_CP, authority: ISTIO_CP, form: "cluster_name" }],
    ["bare plain cluster name", new TextEncoder().encode("autoglm-control-plane"), { cluster: "autoglm-control-plane", authority: "autoglm-control-plane", form: "cluster_name" }],
  ];
  for (const [what, bytes, expected] of cases) {
    const got = parseGrpcUpstream(bytes);
    assert.deepEqual({ cluster: got.cluster, authority: got.authority, form: got.form }, expected, what);
  }
});

test("a client's own cluster header never picks the cluster: it is overwritten, or removed where the filter does not govern", async () => {
  const { t } = await startFilter({ ...BASE_CONFIG, hosts: ["llm.llm.svc.cluster.local"] });
  const cases: Array<[string, string, (v: string | undefined) => boolean]> = [
    ["governed host", "llm.llm.svc.cluster.local", (v) => v === "llm-a" || v === "llm-b"],
    ["governed host with a port", "llm.llm.svc.cluster.local:8000", (v) => v === "llm-a" || v === "llm-b"],
    ["other host", "other.svc", (v) => v === undefined],
  ];
  for (const [what, authority, ok] of cases) {
    for (const claimed of ["autoglm-control-plane", "llm-a"]) {
      const x = t.request({ headers: { ":authority": authority, "x-autoglm-cluster": claimed } });
      assert.ok(ok(x.requestHeaders["x-autoglm-cluster"]), `${what}, client claimed ${claimed}: got ${x.requestHeaders["x-autoglm-cluster"]}`);
    }
  }
  t.close();
});

test("requests for authorities outside the hosts allow-list pass untouched and unrecorded", async () => {
  const { t } = await startFilter({ ...BASE_CONFIG, hosts: ["llm"] });
  const before = t.plugin.prometheus();
  const x = t.request({ headers: { ":authority": "metrics.example:9090" }, response: { status: 503 } });
  assert.equal(x.localReply, null);
  assert.equal(x.requestHeaders["x-autoglm-node"], undefined, "no marker headers");
  assert.equal(x.requestHeaders["x-request-id"], undefined, "no request id");
  assert.equal(t.plugin.prometheus(), before, "no metric moved");
  const governed = t.request({ headers: { ":authority": "llm:8000" } });
  assert.equal(governed.requestHeaders["x-autoglm-node"], "sidecar-1");
  t.close();
});

test("the filter calls Envoy's clear_route_cache after choosing a cluster where it exists, and tries only once where it does not", async () => {
  for (const found of [true, false]) {
    const cp = new FakeControlPlane();
    const t = await PluginTester.start({
      wasm: FILTER_WASM, configuration: BASE_CONFIG, grpc: cp.accept, logLevel: "warn",
      ...(found ? { foreignFunctions: { clear_route_cache: clearRouteCache } } : {}),
    });
    const clears = [1, 2, 3].map(() => t.request().stream.routeCacheClears);
    assert.deepEqual(clears, found ? [1, 1, 1] : [0, 0, 0]);
    t.close();
  }
});

test("Envoy's configuration canary VM takes no worker id and opens no stream", async () => {
  const cp = new FakeControlPlane();
  const t = await PluginTester.start({ wasm: FILTER_WASM, configuration: BASE_CONFIG, grpc: cp.accept, workers: 2, logLevel: "warn", configurationCanary: true });
  assert.equal(cp.attempts, 0, "nothing opened while configuring");
  t.advance(FIRST_TICK_MS);
  assert.equal(cp.streams.length, 2, "one stream per worker, none from the canary");
  const hellos = cp.sent("hello").map((h) => h.workerId).sort();
  assert.deepEqual(hellos, [0, 1]);
  t.close();
});

test("node id and zone come from Envoy's node properties when the configuration has none", async () => {
  const cases: Array<[string, object, Record<string, string>, { nodeId: string; zone: string }]> = [
    ["both from the node", { clusters: BASE_CONFIG.clusters }, { "node.id": "sidecar~10.0.0.7~llm-client-5d9f.llm~llm.svc.cluster.local", "node.locality.zone": "eu-west-1b" }, { nodeId: "sidecar~10.0.0.7~llm-client-5d9f.llm~llm.svc.cluster.local", zone: "eu-west-1b" }],
    ["configuration wins", BASE_CONFIG, { "node.id": "pod-9", "node.locality.zone": "z9" }, { nodeId: "sidecar-1", zone: "zone-a" }],
    ["no zone anywhere", { clusters: BASE_CONFIG.clusters }, { "node.id": "pod-9" }, { nodeId: "pod-9", zone: "" }],
  ];
  for (const [what, config, properties, expected] of cases) {
    const cp = new FakeControlPlane();
    const t = await PluginTester.start({ wasm: FILTER_WASM, configuration: config, grpc: cp.accept, logLevel: "warn", properties });
    t.advance(FIRST_TICK_MS);
    const hello = cp.sent("hello")[0]!;
    assert.deepEqual({ nodeId: hello.nodeId, zone: hello.zone }, expected, what);
    t.close();
  }
  await assert.rejects(
    PluginTester.start({ wasm: FILTER_WASM, configuration: { clusters: BASE_CONFIG.clusters }, logLevel: "warn" }),
    /node_id: required \(or Envoy's node\.id\)/,
  );
});
