import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { ModelReloadError, type AdminDeps, type ModelStatus } from "../control-plane/src/admin/deps.js";
import { recordClusters, type AuditRecord } from "../control-plane/src/audit/records.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { createLogger } from "../lib/log.js";

const TOKEN = "s3cret-admin-token";
const NOW = 1_800_000_000_000;

function setup(overrides: Partial<AdminDeps> = {}) {
  const cp = new FakeControlPlane(
    [
      { name: "llm-a", baseWeight: 50 },
      { name: "llm-b", baseWeight: 30 },
    ],
    () => NOW,
  );
  let model: ModelStatus = { mode: "model", path: "models/anomaly.onnx", loadedAtMs: NOW };
  let grpc = true;
  const reloads: Array<{ actor: string; reason: string | undefined }> = [];
  const audit: AuditRecord[] = [
    { atMs: NOW - 3000, kind: "transition", transition: { cluster: "llm-a", from: "closed", to: "open", atMs: NOW - 3000, reason: "p99 2300ms > slo 2000ms" } },
    { atMs: NOW - 2000, kind: "halt", reason: "incident, \"big\" one", actor: "admin@x" },
    { atMs: NOW - 1000, kind: "transition", transition: { cluster: "llm-b", from: "closed", to: "open", atMs: NOW - 1000, reason: "errors" } },
  ];
  const deps: AdminDeps = {
    controlPlane: cp,
    model: {
      status: () => model,
      reload: async (actor, reason) => {
        reloads.push({ actor, reason });
        if (model.path === "bad") throw new ModelReloadError("graph input 'x' has 7 features, expected 8");
        model = { ...model, loadedAtMs: NOW + 1 };
        return model;
      },
    },
    readiness: { grpcListening: () => grpc },
    audit: {
      async *read(q) {
        for (const e of audit) {
          if (q.sinceMs !== undefined && e.atMs < q.sinceMs) continue;
          if (q.untilMs !== undefined && e.atMs >= q.untilMs) continue;
          if (q.cluster !== undefined && !recordClusters(e).includes(q.cluster)) continue;
          yield e;
        }
      },
    },
    registry: new Registry(),
    token: TOKEN,
    logger: createLogger("admin-test", "silent"),
    now: () => NOW,
    ...overrides,
  };
  return {
    cp,
    deps,
    reloads,
    setModel: (m: ModelStatus) => (model = m),
    setGrpc: (g: boolean) => (grpc = g),
  };
}

const auth = { authorization: `Bearer ${TOKEN}` };

test("healthz answers ok and every answer carries a request id", async () => {
  const app = await buildAdminApp(setup().deps);
  const res = await app.inject({ method: "GET", url: "/healthz", headers: { "x-request-id": "req-123" } });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: "ok" });
  assert.equal(res.headers["x-request-id"], "req-123");
  const fresh = await app.inject({ method: "GET", url: "/healthz" });
  assert.match(String(fresh.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
  await app.close();
});

const readyCases: { name: string; grpc: boolean; mode: ModelStatus["mode"]; status: number }[] = [
  { name: "the model loaded and gRPC listening", grpc: true, mode: "model", status: 200 },
  { name: "the rules-only fallback and gRPC listening", grpc: true, mode: "rules-only", status: 200 },
  { name: "the model still loading", grpc: true, mode: "loading", status: 503 },
  { name: "gRPC not listening yet", grpc: false, mode: "model", status: 503 },
];
for (const c of readyCases) {
  test(`readyz answers ${c.status} with ${c.name}`, async () => {
    const s = setup();
    s.setGrpc(c.grpc);
    s.setModel({ mode: c.mode });
    const app = await buildAdminApp(s.deps);
    const res = await app.inject({ method: "GET", url: "/readyz" });
    assert.equal(res.statusCode, c.status);
    assert.deepEqual(res.json(), { ready: c.status === 200, grpc_listening: c.grpc, model: c.mode, sidecars: { connected: 0, refusing: 0, refusing_streams: [] } });
    await app.close();
  });
}

