import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import type { GoneSidecar } from "../control-plane/src/core/gone-sidecars.js";
import { createLogger } from "../lib/log.js";

const TOKEN = "s3cret-admin-token";
const READ_TOKEN = "s3cret-read-token";
const NOW = 1_800_000_000_000;

const GONE: GoneSidecar = {
  nodeId: "sidecar-9", zone: "zone-b", workerId: 2, instanceId: "99", filterVersion: "0.1.0", transport: "grpc",
  peer: "10.0.0.9:4000", streamId: "s9", connectedAtMs: NOW - 120_000, disconnectedAtMs: NOW - 42_000,
  lastReportAtMs: NOW - 43_000, reason: "stream cancelled", enforcedVersion: 17, refusing: true, rejectReason: "unknown cluster llm-z",
};

async function app(gone: GoneSidecar[]) {
  const cp = new FakeControlPlane([{ name: "llm-a", baseWeight: 50 }], () => NOW);
  cp.gone.push(...gone);
  return buildAdminApp({
    controlPlane: cp,
    model: { status: () => ({ mode: "model" }), reload: async () => ({ mode: "model" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: TOKEN,
    readToken: READ_TOKEN,
    logger: createLogger("admin-sidecars-test", "silent"),
    now: () => NOW,
  });
}

test("/v1/sidecars lists the workers that are gone in snake_case, with the reason, the times and how long they have been gone", async () => {
  const server = await app([GONE, { ...GONE, nodeId: "sidecar-3", workerId: 0, lastReportAtMs: undefined, refusing: false, rejectReason: "" }]);
  const res = await server.inject({ method: "GET", url: "/v1/sidecars", headers: { authorization: `Bearer ${READ_TOKEN}` } });
  assert.equal(res.statusCode, 200);
  const body = res.json<{ sidecars: unknown[]; gone: Record<string, unknown>[] }>();
  assert.deepEqual(body.sidecars, []);
  assert.deepEqual(body.gone[0], {
    node_id: "sidecar-9", zone: "zone-b", worker_id: 2, instance_id: "99", filter_version: "0.1.0", transport: "grpc",
    peer: "10.0.0.9:4000", stream_id: "s9", connected_at_ms: NOW - 120_000, disconnected_at_ms: NOW - 42_000, gone_for_ms: 42_000,
    last_report_at_ms: NOW - 43_000, reason: "stream cancelled", enforced_version: 17, refusing: true, reject_reason: "unknown cluster llm-z",
  });
  assert.equal(body.gone[1]!.node_id, "sidecar-3");
  assert.equal(body.gone[1]!.last_report_at_ms, null, "never reported: null");
  await server.close();
});

test("/v1/sidecars answers an empty gone list when every worker that connected is still there", async () => {
  const server = await app([]);
  const res = await server.inject({ method: "GET", url: "/v1/sidecars", headers: { authorization: `Bearer ${TOKEN}` } });
  assert.deepEqual(res.json(), { sidecars: [], gone: [] });
  await server.close();
});

test("the dashboard's icon is served to anyone at /favicon.svg and /favicon.ico, as the page itself is", async () => {
  const server = await app([]);
  for (const url of ["/favicon.svg", "/favicon.ico", "/"]) {
    const res = await server.inject({ method: "GET", url });
    assert.equal(res.statusCode, 200, url);
  }
  const icon = await server.inject({ method: "GET", url: "/favicon.ico" });
  assert.equal(icon.headers["content-type"], "image/svg+xml");
  assert.match(icon.body, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const page = await server.inject({ method: "GET", url: "/" });
  assert.match(page.body, /<link rel="icon" type="image\/svg\+xml" href="\/favicon\.svg">/);
  await server.close();
});
