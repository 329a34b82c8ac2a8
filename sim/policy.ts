// The interface every routing policy of the scenario runner implements (none, envoy-outlier,
// resilience4j, autoglm), and small helpers they share. Times are scenario seconds on the
// runner's virtual clock; latencies are milliseconds.
import type { Scenario } from "./scenario.js";
import { STREAM, Xoshiro128 } from "./random.js";
import type { SimTriggerEvent } from "./triggers.js";
import type { HostLoad } from "./upstream.js";

/** A client request as the policies see it. */
export interface SimRequest {
  /** Arrival order, from 0. */
  id: number;
  arrivalS: number;
  /** The sidecar (filter instance) that handles it: round robin over scenario.sidecars. */
  sidecar: number;
  /** A uniform draw in [0, 1) of the request's own, for a weighted choice. */
  routeDraw: number;
  /** A second, independent uniform draw in [0, 1), for a second choice (e.g. a failover level). */
  spareDraw: number;
}

/** Where a policy sends a request: a host of a cluster, or a local reject (the client gets a 503). */
export type RouteDecision = { cluster: number; host: number } | { reject: string };

/**
 * What a policy that sits in the HTTP path sees of a streamed answer before it ends (the autoglm
 * filter's body callbacks). Policies that see streams as the meshes do (status code and
 * end-of-stream latency, in complete()) leave it out.
 */
export interface StreamObserver {
  /** A streamed answer's 200 and headers (content-type text/event-stream), sent at once at
   *  arrival; `load`: the host's load report among them, when its cluster sends them. */
  headers(request: SimRequest, nowS: number, load?: HostLoad): void;
  /** One body chunk (SSE events); endOfStream on the last one (the final events, or an error event). */
  body(request: SimRequest, chunk: Uint8Array, endOfStream: boolean, nowS: number): void;
}

/** One routing policy. */
export interface Policy {
  readonly name: string;
  /** Chooses the upstream of a request arriving now. */
  route(request: SimRequest, nowS: number): RouteDecision;
  /**
   * The answer came back (or the client timed out: status 504 at client_timeout_ms).
   * `status` 200 is success; 5xx is failure. A stream ends here with its end-of-stream latency and
   * the status a mesh sees: 200 when it ended cleanly or with an error event inside the 200, 502
   * when it was reset after its headers, 504 when its first token came after the client's timeout.
   * `connectFailed`: the host refused the connection (it is down), so the 503 came from the proxy
   * itself (Envoy's response flag UF, a local-origin failure), not from the host.
   * `load`: the host's load report on the response headers (HostLoad), when its cluster sends
   * them and headers came from the host (not for a refusal or the client's timeout); for a
   * stream it came with headers().
   */
  complete(request: SimRequest, cluster: number, host: number, status: number, latencyMs: number, nowS: number, connectFailed: boolean, load?: HostLoad): void;
  /** Time of the policy's next timer (its own periodic work), or Infinity. */
  nextTimerS(): number;
  /** Runs the timer that was due at nowS. */
  timer(nowS: number): void;
  /** A telemetry window ended at endS. May be async (the control plane's decision round is). */
  windowEnd(window: number, endS: number): void | Promise<void>;
  /** True while the policy holds the cluster's breaker open (counts as a cut for detect_s). */
  isOpen(cluster: number): boolean;
  /** Set by policies that see streams' headers and body chunks as they happen. */
  readonly streams?: StreamObserver;
  /** Releases resources (wasm instances, control plane). */
  close?(): void | Promise<void>;
  /** The scenario's triggers that fired and cleared so far (policies that run them). */
  triggerEvents?(): SimTriggerEvent[];
}

/** Builds a policy for a scenario; `seed` feeds any randomness of the policy's own. */
export type PolicyFactory = (scenario: Scenario, seed: number) => Policy | Promise<Policy>;

/** Base share of each cluster: weight / sum of weights. */
export function baseShares(scenario: Scenario): number[] {
  const total = scenario.clusters.reduce((sum, c) => sum + c.weight, 0);
  return scenario.clusters.map((c) => c.weight / total);
}

/**
 * Picks an index with probability proportional to weights[i], from a uniform draw u in [0, 1).
 * Returns -1 when every weight is 0.
 */
export function weightedPick(weights: readonly number[], u: number): number {
  let total = 0;
  for (const w of weights) total += w > 0 ? w : 0;
  if (total <= 0) return -1;
  let target = u * total;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w <= 0) continue;
    last = i;
    if (target < w) return i;
    target -= w;
  }
  return last;
}

/**
 * Spreads each sidecar's requests to a cluster evenly (round robin) over the cluster's hosts that
 * are in service. Every sidecar keeps its own cursor, as every Envoy (and every client library's
 * balancer) does, so the mesh as a whole spreads a cluster's load unevenly over short spans; a
 * cursor starts at a random host as Envoy's does (RoundRobinLoadBalancer::refreshHostSource:
 * rr_indexes_.insert({source, seed_})), drawn from STREAM.hostPicker, so every policy of a run
 * starts its sidecars at the same hosts (the Envoy balancer of envoy-outlier and autoglm uses
 * this class too).
 */
export class RoundRobinHosts {
  /** Next host per sidecar and cluster (taken modulo the cluster's host count). */
  private readonly cursor: number[][];

  constructor(private readonly hostCounts: readonly number[], sidecars: number, seed: number) {
    const random = new Xoshiro128(seed, STREAM.hostPicker);
    this.cursor = Array.from({ length: sidecars }, () => hostCounts.map((count) => Math.floor(random.next() * count)));
  }

  /** The next host of the cluster in this sidecar that is not out; -1 when every host is out. */
  pick(sidecar: number, cluster: number, isOut?: (host: number) => boolean): number {
    const count = this.hostCounts[cluster]!;
    const cursor = this.cursor[sidecar]!;
    for (let tries = 0; tries < count; tries++) {
      const host = cursor[cluster]! % count;
      cursor[cluster] = host + 1;
      if (isOut === undefined || !isOut(host)) return host;
    }
    return -1;
  }
}