test("clusters, one cluster, sidecars and decisions are listed in snake_case", async () => {
  const s = setup();
  s.cp.addWindow("llm-a", { p99Ms: 900, errorRate: 0.01 });
  s.cp.sidecars.push({
    streamId: "s1", transport: "grpc", peer: "127.0.0.1:5000", nodeId: "sidecar-1", zone: "zone-a", workerId: 0,
    instanceId: "42", filterVersion: "0.1.0", connectedAtMs: NOW - 10_000, ackedVersion: 1, rejectedVersion: 0,
    rejectReason: "", enforcedVersion: 1, lastReportAtMs: NOW - 1500, lastWindowStartMs: NOW - 2000, lagVersions: 0, refusing: false,
    reports: 9, duplicates: 0, lateReports: 0, droppedPushes: 0,
  });
  const app = await buildAdminApp(s.deps);
  const list = (await app.inject({ method: "GET", url: "/v1/clusters", headers: auth })).json();
  assert.deepEqual(list.clusters.map((c: { name: string; state: string; weight: number }) => [c.name, c.state, c.weight]), [
    ["llm-a", "closed", 50],
    ["llm-b", "closed", 30],
  ]);
  assert.equal(list.clusters[0].last_window.p99_ms, 900);
  assert.equal(list.clusters[0].capacity.baseline_p50_ms, null, "NaN is null in JSON");
  const one = (await app.inject({ method: "GET", url: "/v1/clusters/llm-a", headers: auth })).json();
  assert.equal(one.recent.length, 1);
  const sidecars = (await app.inject({ method: "GET", url: "/v1/sidecars", headers: auth })).json();
  assert.equal(sidecars.sidecars[0].node_id, "sidecar-1");
  assert.equal(sidecars.sidecars[0].report_lag_ms, 1500);
  const decisions = (await app.inject({ method: "GET", url: "/v1/decisions", headers: auth })).json();
  assert.equal(decisions.version, 1);
  assert.equal(decisions.clusters.length, 2);
  await app.close();
});

test("an unknown cluster answers 404 AUTOGLM_ERR_CLUSTER_UNKNOWN", async () => {
  const app = await buildAdminApp(setup().deps);
  for (const [method, url, body] of [
    ["GET", "/v1/clusters/llm-z", undefined],
    ["POST", "/v1/clusters/llm-z/override", { state: "open", reason: "test" }],
  ] as const) {
    const res = await app.inject({ method, url, headers: auth, ...(body === undefined ? {} : { payload: body }) });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, "AUTOGLM_ERR_CLUSTER_UNKNOWN");
    assert.equal(res.json().message, 'unknown cluster "llm-z"');
  }
  await app.close();
});

test("an unknown route answers 404 AUTOGLM_ERR_NOT_FOUND", async () => {
  const app = await buildAdminApp(setup().deps);
  const res = await app.inject({ method: "GET", url: "/v1/nothing?x=1" });
  assert.equal(res.statusCode, 404);
  assert.deepEqual({ ...(res.json() as object), request_id: "" }, { code: "AUTOGLM_ERR_NOT_FOUND", message: "no route GET /v1/nothing", request_id: "" });
  await app.close();
});

const mutating: { url: string; payload?: object }[] = [
  { url: "/v1/clusters/llm-a/override", payload: { state: "open", reason: "maintenance" } },
  { url: "/v1/halt", payload: { reason: "incident" } },
  { url: "/v1/resume", payload: { reason: "fixed" } },
  { url: "/v1/model/reload" },
];
for (const route of mutating) {
  test(`POST ${route.url} needs the bearer token: 401 without, 403 with a wrong one`, async () => {
    const s = setup();
    const app = await buildAdminApp(s.deps);
    const base = { method: "POST" as const, url: route.url, ...(route.payload === undefined ? {} : { payload: route.payload }) };
    const none = await app.inject(base);
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, "AUTOGLM_ERR_UNAUTHORIZED");
    const wrong = await app.inject({ ...base, headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json().code, "AUTOGLM_ERR_FORBIDDEN");
    assert.equal(s.cp.calls.length, 0, "nothing reached the control plane");
    const ok = await app.inject({ ...base, headers: auth });
    assert.equal(ok.statusCode, 200, ok.body);
    await app.close();
  });
}

test("mutating routes are refused when no admin token is configured", async () => {
  const app = await buildAdminApp(setup({ token: "" }).deps);
  const res = await app.inject({ method: "POST", url: "/v1/halt", headers: { authorization: "Bearer " }, payload: { reason: "x" } });
  assert.equal(res.statusCode, 401);
  assert.match(res.json().message, /no admin token is configured/);
  await app.close();
});

