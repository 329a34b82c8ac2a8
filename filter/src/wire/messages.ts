// AssemblyScript mirrors of the messages in proto/autoglm/v1/traffic_guard.proto that the
// filter encodes (sidecar -> control plane) or decodes (control plane -> sidecar).
// Field comments give units; see the .proto for the semantics. Keep in step with the .proto.

export const BREAKER_UNSPECIFIED: i32 = 0;
export const BREAKER_CLOSED: i32 = 1;
export const BREAKER_OPEN: i32 = 2;
export const BREAKER_HALF_OPEN: i32 = 3;

/** Number of buckets of the shared log-linear latency histogram (see the .proto). */
export const HISTOGRAM_BUCKETS: i32 = 240;

export class Hello {
  nodeId: string = "";
  zone: string = "";
  workerId: u32 = 0;
  filterVersion: string = "";
  clusters: string[] = [];
  instanceId: u64 = 0;
  /** Decision version enforced as the stream opens (0: none). */
  enforcedVersion: u64 = 0;
  /** What this build enforces or reports beyond the base contract ("shed", "upstream_load", ...). */
  capabilities: string[] = [];
  /** Ms since the previous live stream ended (0 on the first connection). */
  disconnectedMs: u64 = 0;
  /** Of disconnectedMs: ms on the local fallback breakers. */
  fallbackMs: u64 = 0;
}

export class LatencyHistogram {
  /** Dense counts over all HISTOGRAM_BUCKETS buckets; the encoder trims empty ends. */
  counts: StaticArray<u32> = new StaticArray<u32>(HISTOGRAM_BUCKETS);
  /** Sum of recorded values, microseconds. */
  sumUs: u64 = 0;
  /** Largest recorded value, microseconds. */
  maxUs: u64 = 0;
}

export class ClusterWindow {
  cluster: string = "";
  requests: u32 = 0;
  errors5xx: u32 = 0;
  localRejects: u32 = 0;
  timeouts: u32 = 0;
  resets: u32 = 0;
  grpcErrors: u32 = 0;
  headersLatency: LatencyHistogram = new LatencyHistogram();
  totalLatency: LatencyHistogram = new LatencyHistogram();
  /** Of localRejects: refused by a shed decision (429). */
  shed: u32 = 0;
  upstreamLoad: UpstreamLoad = new UpstreamLoad();
  /** Streamed responses (text/event-stream); null until the window's first one. */
  streams: StreamWindow | null = null;
  /** The banned-output scan of response bodies (the .proto's BodyScan), indexed by BODY_*;
   *  null until the window's first body scanned or passed compressed. */
  bodyScan: StaticArray<u32> | null = null;
  /** Requests sent upstream, counted when they start. */
  sent: u32 = 0;
  /** Of sent: those that also completed upstream before the window's end (on the wire whenever
   *  sent is not 0). */
  sentEnded: u32 = 0;
  /** Of requests: failed by any of errors5xx, timeouts, resets, grpcErrors, each counted once
   *  (on the wire whenever requests is not 0). */
  failed: u32 = 0;
}

/** BodyScan fields 1..3, as indexes: bodies scanned, of them cut for a banned literal, bodies
 *  passed unscanned because compressed. */
export const BODY_SCANNED: i32 = 0;
export const BODY_MATCHED: i32 = 1;
export const BODY_COMPRESSED: i32 = 2;

/** The streamed responses of one window (see the .proto's StreamWindow). */
export class StreamWindow {
  streams: u32 = 0;
  /** Of streams: cut (reset or timed out after the headers, an error event, no [DONE]). */
  cut: u32 = 0;
  /** Of cut: those not counted in errors5xx, timeouts, resets or grpcErrors. */
  failedInStream: u32 = 0;
  /** Output tokens (usage.completion_tokens, else non-empty chunks). */
  tokensOut: u64 = 0;
  /** Of tokensOut: counted as chunks. */
  tokensEstimated: u64 = 0;
  /** Time to first token, microseconds. */
  ttft: LatencyHistogram = new LatencyHistogram();
  /** Time per output token, microseconds. */
  tpot: LatencyHistogram = new LatencyHistogram();
  /** Largest gap between two chunks of a stream, microseconds. */
  maxGap: LatencyHistogram = new LatencyHistogram();
}

/** Number of ORCA load metrics kept (UpstreamLoad fields 3..7 of the .proto: CPU, memory,
 *  application utilisation, rps_fractional, queue size), indexed 0..4 in that order. */
export const LOAD_METRICS: i32 = 5;

/** The ORCA load reports the responses of one window carried (see the .proto's UpstreamLoad):
 *  per metric the samples' count, sum and max (LoadMetric; mean = sum / count). */
