// Snapshots, weights and configuration of the xDS server, without sockets.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterDecision, DecisionSet } from "../control-plane/src/core/types.js";
import { buildSnapshots, decodeMessage, parseXdsServices, routeWeights, TYPE_URL, XdsConfigError } from "../control-plane/src/xds/index.js";
import type { XdsClusterConfig, XdsServiceConfig } from "../control-plane/src/xds/types.js";

function decision(cluster: string, state: ClusterDecision["state"], weight: number, probeFraction = 1): ClusterDecision {
  return { cluster, state, weight, probeFraction, retryAfterS: 0, reason: "", anomalyScore: 0 };
}

function decisions(version: number, clusters: ClusterDecision[]): DecisionSet {
  return { version, issuedAtMs: 0, ttlMs: 30_000, halted: false, haltReason: "", clusters };
}

const CLUSTERS: XdsClusterConfig[] = [
  { name: "a", endpoints: [{ address: "10.0.0.1", port: 8080 }], baseWeight: 3 },
  { name: "b", endpoints: [{ address: "10.0.0.2", port: 8080 }, { address: "::1", port: 9090 }] },
];
const SERVICES: XdsServiceConfig[] = [{ name: "llm", clusters: CLUSTERS, envoyListener: { address: "0.0.0.0", port: 10000 } }];

test("route weights follow decisions; an open cluster gets 0 unless every cluster is open", () => {
  const table: Array<{ name: string; set: DecisionSet | undefined; expect: Record<string, number>; source: string }> = [
    { name: "no decisions yet: base weights", set: undefined, expect: { a: 3, b: 1 }, source: "base" },
    { name: "closed clusters take their decision weight", set: decisions(1, [decision("a", "closed", 80), decision("b", "closed", 20)]), expect: { a: 80, b: 20 }, source: "decisions" },
    { name: "an open cluster gets 0", set: decisions(1, [decision("a", "closed", 80), decision("b", "open", 20)]), expect: { a: 80, b: 0 }, source: "decisions" },
    { name: "all open: base weights", set: decisions(1, [decision("a", "open", 0), decision("b", "open", 0)]), expect: { a: 3, b: 1 }, source: "all_open" },
    { name: "half open scales by the probe fraction", set: decisions(1, [decision("a", "closed", 80), decision("b", "half_open", 20, 0.25)]), expect: { a: 80, b: 5 }, source: "decisions" },
    { name: "half open keeps at least 1", set: decisions(1, [decision("a", "closed", 80), decision("b", "half_open", 1, 0.1)]), expect: { a: 80, b: 1 }, source: "decisions" },
    { name: "a cluster the decisions do not name keeps its base weight", set: decisions(1, [decision("b", "closed", 7)]), expect: { a: 3, b: 7 }, source: "decisions" },
    { name: "fractional weights are rounded", set: decisions(1, [decision("a", "closed", 2.6), decision("b", "closed", 0.4)]), expect: { a: 3, b: 0 }, source: "decisions" },
  ];
  for (const row of table) {
    const result = routeWeights(CLUSTERS, row.set);
    assert.deepEqual(Object.fromEntries(result.weights), row.expect, row.name);
    assert.equal(result.source, row.source, row.name);
  }
});

test("nested typed configs survive encoding: the HttpConnectionManager and router inside the listener are not empty", () => {
  const snap = buildSnapshots(SERVICES, undefined).byFlavor.proxyless;
  const listener = snap.listener.resources.get("llm");
  assert.ok(listener !== undefined);
  const decoded = decodeMessage(TYPE_URL.listener, listener.value) as { name: string; api_listener: { api_listener: { type_url: string; value: Uint8Array } } };
  assert.equal(decoded.name, "llm", "the listener name equals the target name");
  assert.equal(decoded.api_listener.api_listener.type_url, TYPE_URL.httpConnectionManager);
  assert.ok(decoded.api_listener.api_listener.value.length > 0, "the packed HttpConnectionManager is not empty");
  const hcm = decodeMessage(TYPE_URL.httpConnectionManager, decoded.api_listener.api_listener.value) as {
    rds: { route_config_name: string; config_source: { config_source_specifier: string } };
    http_filters: Array<{ name: string; typed_config: { type_url: string } }>;
  };
  assert.equal(hcm.rds.route_config_name, "llm");
  assert.equal(hcm.rds.config_source.config_source_specifier, "ads");
  assert.deepEqual(
    hcm.http_filters.map((f) => f.typed_config.type_url),
    [TYPE_URL.httpFault, TYPE_URL.router],
    "fault injection (idle unless halted), then the router, last",
  );
});