const badRequests: { name: string; url: string; method?: "GET" | "POST"; payload?: unknown; message: string }[] = [
  { name: "an override with a bad state", url: "/v1/clusters/llm-a/override", payload: { state: "half", reason: "x" }, message: 'bad request: body.state: must be one of open, closed, auto, got "half"' },
  { name: "an override without a reason", url: "/v1/clusters/llm-a/override", payload: { state: "open" }, message: "bad request: body.reason: required" },
  { name: "an override with a fractional ttl", url: "/v1/clusters/llm-a/override", payload: { state: "open", reason: "x", ttl_s: 1.5 }, message: "bad request: body.ttl_s: expected integer, got 1.5" },
  { name: "an override with an unknown field", url: "/v1/clusters/llm-a/override", payload: { state: "open", reason: "x", force: true }, message: "bad request: body.force: unknown field" },
  { name: "a halt without a reason", url: "/v1/halt", payload: {}, message: "bad request: body.reason: required" },
  { name: "a resume with an empty reason", url: "/v1/resume", payload: { reason: "" }, message: "bad request: body.reason: must NOT have fewer than 1 characters, got \"\"" },
  { name: "an audit export in a bad format", url: "/v1/audit?format=xml", method: "GET", message: 'bad request: querystring.format: must be one of ndjson, csv, got "xml"' },
  { name: "an audit export with a bad time", url: "/v1/audit?since=yesterday", method: "GET", message: 'bad request: querystring.since: expected epoch milliseconds or an ISO 8601 time, got "yesterday"' },
  { name: "an unknown query parameter", url: "/v1/clusters?verbose=1", method: "GET", message: "bad request: querystring.verbose: unknown field" },
  { name: "an audit export for an unknown cluster", url: "/v1/audit?cluster=llm-z", method: "GET", message: 'bad request: querystring.cluster: unknown cluster "llm-z"; known: llm-a, llm-b' },
  {
    name: "an audit export with epoch milliseconds past the last date",
    url: "/v1/audit?since=99999999999999999",
    method: "GET",
    message: "bad request: querystring.since: epoch milliseconds out of range: expected 0 to 8640000000000000 (+275760-09-13T00:00:00.000Z), got 99999999999999999",
  },
  {
    name: "an audit export with negative epoch milliseconds",
    url: "/v1/audit?until=-5",
    method: "GET",
    message: "bad request: querystring.until: epoch milliseconds out of range: expected 0 to 8640000000000000 (+275760-09-13T00:00:00.000Z), got -5",
  },
  { name: "a model reload naming a file", url: "/v1/model/reload", payload: { path: "/srv/other.onnx" }, message: "bad request: body.path: unknown field" },
  { name: "a model reload with an empty reason", url: "/v1/model/reload", payload: { reason: "" }, message: 'bad request: body.reason: must NOT have fewer than 1 characters, got ""' },
];
for (const c of badRequests) {
  test(`${c.name} answers 400 naming the field`, async () => {
    const s = setup();
    const app = await buildAdminApp(s.deps);
    const res = await app.inject({ method: c.method ?? "POST", url: c.url, headers: auth, ...(c.payload === undefined ? {} : { payload: c.payload as object }) });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().code, "AUTOGLM_ERR_BAD_REQUEST");
    assert.equal(res.json().message, c.message);
    assert.equal(s.cp.calls.length, 0);
    await app.close();
  });
}

test("malformed JSON answers 400 AUTOGLM_ERR_BAD_REQUEST", async () => {
  const app = await buildAdminApp(setup().deps);
  const res = await app.inject({ method: "POST", url: "/v1/halt", headers: { ...auth, "content-type": "application/json" }, payload: "{nope" });
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().code, "AUTOGLM_ERR_BAD_REQUEST");
  await app.close();
});

test("an override with a ttl reaches the control plane with its expiry and actor", async () => {
  const s = setup();
  const app = await buildAdminApp(s.deps);
  const res = await app.inject({ method: "POST", url: "/v1/clusters/llm-b/override", headers: auth, payload: { state: "open", ttl_s: 60, reason: "drain for upgrade" } });
  assert.equal(res.statusCode, 200);
  const [override] = s.cp.calls[0]!.args as [{ cluster: string; state: string; untilMs: number; reason: string; actor: string }];
  assert.deepEqual({ ...override, actor: override.actor.split("@")[0] }, { cluster: "llm-b", state: "open", untilMs: NOW + 60_000, reason: "drain for upgrade", actor: "admin" });
  assert.equal(res.json().until_ms, NOW + 60_000);
  assert.equal(res.json().decisions.version, 2);
  await app.close();
});

