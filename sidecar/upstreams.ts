// Upstream clusters of the sidecar: each request to a cluster goes to its next endpoint in turn,
// over the cluster's own connection pool. The pool is bounded as Envoy's circuit breakers bound
// it: at most `maxConnections` requests hold a connection (HTTP/1.1: one request per connection)
// and at most `maxPendingRequests` wait for one; a request beyond that overflows and is answered
// locally (503, flag UO) without reaching the cluster.
import http from "node:http";
import type { Address, ClusterConfig, PoolLimits } from "./config.js";

/** A request admitted to a cluster's pool: where to send it, and how to give its place back. */
export interface PoolLease {
  endpoint: Address;
  /** The cluster's agent: it opens at most `maxConnections` sockets and queues the rest. */
  agent: http.Agent;
  /** Gives the place back (idempotent): call when the upstream request has ended, however it ended. */
  release(): void;
}

/** The outcome of asking a cluster for a place in its pool. */
export type Admission =
  | { kind: "admitted"; lease: PoolLease }
  | { kind: "unknown_cluster" }
  | { kind: "overflow"; limits: PoolLimits };

interface Cluster {
  endpoints: Address[];
  next: number;
  limits: PoolLimits;
  agent: http.Agent;
  /** Requests admitted and not yet released: those on a connection plus those waiting for one. */
  inFlight: number;
}

export class UpstreamClusters {
  private readonly clusters = new Map<string, Cluster>();

  constructor(configs: readonly ClusterConfig[]) {
    for (const c of configs) {
      const agent = new http.Agent({
        keepAlive: true,
        // Node's agent caps sockets per origin (maxSockets) and in all (maxTotalSockets); both at
        // the cluster's limit make the cap hold across all the cluster's endpoints together.
        maxSockets: c.limits.maxConnections,
        maxTotalSockets: c.limits.maxConnections,
      });
      this.clusters.set(c.name, { endpoints: c.endpoints, next: 0, limits: c.limits, agent, inFlight: 0 });
    }
  }

  has(name: string): boolean {
    return this.clusters.has(name);
  }

  /**
   * A place in `name`'s pool on its next endpoint (round-robin), or why not. A request beyond
   * maxConnections waits in the agent's queue; pending = inFlight − maxConnections.
   */
  admit(name: string): Admission {
    const c = this.clusters.get(name);
    if (c === undefined) return { kind: "unknown_cluster" };
    if (c.inFlight >= c.limits.maxConnections + c.limits.maxPendingRequests) return { kind: "overflow", limits: c.limits };
    c.inFlight++;
    const endpoint = c.endpoints[c.next]!;
    c.next = (c.next + 1) % c.endpoints.length;
    let released = false;
    return {
      kind: "admitted",
      lease: {
        endpoint,
        agent: c.agent,
        release: () => {
          if (released) return;
          released = true;
          c.inFlight--;
        },
      },
    };
  }

  /** Requests admitted to `name` and not yet released (0 for an unknown cluster). */
  inFlight(name: string): number {
    return this.clusters.get(name)?.inFlight ?? 0;
  }

  get names(): string[] {
    return [...this.clusters.keys()];
  }

  /** Closes every pooled connection. */
  close(): void {
    for (const c of this.clusters.values()) c.agent.destroy();
  }
}
