import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { RouteOptions } from "fastify";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { accessOf } from "../control-plane/src/admin/auth.js";
import type { AdminDeps } from "../control-plane/src/admin/deps.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { OPENAPI_ROUTE } from "../control-plane/src/admin/openapi.js";
import { goneSidecarView } from "../control-plane/src/admin/gone-sidecars.js";
import { createLogger } from "../lib/log.js";

const TOKEN = "s3cret-admin-token";
const READ_TOKEN = "s3cret-read-token";
const NOW = 1_800_000_000_000;

function deps(overrides: Partial<AdminDeps> = {}): AdminDeps {
  const cp = new FakeControlPlane([{ name: "llm-a", baseWeight: 50 }], () => NOW);
  return {
    controlPlane: cp,
    model: { status: () => ({ mode: "model" }), reload: async () => ({ mode: "model" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: TOKEN,
    readToken: READ_TOKEN,
    logger: createLogger("admin-openapi-test", "silent"),
    now: () => NOW,
    ...overrides,
  };
}

interface Operation {
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> };
  responses?: Record<string, unknown>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
}

/** A registered route: method (upper case) and fastify's pattern, e.g. "/v1/clusters/:name". */
interface Route {
  method: string;
  url: string;
}

/** The admin app with every route it registers, collected by fastify's onRoute hook. */
async function appWithRoutes(overrides: Partial<AdminDeps> = {}) {
  const routes: Route[] = [];
  const onRoute = (route: RouteOptions): void => {
    for (const method of typeof route.method === "string" ? [route.method] : route.method) routes.push({ method, url: route.url });
  };
  const app = await buildAdminApp(deps(overrides), { onRoute });
  return { app, routes };
}

/** fastify's "/v1/clusters/:name" as OpenAPI writes it, "/v1/clusters/{name}". */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/** The routes the document lacks (path, or method under the path), as "METHOD /path". */
function missingFrom(doc: Document, routes: readonly Route[]): string[] {
  return routes
    .filter((r) => doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()] === undefined)
    .map((r) => `${r.method} ${r.url}`);
}

async function fetchDocument(app: Awaited<ReturnType<typeof buildAdminApp>>, token = READ_TOKEN): Promise<Document> {
  const res = await app.inject({ method: "GET", url: OPENAPI_ROUTE, headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers["content-type"]), /^application\/json/);
  return res.json<Document>();
}

test("the OpenAPI document lists every route the admin server registers, with its method", async () => {
  const { app, routes } = await appWithRoutes();
  const doc = await fetchDocument(app);
  assert.match(doc.openapi, /^3\./);
  // Sanity: the hook saw the routes of every part (probes, state, control, audit, dashboard, itself).
  for (const expected of ["GET /healthz", "GET /v1/clusters/:name", "POST /v1/halt", "GET /v1/audit", "GET /v1/events", `GET ${OPENAPI_ROUTE}`]) {
    assert.ok(routes.some((r) => `${r.method} ${r.url}` === expected), `onRoute saw ${expected}`);
  }
  assert.deepEqual(missingFrom(doc, routes), []);
  await app.close();
});

test("a route missing from the document is reported by the coverage check", async () => {
  const { app, routes } = await appWithRoutes();
  const doc = await fetchDocument(app);
  const withoutHalt: Document = { ...doc, paths: { ...doc.paths } };
  delete withoutHalt.paths["/v1/halt"];
  const withoutClusterGet: Document = { ...doc, paths: { ...doc.paths, "/v1/clusters/{name}": { ...doc.paths["/v1/clusters/{name}"] } } };
  delete withoutClusterGet.paths["/v1/clusters/{name}"]!.get;
  assert.deepEqual(missingFrom(withoutHalt, routes), ["POST /v1/halt", "GET /v1/halt", "HEAD /v1/halt"]);
  assert.deepEqual(missingFrom(withoutClusterGet, routes), ["GET /v1/clusters/:name"]);
  await app.close();
});

test("the document lists no path or method the server does not answer", async () => {
  const { app, routes } = await appWithRoutes();
  const doc = await fetchDocument(app);
  const registered = new Set(routes.map((r) => `${r.method} ${openApiPath(r.url)}`));
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const method of Object.keys(operations)) assert.ok(registered.has(`${method.toUpperCase()} ${path}`), `${method} ${path} is a route`);
  }
  await app.close();
});

