// The sidecar's own counters (besides the filter's metrics), exported with them as Prometheus text.
// Upstream failures (connect failures, timeouts, resets) are the upstream's doing; overflows,
// request timeouts and downstream disconnects are counted apart because they are not.
//
// The filter's metrics are exported as Envoy exports them (see filter/host/prometheus.ts): under
// the "wasmcustom" namespace, with FILTER_STATS_TAGS (the stats_config.stats_tags that
// deploy/envoy/envoy.yaml ships; a test keeps the two equal) turning the cluster and the outcome
// class into labels; then, unlike Envoy, with Prometheus's conventions: "_total" on counters and
// the latency histogram in seconds. So the sidecar serves
//   autoglm_requests_total{cluster="llm-a",class="5xx"}       (Envoy: autoglm_requests{...})
//   autoglm_latency_seconds_bucket{cluster="llm-a",le="0.001"} (Envoy: autoglm_latency_us_bucket{...,le="1000"})
import {
  MetricsStore,
  MetricType,
  toPrometheusText,
  WASM_CUSTOM_NAMESPACE,
  type MetricSnapshot,
  type TagSpecifier,
} from "../filter/host/index.js";

/** The filter's outcome classes in its metric names (filter/src/filter/outcome.ts CLASS_NAMES). */
const OUTCOME_CLASSES = "1xx|2xx|3xx|4xx|5xx|reset|timeout|local_reject|client_ended";

/**
 * Envoy tag specifiers for the filter's per-cluster metrics (names in filter/src/filter/metrics.ts):
 *   autoglm.requests.<cluster>.<class>, autoglm.latency_us.<cluster>,
 *   autoglm.breaker_state.<cluster>, autoglm.weight.<cluster>, autoglm.fast_trips.<cluster>,
 *   autoglm.shed.<cluster>.
 * Matched against the full stat name, "wasmcustom.<name>". The cluster may itself contain dots:
 * it is everything between the metric and the optional outcome class at the end.
 */
export const FILTER_STATS_TAGS: readonly TagSpecifier[] = [
  {
    tagName: "cluster",
    regex: `^wasmcustom\\.autoglm\\.(?:requests|latency_us|breaker_state|weight|fast_trips|shed)(\\.(.+?))(?:\\.(?:${OUTCOME_CLASSES}))?$`,
  },
  {
    tagName: "class",
    regex: `^wasmcustom\\.autoglm\\.requests\\..+?(\\.(${OUTCOME_CLASSES}))$`,
  },
];

/** The sidecar's /metrics: the filter's metrics (as above), then the sidecar's own. */
export function sidecarPrometheusText(filterMetrics: readonly MetricSnapshot[], own: SidecarMetrics): string {
  return (
    toPrometheusText(filterMetrics, { namespace: WASM_CUSTOM_NAMESPACE, tags: FILTER_STATS_TAGS, conventions: true }) +
    toPrometheusText(own.store.snapshot(), { conventions: true, origin: "sidecar" })
  );
}

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
