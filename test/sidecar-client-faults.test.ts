// The sidecar does not blame an upstream for its clients. A body that trickles in slowly, a client
// that goes silent mid-body and a client that leaves early are the client's doing: the upstream
// timeout starts once the whole request is with the upstream (as Envoy's route timeout starts at
// the end of the downstream request), and neither the sidecar's upstream counters nor the
// filter's telemetry for the cluster record a timeout or an error.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { filterRequests, recordStreams, responseFlags, sidecarCounter, trickledPost, until, withSidecar } from "./sidecar-support.js";

const UPSTREAM_FAILURES = ["upstream_timeouts_total", "upstream_resets_total", "upstream_connect_failures_total"];
const FILTER_FAILURES = ["timeout", "reset", "5xx"];
const FLAG_UR = 0x10;
const FLAG_UF = 0x20;
const FLAG_DC = 0x4000;
const FLAG_SI = 0x10000;
/** Time given to the sidecar to see its upstream socket close after the upstream did (events that would blame it). */
const SETTLE_MS = 500;

/** An upstream that reads the whole body and answers at once with its size. */
function echo(req: http.IncomingMessage, res: http.ServerResponse): void {
  let bytes = 0;
  req.on("data", (c: Buffer) => (bytes += c.length));
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`received ${bytes} bytes`);
  });
}

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; fire(): void } {
  let fire!: () => void;
  const promise = new Promise<void>((r) => (fire = r));
  return { promise, fire };
}

test("20 POSTs whose bodies trickle in for longer than the upstream timeout get the upstream's answers, and nobody counts a timeout", async () => {
  // Upstream timeout 1 s; each body takes 4 × 400 ms = 1.6 s to arrive after its first piece.
  await withSidecar(echo, { extra: { upstream_timeout_ms: 1000 } }, async (sidecar) => {
    const chunks = ["0123456789", "abcdefghij", "ABCDEFGHIJ", "klmnopqrst", "KLMNOPQRST"];
    const responses = await Promise.all(Array.from({ length: 20 }, () => trickledPost(`${sidecar.url}/v1/completions`, chunks, 400)));
    assert.deepEqual(
      responses.map((r) => `${r.status} ${r.body}`),
      Array.from({ length: 20 }, () => "200 received 50 bytes"),
    );
    for (const name of UPSTREAM_FAILURES) assert.equal(sidecarCounter(sidecar, name), 0, `sidecar ${name}`);
    await until(() => filterRequests(sidecar, "2xx") === 20, "the filter to count 20 2xx responses");
    for (const cls of FILTER_FAILURES) assert.equal(filterRequests(sidecar, cls), 0, `filter requests of class ${cls}`);
  });
});

