// A sidecar that comes back says in its hello how long it ran without a live control plane and, of
// that, how long on its local fallback breakers (Hello.disconnected_ms, fallback_ms; capability
// "fallback_time"): the control plane keeps both per stream and shows them in GET /v1/sidecars.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { Registry } from "prom-client";
import { SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { createLogger } from "../lib/log.js";

const T0 = 1_800_000_000_000;

function controlPlane(): ControlPlane {
  return new ControlPlane({
    clusters: [{ name: "a", baseWeight: 50 }, { name: "b", baseWeight: 50 }],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => T0,
    logger: createLogger("test", "silent"),
  });
}

const CASES: { name: string; capabilities: string[]; disconnectedMs: bigint; fallbackMs: bigint; expected: [number | undefined, number | undefined] }[] = [
  { name: "a worker back after 93.25 s, 63.25 s of it on its fallback", capabilities: ["shed", "fallback_time"], disconnectedMs: 93_250n, fallbackMs: 63_250n, expected: [93_250, 63_250] },
  { name: "a worker on its first connection", capabilities: ["fallback_time"], disconnectedMs: 0n, fallbackMs: 0n, expected: [0, 0] },
  { name: "an older filter that does not name the capability (its zeros mean nothing)", capabilities: ["shed"], disconnectedMs: 0n, fallbackMs: 0n, expected: [undefined, undefined] },
  { name: "a value beyond 2^53 ms", capabilities: ["fallback_time"], disconnectedMs: 2n ** 60n, fallbackMs: 5n, expected: [Number.MAX_SAFE_INTEGER, 5] },
];

for (const c of CASES) {
  test(`the control plane keeps the hello's disconnected and fallback times of ${c.name}`, async () => {
    const cp = controlPlane();
    const stream = cp.openInProcessStream({}, { onMessage: () => undefined, onClose: () => undefined });
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, {
      kind: { case: "hello", value: { nodeId: "node-1", zone: "z", workerId: 0, clusters: ["a", "b"], capabilities: c.capabilities, disconnectedMs: c.disconnectedMs, fallbackMs: c.fallbackMs } },
    })));
    const [status] = cp.sidecarStatuses();
    assert.deepEqual([status!.disconnectedMs, status!.fallbackMs], c.expected);
    await cp.stop();
  });
}

test("GET /v1/sidecars shows disconnected_ms and fallback_ms, null for a filter that does not report them", async () => {
  const fake = new FakeControlPlane([{ name: "a", baseWeight: 50 }], () => T0);
  const base = {
    transport: "grpc" as const, peer: "p", zone: "z", workerId: 0, instanceId: "1", filterVersion: "0.1.0", connectedAtMs: T0 - 1000,
    ackedVersion: 1, rejectedVersion: 0, rejectReason: "", enforcedVersion: 1, lagVersions: 0, refusing: false, reports: 0,
    duplicates: 0, lateReports: 0, droppedPushes: 0,
  };
  fake.sidecars.push(
    { ...base, streamId: "s1", nodeId: "back", capabilities: ["fallback_time"], disconnectedMs: 93_250, fallbackMs: 63_250 },
    { ...base, streamId: "s2", nodeId: "older" },
  );
  const app = await buildAdminApp({
    controlPlane: fake,
    model: { status: () => ({ mode: "model" }), reload: async () => ({ mode: "model" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: "admin-token",
    readToken: "read-token",
    logger: createLogger("test", "silent"),
    now: () => T0,
  });
  const res = await app.inject({ method: "GET", url: "/v1/sidecars", headers: { authorization: "Bearer read-token" } });
  assert.equal(res.statusCode, 200);
  const body = res.json<{ sidecars: { node_id: string; disconnected_ms: number | null; fallback_ms: number | null }[] }>();
  assert.deepEqual(body.sidecars.map((s) => [s.node_id, s.disconnected_ms, s.fallback_ms]), [["back", 93_250, 63_250], ["older", null, null]]);
  await app.close();
});
