// Domain types of the control plane's decision core, shared by every part of the control plane
// (gRPC server, admin API, metrics, xDS, scenario runner, model). Pure data: no I/O here.
//
// Times are Unix epoch milliseconds unless a name says otherwise.
import type { PersistedBudget } from "./error-budget/types.js";
import type { RefusalReason } from "./report-admission.js";
import type { UpstreamLoadSamples, UpstreamLoadStats } from "./upstream-load.js";
import type { FiredTrigger, TriggerEvent } from "./triggers/types.js";
import type { SharedTriggerStates } from "./triggers/shared-states.js";
import type { Incident } from "./incidents/incident.js";
import type { StreamStats, WorkerStreamWindow } from "./streams/stream-window.js";
import type { Promptness } from "./promptness.js";
import type { BodyScanCounts } from "./body-scan.js";
import type { Assessment } from "./assessment.js";
import type { VersionConfirmation } from "./halt/version-confirmation.js";
import type { SourceFlagEvent, SourceLimitDecision, SourceLimitEntry, WorkerSources } from "./sources/types.js";

/** A cluster the control plane decides for, as configured by the operator. */
export interface ClusterSpec {
  name: string;
  /** Operator's base traffic weight, relative to the other clusters (> 0). */
  baseWeight: number;
}

/** The service-level objective the detectors protect. */
export interface Slo {
  /** A request slower than this misses the objective, milliseconds. */
  latencyMs: number;
  /** Fraction of requests per window that must succeed, e.g. 0.99. */
  successRate: number;
  /** Streamed responses: p99 time to first token objective, milliseconds (absent: not judged). */
  ttftMs?: number;
  /** Streamed responses: p99 time per output token objective, milliseconds (absent: not judged). */
  tpotMs?: number;
}

/** Breaker state as a tagged union with the time it was entered. */
export type BreakerState =
  | { kind: "closed"; since: number; /** Recent openings, remembered for the backoff. */ openings?: number }
  | { kind: "open"; since: number; until: number; reason: string; openings: number }
  | { kind: "half_open"; since: number; probeFraction: number; healthyWindows: number; openings: number };

export type BreakerKind = BreakerState["kind"];

/** One merged window of one cluster over all sidecars. */
export interface ClusterWindowStats {
  cluster: string;
  /** Window start (epoch ms) and length (ms). */
  windowStartMs: number;
  windowLengthMs: number;
  requests: number;
  errors5xx: number;
  localRejects: number;
  timeouts: number;
  resets: number;
  grpcErrors: number;
  /** Failure rate over requests: (requests failed by a 5xx, timeout, reset or gRPC error, each
   *  once: WorkerClusterWindow.failed; plus streams failed inside a 200,
   *  StreamStats.failedInStream) / requests; 0 when no requests. */
  errorRate: number;
  /** Total-latency quantiles, milliseconds (NaN when no requests). */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Requests per second over the window (counted as they end). */
  rps: number;
  /** Requests sent to the cluster per second over the window, counted as they start (the load
   *  offered to it; the ended ones lag it while answers grow slower); absent when no worker
   *  reported any (filters without the capability "sent"). */
  sentRps?: number;
  /** How fast the requests sent in the window were answered, against how fast its ended requests
   *  were (promptness.ts); absent unless every worker that sent requests counted sentEnded. */
  promptness?: Promptness;
  /** Number of sidecar workers whose report is in this window. */
  reporters: number;
  /** Workers expected (seen recently) whose report for this window never came. */
  missingReporters?: number;
  /** Reports folded in after the window had closed (within the grace period). */
  lateReports?: number;
  /** Requests whose total latency exceeded slo.latencyMs (from the merged histogram). */
  slowRequests?: number;
  /** Of localRejects: refused by a shed decision. */
  shed?: number;
  /** What the cluster's responses said of their endpoints' load (ORCA); absent when none did. */
  upstreamLoad?: UpstreamLoadStats;
  /** Its streamed responses (TTFT, TPOT, cuts, tokens; streams/stream-window.ts); absent when
   *  none ended in the window. */
  streams?: StreamStats;
  /** The filters' banned-output scan of its response bodies (body-scan.ts), over every sidecar;
   *  absent when no sidecar reported one for the window. */
  bodyScan?: BodyScanCounts;
}

/** A detector's verdict on one cluster for one window. */
export interface ScoreResult {
  /** Probability-like risk in [0, 1] that the cluster breaks its SLO soon. */
  score: number;
  /** A hard rule fired (error rate, p99 over SLO): evidence enough to open at once. */
  hard: boolean;
  /** Human-readable reasons, e.g. "p99 2300ms > slo 2000ms". Empty when healthy. */
  reasons: string[];
  /**
   * What the verdict rests on when a scorer pools thin windows (the hard rules do): the requests
   * and failure rate over the pooled windows. Absent: the newest window alone.
   */
  evidence?: PooledEvidence;
}

