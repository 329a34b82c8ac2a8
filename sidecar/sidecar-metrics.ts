// The sidecar's own counters (besides the filter's metrics), exported with them as Prometheus text.
// Upstream failures (connect failures, timeouts, resets) are the upstream's doing; overflows,
// request timeouts and downstream disconnects are counted apart because they are not.
import { MetricsStore, MetricType } from "../filter/host/index.js";

export class SidecarMetrics {
  readonly store = new MetricsStore();
  private readonly requests = this.store.define(MetricType.Counter, "autoglm_sidecar_requests_total");
  private readonly localReplies = this.store.define(MetricType.Counter, "autoglm_sidecar_local_replies_total");
  private readonly upstreamFailures = this.store.define(MetricType.Counter, "autoglm_sidecar_upstream_connect_failures_total");
  private readonly upstreamTimeouts = this.store.define(MetricType.Counter, "autoglm_sidecar_upstream_timeouts_total");
  private readonly upstreamResets = this.store.define(MetricType.Counter, "autoglm_sidecar_upstream_resets_total");
  /** Requests answered 503 (flag UO) because their cluster's connection pool was full. */
  private readonly upstreamOverflows = this.store.define(MetricType.Counter, "autoglm_sidecar_upstream_overflows_total");
  /** Requests answered 408 because the client paused its request body too long. */
  private readonly requestTimeouts = this.store.define(MetricType.Counter, "autoglm_sidecar_request_timeouts_total");
  /** Clients that closed their connection before the whole response had been sent (flag DC). */
  private readonly downstreamDisconnects = this.store.define(MetricType.Counter, "autoglm_sidecar_downstream_disconnects_total");
  private readonly active = this.store.define(MetricType.Gauge, "autoglm_sidecar_active_requests");
  private inFlight = 0;

  requestStarted(): void {
    this.store.increment(this.requests, 1);
    this.store.record(this.active, ++this.inFlight);
  }

  requestEnded(): void {
    this.store.record(this.active, --this.inFlight);
  }

  localReply(): void {
    this.store.increment(this.localReplies, 1);
  }

  upstreamFailure(kind: "UF" | "UT" | "UR"): void {
    this.store.increment(kind === "UF" ? this.upstreamFailures : kind === "UT" ? this.upstreamTimeouts : this.upstreamResets, 1);
  }

  upstreamOverflow(): void {
    this.store.increment(this.upstreamOverflows, 1);
  }

  requestTimeout(): void {
    this.store.increment(this.requestTimeouts, 1);
  }

  downstreamDisconnect(): void {
    this.store.increment(this.downstreamDisconnects, 1);
  }
}
