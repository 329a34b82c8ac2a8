// The filter's plugin configuration (JSON; the shape is fixed in the team's conventions):
// {
//   "node_id": "sidecar-1", "zone": "zone-a",
//   "control_plane": { "cluster": "autoglm-control-plane", "authority": "", "timeout_ms": 5000, "token": "",
//                      "reconnect_base_ms": 500, "reconnect_max_ms": 30000 },
//   "hosts": [],
//   "window_ms": 1000,
//   "clusters": [ { "name": "llm-a", "weight": 50 }, { "name": "llm-b", "weight": 50 } ],
//   "headers": { "cluster": "x-autoglm-cluster", "explicit_cluster": "x-autoglm-target",
//                "node": "x-autoglm-node", "version": "x-autoglm-version",
//                "latency": "x-autoglm-latency-us", "upstream_load": "endpoint-load-metrics" },
//   "latency_header": false,
//   "fallback": { "failure_rate": 0.5, "min_requests": 20, "slow_call_ms": 0,
//                 "slow_call_rate": 0.5, "open_ms": 5000, "probe_requests": 10 },
//   "fast_trip": { "consecutive_failures": 5, "hold_ms": 0 },
//   "fail_open": true,
//   "decision_check_ms": 100, "retry_after_s": 5,
//   "banned_output": ["BEGIN RSA PRIVATE KEY"],
//   "sources": { "header": "", "top_k": 8 }
// }
// Only clusters is required; node_id and zone default to Envoy's node.id and node.locality.zone
// (so one Istio WasmPlugin serves every pod), and node_id must come from one of the two. Parsing never traps: a bad configuration gives one
// error naming every bad field and what was expected (configparse.ts).
import { BreakerSettings } from "./core/localbreaker";
import { parseConfigJson } from "./configparse";

export class ClusterConfig {
  name: string = "";
  /** Base weight (relative, as in Envoy's weighted_clusters). */
  weight: u32 = 0;
}

export class FilterConfig {
  /** "" in the configuration: taken from Envoy's node.id at configure time. */
  nodeId: string = "";
  /** "" in the configuration: taken from Envoy's node.locality.zone (may stay ""). */
  zone: string = "";
  /** Envoy cluster of the control plane (the gRPC stream's upstream). */
  cpCluster: string = "autoglm-control-plane";
  /** `:authority` of the gRPC stream; "" lets Envoy use the cluster name. When set, the stream's
   *  upstream is a serialized envoy.config.core.v3.GrpcService{envoy_grpc{cluster_name, authority}}
   *  (needed in Istio, whose cluster names hold '|', which servers reject in :authority). */
  cpAuthority: string = "";
  /** The request authorities (Host) the filter governs, lower-case, each either "name" (matches
   *  "name" and "name:<port>") or "name:port" (exact); empty governs every request. Requests for
   *  other authorities pass untouched, unrecorded (the cluster header is still removed). */
  hosts: string[] = [];
  /** A stream on which no message arrived within this long is given up (cancelled) and another
   *  tried after the backoff, ms. A stream counts as a live control plane only once a message
   *  arrived on it (the control plane answers every hello with its decision set). */
  cpTimeoutMs: u32 = 5000;
  /** Bearer token sent as `authorization` metadata; "" sends none. */
  cpToken: string = "";
  /** First reconnect delay and its cap, milliseconds (exponential backoff with jitter). */
  reconnectBaseMs: u32 = 500;
  reconnectMaxMs: u32 = 30000;
  /** Telemetry window, milliseconds. */
  windowMs: u32 = 1000;
  clusters: ClusterConfig[] = [];
  /** Request header the chosen cluster is written to (Envoy routes with cluster_header on it). */
  clusterHeader: string = "x-autoglm-cluster";
  /** Request header naming a cluster explicitly; "" disables. */
  explicitClusterHeader: string = "x-autoglm-target";
  nodeHeader: string = "x-autoglm-node";
  versionHeader: string = "x-autoglm-version";
  /** Response header with the time to response headers, microseconds (when latency_header). */
  latencyHeaderName: string = "x-autoglm-latency-us";
  latencyHeader: bool = false;
  /** Response header holding the upstream's ORCA load report (core/orca.ts), read into the
   *  window's upstream_load; "" disables (no look-up at all). */
  upstreamLoadHeader: string = "endpoint-load-metrics";
  fallback: BreakerSettings = new BreakerSettings();
  /** Upstream failures in a row that hold a cluster out of this worker's pick at once, while the
   *  control plane's decisions are in force (core/fasttrip.ts); 0 disables. */
  fastTripFailures: u32 = 5;
  /** How long such a hold lasts, ms; 0: one telemetry window (at least 1000 ms), about one
   *  decision round of the control plane. */
  fastTripHoldMs: u32 = 0;
  /** On an internal error (e.g. an unconfigured filter): true lets traffic through, false 503s. */
  failOpen: bool = true;
  /** How often a worker looks for a newer decision set in shared data, milliseconds. */
  decisionCheckMs: u32 = 100;
  /** retry-after of local replies when the decision names none (halt, no cluster), seconds. */
  retryAfterS: u32 = 5;
  /** Literals that must not reach a client in a response body, matched ASCII case-insensitively
   *  (core/denylist.ts); a match ends the response. Empty: bodies are not scanned (no body work). */
  bannedOutput: string[] = [];
  /** Who sends the traffic (core/sourcesketch.ts): the sketch's K, 0 when not counted (no
   *  `sources` object: off, and no per-request work but one branch). */
  sourcesTopK: i32 = 0;
  /** The identity: "" the client address without its port (Envoy's source.address property);
   *  "x-forwarded-for" its first hop; any other header its value's 64-bit FNV-1a hash in hex. */
  sourcesHeader: string = "";
}

export class ConfigResult {
  config: FilterConfig | null = null;
  /** Every problem, each "<field>: expected <what>, got <what>", joined by "; "; null when the
   *  configuration is valid. */
  error: string | null = null;
}

/** Parses and validates the plugin configuration text. Never traps. */
export function parseConfig(text: string): ConfigResult {
  return parseConfigJson(text);
}
