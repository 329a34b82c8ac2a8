// Which endpoint of a cluster a new gRPC stream goes to, when a cluster has several (e.g. the
// control plane run as several replicas). What Envoy does for the filter's stream: the filter
// names a cluster (proxy_grpc_stream), and the cluster's load balancer picks one of its hosts,
// ROUND_ROBIN by default; outlier detection ejects a host after consecutive connection failures
// (`consecutive_local_origin_failure` with split_external_local_origin_errors, or
// `consecutive_gateway_failure`) for `base_ejection_time` (default 30 s), and a load balancer
// whose every host is ejected still picks among them (panic mode).
// Sources: envoyproxy.io/docs, "Load balancers" (intro/arch_overview/upstream/load_balancing/
// load_balancers), "Outlier detection" (arch_overview/upstream/outlier) and
// api-v3 config/cluster/v3/outlier_detection.proto.
//
// Pure: time comes in as an argument (epoch ms).

/** How long an endpoint is skipped after a failed or lost connection, ms (outlier detection's
 *  base_ejection_time default), as with consecutive_local_origin_failure: 1. */
export const DEFAULT_EJECTION_MS = 30_000;

export class EndpointPicker {
  private next = 0;
  /** Endpoint index -> until when it is skipped (epoch ms). */
  private readonly ejectedUntil = new Map<number, number>();

  /**
   * @param endpoints "host:port" of every endpoint, at least one
   * @param ejectionMs how long an endpoint whose stream failed to connect is skipped, ms
   * @param first the index the round-robin starts at (spreads clients over the endpoints)
   */
  constructor(
    readonly endpoints: readonly string[],
    private readonly ejectionMs = DEFAULT_EJECTION_MS,
    first = 0,
  ) {
    if (endpoints.length === 0) throw new Error("EndpointPicker: a cluster needs at least one endpoint");
    this.next = ((first % endpoints.length) + endpoints.length) % endpoints.length;
  }

  /** The endpoint for a new stream at `nowMs`: the next in turn that is not ejected; when every
   *  endpoint is ejected, the next in turn anyway (Envoy's panic mode). */
  pick(nowMs: number): string {
    const n = this.endpoints.length;
    for (let i = 0; i < n; i++) {
      const index = (this.next + i) % n;
      if ((this.ejectedUntil.get(index) ?? 0) <= nowMs) {
        this.next = (index + 1) % n;
        return this.endpoints[index]!;
      }
    }
    const index = this.next;
    this.next = (index + 1) % n;
    return this.endpoints[index]!;
  }

  /** A stream to `endpoint` could not connect, or lost its connection (gRPC UNAVAILABLE: a
   *  local-origin failure to outlier detection): skip the endpoint until `nowMs + ejectionMs`. */
  failed(endpoint: string, nowMs: number): void {
    const index = this.endpoints.indexOf(endpoint);
    if (index >= 0) this.ejectedUntil.set(index, nowMs + this.ejectionMs);
  }

  /** A stream to `endpoint` got an answer: it is healthy again. */
  succeeded(endpoint: string): void {
    const index = this.endpoints.indexOf(endpoint);
    if (index >= 0) this.ejectedUntil.delete(index);
  }
}