test("halt and resume change the decision set's halted flag", async () => {
  const s = setup();
  const app = await buildAdminApp(s.deps);
  const halted = await app.inject({ method: "POST", url: "/v1/halt", headers: auth, payload: { reason: "bad deploy" } });
  assert.deepEqual([halted.json().halted, halted.json().halt_reason], [true, "bad deploy"]);
  const resumed = await app.inject({ method: "POST", url: "/v1/resume", headers: auth, payload: { reason: "rolled back" } });
  assert.deepEqual([resumed.json().halted, resumed.json().halt_reason], [false, ""]);
  await app.close();
});

test("a model reload that fails validation answers 422 AUTOGLM_ERR_MODEL_INVALID", async () => {
  const s = setup();
  s.setModel({ mode: "model", path: "bad" });
  const app = await buildAdminApp(s.deps);
  const res = await app.inject({ method: "POST", url: "/v1/model/reload", headers: auth });
  assert.equal(res.statusCode, 422);
  assert.equal(res.json().code, "AUTOGLM_ERR_MODEL_INVALID");
  assert.equal(res.json().message, "model rejected, still using the previous one: graph input 'x' has 7 features, expected 8");
  await app.close();
});

test("a model reload takes no body or a reason, and passes the actor and the reason on for the audit log", async () => {
  const s = setup();
  const app = await buildAdminApp(s.deps);
  const bare = await app.inject({ method: "POST", url: "/v1/model/reload", headers: auth });
  assert.equal(bare.statusCode, 200, bare.body);
  const withReason = await app.inject({ method: "POST", url: "/v1/model/reload", headers: auth, payload: { reason: "retrained on last week" } });
  assert.equal(withReason.statusCode, 200, withReason.body);
  assert.deepEqual(
    s.reloads.map((r) => ({ ...r, actor: r.actor.split("@")[0] })),
    [{ actor: "admin", reason: undefined }, { actor: "admin", reason: "retrained on last week" }],
  );
  await app.close();
});

const allOpen: Array<{ name: string; before: Array<{ cluster: string; state: "open" | "closed" | "auto"; untilMs?: number }>; body: object; status: number }> = [
  { name: "forcing the last cluster open", before: [{ cluster: "llm-a", state: "open" }], body: { state: "open", reason: "drain" }, status: 409 },
  { name: "forcing the last cluster open for a while", before: [{ cluster: "llm-a", state: "open" }], body: { state: "open", ttl_s: 60, reason: "drain" }, status: 409 },
  { name: "forcing the last cluster open, confirmed", before: [{ cluster: "llm-a", state: "open" }], body: { state: "open", reason: "drain", confirm_all_open: true }, status: 200 },
  { name: "forcing one cluster open while another is left to the policy", before: [], body: { state: "open", reason: "drain" }, status: 200 },
  { name: "forcing a cluster open while the other's open override has expired", before: [{ cluster: "llm-a", state: "open", untilMs: NOW - 1 }], body: { state: "open", reason: "drain" }, status: 200 },
  { name: "forcing a cluster open while the other is forced closed", before: [{ cluster: "llm-a", state: "closed" }], body: { state: "open", reason: "drain" }, status: 200 },
  { name: "forcing the last cluster closed", before: [{ cluster: "llm-a", state: "open" }], body: { state: "closed", reason: "back" }, status: 200 },
];
for (const c of allOpen) {
  test(`overrides: ${c.name} answers ${c.status}`, async () => {
    const s = setup();
    for (const o of c.before) s.cp.setOverride({ ...o, reason: "earlier", actor: "ops" });
    const app = await buildAdminApp(s.deps);
    const res = await app.inject({ method: "POST", url: "/v1/clusters/llm-b/override", headers: auth, payload: c.body });
    assert.equal(res.statusCode, c.status, res.body);
    const reached = s.cp.calls.filter((call) => call.method === "setOverride").length - c.before.length;
    assert.equal(reached, c.status === 200 ? 1 : 0, "a refused override never reaches the control plane");
    if (c.status === 409) {
      assert.equal(res.json().code, "AUTOGLM_ERR_ALL_CLUSTERS_OPEN");
      assert.equal(
        res.json().message,
        'this would force every cluster open (llm-a, llm-b): no request would be served anywhere, which is a halt by another name. ' +
          'To stop all traffic use POST /v1/halt (POST /v1/resume undoes it); to force every cluster open anyway, send this override again with "confirm_all_open": true',
      );
    }
    await app.close();
  });
}

