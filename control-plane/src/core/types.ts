// Domain types of the control plane's decision core, shared by every part of the control plane
// (gRPC server, admin API, metrics, xDS, scenario runner, model). Pure data: no I/O here.
//
// Times are Unix epoch milliseconds unless a name says otherwise.

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
}

/** Breaker state as a tagged union with the time it was entered. */
export type BreakerState =
  | { kind: "closed"; since: number }
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
  /** Failure rate over requests: (5xx + timeouts + resets + grpc errors) / requests; 0 when no requests. */
  errorRate: number;
  /** Total-latency quantiles, milliseconds (NaN when no requests). */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Requests per second over the window. */
  rps: number;
  /** Number of sidecar workers whose report is in this window. */
  reporters: number;
}

/** A detector's verdict on one cluster for one window. */
export interface ScoreResult {
  /** Probability-like risk in [0, 1] that the cluster breaks its SLO soon. */
  score: number;
  /** A hard rule fired (error rate, p99 over SLO): evidence enough to open at once. */
  hard: boolean;
  /** Human-readable reasons, e.g. "p99 2300ms > slo 2000ms". Empty when healthy. */
  reasons: string[];
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
}

/** The versioned, complete set of decisions pushed to every sidecar. */
export interface DecisionSet {
  version: number;
  issuedAtMs: number;
  ttlMs: number;
  halted: boolean;
  haltReason: string;
  clusters: ClusterDecision[];
}

/** A manual override from an operator; wins over the model until it expires. */
export interface Override {
  cluster: string;
  state: "open" | "closed" | "auto";
  /** Expiry, epoch ms; undefined: until replaced. */
  untilMs?: number;
  reason: string;
  actor: string;
}

/** A breaker transition, as written to the audit log and sent to alerts. */
export interface Transition {
  cluster: string;
  from: BreakerKind;
  to: BreakerKind;
  atMs: number;
  reason: string;
}
