// The sidecar's own counters (besides the filter's metrics), exported with them as Prometheus text.
import { MetricsStore, MetricType } from "../filter/host/index.js";

export class SidecarMetrics {
  readonly store = new MetricsStore();
  private readonly requests = this.store.define(MetricType.Counter, "autoglm_sidecar_requests_total");
  private readonly localReplies = this.store.define(MetricType.Counter, "autoglm_sidecar_local_replies_total");
  private readonly upstreamFailures = this.store.define(MetricType.Counter, "autoglm_sidecar_upstream_connect_failures_total");
  private readonly upstreamTimeouts = this.store.define(MetricType.Counter, "autoglm_sidecar_upstream_timeouts_total");
  private readonly upstreamResets = this.store.define(MetricType.Counter, "autoglm_sidecar_upstream_resets_total");
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
}
