// The local sidecar: an HTTP/1.1 reverse proxy that runs the filter (.wasm) in the project's
// proxy-wasm host on every request, routes to the cluster the filter chose, and serves the host's
// metrics as Prometheus text. It is what the demo and end-to-end tests run; Envoy runs in production.
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  GrpcJsTransport,
  ProxyWasmPlugin,
  SharedStore,
  type Clock,
  type GrpcTransport,
} from "../filter/host/index.js";
import { createLogger, type Logger } from "../lib/log.js";
import { parseSidecarConfig, type SidecarConfig } from "./config.js";
import { handleRequest, type ProxyContext } from "./proxy.js";
import { SidecarMetrics, sidecarPrometheusText } from "./sidecar-metrics.js";
import { UpstreamClusters } from "./upstreams.js";

export { loadSidecarConfig, parseSidecarConfig, SidecarConfigError, type SidecarConfig } from "./config.js";

export interface SidecarOptions {
  /** gRPC transport for the filter (default: @grpc/grpc-js to config.control_plane.address). */
  grpc?: GrpcTransport;
  clock?: Clock;
  store?: SharedStore;
  logger?: Logger;
}

export interface RunningSidecar {
  /** Base URL of the proxy, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Base URL of the metrics server (GET /metrics), or null when not configured. */
  metricsUrl: string | null;
  plugin: ProxyWasmPlugin;
  /** Prometheus text of the filter's and the sidecar's metrics. */
  metricsText(): string;
  close(): Promise<void>;
}

function listen(server: http.Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const a = server.address() as AddressInfo;
      resolve(`http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts the sidecar from a validated config (or a raw config object, validated here). */
export async function startSidecar(config: SidecarConfig | Record<string, unknown>, options: SidecarOptions = {}): Promise<RunningSidecar> {
  const cfg: SidecarConfig = "filter" in config && typeof (config as SidecarConfig).clusterHeader === "string"
    ? (config as SidecarConfig)
    : parseSidecarConfig(config);
  const log = options.logger ?? createLogger("sidecar");
  let grpc = options.grpc;
  let ownTransport: GrpcJsTransport | null = null;
  if (grpc === undefined && cfg.controlPlane !== null) {
    ownTransport = new GrpcJsTransport({ clusters: { [cfg.controlPlane.cluster]: cfg.controlPlane.addresses } });
    grpc = ownTransport;
  }
  const properties: Record<string, string> = { "node.id": cfg.node.id };
  if (cfg.node.cluster !== "") properties["node.cluster"] = cfg.node.cluster;
  for (const [k, v] of Object.entries(cfg.node.metadata)) properties[`node.metadata.${k}`] = v;
  const plugin = await ProxyWasmPlugin.start({
    wasm: cfg.filter.wasm,
    configuration: cfg.filter.configuration,
    workers: cfg.workers,
    failOpen: cfg.filter.failOpen,
    vmId: cfg.filter.vmId,
    rootId: cfg.filter.rootId,
    properties,
    ...(grpc !== undefined ? { grpc } : {}),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
    ...(options.store !== undefined ? { store: options.store } : {}),
  });
  const metrics = new SidecarMetrics();
  const ctx: ProxyContext = { config: cfg, plugin, clusters: new UpstreamClusters(cfg.clusters), metrics, log };
  const metricsText = (): string => sidecarPrometheusText(plugin.store.metrics.snapshot(), metrics);

  const server = http.createServer((req, res) => void handleRequest(ctx, req, res));
  server.keepAliveTimeout = 65_000;
  let metricsServer: http.Server | null = null;
  let url: string;
  let metricsUrl: string | null = null;
  try {
    url = await listen(server, cfg.listen.host, cfg.listen.port);
    if (cfg.metrics !== null) {
      metricsServer = http.createServer((req, res) => {
        if (req.method === "GET" && (req.url === "/metrics" || req.url === "/stats/prometheus")) {
          res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
          res.end(metricsText());
        } else {
          res.writeHead(404, { "content-type": "text/plain" });
          res.end("not found: try GET /metrics\n");
        }
      });
      metricsUrl = await listen(metricsServer, cfg.metrics.listen.host, cfg.metrics.listen.port);
    }
  } catch (e) {
    plugin.close();
    ownTransport?.close();
    ctx.clusters.close();
    await closeServer(server);
    throw new Error(`sidecar could not listen: ${(e as Error).message}`);
  }
  log.info({ url, metricsUrl, workers: cfg.workers, clusters: ctx.clusters.names }, "sidecar listening");
  return {
    url,
    metricsUrl,
    plugin,
    metricsText,
    async close() {
      await closeServer(server);
      if (metricsServer !== null) await closeServer(metricsServer);
      ctx.clusters.close();
      plugin.close();
      ownTransport?.close();
    },
  };
}
