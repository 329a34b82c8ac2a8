// A snapshot: every resource the server serves, encoded, with one version per resource type.
// Pure (apart from hashing): the same configuration and decisions give the same bytes and versions.
import { createHash } from "node:crypto";
import type { DecisionSet } from "../core/types.js";
import { TYPE_URL, encodeMessage, type PackedAny } from "./protos.js";
import { clusterResource, endpointResource, listenerResource, routeResource, type ResourceObject } from "./resources.js";
import type { XdsClientFlavor, XdsResourceKind, XdsServiceConfig } from "./types.js";
import { routeWeights, type RouteWeights } from "./weights.js";

export const RESOURCE_KINDS: readonly XdsResourceKind[] = ["listener", "route", "cluster", "endpoint"];

export const TYPE_URL_OF_KIND: Readonly<Record<XdsResourceKind, string>> = {
  listener: TYPE_URL.listener,
  route: TYPE_URL.route,
  cluster: TYPE_URL.cluster,
  endpoint: TYPE_URL.endpoint,
};

export function kindOfTypeUrl(typeUrl: string): XdsResourceKind | undefined {
  return RESOURCE_KINDS.find((kind) => TYPE_URL_OF_KIND[kind] === typeUrl);
}

/** All resources of one type, by name, and their version. */
export interface TypeSnapshot {
  /** Hash of the encoded resources (16 hex digits): changes exactly when a resource of the type changes. */
  version: string;
  resources: ReadonlyMap<string, PackedAny>;
}

export type Snapshot = Readonly<Record<XdsResourceKind, TypeSnapshot>>;

export interface SnapshotSet {
  /** One snapshot per client flavor; they share everything but the listeners. */
  byFlavor: Readonly<Record<XdsClientFlavor, Snapshot>>;
  /** Effective route weights per service. */
  weights: ReadonlyMap<string, RouteWeights>;
  decisionVersion: number | undefined;
  /** DecisionSet.halted: every route aborts its requests. */
  halted: boolean;
}

/**
 * A hook for tests and drills: sees every resource object before it is encoded and returns the
 * object to encode. Used to craft a resource a client rejects on purpose. Never set in production.
 */
export type ResourceTransform = (kind: XdsResourceKind, resource: ResourceObject) => ResourceObject;

function typeSnapshot(kind: XdsResourceKind, objects: Array<[string, ResourceObject]>, transform: ResourceTransform | undefined): TypeSnapshot {
  const typeUrl = TYPE_URL_OF_KIND[kind];
  const resources = new Map<string, PackedAny>();
  const hash = createHash("sha256");
  for (const [name, object] of [...objects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const value = encodeMessage(typeUrl, transform === undefined ? object : transform(kind, object));
    resources.set(name, { type_url: typeUrl, value });
    hash.update(`${name.length}:${name}:${value.length}:`).update(value);
  }
  return { version: hash.digest("hex").slice(0, 16), resources };
}

/** Builds the snapshots for a configuration and (optionally) the control plane's current decisions. */
export function buildSnapshots(
  services: readonly XdsServiceConfig[],
  decisions: DecisionSet | undefined,
  transform?: ResourceTransform,
  unhealthy: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): SnapshotSet {
  const weights = new Map(services.map((s) => [s.name, routeWeights(s.clusters, decisions)]));
  const route = typeSnapshot(
    "route",
    services.map((s) => [s.name, routeResource(s, weights.get(s.name)?.weights ?? new Map(), decisions?.halted === true)]),
    transform,
  );
  const clusters = services.flatMap((s) => s.clusters);
  const cluster = typeSnapshot("cluster", clusters.map((c) => [c.name, clusterResource(c)]), transform);
  const endpoint = typeSnapshot("endpoint", clusters.map((c) => [c.name, endpointResource(c, unhealthy.get(c.name))]), transform);
  const listeners = (flavor: XdsClientFlavor): TypeSnapshot =>
    typeSnapshot(
      "listener",
      services.flatMap((s): Array<[string, ResourceObject]> => {
        const listener = listenerResource(s, flavor);
        return listener === undefined ? [] : [[s.name, listener]];
      }),
      transform,
    );
  return {
    byFlavor: {
      proxyless: { listener: listeners("proxyless"), route, cluster, endpoint },
      envoy: { listener: listeners("envoy"), route, cluster, endpoint },
    },
    weights,
    decisionVersion: decisions?.version,
    halted: decisions?.halted === true,
  };
}