test("every operation has a one-line summary", async () => {
  const { app } = await appWithRoutes();
  const doc = await fetchDocument(app);
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      assert.ok(typeof operation.summary === "string" && operation.summary.length > 0, `${method} ${path} has a summary`);
      assert.ok(!operation.summary.includes("\n"), `${method} ${path}: the summary is one line`);
    }
  }
  await app.close();
});

test("each operation's security says what the server enforces: none for open routes, the bearer token otherwise", async () => {
  const { app, routes } = await appWithRoutes();
  const doc = await fetchDocument(app);
  for (const route of routes) {
    const operation = doc.paths[openApiPath(route.url)]![route.method.toLowerCase()]!;
    const open = accessOf(route.method, route.url) === "open";
    assert.deepEqual(operation.security, open ? [] : [{ adminToken: [] }], `${route.method} ${route.url}`);
    if (!open) assert.ok(operation.responses?.["401"] !== undefined, `${route.method} ${route.url} documents 401`);
  }
  await app.close();
});

test("the document describes the cluster name parameter, the override and model reload bodies from the route schemas", async () => {
  const { app } = await appWithRoutes();
  const doc = await fetchDocument(app);
  const override = doc.paths["/v1/clusters/{name}/override"]!.post!;
  assert.deepEqual(override.parameters?.filter((p) => p.in === "path").map((p) => [p.name, p.required]), [["name", true]]);
  const body = override.requestBody?.content["application/json"]?.schema;
  assert.deepEqual(body?.required, ["state", "reason"]);
  assert.deepEqual(Object.keys(body?.properties ?? {}).sort(), ["confirm_all_open", "reason", "state", "ttl_s"]);
  const reload = doc.paths["/v1/model/reload"]!.post!.requestBody?.content["application/json"]?.schema;
  assert.deepEqual(Object.keys(reload?.properties ?? {}), ["reason"]);
  const audit = doc.paths["/v1/audit"]!.get!;
  assert.deepEqual(audit.parameters?.filter((p) => p.in === "query").map((p) => p.name).sort(), ["cluster", "format", "since", "until"]);
  await app.close();
});

test("the document is a read like the other state routes: it needs the read or admin token once one is configured", async () => {
  const { app } = await appWithRoutes();
  const anonymous = await app.inject({ method: "GET", url: OPENAPI_ROUTE });
  assert.equal(anonymous.statusCode, 401);
  assert.equal(anonymous.json<{ code: string }>().code, "AUTOGLM_ERR_UNAUTHORIZED");
  const wrong = await app.inject({ method: "GET", url: OPENAPI_ROUTE, headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.statusCode, 403);
  await fetchDocument(app, READ_TOKEN);
  await fetchDocument(app, TOKEN);
  await app.close();
});

test("with no token configured the document is open, like every other read", async () => {
  const { app } = await appWithRoutes({ token: "", readToken: "" });
  const res = await app.inject({ method: "GET", url: OPENAPI_ROUTE });
  assert.equal(res.statusCode, 200);
  assert.ok(Object.keys(res.json<Document>().paths).length > 0);
  await app.close();
});

test("the document's /v1/sidecars answer describes every field of the gone workers the route returns", async () => {
  const { app } = await appWithRoutes();
  const doc = (await fetchDocument(app)) as unknown as {
    paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: { properties: Record<string, { items: { properties: Record<string, unknown> } }> } }> }> } }>;
  };
  const schema = doc.paths["/v1/sidecars"]!.get.responses["200"]!.content["application/json"]!.schema;
  const view = goneSidecarView(
    { nodeId: "n", zone: "z", workerId: 0, instanceId: "1", filterVersion: "v", transport: "grpc", peer: "p", streamId: "s", connectedAtMs: 0, disconnectedAtMs: 1, reason: "r", enforcedVersion: 1, refusing: false, rejectReason: "" },
    2,
  );
  assert.deepEqual(Object.keys(schema.properties.gone!.items.properties).sort(), Object.keys(view).sort());
  await app.close();
});
