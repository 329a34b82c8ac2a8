// Access control of the admin API: the token check runs before the body is read, so an
// unauthenticated caller gets 401 (a wrong token 403) whatever its body; reads need the read or
// the admin token once a token is configured, writes the admin token; probes stay open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import type { AdminDeps } from "../control-plane/src/admin/deps.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { createLogger } from "../lib/log.js";

const WRITE = "write-token-123";
const READ = "read-token-456";
const NOW = 1_800_000_000_000;

function deps(tokens: { token: string; readToken?: string }): AdminDeps {
  return {
    controlPlane: new FakeControlPlane([{ name: "llm-a", baseWeight: 1 }], () => NOW),
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    audit: {
      async *read() {
        yield { atMs: NOW, kind: "halt", reason: "r", actor: "admin@x" };
      },
    },
    registry: new Registry(),
    logger: createLogger("admin-auth-test", "silent"),
    now: () => NOW,
    ...tokens,
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { "content-type": "application/json" };
/** Above fastify's default body limit of 1 MiB. */
const OVERSIZED = JSON.stringify({ reason: "x".repeat(2 * 1024 * 1024) });

const bodyCases: { name: string; headers: Record<string, string>; payload: string; url?: string; authorized: number }[] = [
  { name: "a body that is not JSON", headers: json, payload: "{not json", authorized: 400 },
  { name: "a body above the size limit", headers: json, payload: OVERSIZED, authorized: 413 },
  { name: "a body of the wrong content type", headers: { "content-type": "application/xml" }, payload: "<halt/>", authorized: 415 },
  { name: "a body that fails the schema", headers: json, payload: "{}", authorized: 400 },
  { name: "an unknown query parameter", headers: json, payload: '{"reason":"r"}', url: "/v1/halt?x=1", authorized: 400 },
];
const callers: { name: string; headers: Record<string, string>; status: number; code: string }[] = [
  { name: "without a token", headers: {}, status: 401, code: "AUTOGLM_ERR_UNAUTHORIZED" },
  { name: "with a wrong token", headers: bearer("nope"), status: 403, code: "AUTOGLM_ERR_FORBIDDEN" },
  { name: "with the read token", headers: bearer(READ), status: 403, code: "AUTOGLM_ERR_FORBIDDEN" },
];

for (const body of bodyCases) {
  for (const caller of callers) {
    test(`a POST ${caller.name} and ${body.name} gets ${caller.status}, not ${body.authorized}`, async () => {
      const app = await buildAdminApp(deps({ token: WRITE, readToken: READ }));
      const res = await app.inject({ method: "POST", url: body.url ?? "/v1/halt", headers: { ...body.headers, ...caller.headers }, payload: body.payload });
      assert.equal(res.statusCode, caller.status, res.body);
      assert.equal(res.json().code, caller.code);
      await app.close();
    });
  }
  test(`a POST with the admin token and ${body.name} gets ${body.authorized}`, async () => {
    const app = await buildAdminApp(deps({ token: WRITE, readToken: READ }));
    const res = await app.inject({ method: "POST", url: body.url ?? "/v1/halt", headers: { ...body.headers, ...bearer(WRITE) }, payload: body.payload });
    assert.equal(res.statusCode, body.authorized, res.body);
    await app.close();
  });
}

test("a 401 says how to authenticate (WWW-Authenticate: Bearer)", async () => {
  const app = await buildAdminApp(deps({ token: WRITE }));
  const res = await app.inject({ method: "POST", url: "/v1/halt", headers: json, payload: '{"reason":"r"}' });
  assert.equal(res.statusCode, 401);
  assert.match(String(res.headers["www-authenticate"]), /^Bearer/);
  await app.close();
});

type Caller = "no token" | "the read token" | "the admin token" | "a wrong token";
const CALLER_HEADERS: Record<Caller, Record<string, string>> = {
  "no token": {},
  "the read token": bearer(READ),
  "the admin token": bearer(WRITE),
  "a wrong token": bearer("wrong-token"),
};
const ALL_CALLERS = Object.keys(CALLER_HEADERS) as Caller[];
const configs: { name: string; tokens: { token: string; readToken?: string } }[] = [
  { name: "admin and read tokens", tokens: { token: WRITE, readToken: READ } },
  { name: "only an admin token", tokens: { token: WRITE } },
  { name: "only a read token", tokens: { token: "", readToken: READ } },
  { name: "no token", tokens: { token: "" } },
];
const OPEN = [["GET", "/healthz"], ["GET", "/readyz"], ["GET", "/metrics"], ["GET", "/"], ["HEAD", "/healthz"]] as const;
const READS = [
  ["GET", "/v1/clusters"],
  ["GET", "/v1/clusters/llm-a"],
  ["GET", "/v1/sidecars"],
  ["GET", "/v1/decisions"],
  ["GET", "/v1/audit"],
  ["GET", "/v1/audit?format=csv"],
  ["HEAD", "/v1/clusters"],
] as const;

/** Expected status of a read (GET) route for a caller under a configuration. */
function readStatus(tokens: { token: string; readToken?: string }, caller: Caller): number {
  const read = tokens.readToken ?? "";
  if (tokens.token === "" && read === "") return 200;
  if (caller === "no token") return 401;
  if (caller === "the admin token") return tokens.token === "" ? 403 : 200;
  if (caller === "the read token") return read === "" ? 403 : 200;
  return 403;
}

/** Expected status of POST /v1/halt. */
function writeStatus(tokens: { token: string; readToken?: string }, caller: Caller): number {
  if (tokens.token === "" || caller === "no token") return 401;
  return caller === "the admin token" ? 200 : 403;
}

for (const config of configs) {
  test(`with ${config.name}, probes and the dashboard page are open, reads and writes need their tokens`, async () => {
    const app = await buildAdminApp(deps(config.tokens));
    const seen: string[] = [];
    const expected: string[] = [];
    for (const caller of ALL_CALLERS) {
      const headers = CALLER_HEADERS[caller];
      for (const [method, url] of OPEN) {
        const res = await app.inject({ method, url, headers });
        seen.push(`${method} ${url} with ${caller}: ${res.statusCode}`);
        expected.push(`${method} ${url} with ${caller}: 200`);
      }
      for (const [method, url] of READS) {
        const res = await app.inject({ method, url, headers });
        seen.push(`${method} ${url} with ${caller}: ${res.statusCode}`);
        expected.push(`${method} ${url} with ${caller}: ${readStatus(config.tokens, caller)}`);
      }
      const res = await app.inject({ method: "POST", url: "/v1/halt", headers, payload: { reason: "drill" } });
      seen.push(`POST /v1/halt with ${caller}: ${res.statusCode}`);
      expected.push(`POST /v1/halt with ${caller}: ${writeStatus(config.tokens, caller)}`);
    }
    assert.deepEqual(seen, expected);
    await app.close();
  });
}

test("the read token is refused on a mutating route with a message that says so", async () => {
  const app = await buildAdminApp(deps({ token: WRITE, readToken: READ }));
  const res = await app.inject({ method: "POST", url: "/v1/halt", headers: bearer(READ), payload: { reason: "r" } });
  assert.equal(res.statusCode, 403);
  assert.match(res.json().message, /read token \(admin\.read_token\) cannot call mutating routes/);
  await app.close();
});

test("an unknown path answers 404 without a token, so probes of wrong paths are not mistaken for auth failures", async () => {
  const app = await buildAdminApp(deps({ token: WRITE, readToken: READ }));
  const res = await app.inject({ method: "GET", url: "/v1/nothing" });
  assert.equal(res.statusCode, 404);
  await app.close();
});

/** The status of GET `path` over a socket; the response (an endless event stream) is dropped. */
function statusOf(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers }, (res: IncomingMessage) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on("error", reject);
    req.end();
  });
}

