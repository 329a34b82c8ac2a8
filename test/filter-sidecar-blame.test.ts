// The filter's telemetry behind the real local sidecar: a client that leaves before any response
// (DC) and a full connection pool (a local 503 with UO) are not counted as failures of the
// cluster; the full pool is the cluster's local reject.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { filterRequests, recordStreams, until, withSidecar } from "./sidecar-support.js";

const FILTER_FAILURES = ["timeout", "reset", "5xx"];

test("a client that leaves before any response is counted as client_ended, not against the cluster", async () => {
  const held: http.ServerResponse[] = [];
  const upstream = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    req.resume();
    held.push(res); // never answers while the client is there
  };
  await withSidecar(upstream, { extra: { upstream_timeout_ms: 0 } }, async (sidecar) => {
    recordStreams(sidecar);
    const req = http.get(`${sidecar.url}/v1/chat/completions`, { agent: false });
    req.on("error", () => undefined); // destroyed below
    await until(() => held.length === 1, "the upstream to hold the request");
    req.destroy();
    await until(() => filterRequests(sidecar, "client_ended") === 1, "the filter to count the client that left");
    for (const cls of [...FILTER_FAILURES, "2xx", "local_reject"]) {
      assert.equal(filterRequests(sidecar, cls), 0, `filter requests of class ${cls}`);
    }
    for (const res of held) res.destroy();
  });
});

test("a request refused by a full connection pool (503 UO) is the cluster's local reject, not a reset", async () => {
  const held: http.ServerResponse[] = [];
  let released = false;
  const upstream = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    req.resume();
    if (released) res.end("ok");
    else held.push(res);
  };
  const config = { extra: { upstream_timeout_ms: 0 }, cluster: { circuit_breakers: { max_connections: 1, max_pending_requests: 1 } } };
  await withSidecar(upstream, config, async (sidecar) => {
    const streams = recordStreams(sidecar);
    const first = fetch(`${sidecar.url}/a`);
    await until(() => held.length === 1, "the upstream to hold the first request");
    const second = fetch(`${sidecar.url}/b`);
    await until(() => streams.length === 2, "the sidecar to take the second request");
    const third = await fetch(`${sidecar.url}/c`);
    assert.equal(third.status, 503);
    assert.equal(third.headers.get("x-envoy-overloaded"), "true");
    await third.text();
    await until(() => filterRequests(sidecar, "local_reject") === 1, "the filter to count the local reject");
    for (const cls of FILTER_FAILURES) assert.equal(filterRequests(sidecar, cls), 0, `filter requests of class ${cls}`);
    released = true;
    for (const res of held.splice(0)) res.end("ok");
    await Promise.all([first, second].map(async (r) => (await r).text()));
    await until(() => filterRequests(sidecar, "2xx") === 2, "the filter to count the two answered requests");
  });
});
