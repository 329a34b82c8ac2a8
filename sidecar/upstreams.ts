// Upstream clusters of the sidecar: each request to a cluster goes to its next endpoint in turn.
import type { Address, ClusterConfig } from "./config.js";

export class UpstreamClusters {
  private readonly clusters = new Map<string, { endpoints: Address[]; next: number }>();

  constructor(configs: readonly ClusterConfig[]) {
    for (const c of configs) this.clusters.set(c.name, { endpoints: c.endpoints, next: 0 });
  }

  has(name: string): boolean {
    return this.clusters.has(name);
  }

  /** The next endpoint of `name` (round-robin), or undefined for an unknown cluster. */
  pick(name: string): Address | undefined {
    const c = this.clusters.get(name);
    if (c === undefined) return undefined;
    const endpoint = c.endpoints[c.next]!;
    c.next = (c.next + 1) % c.endpoints.length;
    return endpoint;
  }

  get names(): string[] {
    return [...this.clusters.keys()];
  }
}