test("the dashboard's event stream takes the read token as a header or as access_token, and the log redacts it", async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  const app = await buildAdminApp({ ...deps({ token: WRITE, readToken: READ }), logger: pino({ level: "info" }, sink) });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  try {
    assert.equal(await statusOf(port, "/v1/events"), 401);
    assert.equal(await statusOf(port, "/v1/events?access_token=wrong"), 403);
    assert.equal(await statusOf(port, "/v1/events", bearer(READ)), 200);
    assert.equal(await statusOf(port, `/v1/events?access_token=${READ}`), 200);
    // Only the event stream reads a token from the query string.
    assert.equal(await statusOf(port, `/v1/clusters?access_token=${READ}`), 401);
  } finally {
    await app.close();
  }
  const log = lines.join("");
  assert.match(log, /access_token=\[redacted\]/);
  assert.doesNotMatch(log, new RegExp(READ));
});

test("the dashboard page sends the token of its #token= fragment as access_token and clears it from the address bar", async () => {
  const { DASHBOARD_HTML } = await import("../control-plane/src/dashboard/page.js");
  const { runInNewContext } = await import("node:vm");
  const source = /function eventsUrl\(\) \{[\s\S]*?\n\}/.exec(DASHBOARD_HTML)?.[0];
  assert.ok(source !== undefined, "the page defines eventsUrl()");
  const stored = new Map<string, string>();
  const replaced: string[] = [];
  const browser = {
    URLSearchParams,
    encodeURIComponent,
    location: { hash: "#token=r%2Fx", pathname: "/", search: "" },
    sessionStorage: { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => void stored.set(k, v) },
    history: { replaceState: (_s: unknown, _t: string, url: string) => void replaced.push(url) },
  };
  const eventsUrl = runInNewContext(`(${source})`, browser) as () => string;
  assert.equal(eventsUrl(), "/v1/events?access_token=r%2Fx");
  assert.deepEqual(replaced, ["/"]);
  browser.location.hash = "";
  assert.equal(eventsUrl(), "/v1/events?access_token=r%2Fx", "a reload keeps the token of this tab");
  stored.clear();
  assert.equal(eventsUrl(), "/v1/events");
});
