// Who sends the traffic: the plain data of the sources' view, flags and limits (filter sketches
// reported per window, merged over sidecars; proto TelemetryReport.sources, DecisionSet.source_limits).

/** One source as one worker's sketch counted it in one window (proto SourceCount). */
export interface WorkerSourceCount {
  /** The identity: an address, or 16 hex digits of a hashed header value; "" when absent. */
  source: string;
  /** Requests counted: an upper bound of its true count in that worker's window. */
  requests: number;
  /** Of requests, those that may be other sources' (space-saving's error). */
  overestimate: number;
  /** Of requests - overestimate: failed. */
  errors: number;
  /** Of requests: refused by a source limit (local 429). */
  limited: number;
}

/** One worker's sources of one window. */
export interface WorkerSources {
  sources: readonly WorkerSourceCount[];
  /** Requests the worker's sketch counted in the window (every source's). */
  total: number;
}

/** One source merged over sidecars and a span of windows, as the API shows it. */
export interface SourceStat {
  source: string;
  /** Sum of the sketches' counts (each an upper bound where kept). */
  requests: number;
  /** Bounds of its true count: [sum of (count - overestimate), requests + what the sketches that
   *  did not keep it may have counted for it]. */
  minRequests: number;
  maxRequests: number;
  errors: number;
  limited: number;
  /** requests / span, requests per second. */
  qps: number;
  /** requests / every source's requests, [0, 1]. */
  share: number;
  /** errors / (requests - overestimate), [0, 1]; undefined when nothing was counted since it entered. */
  errorRate?: number;
}

/** The top sources over a span of closed windows. */
export interface SourcesView {
  /** First window start and the span's end, epoch ms; 0 when no window. */
  fromMs: number;
  untilMs: number;
  windows: number;
  /** Requests every sketch counted over the span (all sources). */
  totalRequests: number;
  /** At most this many requests of the span may belong to any one source not listed (the sum
   *  of the sketches' smallest counts, where they displaced sources). */
  unlistedMaxRequests: number;
  sources: SourceStat[];
}

/** What an operator (or a trigger) asks of a source. */
export type SourceLimitAction = "deny" | "cap";

/** A limit in force on one source; times are epoch ms. */
export interface SourceLimitEntry {
  source: string;
  action: SourceLimitAction;
  /** For "cap": requests per second over the whole mesh. */
  capPerS?: number;
  untilMs: number;
  reason: string;
  actor: string;
  atMs: number;
}

/** A limit as a decision set carries it (proto SourceLimit). */
export interface SourceLimitDecision {
  source: string;
  deny: boolean;
  /** Fraction [0, 1] of the source's requests each worker admits. */
  admitFraction: number;
  retryAfterS: number;
  reason: string;
  /** The cap, requests per second over the mesh (0 for deny). */
  capPerS: number;
}

/** A source's share or rate jumped above its own threshold (flagged), or came back (cleared). */
export interface SourceFlagEvent {
  kind: "flagged" | "cleared";
  source: string;
  /** Which measure jumped: its share of the requests or its rate. */
  metric: "share" | "qps";
  /** The closed window that decided it, epoch ms. */
  windowStartMs: number;
  value: number;
  /** mean + k·σ of its history when flagged. */
  threshold: number;
  atMs: number;
}
