// The sidecar end to end: a local upstream streams server-sent events; the sidecar runs the filter
// (build/filter.wasm when built, else the pass-through fixture) and the events reach the client as
// they come, with the filter's headers on the way. Upstream failures get Envoy's codes and flags.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { loadSidecarConfig, startSidecar, SidecarConfigError } from "../sidecar/index.js";

const FILTER = "build/filter.wasm";
const PASSTHROUGH = "build/passthrough.wasm";
const useFilter = existsSync(FILTER);

/** An upstream that streams `events` SSE events, waiting for `release()` before the last one. */
async function sseUpstream(events: number): Promise<{ port: number; release(): void; close(): Promise<void>; seenHeaders: http.IncomingHttpHeaders[] }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const seenHeaders: http.IncomingHttpHeaders[] = [];
  const server = http.createServer(async (req, res) => {
    seenHeaders.push(req.headers);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (let i = 1; i < events; i++) res.write(`data: event ${i}\n\n`);
    await gate;
    res.end(`data: event ${events}\n\n`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    release,
    seenHeaders,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function filterConfig(upstreamCluster: string): Record<string, unknown> {
  return {
    node_id: "sidecar-test",
    clusters: [{ name: upstreamCluster, weight: 100 }],
    control_plane: { cluster: "autoglm-control-plane", timeout_ms: 5000 },
    fail_open: true,
  };
}

test("the sidecar streams server-sent events through the filter, chunks arriving before the upstream finishes", async () => {
  const upstream = await sseUpstream(3);
  const sidecar = await startSidecar({
    listen: "127.0.0.1:0",
    workers: 2,
    filter: { wasm: useFilter ? FILTER : PASSTHROUGH, configuration: useFilter ? filterConfig("llm-a") : "probe" },
    clusters: [
      { name: "llm-a", endpoints: [`127.0.0.1:${upstream.port}`] },
      { name: "probe-upstream", endpoints: [`127.0.0.1:${upstream.port}`] },
    ],
    default_cluster: "llm-a",
    metrics: { listen: "127.0.0.1:0" },
  });
  try {
    const response = await fetch(`${sidecar.url}/v1/chat/completions`, { headers: { accept: "text/event-stream" } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    if (useFilter) {
      assert.ok(upstream.seenHeaders[0]!["x-request-id"], "the filter added x-request-id on the way up");
      assert.equal(upstream.seenHeaders[0]!["x-autoglm-cluster"], "llm-a");
    } else {
      assert.equal(upstream.seenHeaders[0]!["x-probe-path"], "/v1/chat/completions", "the module's request header reached the upstream");
      assert.equal(response.headers.get("x-probe-status"), "200", "the module's response header reached the client");
    }
    const reader = response.body!.getReader();
    let received = "";
    while (!received.includes("event 2")) {
      const { value, done } = await reader.read();
      assert.equal(done, false, "the stream ended before the upstream released its last event");
      received += new TextDecoder().decode(value);
    }
    assert.ok(!received.includes("event 3"), "the first events arrived while the upstream was still holding the last one");
    upstream.release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += new TextDecoder().decode(value);
    }
    assert.equal(received, "data: event 1\n\ndata: event 2\n\ndata: event 3\n\n");
    const metrics = await (await fetch(`${sidecar.metricsUrl}/metrics`)).text();
    assert.match(metrics, /autoglm_sidecar_requests_total 1\n/);
  } finally {
    await sidecar.close();
    await upstream.close();
  }
});

test("an unreachable upstream gets 503 with flag UF, and a slow one 504 with flag UT", async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const silent = http.createServer(() => {
    /* never answers */
  });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const slowPort = (silent.address() as AddressInfo).port;
  // Two sidecars: one without a timeout (so a slow, loaded machine cannot turn the refused
  // connection into a timeout), one with a short timeout for the silent upstream.
  const base = {
    listen: "127.0.0.1:0",
    filter: { wasm: PASSTHROUGH, configuration: "" },
    clusters: [
      { name: "dead", endpoints: [`127.0.0.1:${deadPort}`] },
      { name: "slow", endpoints: [`127.0.0.1:${slowPort}`] },
    ],
  };
  const patient = await startSidecar({ ...base, default_cluster: "dead", upstream_timeout_ms: 0 });
  const hasty = await startSidecar({ ...base, default_cluster: "slow", upstream_timeout_ms: 300 });
  try {
    const dead = await fetch(`${patient.url}/`);
    assert.equal(dead.status, 503);
    assert.match(await dead.text(), /upstream connect error/);
    const unknown = await fetch(`${patient.url}/`, { headers: { "x-autoglm-cluster": "nope" } });
    assert.equal(unknown.status, 503);
    assert.match(await unknown.text(), /unknown cluster nope/);
    assert.match(patient.metricsText(), /autoglm_sidecar_upstream_connect_failures_total 1\n/);
    const slow = await fetch(`${hasty.url}/`);
    assert.equal(slow.status, 504);
    assert.match(await slow.text(), /upstream request timeout/);
    assert.match(hasty.metricsText(), /autoglm_sidecar_upstream_timeouts_total 1\n/);
  } finally {
    await patient.close();
    await hasty.close();
    silent.closeAllConnections();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

const badConfigs: Array<{ name: string; text: string; message: RegExp }> = [
  { name: "a missing listen address", text: "filter: { wasm: x.wasm }\nclusters: [{ name: a, endpoints: ['127.0.0.1:1'] }]\n", message: /listen: required/ },
  { name: "an endpoint without a port", text: "listen: '127.0.0.1:0'\nfilter: { wasm: x.wasm }\nclusters: [{ name: a, endpoints: ['localhost'] }]\n", message: /clusters\[0\]\.endpoints\[0\]: expected "host:port"/ },
  { name: "an unknown field", text: "listen: '127.0.0.1:0'\nfilter: { wasm: x.wasm, failopen: true }\nclusters: [{ name: a, endpoints: ['127.0.0.1:1'] }]\n", message: /filter\.failopen: unknown field/ },
  { name: "a default cluster that does not exist", text: "listen: '127.0.0.1:0'\nfilter: { wasm: x.wasm }\nclusters: [{ name: a, endpoints: ['127.0.0.1:1'] }]\ndefault_cluster: b\n", message: /default_cluster: "b" is not one of the clusters/ },
  { name: "too many workers", text: "listen: '127.0.0.1:0'\nworkers: 0\nfilter: { wasm: x.wasm }\nclusters: [{ name: a, endpoints: ['127.0.0.1:1'] }]\n", message: /workers: must be >= 1, got 0/ },
];

for (const c of badConfigs) {
  test(`a sidecar config with ${c.name} is refused naming the field`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "sidecar-config-"));
    const path = join(dir, "sidecar.yaml");
    await writeFile(path, c.text);
    await assert.rejects(loadSidecarConfig(path), (e: unknown) => {
      assert.ok(e instanceof SidecarConfigError);
      assert.match(e.message, c.message);
      assert.ok(e.message.startsWith(path), "the message names the file");
      return true;
    });
  });
}