test("the audit export filters by time and cluster, as NDJSON and as CSV", async () => {
  const app = await buildAdminApp(setup().deps);
  const nd = await app.inject({ method: "GET", url: `/v1/audit?since=${NOW - 2500}&cluster=llm-b`, headers: auth });
  assert.equal(nd.statusCode, 200);
  assert.match(String(nd.headers["content-type"]), /application\/x-ndjson/);
  const lines = nd.body.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    { kind: "transition", at_ms: NOW - 1000, transition: { cluster: "llm-b", from: "closed", to: "open", at_ms: NOW - 1000, reason: "errors" } },
  ]);
  const iso = new Date(NOW - 1500).toISOString();
  const csv = await app.inject({ method: "GET", url: `/v1/audit?format=csv&until=${encodeURIComponent(iso)}`, headers: auth });
  const rows = csv.body.trimEnd().split("\r\n");
  assert.equal(
    rows[0],
    "at_ms,at,kind,cluster,version,state,from,to,weight,probe_fraction,retry_after_s,anomaly_score,halted,ttl_ms,until_ms,reason,actor,node_id,stream_id,enforced_version,path,outcome,detail,trigger,action,fraction,value,threshold,bucket_start_ms,good,total,source",
  );
  assert.equal(rows.length, 3);
  const at = (ms: number) => `${ms},${new Date(ms).toISOString()}`;
  assert.equal(rows[1], `${at(NOW - 3000)},transition,llm-a,,,closed,open,,,,,,,,p99 2300ms > slo 2000ms,,,,,,,,,,,,,,,,`);
  assert.equal(rows[2], `${at(NOW - 2000)},halt,,,,,,,,,,,,,"incident, ""big"" one",admin@x,,,,,,,,,,,,,,,`);
  await app.close();
});

test("the audit export answers 503 when no audit log is configured", async () => {
  const s = setup();
  delete s.deps.audit;
  const app = await buildAdminApp(s.deps);
  const res = await app.inject({ method: "GET", url: "/v1/audit", headers: auth });
  assert.equal(res.statusCode, 503);
  assert.equal(res.json().code, "AUTOGLM_ERR_AUDIT_UNAVAILABLE");
  await app.close();
});

test("metrics are served in the Prometheus text format from the registry passed in", async () => {
  const s = setup();
  const { Counter } = await import("prom-client");
  new Counter({ name: "autoglm_test_total", help: "a test counter", registers: [s.deps.registry] }).inc(3);
  const app = await buildAdminApp(s.deps);
  const res = await app.inject({ method: "GET", url: "/metrics" });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /^autoglm_test_total 3$/m);
  await app.close();
});

test("a sidecar that refuses decisions shows in /readyz's detail and in /v1/sidecars with its reason", async () => {
  const s = setup();
  s.cp.sidecars.push({
    streamId: "s7", transport: "grpc", peer: "127.0.0.1:5001", nodeId: "sidecar-7", zone: "zone-a", workerId: 0,
    instanceId: "7", filterVersion: "0.1.0", connectedAtMs: NOW - 10_000, ackedVersion: 0, rejectedVersion: 3,
    rejectReason: "version: 3 is older than the enforced 18", enforcedVersion: 18, lagVersions: 0, refusing: true,
    reports: 4, duplicates: 0, lateReports: 0, droppedPushes: 0,
  });
  const app = await buildAdminApp(s.deps);
  const ready = (await app.inject({ method: "GET", url: "/readyz" })).json();
  assert.deepEqual(ready.sidecars, {
    connected: 1,
    refusing: 1,
    refusing_streams: [{ stream_id: "s7", node_id: "sidecar-7", rejected_version: 3, enforced_version: 18, reason: "version: 3 is older than the enforced 18" }],
  });
  const listed = (await app.inject({ method: "GET", url: "/v1/sidecars", headers: auth })).json();
  assert.equal(listed.sidecars[0].refusing, true);
  assert.equal(listed.sidecars[0].reject_reason, "version: 3 is older than the enforced 18");
  await app.close();
});