/** Requests a verdict rests on, pooled over consecutive windows. */
export interface PooledEvidence {
  requests: number;
  /** Failure rate over the pooled requests, fraction. */
  errorRate: number;
  /** Windows pooled (1: the newest window alone). */
  windows: number;
}

/** One small interface every detector implements, so each can be tested alone. */
export interface Scorer {
  readonly name: string;
  /**
   * Scores every cluster from its recent windows (oldest first, the newest last).
   * Batched: one call per decision round for all clusters.
   */
  score(
    history: ReadonlyMap<string, readonly ClusterWindowStats[]>,
    nowMs: number,
  ): Map<string, ScoreResult> | Promise<Map<string, ScoreResult>>;
}

/** Per-cluster decision in a decision set (the domain twin of proto ClusterDecision). */
export interface ClusterDecision {
  cluster: string;
  state: BreakerKind;
  /** Relative weight, integer, as in Envoy weighted_clusters. */
  weight: number;
  /** For half_open: fraction of the weighted share admitted (0, 1]. */
  probeFraction: number;
  /** For open: seconds the local 503 tells clients to wait. */
  retryAfterS: number;
  reason: string;
  /** [0, 1]. */
  anomalyScore: number;
  /** Fraction [0, 1] of its new requests refused with a local 429 (absent: 0). */
  shedFraction?: number;
}

/** The versioned, complete set of decisions pushed to every sidecar. */
export interface DecisionSet {
  version: number;
  issuedAtMs: number;
  ttlMs: number;
  halted: boolean;
  haltReason: string;
  clusters: ClusterDecision[];
  /** Fraction [0, 1] of the mesh's new requests refused with a local 429 (absent: 0). */
  shedFraction?: number;
  shedReason?: string;
  /** How a halted set stops the mesh (absent: drain; only meaningful when halted). */
  haltMode?: HaltMode;
  /** Limits on sources (core/sources/), in source order; absent: none. */
  sourceLimits?: SourceLimitDecision[];
}

/** "drain": admit nothing new, requests in flight finish (bounded by the route timeout);
 *  "immediate": also end the response streams in flight, where the filter can (proto HaltMode). */
export type HaltMode = "drain" | "immediate";

/** A manual override from an operator; wins over the model until it expires. */
export interface Override {
  cluster: string;
  state: "open" | "closed" | "auto";
  /** Expiry, epoch ms; undefined: until replaced. */
  untilMs?: number;
  reason: string;
  actor: string;
}

/**
 * An earlier decision set an operator republished (POST /v1/decisions/rollback): its per-cluster
 * decisions are pinned over what the detectors and the planner decide, until released or untilMs
 * (core/rollback.ts). The halt, the overrides and the triggers' actions in force still apply.
 */
export interface Rollback {
  /** The version of the earlier set, as the audit log holds it. */
  fromVersion: number;
  /** Its per-cluster decisions as they were (shed fractions dropped: the triggers' own apply). */
  clusters: ClusterDecision[];
  /** Expiry, epoch ms; undefined: until released. */
  untilMs?: number;
  reason: string;
  actor: string;
  /** When it was set, epoch ms. */
  atMs: number;
}

