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
  /** What this build enforces or reports beyond the base contract ("shed", "upstream_load"). */
  capabilities: string[] = [];
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
}

/** Samples of one ORCA load metric over a window (mean = sum / count). */
export class LoadMetric {
  count: u32 = 0;
  sum: f64 = 0;
  max: f64 = 0;

  add(v: f64): void {
    if (this.count == 0 || v > this.max) this.max = v;
    this.count++;
    this.sum += v;
  }

  isEmpty(): bool {
    return this.count == 0 && this.sum == 0 && this.max == 0;
  }
}

/** The ORCA load reports the responses of one window carried (see the .proto's UpstreamLoad). */
export class UpstreamLoad {
  reports: u32 = 0;
  unparsed: u32 = 0;
  /** Fractions. */
  cpu: LoadMetric = new LoadMetric();
  mem: LoadMetric = new LoadMetric();
  application: LoadMetric = new LoadMetric();
  /** Queries per second. */
  rps: LoadMetric = new LoadMetric();
  /** Requests waiting (named_metrics.num_requests_waiting). */
  queue: LoadMetric = new LoadMetric();

  isEmpty(): bool {
    return this.reports == 0 && this.unparsed == 0 && this.cpu.isEmpty() && this.mem.isEmpty() &&
      this.application.isEmpty() && this.rps.isEmpty() && this.queue.isEmpty();
  }

  /** Metric number 3..7 of the .proto's UpstreamLoad. */
  metric(field: i32): LoadMetric {
    if (field == 3) return this.cpu;
    if (field == 4) return this.mem;
    if (field == 5) return this.application;
    if (field == 6) return this.rps;
    return this.queue;
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
}
