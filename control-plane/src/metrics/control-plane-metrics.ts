// Every Prometheus metric of the control plane, registered once on the Registry passed in.
// Gauges of current state (breaker, weight, score, window stats, sidecars) are read from the
// control plane at scrape time; counters and histograms are fed by its events (./bind.ts) and
// by the parts that time things (the model scorer wrapper, the gRPC server).
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from "prom-client";
import { REFUSAL_REASONS } from "../core/report-admission.js";
import type { ClusterStatus, SidecarStatus } from "../core/types.js";
import { OTHER_LABEL, SidecarLabels, topWithOther } from "./sidecar-labels.js";
import { registerStreamMetrics } from "./stream-metrics.js";

/** What the scrape-time gauges read. */
export interface MetricsSource {
  clusterStatuses(): ClusterStatus[];
  sidecarStatuses(): SidecarStatus[];
  currentDecisions(): { version: number; halted: boolean };
}

/** prom-client default metrics left out (see the constructor). */
const UNLINTED_DEFAULT_METRICS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"] as const;

export const BREAKER_STATES = ["closed", "open", "half_open"] as const;

/** Per-sidecar series with their own node_id label at most, by default (the rest: "other"). */
export const DEFAULT_MAX_SIDECAR_LABELS = 50;

export interface ControlPlaneMetricsOptions {
  /** Sidecar workers (gauges) and nodes (counters) with their own label values; the others
   *  share node_id="other". Default DEFAULT_MAX_SIDECAR_LABELS. */
  maxSidecarLabels?: number;
  /** Registers prom-client's process and Node.js metrics (process_cpu_seconds_total,
   *  nodejs_eventloop_lag_seconds, ...) on the same registry. Default true. */
  processMetrics?: boolean;
}

/**
 * Window latency quantiles exported, as values of the `percentile` label. Not `quantile`: that
 * label is reserved to summaries, and this gauge is a value computed by the control plane from
 * merged histograms (promtool check metrics: "non-summary metrics should not have quantile label").
 */
const PERCENTILES = [
  ["p50", "p50Ms"],
  ["p95", "p95Ms"],
  ["p99", "p99Ms"],
] as const;

/**
 * A free-text reason as a bounded label: digits become "N" (so "p99 2300ms > slo 2000ms" and
 * "p99 2500ms > slo 2000ms" count together), cut to 60 characters.
 */
export function reasonLabel(reason: string): string {
  const label = reason.replace(/\d+(\.\d+)?/g, "N").replace(/\s+/g, " ").trim().slice(0, 60);
  return label === "" ? "none" : label;
}

export class ControlPlaneMetrics {
  readonly decisionSets: Counter<"halted">;
  readonly clusterDecisions: Counter<"cluster" | "state" | "reason">;
  readonly transitions: Counter<"cluster" | "from" | "to" | "reason">;
  readonly decisionRounds: Counter<"changed">;
  readonly decisionRoundSeconds: Histogram;
  readonly modelInferenceSeconds: Histogram<"scorer">;
  readonly modelInUse: Gauge;
  readonly modelFallbacks: Counter<"reason">;
  readonly reports: Counter<"outcome">;
  readonly reportsRefused: Counter<"reason">;
  readonly nacks: Counter<"node_id">;
  /** Label values of node_id for per-node counters (bounded; see sidecar-labels.ts). */
  readonly sidecarLabels: SidecarLabels;
  readonly overrides: Counter<"cluster" | "state">;
  readonly halts: Counter<"action">;
  readonly bannedOutput: Counter<"cluster">;
  readonly responseBodies: Counter<"cluster" | "scan">;
  readonly grpcStreamsOpened: Counter<"transport">;
  readonly grpcStreamsClosed: Counter<"transport">;
  readonly grpcMessagesReceived: Counter<"kind">;
  readonly grpcMessagesSent: Counter<"kind">;
  readonly alerts: Counter<"kind" | "outcome">;
  readonly alertDeliveries: Counter<"channel" | "outcome">;
  readonly alertDeliveryRetries: Counter<"channel">;
  readonly auditRecordsSkipped: Counter<"reason">;

