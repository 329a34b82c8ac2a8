// A cluster's connection pool is bounded as Envoy's circuit breakers bound it (max_connections,
// max_pending_requests): a request beyond both is answered by the sidecar with a 503 that says so,
// Envoy's overflow flag UO and x-envoy-overloaded, and is not counted as an upstream failure.
import { test } from "node:test";
import assert from "node:assert/strict";
import type http from "node:http";
import { parseSidecarConfig, SidecarConfigError } from "../sidecar/index.js";
import { recordStreams, responseFlags, sidecarCounter, until, withSidecar } from "./sidecar-support.js";

test("a request beyond max_connections plus max_pending_requests gets a local 503 naming the full pool", async () => {
  const held: http.ServerResponse[] = [];
  let released = false;
  let active = 0;
  let maxActive = 0;
  const upstream = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    active++;
    maxActive = Math.max(maxActive, active);
    res.on("close", () => active--);
    req.resume();
    if (released) res.end("ok");
    else held.push(res);
  };
  const config = { extra: { upstream_timeout_ms: 0 }, cluster: { circuit_breakers: { max_connections: 1, max_pending_requests: 1 } } };
  await withSidecar(upstream, config, async (sidecar) => {
    const streams = recordStreams(sidecar);
    const first = fetch(`${sidecar.url}/a`);
    await until(() => held.length === 1, "the upstream to hold the first request");
    const second = fetch(`${sidecar.url}/b`); // waits for the one connection
    await until(() => streams.length === 2, "the sidecar to take the second request");
    const third = await fetch(`${sidecar.url}/c`);
    assert.equal(third.status, 503);
    assert.equal(third.headers.get("x-envoy-overloaded"), "true");
    assert.match(await third.text(), /upstream connection pool for cluster llm-a is full \(1 connections busy, 1 requests already waiting\)/);
    assert.equal(responseFlags(streams[2]!), 0x80, "the filter sees Envoy's upstream overflow flag UO");
    assert.equal(held.length, 1, "the waiting request did not get a second connection");

    released = true;
    for (const res of held.splice(0)) res.end("ok");
    const answers = await Promise.all([first, second].map(async (r) => `${(await r).status} ${await (await r).text()}`));
    assert.deepEqual(answers, ["200 ok", "200 ok"]);
    const later = await fetch(`${sidecar.url}/d`);
    assert.equal(later.status, 200, "the pool gave its places back");
    await later.text();
    assert.equal(maxActive, 1, "never more than max_connections requests at the upstream");
    assert.equal(sidecarCounter(sidecar, "upstream_overflows_total"), 1);
    for (const name of ["upstream_timeouts_total", "upstream_resets_total", "upstream_connect_failures_total"]) {
      assert.equal(sidecarCounter(sidecar, name), 0, `sidecar ${name}: an overflow is not the upstream's failure`);
    }
  });
});

const base = { listen: "127.0.0.1:0", filter: { wasm: "x.wasm" } };
const badConfigs: Array<{ name: string; config: Record<string, unknown>; message: RegExp }> = [
  {
    name: "max_connections of 0",
    config: { ...base, clusters: [{ name: "a", endpoints: ["127.0.0.1:1"], circuit_breakers: { max_connections: 0 } }] },
    message: /clusters\[0\]\.circuit_breakers\.max_connections: must be >= 1, got 0/,
  },
  {
    name: "an unknown circuit breaker field",
    config: { ...base, clusters: [{ name: "a", endpoints: ["127.0.0.1:1"], circuit_breakers: { max_requests: 5 } }] },
    message: /clusters\[0\]\.circuit_breakers\.max_requests: unknown field/,
  },
  {
    name: "a negative max_pending_requests",
    config: { ...base, clusters: [{ name: "a", endpoints: ["127.0.0.1:1"], circuit_breakers: { max_pending_requests: -1 } }] },
    message: /clusters\[0\]\.circuit_breakers\.max_pending_requests: must be >= 0, got -1/,
  },
  {
    name: "a request idle timeout that is text",
    config: { ...base, clusters: [{ name: "a", endpoints: ["127.0.0.1:1"] }], request_idle_timeout_ms: "5s" },
    message: /request_idle_timeout_ms: must be integer, got "5s"/,
  },
];

for (const c of badConfigs) {
  test(`a sidecar config with ${c.name} is refused naming the field`, () => {
    assert.throws(() => parseSidecarConfig(c.config), (e: unknown) => {
      assert.ok(e instanceof SidecarConfigError);
      assert.match(e.message, c.message);
      return true;
    });
  });
}

test("a cluster without circuit_breakers gets Envoy's default limits, and the request idle timeout defaults to 5 minutes", () => {
  const config = parseSidecarConfig({ ...base, clusters: [{ name: "a", endpoints: ["127.0.0.1:1"] }] });
  assert.deepEqual(config.clusters[0]!.limits, { maxConnections: 1024, maxPendingRequests: 1024 });
  assert.equal(config.requestIdleTimeoutMs, 300_000);
});
