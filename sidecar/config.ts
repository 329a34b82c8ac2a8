// The local sidecar's configuration file (JSON or YAML), checked against its JSON Schema
// (./config-schema.ts) and then across fields: every mistake of a file is reported at once, each
// with the path of the field (e.g. `clusters[1].endpoints[0]`) and what was expected.
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
//                  # or addresses: ["10.0.0.1:50051", "10.0.0.2:50051"] (several replicas)
//   metrics: { listen: "127.0.0.1:9901" }
//   node: { id: sidecar-1, metadata: { ZONE: zone-a } }
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { schemaFindings, textWithValue } from "../control-plane/src/config/schema-problems.js";
import { SIDECAR_SCHEMA } from "./config-schema.js";

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
  /** The control plane's cluster and its replicas' gRPC addresses ("host:port", at least one). */
  controlPlane: { cluster: string; addresses: string[] } | null;
  metrics: { listen: Address } | null;
  node: { id: string; cluster: string; metadata: Record<string, string> };
}

/** Every problem of a sidecar configuration, one line each, after the file's name. */
export class SidecarConfigError extends Error {
  override name = "SidecarConfigError";
  constructor(readonly problems: readonly string[], readonly source = "sidecar config") {
    super(`${source}: ${problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  ${problems.join("\n  ")}`}`);
  }
}

type Json = unknown;
type Obj = Record<string, Json>;

const isObject = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** "host:port", "[::1]:port", ":port" or "http://host:port"; a problem (string) when it is not. */
function address(v: string, path: string): Address | string {
  const raw = v.replace(/^http:\/\//, "").replace(/\/$/, "");
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(raw);
  if (m === null) return `${path}: expected "host:port", got ${JSON.stringify(v)}`;
  const port = Number(m[3]);
  if (port > 65535) return `${path}: port ${port} is out of range (0-65535)`;
  return { host: m[1] ?? (m[2] === "" ? "127.0.0.1" : m[2]!), port };
}

/** Validates a parsed configuration document: every problem at once, each by its path. */
export function parseSidecarConfig(raw: Json, source = "sidecar config"): SidecarConfig {
  const findings = schemaFindings(SIDECAR_SCHEMA, raw);
  const problems = findings.map(textWithValue);
  // A path the schema already refused is not checked again below.
  const refused = new Set(findings.map((f) => f.path));
  const root = isObject(raw) ? raw : {};
  const readAddress = (v: Json, path: string, fallback: Address): Address => {
    if (typeof v !== "string" || refused.has(path)) return fallback;
    const parsed = address(v, path);
    if (typeof parsed === "string") {
      problems.push(parsed);
      return fallback;
    }
    return parsed;
  };
  const or = <T>(v: Json, fallback: T): T => (v === undefined ? fallback : (v as T));
  const none: Address = { host: "127.0.0.1", port: 0 };

  const listen = readAddress(root.listen, "listen", none);
  const f = isObject(root.filter) ? root.filter : {};
  const configuration: string | Record<string, unknown> = typeof f.configuration === "string" || isObject(f.configuration) ? f.configuration : "";

  const clusters: ClusterConfig[] = [];
  const seen = new Set<string>();
  (Array.isArray(root.clusters) ? root.clusters : []).forEach((c: Json, i: number) => {
    if (!isObject(c) || typeof c.name !== "string") return;
    const path = `clusters[${i}]`;
    if (seen.has(c.name)) problems.push(`${path}.name: duplicate cluster name ${JSON.stringify(c.name)}`);
    seen.add(c.name);
    const endpoints = (Array.isArray(c.endpoints) ? c.endpoints : []).map((e: Json, j: number) => readAddress(e, `${path}.endpoints[${j}]`, none));
    const limits = isObject(c.circuit_breakers) ? c.circuit_breakers : {};
    clusters.push({
      name: c.name,
      endpoints,
      limits: {
        maxConnections: or(limits.max_connections, DEFAULT_POOL_LIMITS.maxConnections),
        maxPendingRequests: or(limits.max_pending_requests, DEFAULT_POOL_LIMITS.maxPendingRequests),
      },
    });
  });
  const defaultCluster = typeof root.default_cluster === "string" ? root.default_cluster : null;
  if (defaultCluster !== null && !refused.has("default_cluster") && Array.isArray(root.clusters) && !seen.has(defaultCluster)) {
    problems.push(`default_cluster: ${JSON.stringify(defaultCluster)} is not one of the clusters (${[...seen].join(", ")})`);
  }

  let controlPlane: SidecarConfig["controlPlane"] = null;
  if (isObject(root.control_plane)) {
    const cp = root.control_plane;
    const hostPort = (a: Address) => `${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;
    let addresses: string[] = [];
    if (cp.address !== undefined && cp.addresses !== undefined) problems.push("control_plane: give address (one replica) or addresses (several), not both");
    else if (cp.address === undefined && cp.addresses === undefined) problems.push("control_plane.address: required (or addresses, for several replicas)");
    else if (cp.address !== undefined) addresses = [hostPort(readAddress(cp.address, "control_plane.address", none))];
    else if (Array.isArray(cp.addresses)) addresses = cp.addresses.map((a: Json, i: number) => hostPort(readAddress(a, `control_plane.addresses[${i}]`, none)));
    controlPlane = { cluster: or(cp.cluster, "autoglm-control-plane"), addresses };
  }
  const metrics = isObject(root.metrics) ? { listen: readAddress(root.metrics.listen, "metrics.listen", none) } : null;
  problems.push(...filterCrossCheck(configuration, Array.isArray(root.clusters) ? seen : null, controlPlane));

  const n = isObject(root.node) ? root.node : {};
  const configNodeId = typeof configuration === "object" && typeof configuration.node_id === "string" ? configuration.node_id : "sidecar";
  if (problems.length > 0) throw new SidecarConfigError(problems, source);
  return {
    listen,
    workers: or(root.workers, 1),
    filter: { wasm: f.wasm as string, failOpen: or(f.fail_open, false), configuration, vmId: or(f.vm_id, ""), rootId: or(f.root_id, "") },
    clusters,
    defaultCluster,
    clusterHeader: or<string>(root.cluster_header, "x-autoglm-cluster").toLowerCase(),
    upstreamTimeoutMs: or(root.upstream_timeout_ms, 30_000),
    requestIdleTimeoutMs: or(root.request_idle_timeout_ms, 300_000),
    controlPlane,
    metrics,
    node: { id: or(n.id, configNodeId), cluster: or(n.cluster, ""), metadata: or<Record<string, string>>(n.metadata, {}) },
  };
}

/**
 * The filter's plugin configuration against the sidecar's: every cluster the filter may pick
 * needs endpoints here, and its control-plane stream needs the cluster the sidecar routes to the
 * control plane. (The filter checks its configuration itself at start; a configuration that is
 * not JSON or has no cluster list is left to it.)
 */
function filterCrossCheck(configuration: string | Record<string, unknown>, sidecarClusters: ReadonlySet<string> | null, controlPlane: SidecarConfig["controlPlane"]): string[] {
  let parsed: Json = configuration;
  if (typeof configuration === "string") {
    try {
      parsed = JSON.parse(configuration);
    } catch {
      return [];
    }
  }
  if (!isObject(parsed)) return [];
  const problems: string[] = [];
  if (sidecarClusters !== null && Array.isArray(parsed.clusters)) {
    parsed.clusters.forEach((c: Json, i: number) => {
      if (isObject(c) && typeof c.name === "string" && !sidecarClusters.has(c.name)) {
        problems.push(
          `filter.configuration.clusters[${i}].name: ${JSON.stringify(c.name)} has no endpoints: it is not one of the sidecar's clusters (${[...sidecarClusters].join(", ")})`,
        );
      }
    });
  }
  const cp = parsed.control_plane;
  const filterCpCluster = isObject(cp) && typeof cp.cluster === "string" ? cp.cluster : "autoglm-control-plane";
  if (controlPlane !== null && filterCpCluster !== controlPlane.cluster) {
    problems.push(
      `filter.configuration.control_plane.cluster: ${JSON.stringify(filterCpCluster)} is not the sidecar's control_plane.cluster (${JSON.stringify(controlPlane.cluster)}): the filter's stream would have no upstream`,
    );
  }
  return problems;
}

/** Reads and validates a JSON (.json) or YAML (anything else) configuration file. */
export async function loadSidecarConfig(path: string): Promise<SidecarConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new SidecarConfigError([`cannot read: ${(e as Error).message}`], path);
  }
  let raw: Json;
  try {
    raw = extname(path) === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new SidecarConfigError([`not valid ${extname(path) === ".json" ? "JSON" : "YAML"}: ${(e as Error).message}`], path);
  }
  return parseSidecarConfig(raw, path);
}