  /** `now`: the control plane's clock, epoch ms (report lag is measured on it). */
  constructor(registry: Registry, source: MetricsSource, now: () => number = Date.now, options: ControlPlaneMetricsOptions = {}) {
    const registers = [registry];
    const maxSidecarLabels = options.maxSidecarLabels ?? DEFAULT_MAX_SIDECAR_LABELS;
    this.sidecarLabels = new SidecarLabels(maxSidecarLabels);
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: registry });
      // prom-client exports these three gauges with a counter's _total suffix (promtool: "non-counter
      // metrics should not have _total suffix"); their values are the sums of nodejs_active_handles,
      // nodejs_active_requests and nodejs_active_resources over the `type` label, which stay.
      for (const name of UNLINTED_DEFAULT_METRICS) registry.removeSingleMetric(name);
    }
    /** Sets a per-worker gauge: the workers with the largest values labelled, the rest as "other". */
    const perWorker = (gauge: Gauge<"node_id" | "worker_id">, statuses: readonly SidecarStatus[], value: (s: SidecarStatus) => number) => {
      for (const { item, value: v } of topWithOther(statuses, value, maxSidecarLabels)) {
        gauge.set(item === undefined ? { node_id: OTHER_LABEL, worker_id: OTHER_LABEL } : { node_id: item.nodeId, worker_id: String(item.workerId) }, v);
      }
    };

    new Gauge({
      name: "autoglm_cluster_breaker_state",
      help: "Breaker state of each cluster: 1 for the current state, 0 for the others.",
      labelNames: ["cluster", "state"],
      registers,
      collect() {
        this.reset();
        for (const s of source.clusterStatuses()) {
          for (const state of BREAKER_STATES) this.set({ cluster: s.cluster, state }, s.state.kind === state ? 1 : 0);
        }
      },
    });
    const perCluster = (name: string, help: string, value: (s: ClusterStatus) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ["cluster"],
        registers,
        collect() {
          this.reset();
          for (const s of source.clusterStatuses()) {
            const v = value(s);
            if (v !== undefined && Number.isFinite(v)) this.set({ cluster: s.cluster }, v);
          }
        },
      });
    const last = (s: ClusterStatus) => s.recent[s.recent.length - 1];
    perCluster("autoglm_cluster_weight", "Relative traffic weight of the cluster in the current decision set.", (s) => s.weight);
    perCluster("autoglm_cluster_base_weight", "Operator's base weight of the cluster.", (s) => s.baseWeight);
    perCluster("autoglm_cluster_anomaly_score", "Combined risk score of the cluster in the last decision round, 0..1.", (s) => s.score);
    perCluster("autoglm_cluster_window_requests_per_second", "Requests per second to the cluster in the last merged window.", (s) => last(s)?.rps);
    perCluster("autoglm_cluster_window_error_ratio", "Failed fraction of requests to the cluster in the last merged window, 0..1.", (s) => last(s)?.errorRate);
    perCluster("autoglm_cluster_window_local_rejects", "Requests rejected locally by the sidecars for the cluster in the last window.", (s) => last(s)?.localRejects);
    perCluster("autoglm_cluster_anomalous_windows", "Anomalous windows among the detector's last M.", (s) => s.anomalousWindows);
    new Gauge({
      name: "autoglm_cluster_window_latency_seconds",
      help: "Total request latency percentiles (p50, p95, p99) of the cluster in the last merged window, seconds.",
      labelNames: ["cluster", "percentile"],
      registers,
      collect() {
        this.reset();
        for (const s of source.clusterStatuses()) {
          const w = last(s);
          if (w === undefined) continue;
          for (const [percentile, key] of PERCENTILES) {
            if (Number.isFinite(w[key])) this.set({ cluster: s.cluster, percentile }, w[key] / 1000);
          }
        }
      },
    });
    registerStreamMetrics(registers, () => source.clusterStatuses());

    new Gauge({
      name: "autoglm_decision_version",
      help: "Version of the decision set in force.",
      registers,
      collect() {
        this.set(source.currentDecisions().version);
      },
    });
    new Gauge({
      name: "autoglm_mesh_halted",
      help: "1 while the mesh-wide emergency stop is on.",
      registers,
      collect() {
        this.set(source.currentDecisions().halted ? 1 : 0);
      },
    });
    this.decisionSets = new Counter({
      name: "autoglm_decision_sets_total",
      help: "Decision sets issued (each a new version pushed to every sidecar).",
      labelNames: ["halted"],
      registers,
    });
    this.clusterDecisions = new Counter({
      name: "autoglm_cluster_decisions_total",
      help: "Per-cluster decisions in issued decision sets, by state and reason (digits folded to N).",
      labelNames: ["cluster", "state", "reason"],
      registers,
    });
    this.transitions = new Counter({
      name: "autoglm_breaker_transitions_total",
      help: "Breaker transitions by cluster, from, to and reason (digits folded to N).",
      labelNames: ["cluster", "from", "to", "reason"],
      registers,
    });
    this.decisionRounds = new Counter({
      name: "autoglm_decision_rounds_total",
      help: "Decision rounds run, by whether they changed the decision set.",
      labelNames: ["changed"],
      registers,
    });
    this.decisionRoundSeconds = new Histogram({
      name: "autoglm_decision_round_duration_seconds",
      help: "Wall time of one decision round (aggregation, scoring, breakers, weights), seconds.",
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.modelInferenceSeconds = new Histogram({
      name: "autoglm_model_inference_duration_seconds",
      help: "Time one batched scoring call of the anomaly model took, seconds.",
      labelNames: ["scorer"],
      buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
      registers,
    });
    this.modelInUse = new Gauge({
      name: "autoglm_model_in_use",
      help: "1 when the ONNX anomaly model scores clusters, 0 on the rules-only fallback.",
      registers,
    });
    this.modelFallbacks = new Counter({
      name: "autoglm_model_fallbacks_total",
      help: "Times the control plane fell back to rules-only scoring, by reason.",
      labelNames: ["reason"],
      registers,
    });

    new Gauge({
      name: "autoglm_sidecars_connected",
      help: "Sidecar worker streams connected (after their Hello), by transport.",
      labelNames: ["transport"],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>([["grpc", 0], ["in-process", 0]]);
        for (const s of source.sidecarStatuses()) counts.set(s.transport, (counts.get(s.transport) ?? 0) + 1);
        for (const [transport, n] of counts) this.set({ transport }, n);
      },
    });
    new Gauge({
      name: "autoglm_sidecars_acked_current",
      help: "Sidecar worker streams that acknowledged the current decision version.",
      registers,
      collect() {
        const version = source.currentDecisions().version;
        this.set(source.sidecarStatuses().filter((s) => s.ackedVersion === version).length);
      },
    });
    new Gauge({
      name: "autoglm_sidecars_rejecting",
      help: "Sidecar worker streams that refuse decisions: their last answer rejected (NACKed) a decision version newer than the one they enforce (reasons in /v1/sidecars and /readyz).",
      registers,
      collect() {
        this.set(source.sidecarStatuses().filter((s) => s.refusing).length);
      },
    });
    new Gauge({
      name: "autoglm_sidecar_version_lag",
      help: "Decision versions a sidecar worker is behind the current set (the most lagging workers by name, the rest as node_id=\"other\" with their largest lag).",
      labelNames: ["node_id", "worker_id"],
      registers,
      collect() {
        this.reset();
        perWorker(this, source.sidecarStatuses(), (s) => s.lagVersions);
      },
    });
    new Gauge({
      name: "autoglm_sidecar_report_lag_seconds",
      help: "Time since a sidecar worker's last telemetry report, seconds (control-plane clock; the most lagging workers by name, the rest as node_id=\"other\" with their largest lag).",
      labelNames: ["node_id", "worker_id"],
      registers,
      collect() {
        this.reset();
        const nowMs = now();
        const reporting = source.sidecarStatuses().filter((s) => s.lastReportAtMs !== undefined);
        perWorker(this, reporting, (s) => Math.max(0, nowMs - s.lastReportAtMs!) / 1000);
      },
    });
    this.reports = new Counter({
      name: "autoglm_reports_total",
      help: "Telemetry reports received, by what became of them (accepted, late_folded, late_dropped, duplicate, refused).",
      labelNames: ["outcome"],
      registers,
    });
    this.reportsRefused = new Counter({
      name: "autoglm_reports_refused_total",
      help: "Telemetry reports refused, by reason (clock_ahead, clock_behind, window_length, counters, histogram).",
      labelNames: ["reason"],
      registers,
    });
    for (const reason of REFUSAL_REASONS) this.reportsRefused.inc({ reason }, 0);
    this.nacks = new Counter({
      name: "autoglm_decision_nacks_total",
      help: "Decision sets rejected by sidecar workers, by node (connected nodes up to the label limit; the rest as \"other\"; a node's series goes when its last stream does).",
      labelNames: ["node_id"],
      registers,
    });
    this.overrides = new Counter({
      name: "autoglm_overrides_total",
      help: "Manual overrides set by operators, by cluster and state.",
      labelNames: ["cluster", "state"],
      registers,
    });
    this.halts = new Counter({
      name: "autoglm_halts_total",
      help: "Mesh-wide halts and resumes.",
      labelNames: ["action"],
      registers,
    });
    this.bannedOutput = new Counter({
      name: "autoglm_banned_output_total",
      help: "Responses the filters ended because a banned literal (filter configuration banned_output) appeared in the body, by cluster (merged windows).",
      labelNames: ["cluster"],
      registers,
    });
    this.responseBodies = new Counter({
      name: "autoglm_response_bodies_total",
      help: "Response bodies under the filters' banned-output scan, by cluster and scan: scanned, or compressed (passed unscanned: a Content-Encoding other than identity).",
      labelNames: ["cluster", "scan"],
      registers,
    });
    this.grpcStreamsOpened = new Counter({
      name: "autoglm_grpc_streams_opened_total",
      help: "Sidecar streams that said Hello, by transport.",
      labelNames: ["transport"],
      registers,
    });
    this.grpcStreamsClosed = new Counter({
      name: "autoglm_grpc_streams_closed_total",
      help: "Sidecar streams closed, by transport.",
      labelNames: ["transport"],
      registers,
    });
    this.grpcMessagesReceived = new Counter({
      name: "autoglm_grpc_messages_received_total",
      help: "Messages received from sidecars, by kind (hello, report, ack, nack).",
      labelNames: ["kind"],
      registers,
    });
    this.grpcMessagesSent = new Counter({
      name: "autoglm_grpc_messages_sent_total",
      help: "Messages pushed to sidecars, by kind (decisions).",
      labelNames: ["kind"],
      registers,
    });
    this.alerts = new Counter({
      name: "autoglm_alerts_total",
      help: "Alerts raised, by kind and outcome (routed to channels, suppressed by the cooldown, unrouted: no route matched).",
      labelNames: ["kind", "outcome"],
      registers,
    });
    this.alertDeliveries = new Counter({
      name: "autoglm_alert_deliveries_total",
      help: "Alert deliveries per configured channel, by outcome (sent, failed after its retries, dropped from a full queue).",
      labelNames: ["channel", "outcome"],
      registers,
    });
    this.alertDeliveryRetries = new Counter({
      name: "autoglm_alert_delivery_retries_total",
      help: "Delivery attempts repeated after a retryable failure, per channel.",
      labelNames: ["channel"],
      registers,
    });
    this.auditRecordsSkipped = new Counter({
      name: "autoglm_audit_records_skipped_total",
      help: "Damaged audit log lines skipped while restoring, by reason (not_json, not_object, unknown_kind, bad_field).",
      labelNames: ["reason"],
      registers,
    });
  }
}
