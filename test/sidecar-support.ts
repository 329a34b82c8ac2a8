// Helpers for the sidecar's end-to-end tests: a sidecar running the real filter in front of one
// local upstream cluster "llm-a", and readers of its metrics (the sidecar's and the filter's).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { HttpStream } from "../filter/host/index.js";
import { startSidecar, type RunningSidecar } from "../sidecar/index.js";

/** The filter, built by `npm run build:filter` (npm test builds it first). */
export const FILTER = "build/filter.wasm";

/** Starts a sidecar with the filter routing everything to cluster llm-a at 127.0.0.1:`port`. */
export function sidecarFor(port: number, extra: Record<string, unknown> = {}, cluster: Record<string, unknown> = {}): Promise<RunningSidecar> {
  return startSidecar({
    listen: "127.0.0.1:0",
    workers: 1,
    // window_ms 200: the filter's counters are flushed on its tick (at most one window).
    filter: { wasm: FILTER, configuration: { node_id: "sidecar-test", clusters: [{ name: "llm-a", weight: 100 }], window_ms: 200, fail_open: true } },
    clusters: [{ name: "llm-a", endpoints: [`127.0.0.1:${port}`], ...cluster }],
    default_cluster: "llm-a",
    ...extra,
  });
}

/** A local upstream; `handler` answers its requests. */
export async function upstreamServer(handler: http.RequestListener): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Runs `body` against a sidecar in front of an upstream answering with `handler`; both are closed
 * afterwards, whether `body` (or starting the sidecar) failed or not.
 */
export async function withSidecar(
  handler: http.RequestListener,
  config: { extra?: Record<string, unknown>; cluster?: Record<string, unknown> },
  body: (sidecar: RunningSidecar) => Promise<void>,
): Promise<void> {
  const upstream = await upstreamServer(handler);
  let sidecar: RunningSidecar | null = null;
  try {
    sidecar = await sidecarFor(upstream.port, config.extra, config.cluster);
    await body(sidecar);
  } finally {
    await sidecar?.close();
    await upstream.close();
  }
}

/** The value of an unlabelled counter or gauge in Prometheus text (0 when absent). */
export function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** The filter's count of requests to llm-a of outcome class `cls` (2xx, 4xx, 5xx, reset, timeout, …). */
export function filterRequests(sidecar: RunningSidecar, cls: string): number {
  return metricValue(sidecar.plugin.prometheus(), `autoglm_requests_llm_a_${cls}`);
}

/** The sidecar's own counter `autoglm_sidecar_<name>`. */
export function sidecarCounter(sidecar: RunningSidecar, name: string): number {
  return metricValue(sidecar.metricsText(), `autoglm_sidecar_${name}`);
}

/** Waits until `check()` holds; fails naming `what` after `timeoutMs` (generous: a loaded machine stalls). */
export async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Records every filter stream the sidecar creates (to read the properties the filter would see). */
export function recordStreams(sidecar: RunningSidecar): HttpStream[] {
  const streams: HttpStream[] = [];
  const plugin = sidecar.plugin;
  const create = plugin.createHttpStream.bind(plugin);
  plugin.createHttpStream = (worker?: number) => {
    const stream = create(worker);
    streams.push(stream);
    return stream;
  };
  return streams;
}

/** A stream's `response.flags` as the filter reads it (int64, little-endian), 0 when unset. */
export function responseFlags(stream: HttpStream): number {
  const raw = stream.properties?.getRaw("response\0flags");
  return raw === undefined ? 0 : Number(new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigInt64(0, true));
}

/** A POST whose body arrives in `chunks`, `gapMs` apart; resolves with the response. */
export function trickledPost(url: string, chunks: readonly string[], gapMs: number): Promise<{ status: number; body: string }> {
  const length = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent: false, headers: { "content-type": "text/plain", "content-length": length } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    void (async () => {
      for (let i = 0; i < chunks.length; i++) {
        if (i > 0) await sleep(gapMs);
        if (req.destroyed) return;
        req.write(chunks[i]!);
      }
      req.end();
    })();
  });
}
