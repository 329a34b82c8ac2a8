// The local sidecar's configuration file (JSON or YAML), validated field by field: every mistake is
// reported with the path of the field (e.g. `clusters[1].endpoints[0]`) and what was expected.
//
//   listen: "127.0.0.1:10000"
//   workers: 2                              # VM instances of the filter, round-robin
//   filter:
//     wasm: build/filter.wasm
//     fail_open: false                      # after a trap in the filter: pass (true) or 500 (false)
//     configuration: { node_id: sidecar-1, clusters: [...] }   # the filter's plugin configuration
//   clusters:
//     - name: llm-a
//       endpoints: ["127.0.0.1:9001", "127.0.0.1:9002"]
//       circuit_breakers: { max_connections: 1024, max_pending_requests: 1024 }   # Envoy's defaults
//   default_cluster: llm-a                  # when the filter set no cluster header
//   cluster_header: x-autoglm-cluster
//   upstream_timeout_ms: 30000              # from the whole request sent to the response headers (504 UT after)
//   request_idle_timeout_ms: 300000         # longest pause in a client's request body (408 after)
//   control_plane: { cluster: autoglm-control-plane, address: "127.0.0.1:50051" }
//   metrics: { listen: "127.0.0.1:9901" }
//   node: { id: sidecar-1, metadata: { ZONE: zone-a } }
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";

export interface Address {
  host: string;
  /** 0 = pick a free port. */
  port: number;
}

/**
 * A cluster's connection pool limits, as Envoy's `circuit_breakers.thresholds` (HTTP/1.1: one
 * request per connection). A request that finds `maxConnections` connections busy waits as a
 * pending request; one that finds `maxPendingRequests` already waiting is answered 503 locally.
 */
export interface PoolLimits {
  /** Connections to the cluster's endpoints at once (all endpoints together). */
  maxConnections: number;
  /** Requests waiting for a connection at once; 0 = none wait. */
  maxPendingRequests: number;
}

/** Envoy's default thresholds (envoy.config.cluster.v3.CircuitBreakers.Thresholds). */
export const DEFAULT_POOL_LIMITS: Readonly<PoolLimits> = { maxConnections: 1024, maxPendingRequests: 1024 };

export interface ClusterConfig {
  name: string;
  endpoints: Address[];
  limits: PoolLimits;
}

export interface SidecarConfig {
  listen: Address;
  workers: number;
  filter: {
    wasm: string;
    failOpen: boolean;
    /** The plugin configuration passed to proxy_on_configure (objects become JSON). */
    configuration: string | Record<string, unknown>;
    vmId: string;
    rootId: string;
  };
  clusters: ClusterConfig[];
  defaultCluster: string | null;
  clusterHeader: string;
  /**
   * Milliseconds from the moment the whole request has been received from the client (and handed
   * to the upstream) until the upstream's response headers; 504 with flag UT after; 0 = no timeout.
   * Like Envoy's route `timeout`, which spans from the end of the downstream request: a client
   * that sends its body slowly never makes the upstream look slow.
   */
  upstreamTimeoutMs: number;
  /**
   * Longest silence of a client, in milliseconds, before or between pieces of its request body
   * while no response has started (Envoy's `stream_idle_timeout`, default 5 minutes): 408 after,
   * answered locally, the client's fault and not the upstream's; 0 = no limit.
   */
  requestIdleTimeoutMs: number;
  controlPlane: { cluster: string; address: string } | null;
  metrics: { listen: Address } | null;
  node: { id: string; cluster: string; metadata: Record<string, string> };
}

export class SidecarConfigError extends Error {
  override name = "SidecarConfigError";
}

type Json = unknown;

function fail(path: string, message: string): never {
  throw new SidecarConfigError(`${path}: ${message}`);
}

function describe(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "string" ? JSON.stringify(v) : typeof v;
}

function object(v: Json, path: string): Record<string, Json> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, `expected an object, got ${describe(v)}`);
  return v as Record<string, Json>;
}

function noUnknownKeys(o: Record<string, Json>, known: string[], path: string): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) fail(path === "" ? key : `${path}.${key}`, `unknown field; expected one of ${known.join(", ")}`);
  }
}

