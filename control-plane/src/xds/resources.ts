// The xDS resources of one service, as plain objects shaped like Envoy's v3 protos (snake_case
// field names). Pure: nested typed configs are packed with the shared root (see protos.ts).
import { TYPE_URL, packAny } from "./protos.js";
import type { XdsClientFlavor, XdsClusterConfig, XdsServiceConfig } from "./types.js";
import { endpointKey } from "./host-health.js";

export type ResourceObject = Record<string, unknown>;

/** A ConfigSource that says "over the same ADS stream". */
const ADS_SOURCE = { ads: {}, resource_api_version: "V3" };

/** Route configuration names equal the service (and listener) name; the types keep them apart. */
export function routeConfigName(service: XdsServiceConfig): string {
  return service.name;
}

/** Name of the fault-injection filter, the key routes use to override its config. */
export const FAULT_FILTER_NAME = "envoy.filters.http.fault";

/**
 * HttpConnectionManager fetching its routes over RDS (ADS). Filters: fault injection (no fault
 * unless a route overrides it: that is how a mesh-wide halt is served), then the router, last.
 */
function httpConnectionManager(service: XdsServiceConfig): ResourceObject {
  return {
    stat_prefix: service.name,
    codec_type: "AUTO",
    rds: { config_source: ADS_SOURCE, route_config_name: routeConfigName(service) },
    http_filters: [
      { name: FAULT_FILTER_NAME, typed_config: packAny(TYPE_URL.httpFault, {}) },
      { name: "envoy.filters.http.router", typed_config: packAny(TYPE_URL.router, {}) },
    ],
  };
}

/** Fault config that fails every request with HTTP 503 (gRPC clients: UNAVAILABLE). */
function haltAll(): ResourceObject {
  return { abort: { http_status: 503, percentage: { numerator: 100, denominator: "HUNDRED" } } };
}

/**
 * The listener named after the service, which is the name a proxyless client asks for
 * (`xds:///<service>`). Proxyless gRPC needs an api_listener holding the HttpConnectionManager;
 * an Envoy needs a socket address and a filter chain, so Envoys get that shape instead (and no
 * listener at all for a service without `envoyListener`).
 */
export function listenerResource(service: XdsServiceConfig, flavor: XdsClientFlavor): ResourceObject | undefined {
  const hcm = packAny(TYPE_URL.httpConnectionManager, httpConnectionManager(service));
  if (flavor === "proxyless") return { name: service.name, api_listener: { api_listener: hcm } };
  if (service.envoyListener === undefined) return undefined;
  return {
    name: service.name,
    address: { socket_address: { address: service.envoyListener.address, port_value: service.envoyListener.port } },
    filter_chains: [{ filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: hcm }] }],
  };
}

/**
 * One virtual host for every authority, one route for every path, split by weighted_clusters.
 * `halted`: the mesh-wide halt is in force; the route then aborts every request (503/UNAVAILABLE)
 * through the fault filter instead of forwarding it.
 */
export function routeResource(service: XdsServiceConfig, weights: ReadonlyMap<string, number>, halted = false): ResourceObject {
  const route: ResourceObject = {
    // The name changes with the halt on purpose. @grpc/grpc-js-xds (1.14) drops an update it
    // finds equal to the resource it holds, and its comparison walks only the old resource's
    // fields: a route that gains an override (the halt) looked unchanged to a running client,
    // which acknowledged it and kept calling (test/xds-proxyless.test.ts).
    name: halted ? "halted" : "default",
    match: { prefix: "/" },
    route: {
      weighted_clusters: {
        clusters: service.clusters.map((c) => ({ name: c.name, weight: { value: weights.get(c.name) ?? 0 } })),
      },
    },
  };
  if (halted) route.typed_per_filter_config = { [FAULT_FILTER_NAME]: packAny(TYPE_URL.httpFault, haltAll()) };
  return {
    name: routeConfigName(service),
    virtual_hosts: [
      {
        name: service.name,
        domains: ["*"],
        routes: [route],
      },
    ],
  };
}

/** An EDS cluster whose endpoints come over ADS, balanced round robin. */
export function clusterResource(cluster: XdsClusterConfig): ResourceObject {
  const resource: ResourceObject = {
    name: cluster.name,
    type: "EDS",
    eds_cluster_config: { eds_config: ADS_SOURCE, service_name: cluster.name },
    lb_policy: "ROUND_ROBIN",
    connect_timeout: { seconds: 5, nanos: 0 },
  };
  if (cluster.http2 === true) {
    resource.typed_extension_protocol_options = {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": packAny(TYPE_URL.httpProtocolOptions, {
        explicit_http_config: { http2_protocol_options: {} },
      }),
    };
  }
  return resource;
}

/**
 * The cluster's endpoints in one locality of weight 1 (proxyless gRPC drops localities without a
 * weight); those in `unhealthy` ("address:port", host-health.ts endpointKey) as UNHEALTHY.
 */
export function endpointResource(cluster: XdsClusterConfig, unhealthy: ReadonlySet<string> = new Set()): ResourceObject {
  return {
    cluster_name: cluster.name,
    endpoints: [
      {
        locality: { region: "", zone: "", sub_zone: "" },
        load_balancing_weight: { value: 1 },
        lb_endpoints: cluster.endpoints.map((e) => ({
          endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
          health_status: unhealthy.has(endpointKey(e.address, e.port)) ? "UNHEALTHY" : "HEALTHY",
          load_balancing_weight: { value: 1 },
        })),
      },
    ],
  };
}
