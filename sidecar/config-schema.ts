// The JSON Schema of the local sidecar's configuration file (checked with the control plane's
// schema helper, so a file's every problem is listed at once by its snake_case path). Checks
// across fields (addresses, duplicate clusters, the filter's clusters against the sidecar's) are
// in ./config.ts, after this.
import type { JsonSchema } from "../control-plane/src/config/schema-problems.js";

function object(description: string, properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: "object", description, additionalProperties: false, properties, ...(required.length === 0 ? {} : { required }) };
}

const text = (description: string, fallback?: string): JsonSchema => ({ type: "string", minLength: 1, description, ...(fallback === undefined ? {} : { default: fallback }) });
const address = (description: string): JsonSchema => text(`${description} "host:port", "[::1]:port", ":port" (127.0.0.1) or "http://host:port"; port 0 picks a free one.`);
const integer = (min: number, max: number, fallback: number, description: string): JsonSchema => ({ type: "integer", minimum: min, maximum: max, default: fallback, description });

export const SIDECAR_SCHEMA: JsonSchema = object(
  "The local sidecar's configuration file (YAML, or JSON in a .json file), snake_case keys.",
  {
    listen: address("Where the proxy listens:"),
    workers: integer(1, 64, 1, "VM instances of the filter, requests spread round-robin (Envoy runs one per worker thread)."),
    filter: object(
      "The proxy-wasm filter.",
      {
        wasm: text("Path of the filter's .wasm (build/filter.wasm)."),
        configuration: {
          type: ["string", "object"],
          description: "The filter's plugin configuration (filter/src/config.ts), an object or its JSON text; its clusters must be clusters of this sidecar.",
        },
        fail_open: { type: "boolean", default: false, description: "After a trap in the filter: let requests pass (true) or answer 500 (false)." },
        vm_id: text("vm_id given to the filter (as Envoy's vm_config.vm_id)."),
        root_id: text("root_id given to the filter (as Envoy's root_id)."),
      },
      ["wasm"],
    ),
    clusters: {
      type: "array",
      minItems: 1,
      description: "Required: the upstream clusters, each with its endpoints.",
      items: object(
        "One upstream cluster.",
        {
          name: text("Cluster name, as the filter's configuration names it."),
          endpoints: { type: "array", minItems: 1, items: address("An endpoint:"), description: "Endpoints, used round-robin." },
          circuit_breakers: object("Connection pool limits, as Envoy's circuit_breakers.thresholds (HTTP/1.1: one request per connection).", {
            max_connections: integer(1, 1_000_000, 1024, "Connections to the cluster's endpoints at once (Envoy's default 1024)."),
            max_pending_requests: integer(0, 1_000_000, 1024, "Requests waiting for a connection at once; one more is answered 503 locally (Envoy's default 1024)."),
          }),
        },
        ["name", "endpoints"],
      ),
    },
    default_cluster: text("Cluster of requests the filter set no cluster header on; absent: they are answered 503."),
    cluster_header: text("Request header the filter writes the chosen cluster to.", "x-autoglm-cluster"),
    upstream_timeout_ms: integer(0, 3_600_000, 30_000, "From the whole request sent upstream to the response headers, milliseconds (504 UT after); 0: no timeout."),
    request_idle_timeout_ms: integer(0, 3_600_000, 300_000, "Longest silence of a client mid-request, milliseconds (a local 408 after); 0: no limit."),
    control_plane: object(
      "Where the filter's gRPC stream goes.",
      {
        cluster: text("Cluster name the filter's configuration gives as control_plane.cluster.", "autoglm-control-plane"),
        address: address("The control plane's gRPC address (one replica):"),
        addresses: {
          type: "array",
          minItems: 1,
          items: address("A replica's gRPC address:"),
          description:
            "The gRPC addresses of several control-plane replicas (instead of address): each stream goes to the next in turn, one whose connection failed or was lost is skipped for 30 s (Envoy's round robin with outlier detection).",
        },
      },
    ),
    metrics: object("The Prometheus endpoint (GET /metrics).", { listen: address("Where it listens:") }, ["listen"]),
    node: object("Envoy's node properties the filter reads (node.id, node.cluster, node.metadata).", {
      id: text("node.id; default the filter configuration's node_id, else \"sidecar\"."),
      cluster: text("node.cluster."),
      metadata: { type: "object", additionalProperties: { type: "string" }, description: "node.metadata, string values (e.g. ZONE)." },
    }),
  },
  ["listen", "filter", "clusters"],
);