test("a client silent mid-body gets a local 408 that is not counted against the upstream", async () => {
  // The client stays silent far longer than the upstream timeout: still no 504, no UT.
  await withSidecar(echo, { extra: { upstream_timeout_ms: 200, request_idle_timeout_ms: 800 } }, async (sidecar) => {
    const streams = recordStreams(sidecar);
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${sidecar.url}/`, { method: "POST", agent: false, headers: { "content-length": 100 } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write("only ten b"); // 10 of the 100 bytes announced, then nothing
    });
    assert.equal(response.status, 408);
    assert.match(response.body, /request timeout: the client sent no request body for 800 ms/);
    assert.equal(sidecarCounter(sidecar, "request_timeouts_total"), 1);
    for (const name of UPSTREAM_FAILURES) assert.equal(sidecarCounter(sidecar, name), 0, `sidecar ${name}`);
    // The stream idle timeout's local 408 is the client's: the filter counts it as client_ended,
    // outside the cluster's report (not even as a 4xx).
    await until(() => filterRequests(sidecar, "client_ended") === 1, "the filter to count the 408 as client_ended");
    assert.equal(filterRequests(sidecar, "4xx"), 0, "filter requests of class 4xx");
    for (const cls of FILTER_FAILURES) assert.equal(filterRequests(sidecar, cls), 0, `filter requests of class ${cls}`);
    assert.equal(responseFlags(streams[0]!), FLAG_SI, "the filter saw SI (stream idle timeout), not UT");
  });
});

test("a client that disconnects mid-response is not counted as an upstream failure", async () => {
  const upstreamClosed = signal();
  const upstream = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: first\n\n"); // and the rest never comes: the client leaves first
    res.on("close", upstreamClosed.fire);
  };
  await withSidecar(upstream, { extra: { upstream_timeout_ms: 1000 } }, async (sidecar) => {
    const streams = recordStreams(sidecar);
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${sidecar.url}/v1/chat/completions`, { agent: false }, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", (e) => (req.destroyed ? undefined : reject(e)));
    });
    await upstreamClosed.promise; // the sidecar abandoned the upstream request
    await until(() => sidecarCounter(sidecar, "active_requests") === 0, "the sidecar to end the request");
    await sleep(SETTLE_MS);
    for (const name of UPSTREAM_FAILURES) assert.equal(sidecarCounter(sidecar, name), 0, `sidecar ${name}`);
    assert.equal(sidecarCounter(sidecar, "downstream_disconnects_total"), 1);
    assert.equal(responseFlags(streams[0]!), FLAG_DC, "the filter sees DC, not the upstream reset UR");
    await until(() => filterRequests(sidecar, "2xx") === 1, "the filter to count the request");
    for (const cls of FILTER_FAILURES) assert.equal(filterRequests(sidecar, cls), 0, `filter requests of class ${cls}`);
  });
});

test("a client that disconnects before the response is abandoned upstream, flagged DC and not UF, and no upstream failure is counted", async () => {
  const upstreamReceived = signal();
  const upstreamClosed = signal();
  const upstream = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    upstreamReceived.fire(); // and never answers
    res.on("close", upstreamClosed.fire);
  };
  await withSidecar(upstream, { extra: { upstream_timeout_ms: 0 } }, async (sidecar) => {
    const streams = recordStreams(sidecar);
    const req = http.get(`${sidecar.url}/`, { agent: false });
    req.on("error", () => undefined); // the client's own abort
    await upstreamReceived.promise;
    req.destroy();
    await upstreamClosed.promise;
    await until(() => sidecarCounter(sidecar, "active_requests") === 0, "the sidecar to end the request");
    await sleep(SETTLE_MS);
    for (const name of UPSTREAM_FAILURES) assert.equal(sidecarCounter(sidecar, name), 0, `sidecar ${name}`);
    assert.equal(sidecarCounter(sidecar, "downstream_disconnects_total"), 1);
    const flags = responseFlags(streams[0]!);
    assert.equal(flags & (FLAG_UF | FLAG_UR), 0, "no upstream connection failure or reset flag");
    assert.equal(flags & FLAG_DC, FLAG_DC, "the filter sees Envoy's downstream connection termination flag");
    assert.equal(streams[0]!.responseHeaders, null, "no response was generated for a client that is gone");
  });
});

test("an upstream that does not read the request body is the one that times out (504 UT), not the client", async () => {
  // The upstream never reads: the sidecar's writes back up, it stops reading the client, and the
  // wait counts against the upstream (with the client's idle timeout far shorter than the body).
  const upstream = (): void => undefined;
  await withSidecar(upstream, { extra: { upstream_timeout_ms: 1000, request_idle_timeout_ms: 300 } }, async (sidecar) => {
    const size = 32 * 1024 * 1024;
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${sidecar.url}/`, { method: "POST", agent: false, headers: { "content-length": size } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", (e) => (req.destroyed ? undefined : reject(e)));
      setTimeout(() => reject(new Error("no response within 20 s: the request hangs")), 20_000).unref();
      req.end(Buffer.alloc(size, 0x61));
    });
    assert.equal(response.status, 504);
    assert.match(response.body, /upstream request timeout/);
    assert.equal(sidecarCounter(sidecar, "upstream_timeouts_total"), 1);
    assert.equal(sidecarCounter(sidecar, "request_timeouts_total"), 0, "the client was not blamed for the upstream's backpressure");
  });
});
