// The admin API's fault snapshot routes over the real store and recorder (a temporary directory)
// and the fake control plane: GET /v1/snapshots lists, GET /v1/snapshots/{id} downloads the file
// as written, POST /v1/snapshots takes one (admin token); a malformed id is a 400 before any
// file is read, an unknown one a 404; without an audit directory each route answers 503.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import type { AdminDeps } from "../control-plane/src/admin/deps.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { snapshotAccess, snapshotId, SnapshotRecorder, SnapshotStore, type SnapshotSummary } from "../control-plane/src/snapshots/index.js";
import { createLogger } from "../lib/log.js";

const TOKEN = "s3cret-admin-token";
const READ = "s3cret-read-token";
const NOW = 1_800_000_000_000;
const logger = createLogger("admin-snapshots-test", "silent");
const write = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const read = { authorization: `Bearer ${READ}` };

async function setup(t: { after(fn: () => Promise<void>): void }, withSnapshots = true) {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-admin-snapshots-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cp = new FakeControlPlane([{ name: "llm-a", baseWeight: 50 }, { name: "llm-b", baseWeight: 50 }], () => NOW);
  const store = await SnapshotStore.open({ dir, maxFiles: 10, maxBytes: 1e9, logger });
  const recorder = new SnapshotRecorder({
    store,
    facts: () => ({ atMs: NOW, decisions: cp.currentDecisions(), clusters: cp.clusterStatuses(), sidecars: cp.sidecarStatuses(), gone: cp.goneSidecars(), model: { mode: "rules-only", featureNames: [] } }),
    config: {},
    secrets: [],
    windowsBefore: 3,
    windowsAfter: 2,
    logger,
  });
  const deps: AdminDeps = {
    controlPlane: cp,
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: TOKEN,
    readToken: READ,
    logger,
    now: () => NOW,
    ...(withSnapshots ? { snapshots: snapshotAccess(store, recorder) } : {}),
  };
  const app = await buildAdminApp(deps);
  t.after(async () => {
    await app.close();
    await recorder.close();
  });
  return { app, dir, cp };
}

describe("the admin API's fault snapshots", () => {
  it("a snapshot taken on demand is listed and downloads as the file written", async (t) => {
    const { app, dir } = await setup(t);
    const taken = await app.inject({ method: "POST", url: "/v1/snapshots", headers: write, payload: { reason: "before the release", cluster: "llm-a" } });
    assert.equal(taken.statusCode, 201, taken.body);
    const summary = taken.json<SnapshotSummary>();
    assert.equal(summary.id, snapshotId(NOW, "on_demand", 1));
    assert.deepEqual({ ...summary, bytes: 0 }, { id: summary.id, taken_at_ms: NOW, cause: "on_demand", cluster: "llm-a", reason: "before the release", complete: false, bytes: 0 });
    const listed = await app.inject({ method: "GET", url: "/v1/snapshots", headers: read });
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(listed.json<{ snapshots: SnapshotSummary[] }>().snapshots, [summary]);
    const got = await app.inject({ method: "GET", url: `/v1/snapshots/${summary.id}`, headers: read });
    assert.equal(got.statusCode, 200);
    assert.match(String(got.headers["content-type"]), /^application\/json/);
    assert.equal(got.body, await readFile(join(dir, `${summary.id}.json`), "utf8"));
    assert.equal(got.json<{ cause: { actor: string } }>().cause.actor, "admin@127.0.0.1");
  });

  const badIds: [string, string, number, RegExp][] = [
    ["a path up, encoded", "/v1/snapshots/..%2F..%2Fetc%2Fpasswd", 400, /params\.id: must match pattern/],
    ["a path up", "/v1/snapshots/../../etc/passwd", 404, /no route/],
    ["a name with an extension", `/v1/snapshots/${NOW}-halt-1.json`, 400, /params\.id/],
    ["a word", "/v1/snapshots/latest", 400, /params\.id/],
    ["a dot-dot, encoded (the URL resolves it to /v1/)", "/v1/snapshots/%2e%2e", 404, /no route GET \/v1\//],
    ["a backslash path, encoded", "/v1/snapshots/..%5C..%5Cwin.ini", 400, /params\.id/],
    ["a well-formed id not kept", `/v1/snapshots/${snapshotId(NOW, "halt", 42)}`, 404, /no snapshot "1800000000000-halt-42"/],
  ];
  for (const [name, url, status, message] of badIds) {
    it(`${name} as a snapshot id answers ${status}`, async (t) => {
      const { app } = await setup(t);
      const res = await app.inject({ method: "GET", url, headers: read });
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.json<{ message: string }>().message, message);
    });
  }

  const badPosts: [string, Record<string, string>, unknown, number, RegExp][] = [
    ["no reason", write, {}, 400, /body\.reason: required/],
    ["an unknown cluster", write, { reason: "r", cluster: "llm-z" }, 400, /body\.cluster: unknown cluster "llm-z"; known: llm-a, llm-b/],
    ["an unknown field", write, { reason: "r", path: "/etc" }, 400, /body\.path: unknown field/],
    ["the read token", { ...read, "content-type": "application/json" }, { reason: "r" }, 403, /read token .* cannot call mutating routes/],
  ];
  for (const [name, headers, payload, status, message] of badPosts) {
    it(`taking a snapshot with ${name} answers ${status}`, async (t) => {
      const { app } = await setup(t);
      const res = await app.inject({ method: "POST", url: "/v1/snapshots", headers, payload: payload as Record<string, unknown> });
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.json<{ message: string }>().message, message);
    });
  }

  const routes: [string, string, Record<string, string>, unknown][] = [
    ["GET", "/v1/snapshots", read, undefined],
    ["GET", `/v1/snapshots/${snapshotId(NOW, "halt", 1)}`, read, undefined],
    ["POST", "/v1/snapshots", write, { reason: "r" }],
  ];
  for (const [method, url, headers, payload] of routes) {
    it(`${method} ${url.replace(/\d{13}.*/, "{id}")} answers 503 naming audit.dir when no audit directory is configured`, async (t) => {
      const { app } = await setup(t, false);
      const res = await app.inject({ method: method as "GET" | "POST", url, headers, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json<{ code: string }>().code, "AUTOGLM_ERR_SNAPSHOTS_UNAVAILABLE");
      assert.match(res.json<{ message: string }>().message, /audit\.dir/);
    });
  }
});