export class UpstreamLoad {
  reports: u32 = 0;
  unparsed: u32 = 0;
  counts: StaticArray<u32> = new StaticArray<u32>(LOAD_METRICS);
  sums: StaticArray<f64> = new StaticArray<f64>(LOAD_METRICS);
  maxes: StaticArray<f64> = new StaticArray<f64>(LOAD_METRICS);

  /** Adds one sample of metric k. */
  add(k: i32, v: f64): void {
    const n = unchecked(this.counts[k]);
    if (n == 0 || v > unchecked(this.maxes[k])) unchecked((this.maxes[k] = v));
    unchecked((this.counts[k] = n + 1));
    unchecked((this.sums[k] += v));
  }

  /** Whether metric k is all zeros (not written). */
  metricEmpty(k: i32): bool {
    return unchecked(this.counts[k]) == 0 && unchecked(this.sums[k]) == 0 && unchecked(this.maxes[k]) == 0;
  }

  isEmpty(): bool {
    if (this.reports != 0 || this.unparsed != 0) return false;
    for (let k = 0; k < LOAD_METRICS; k++) if (!this.metricEmpty(k)) return false;
    return true;
  }
}

export class TelemetryReport {
  /** Unix epoch milliseconds. */
  windowStartMs: u64 = 0;
  /** Milliseconds. */
  windowLengthMs: u32 = 0;
  sequence: u64 = 0;
  enforcedVersion: u64 = 0;
  clusters: ClusterWindow[] = [];
  /** The sketch's sources with a count (SourceCount in the .proto); empty when not counted. */
  sources: SourceCount[] = [];
  /** Requests the sketch counted in the window (every source's). */
  sourcesTotal: u64 = 0;
}

/** One client identity's requests in one window (see the .proto's SourceCount). */
export class SourceCount {
  source: string = "";
  /** Upper bound of its true count. */
  requests: u32 = 0;
  /** Of requests: possibly another source's (space-saving's error). */
  overestimate: u32 = 0;
  /** Of requests - overestimate: failed. */
  errors: u32 = 0;
  /** Of requests: refused by a source limit (429). */
  limited: u32 = 0;
  /** The filter's own, not on the wire: the sketch's key of the source (fnv1a64). */
  key: u64 = 0;
}

export class DecisionAck {
  version: u64 = 0;
}

export class DecisionNack {
  version: u64 = 0;
  reason: string = "";
  enforcedVersion: u64 = 0;
}

/** SidecarMessage oneof: exactly one of these is set, by kind. */
export const SIDECAR_HELLO: i32 = 1;
export const SIDECAR_REPORT: i32 = 2;
export const SIDECAR_ACK: i32 = 3;
export const SIDECAR_NACK: i32 = 4;

export class ClusterDecision {
  cluster: string = "";
  state: i32 = BREAKER_UNSPECIFIED;
  /** Relative weight; the set's sum must be positive. */
  weight: u32 = 0;
  /** Fraction (0, 1] admitted while half-open. */
  probeFraction: f32 = 0;
  /** Seconds. */
  retryAfterS: u32 = 0;
  reason: string = "";
  /** [0, 1]. */
  anomalyScore: f32 = 0;
  /** Fraction [0, 1] of the cluster's new requests refused with a 429 (0: none). */
  shedFraction: f32 = 0;
}

/** The control plane refused one of this stream's telemetry reports. */
export class ReportRejected {
  sequence: u64 = 0;
  reason: string = "";
  /** The report's window start minus the control plane's clock, milliseconds (0: not the clock). */
  clockOffsetMs: i64 = 0;
}

/** ControlMessage oneof kinds. */
export const CONTROL_DECISIONS: i32 = 1;
export const CONTROL_REPORT_REJECTED: i32 = 2;

export class DecisionSet {
  version: u64 = 0;
  /** Unix epoch milliseconds. */
  issuedAtMs: u64 = 0;
  /** Milliseconds. */
  ttlMs: u32 = 0;
  halted: bool = false;
  haltReason: string = "";
  clusters: ClusterDecision[] = [];
  /** Fraction [0, 1] of the mesh's new requests refused with a 429 (0: none). */
  shedFraction: f32 = 0;
  shedReason: string = "";
  /** HaltMode: 0 unspecified and 1 drain (both a drain), 2 immediate (HALT_MODE_IMMEDIATE). */
  haltMode: i32 = 0;
  sourceLimits: SourceLimit[] = [];
}

/** A limit on one source (see the .proto's SourceLimit). The filter reads only the source and
 *  its admitted fraction (a deny comes with 0); the 429 says the filter's retry_after_s. */
export class SourceLimit {
  source: string = "";
  /** Fraction [0, 1] of the source's requests admitted. */
  admitFraction: f32 = 0;
  /** The filter's own, not on the wire: the source's key (core/sourcesketch.ts fnv1a64) and the
   *  admission credit that spreads the admitted fraction evenly. */
  key: u64 = 0;
  credit: f64 = 0;
}

export const HALT_MODE_IMMEDIATE: i32 = 2;