function string(v: Json, path: string): string {
  if (typeof v !== "string" || v === "") fail(path, `expected a non-empty string, got ${describe(v)}`);
  return v;
}

function integer(v: Json, path: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    fail(path, `expected an integer from ${min} to ${max}, got ${describe(v)}${typeof v === "number" ? ` (${v})` : ""}`);
  }
  return v;
}

function boolean(v: Json, path: string): boolean {
  if (typeof v !== "boolean") fail(path, `expected true or false, got ${describe(v)}`);
  return v;
}

/** "host:port", "[::1]:port", ":port" or "http://host:port". */
export function parseAddress(v: Json, path: string): Address {
  const raw = string(v, path).replace(/^http:\/\//, "").replace(/\/$/, "");
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(raw);
  if (m === null) fail(path, `expected "host:port", got ${JSON.stringify(v)}`);
  const port = Number(m[3]);
  if (port > 65535) fail(path, `port ${port} is out of range (0-65535)`);
  return { host: m[1] ?? (m[2] === "" ? "127.0.0.1" : m[2]!), port };
}

/** A cluster's `circuit_breakers` (optional; each field defaults to Envoy's). */
function poolLimits(v: Json, path: string): PoolLimits {
  if (v === undefined) return { ...DEFAULT_POOL_LIMITS };
  const o = object(v, path);
  noUnknownKeys(o, ["max_connections", "max_pending_requests"], path);
  return {
    maxConnections: o.max_connections === undefined ? DEFAULT_POOL_LIMITS.maxConnections : integer(o.max_connections, `${path}.max_connections`, 1, 1_000_000),
    maxPendingRequests:
      o.max_pending_requests === undefined ? DEFAULT_POOL_LIMITS.maxPendingRequests : integer(o.max_pending_requests, `${path}.max_pending_requests`, 0, 1_000_000),
  };
}

/** Validates a parsed configuration document. */
export function parseSidecarConfig(raw: Json, source = "sidecar config"): SidecarConfig {
  try {
    return build(raw);
  } catch (e) {
    if (e instanceof SidecarConfigError) throw new SidecarConfigError(`${source}: ${e.message}`);
    throw e;
  }
}

function build(raw: Json): SidecarConfig {
  const root = object(raw, "(root)");
  noUnknownKeys(
    root,
    ["listen", "workers", "filter", "clusters", "default_cluster", "cluster_header", "upstream_timeout_ms", "request_idle_timeout_ms", "control_plane", "metrics", "node"],
    "",
  );
  if (root.listen === undefined) fail("listen", "missing; expected \"host:port\"");
  const listen = parseAddress(root.listen, "listen");
  const workers = root.workers === undefined ? 1 : integer(root.workers, "workers", 1, 64);

  if (root.filter === undefined) fail("filter", "missing; expected { wasm, configuration }");
  const f = object(root.filter, "filter");
  noUnknownKeys(f, ["wasm", "configuration", "fail_open", "vm_id", "root_id"], "filter");
  if (f.wasm === undefined) fail("filter.wasm", "missing; expected the path of the filter's .wasm");
  const wasm = string(f.wasm, "filter.wasm");
  let configuration: string | Record<string, unknown> = "";
  if (f.configuration !== undefined) {
    configuration = typeof f.configuration === "string" ? f.configuration : (object(f.configuration, "filter.configuration") as Record<string, unknown>);
  }
  const failOpen = f.fail_open === undefined ? false : boolean(f.fail_open, "filter.fail_open");
  const vmId = f.vm_id === undefined ? "" : string(f.vm_id, "filter.vm_id");
  const rootId = f.root_id === undefined ? "" : string(f.root_id, "filter.root_id");

  if (root.clusters === undefined) fail("clusters", "missing; expected a list of { name, endpoints }");
  if (!Array.isArray(root.clusters) || root.clusters.length === 0) fail("clusters", `expected a non-empty list, got ${describe(root.clusters)}`);
  const clusters: ClusterConfig[] = root.clusters.map((c: Json, i: number) => {
    const path = `clusters[${i}]`;
    const o = object(c, path);
    noUnknownKeys(o, ["name", "endpoints", "circuit_breakers"], path);
    const name = string(o.name, `${path}.name`);
    if (!Array.isArray(o.endpoints) || o.endpoints.length === 0) {
      fail(`${path}.endpoints`, `expected a non-empty list of "host:port", got ${describe(o.endpoints)}`);
    }
    const endpoints = o.endpoints.map((e: Json, j: number) => parseAddress(e, `${path}.endpoints[${j}]`));
    return { name, endpoints, limits: poolLimits(o.circuit_breakers, `${path}.circuit_breakers`) };
  });
  const seen = new Set<string>();
  clusters.forEach((c, i) => {
    if (seen.has(c.name)) fail(`clusters[${i}].name`, `duplicate cluster name ${JSON.stringify(c.name)}`);
    seen.add(c.name);
  });
  const defaultCluster = root.default_cluster === undefined ? null : string(root.default_cluster, "default_cluster");
  if (defaultCluster !== null && !seen.has(defaultCluster)) {
    fail("default_cluster", `${JSON.stringify(defaultCluster)} is not one of the clusters (${[...seen].join(", ")})`);
  }
  const clusterHeader = root.cluster_header === undefined ? "x-autoglm-cluster" : string(root.cluster_header, "cluster_header").toLowerCase();
  const upstreamTimeoutMs = root.upstream_timeout_ms === undefined ? 30000 : integer(root.upstream_timeout_ms, "upstream_timeout_ms", 0, 3_600_000);
  const requestIdleTimeoutMs =
    root.request_idle_timeout_ms === undefined ? 300_000 : integer(root.request_idle_timeout_ms, "request_idle_timeout_ms", 0, 3_600_000);

  let controlPlane: SidecarConfig["controlPlane"] = null;
  if (root.control_plane !== undefined) {
    const cp = object(root.control_plane, "control_plane");
    noUnknownKeys(cp, ["cluster", "address"], "control_plane");
    const address = parseAddress(cp.address, "control_plane.address");
    controlPlane = {
      cluster: cp.cluster === undefined ? "autoglm-control-plane" : string(cp.cluster, "control_plane.cluster"),
      address: `${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`,
    };
  }
  let metrics: SidecarConfig["metrics"] = null;
  if (root.metrics !== undefined) {
    const m = object(root.metrics, "metrics");
    noUnknownKeys(m, ["listen"], "metrics");
    metrics = { listen: parseAddress(m.listen, "metrics.listen") };
  }
  const configNodeId =
    typeof configuration === "object" && typeof configuration.node_id === "string" ? configuration.node_id : "sidecar";
  const node = { id: configNodeId, cluster: "", metadata: {} as Record<string, string> };
  if (root.node !== undefined) {
    const n = object(root.node, "node");
    noUnknownKeys(n, ["id", "cluster", "metadata"], "node");
    if (n.id !== undefined) node.id = string(n.id, "node.id");
    if (n.cluster !== undefined) node.cluster = string(n.cluster, "node.cluster");
    if (n.metadata !== undefined) {
      for (const [k, v] of Object.entries(object(n.metadata, "node.metadata"))) node.metadata[k] = string(v, `node.metadata.${k}`);
    }
  }
  return {
    listen,
    workers,
    filter: { wasm, failOpen, configuration, vmId, rootId },
    clusters,
    defaultCluster,
    clusterHeader,
    upstreamTimeoutMs,
    requestIdleTimeoutMs,
    controlPlane,
    metrics,
    node,
  };
}

/** Reads and validates a JSON (.json) or YAML (anything else) configuration file. */
export async function loadSidecarConfig(path: string): Promise<SidecarConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new SidecarConfigError(`${path}: cannot read: ${(e as Error).message}`);
  }
  let raw: Json;
  try {
    raw = extname(path) === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new SidecarConfigError(`${path}: not valid ${extname(path) === ".json" ? "JSON" : "YAML"}: ${(e as Error).message}`);
  }
  return parseSidecarConfig(raw, path);
}