/** A breaker transition, as written to the audit log and sent to alerts. */
export interface Transition {
  cluster: string;
  from: BreakerKind;
  to: BreakerKind;
  atMs: number;
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// Telemetry as the core sees it (the gRPC layer converts the protobuf messages into these).
// ---------------------------------------------------------------------------------------------

/**
 * A log-linear latency histogram over microseconds (bucket scheme in
 * proto/autoglm/v1/traffic_guard.proto, LatencyHistogram): counts[i] is the number of values in
 * bucket firstBucket + i.
 */
export interface LatencyCounts {
  firstBucket: number;
  counts: readonly number[];
  /** Sum of all values, microseconds. */
  sumUs: number;
  /** Largest value, microseconds. */
  maxUs: number;
}

/** One upstream cluster's counters over one window, from one sidecar worker. */
export interface WorkerClusterWindow {
  cluster: string;
  requests: number;
  errors5xx: number;
  localRejects: number;
  timeouts: number;
  resets: number;
  grpcErrors: number;
  /** Request headers to end of stream, microseconds. */
  totalLatency: LatencyCounts;
  /** Of localRejects: refused by a shed decision (absent: 0). */
  shed?: number;
  /** Requests sent to it, counted when they start (proto ClusterWindow.sent; absent: none, or a
   *  filter without the capability "sent"). */
  sent?: number;
  /** Of sent: those that also completed upstream before the window's end (proto
   *  ClusterWindow.sent_ended; absent from filters that do not count them). */
  sentEnded?: number;
  /** Of requests: failed by any of errors5xx, timeouts, resets, grpcErrors, each counted once
   *  (proto ClusterWindow.failed; those counts overlap: Envoy answers a timeout with a local 504
   *  and a reset before headers with a local 503). Absent from filters that do not count it: the
   *  counts are then added up, an upper bound. */
  failed?: number;
  /** ORCA load reports of its responses (absent: none carried one). */
  upstreamLoad?: UpstreamLoadSamples;
  /** Its streamed responses (absent: none ended in the window, or an older filter). */
  streams?: WorkerStreamWindow;
  /** The banned-output scan of its response bodies (absent: no deny-list, no body, or an older
   *  filter). */
  bodyScan?: BodyScanCounts;
}

/** One window of telemetry from one sidecar worker (domain twin of proto TelemetryReport). */
export interface WorkerReport {
  /** Window start (epoch ms) and length (ms), on the sidecar's clock. */
  windowStartMs: number;
  windowLengthMs: number;
  /** Per-stream sequence number, from 1; a repeated (reporter, sequence) is a duplicate. */
  sequence: number;
  /** Decision version the worker enforced at the end of the window (0: none yet). */
  enforcedVersion: number;
  clusters: readonly WorkerClusterWindow[];
  /** Who sent the window's requests (the worker's sketch), when the filter counts sources. */
  sources?: WorkerSources;
}

/** What became of one report handed to the aggregator ("refused": see core/report-admission.ts). */
export type ReportOutcome = "accepted" | "late_folded" | "late_dropped" | "duplicate" | "refused";

// ---------------------------------------------------------------------------------------------
// Status views (admin API, dashboard, metrics) and events of the control plane.
// ---------------------------------------------------------------------------------------------

/** The capacity the weight computation believes a cluster has, from latency against load. */
export interface CapacityEstimate {
  /** Median latency at low load, milliseconds (NaN until seen). */
  baselineP50Ms: number;
  /** Highest throughput seen with latency near its baseline, requests per second. */
  safeRps: number;
  /** Lowest throughput at which latency rose well above baseline (the knee); Infinity if never seen. */
  kneeRps: number;
  /** Most the weights will send to the cluster in the next window, requests per second. */
  limitRps: number;
  /** Its usual fraction of bad requests (failed or slower than the SLO), [0, 1]; NaN until a
   *  window with enough requests was seen (capacity.ts); absent from estimates made elsewhere. */
  usualBadFraction?: number;
}

export interface ClusterStatus {
  cluster: string;
  baseWeight: number;
  state: BreakerState;
  /** Weight in the current decision set. */
  weight: number;
  /** Combined risk of the last decision round, [0, 1]. */
  score: number;
  hard: boolean;
  reasons: string[];
  /** Per-scorer verdicts of the last round. */
  scorers: Record<string, ScoreResult>;
  /** Anomalous windows among the last M (the N-of-M filter's view). */
  anomalousWindows: number;
  override?: Override;
  capacity: CapacityEstimate;
  /** The most recent merged windows, oldest first. */
  recent: ClusterWindowStats[];
}

export interface SidecarStatus {
  /** Control-plane-assigned id of the stream. */
  streamId: string;
  transport: "grpc" | "in-process";
  peer: string;
  nodeId: string;
  zone: string;
  workerId: number;
  instanceId: string;
  filterVersion: string;
  /** What its hello says it enforces or reports beyond the base contract, among the names this
   *  control plane knows (core/capabilities.ts); an older filter names none. */
  capabilities?: string[];
  connectedAtMs: number;
  /** Last version the worker acknowledged (0: none). */
  ackedVersion: number;
  /** Last version it rejected, and why (0 / "" when none). */
  rejectedVersion: number;
  rejectReason: string;
  /** Version it said it enforced in its hello, then in its last report. */
  enforcedVersion: number;
  /** From its hello (capability "fallback_time"; undefined without it): ms it ran without a live
   *  control-plane stream before this hello (0 on its VM's first connection), and of that the ms
   *  its local fallback breakers ruled. */
  disconnectedMs?: number;
  fallbackMs?: number;
  /** Last report received (epoch ms, control-plane clock), undefined before the first. */
  lastReportAtMs?: number;
  lastWindowStartMs?: number;
  /** Decision sets behind the current one (decision-version.ts versionsBehind). */
  lagVersions: number;
  /** Its last answer refused (NACKed) a decision set; it keeps enforcing what it had (see rejectReason). */
  refusing: boolean;
  reports: number;
  duplicates: number;
  lateReports: number;
  /** Decision sets replaced in the send queue before the stream could take them. */
  droppedPushes: number;
  /** Whether it confirmed the decision version in force within halt.confirm_wait_s
   *  (core/halt/version-confirmation.ts); set by the control plane's sidecarStatuses(). */
  confirmation?: VersionConfirmation;
}

export interface NackEvent {
  streamId: string;
  nodeId: string;
  version: number;
  reason: string;
  enforcedVersion: number;
  atMs: number;
  /** NACKs of this stream not recorded (repeats, or over its budget) since its previous record. */
  suppressed?: number;
}

export interface ReportEvent {
  streamId: string;
  nodeId: string;
  windowStartMs: number;
  outcome: ReportOutcome;
  /** Why the report was refused (outcome "refused" only). */
  refusal?: RefusalReason;
  atMs: number;
}

export interface OverrideEvent {
  override: Override;
  atMs: number;
}

export interface HaltEvent {
  halted: boolean;
  reason: string;
  actor: string;
  atMs: number;
  /** For a halt: its mode (absent: drain). */
  mode?: HaltMode;
}

/** A rollback was pinned, released by an operator, or expired. */
export interface RollbackEvent {
  kind: "set" | "released" | "expired";
  rollback: Rollback;
  atMs: number;
  /** Who released it and why (kind "released"). */
  actor?: string;
  reason?: string;
}

export interface SidecarEvent {
  kind: "connected" | "disconnected";
  status: SidecarStatus;
  /** For disconnected: why. */
  reason?: string;
}

/** One decision round, for metrics. */
export interface RoundEvent {
  atMs: number;
  /** Wall time the round took, milliseconds. */
  durationMs: number;
  /** Windows closed in this round. */
  windowsClosed: number;
  version: number;
  changed: boolean;
  /** High-resolution wall time when the decisions were computed, before any push (epoch ms,
   *  performance.timeOrigin + performance.now()). */
  computedAtHrMs: number;
}

/** Events of ControlPlane.on(...), by name. */
export interface ControlPlaneEvents {
  decisions: DecisionSet;
  transition: Transition;
  nack: NackEvent;
  report: ReportEvent;
  override: OverrideEvent;
  halt: HaltEvent;
  sidecar: SidecarEvent;
  round: RoundEvent;
  trigger: TriggerEvent;
  rollback: RollbackEvent;
  /** Telemetry windows closed by a round: one list of per-cluster stats per window. */
  windows: ClusterWindowStats[][];
  /** A source's share or rate jumped above its threshold, or came back below. */
  source_flag: SourceFlagEvent;
  /** A source limit was set, removed by an operator, or expired. */
  source_limit: SourceLimitEvent;
}

/** A change of the source limits in force. */
export interface SourceLimitEvent {
  cause: "set" | "removed" | "expired";
  limit: SourceLimitEntry;
  atMs: number;
  /** Who removed it, and why (cause "removed"). */
  actor?: string;
  reason?: string;
}

// ---------------------------------------------------------------------------------------------
// State that survives a restart (kept in the audit log).
// ---------------------------------------------------------------------------------------------

export interface HaltState {
  halted: boolean;
  reason: string;
  actor: string;
  atMs: number;
  /** For a halt: its mode (absent: drain, as records written before modes existed). */
  mode?: HaltMode;
}

/** What the control plane gets back after a restart. */
export interface PersistedState {
  /** The last decision set issued (its version continues). */
  decisions?: DecisionSet;
  /** Overrides in force (expired ones are dropped when restored). */
  overrides: Override[];
  halt?: HaltState;
  /** Triggers in force (fired, not cleared). */
  triggers?: FiredTrigger[];
  /** Replicas: every rule's state (holds and clearing hysteresis too), which wins over `triggers`. */
  triggerStates?: SharedTriggerStates;
  /** Error budget counts over the SLO period (core/error-budget/). */
  errorBudget?: PersistedBudget;
  /** Replicas: the error budgets' alert-window minute buckets (etcd only; one process starts
   *  them empty). */
  burnWindows?: PersistedBudget;
  /** The incidents kept (core/incidents/), open and ended, oldest first. */
  incidents?: Incident[];
  /** Replicas: the last leader's assessment (core/assessment.ts), which a new leader continues. */
  assessment?: Assessment;
  /** The rollback in force (dropped when restored after its expiry). */
  rollback?: Rollback;
  /** Source limits in force (core/sources/; expired ones are dropped when restored). */
  sourceLimits?: SourceLimitEntry[];
}