test("Envoys get a socket listener with the connection manager in its filter chain", () => {
  const snap = buildSnapshots(SERVICES, undefined).byFlavor.envoy;
  const listener = snap.listener.resources.get("llm");
  assert.ok(listener !== undefined);
  const decoded = decodeMessage(TYPE_URL.listener, listener.value) as {
    address: { socket_address: { address: string; port_value: number } };
    filter_chains: Array<{ filters: Array<{ typed_config: { type_url: string; value: Uint8Array } }> }>;
  };
  assert.deepEqual([decoded.address.socket_address.address, decoded.address.socket_address.port_value], ["0.0.0.0", 10000]);
  const packed = decoded.filter_chains[0]?.filters[0]?.typed_config;
  assert.equal(packed?.type_url, TYPE_URL.httpConnectionManager);
  assert.ok((packed?.value.length ?? 0) > 0);
  const noEnvoyListener = buildSnapshots([{ name: "x", clusters: CLUSTERS }], undefined).byFlavor.envoy;
  assert.equal(noEnvoyListener.listener.resources.size, 0, "no envoyListener: no listener for Envoys");
});

test("routes, clusters and endpoints decode to what the configuration and decisions say", () => {
  const snap = buildSnapshots(SERVICES, decisions(4, [decision("a", "closed", 80), decision("b", "open", 20)])).byFlavor.proxyless;
  const route = decodeMessage(TYPE_URL.route, snap.route.resources.get("llm")?.value ?? new Uint8Array()) as {
    virtual_hosts: Array<{ routes: Array<{ route: { weighted_clusters: { clusters: Array<{ name: string; weight: { value: number } }> } } }> }>;
  };
  const split = route.virtual_hosts[0]?.routes[0]?.route.weighted_clusters.clusters.map((c) => [c.name, c.weight.value]);
  assert.deepEqual(split, [["a", 80], ["b", 0]]);
  const cluster = decodeMessage(TYPE_URL.cluster, snap.cluster.resources.get("b")?.value ?? new Uint8Array()) as {
    type: string;
    lb_policy: string;
    eds_cluster_config: { eds_config: { config_source_specifier: string } };
  };
  assert.equal(cluster.type, "EDS");
  assert.equal(cluster.lb_policy, "ROUND_ROBIN");
  assert.equal(cluster.eds_cluster_config.eds_config.config_source_specifier, "ads");
  const endpoints = decodeMessage(TYPE_URL.endpoint, snap.endpoint.resources.get("b")?.value ?? new Uint8Array()) as {
    cluster_name: string;
    endpoints: Array<{ load_balancing_weight: { value: number }; lb_endpoints: Array<{ endpoint: { address: { socket_address: { address: string; port_value: number } } } }> }>;
  };
  assert.equal(endpoints.cluster_name, "b");
  assert.equal(endpoints.endpoints[0]?.load_balancing_weight.value, 1);
  assert.deepEqual(
    endpoints.endpoints[0]?.lb_endpoints.map((e) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`),
    ["10.0.0.2:8080", "::1:9090"],
  );
});

test("versions are deterministic and change only for the types whose resources changed", () => {
  const first = buildSnapshots(SERVICES, decisions(1, [decision("a", "closed", 80), decision("b", "closed", 20)])).byFlavor.proxyless;
  const same = buildSnapshots(SERVICES, decisions(2, [decision("a", "closed", 80), decision("b", "closed", 20)])).byFlavor.proxyless;
  const shifted = buildSnapshots(SERVICES, decisions(3, [decision("a", "closed", 80), decision("b", "open", 0)])).byFlavor.proxyless;
  for (const kind of ["listener", "route", "cluster", "endpoint"] as const) {
    assert.match(first[kind].version, /^[0-9a-f]{16}$/);
    assert.equal(same[kind].version, first[kind].version, `${kind}: same resources, same version`);
  }
  assert.notEqual(shifted.route.version, first.route.version);
  assert.equal(shifted.listener.version, first.listener.version);
  assert.equal(shifted.cluster.version, first.cluster.version);
  assert.equal(shifted.endpoint.version, first.endpoint.version);
});

test("a misspelt field in a resource is an error naming it, not a silently dropped field", () => {
  assert.throws(
    () => buildSnapshots(SERVICES, undefined, (kind, resource) => (kind === "cluster" ? { ...resource, lb_polcy: "ROUND_ROBIN" } : resource)),
    /Cluster\.lb_polcy is not a field of envoy\.config\.cluster\.v3\.Cluster/,
  );
});

test("bad service configurations are rejected with the path of the bad field", () => {
  const ok = { name: "a", endpoints: [{ address: "127.0.0.1", port: 1 }] };
  const table: Array<{ config: unknown; error: RegExp }> = [
    { config: [], error: /^services: expected a non-empty list/ },
    { config: [{ name: "s", clusters: [] }], error: /services\[0\]\.clusters: expected a non-empty list/ },
    { config: [{ name: "bad name", clusters: [ok] }], error: /services\[0\]\.name: expected a name/ },
    { config: [{ name: "s", clusters: [{ name: "a", endpoints: [{ address: "localhost", port: 1 }] }] }], error: /services\[0\]\.clusters\[0\]\.endpoints\[0\]\.address: expected an IPv4 or IPv6 literal/ },
    { config: [{ name: "s", clusters: [{ name: "a", endpoints: [{ address: "127.0.0.1", port: 70000 }] }] }], error: /endpoints\[0\]\.port: expected a TCP port/ },
    { config: [{ name: "s", clusters: [{ name: "a", endpoints: [{ address: "127.0.0.1", port: 1 }, { address: "127.0.0.1", port: 1 }] }] }], error: /endpoints\[1\]: duplicate/ },
    { config: [{ name: "s", clusters: [{ ...ok, baseWeight: 0 }] }], error: /clusters\[0\]\.baseWeight: expected an integer/ },
    { config: [{ name: "s", clusters: [{ ...ok, weight: 5 }] }], error: /clusters\[0\]\.weight: unknown field/ },
    { config: [{ name: "s", clusters: [ok] }, { name: "s", clusters: [{ ...ok, name: "b" }] }], error: /services\[1\]\.name: duplicate service name "s"/ },
    { config: [{ name: "s", clusters: [ok] }, { name: "t", clusters: [ok] }], error: /services\[1\]\.clusters\[0\]\.name: cluster "a" is already defined by service "s"/ },
    { config: [{ name: "s", clusters: [ok], envoyListener: { address: "0.0.0.0" } }], error: /envoyListener\.port: expected a TCP port/ },
  ];
  for (const row of table) {
    assert.throws(() => parseXdsServices(row.config), (error: unknown) => error instanceof XdsConfigError && row.error.test(error.message), JSON.stringify(row.config));
  }
  assert.deepEqual(parseXdsServices([{ name: "s", clusters: [ok] }]), [{ name: "s", clusters: [ok] }]);
});

test("a mesh-wide halt makes every route abort through the fault filter, and only the routes change", () => {
  const running = buildSnapshots(SERVICES, decisions(1, [decision("a", "closed", 80), decision("b", "closed", 20)])).byFlavor.proxyless;
  const haltedSet = { ...decisions(2, [decision("a", "closed", 80), decision("b", "closed", 20)]), halted: true, haltReason: "drill" };
  const halted = buildSnapshots(SERVICES, haltedSet).byFlavor.proxyless;
  assert.notEqual(halted.route.version, running.route.version);
  assert.equal(halted.listener.version, running.listener.version);
  const route = decodeMessage(TYPE_URL.route, halted.route.resources.get("llm")?.value ?? new Uint8Array()) as {
    virtual_hosts: Array<{ routes: Array<{ typed_per_filter_config: Record<string, { type_url: string; value: Uint8Array }> }> }>;
  };
  const override = route.virtual_hosts[0]?.routes[0]?.typed_per_filter_config["envoy.filters.http.fault"];
  assert.equal(override?.type_url, TYPE_URL.httpFault);
  const fault = decodeMessage(TYPE_URL.httpFault, override?.value ?? new Uint8Array()) as { abort: { http_status: number; percentage: { numerator: number; denominator: string } } };
  assert.equal(fault.abort.http_status, 503);
  assert.deepEqual([fault.abort.percentage.numerator, fault.abort.percentage.denominator], [100, "HUNDRED"]);
  const plain = decodeMessage(TYPE_URL.route, running.route.resources.get("llm")?.value ?? new Uint8Array()) as {
    virtual_hosts: Array<{ routes: Array<{ typed_per_filter_config: Record<string, unknown> }> }>;
  };
  assert.deepEqual(plain.virtual_hosts[0]?.routes[0]?.typed_per_filter_config, {}, "no fault when not halted");
});
