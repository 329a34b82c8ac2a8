// Decoders of the messages the filter receives (ControlMessage) and, for tests and tools, of
// SidecarMessage. They never trap: every read is bounds-checked, and truncated or malformed
// input gives an error naming the field and the problem ("decisions.clusters[1].reason: length
// 40 exceeds the 3 bytes left"). Unknown fields of wire types 0, 1, 2 and 5 are skipped; groups
// (wire types 3, 4) and invalid wire types are errors; a known field with the wrong wire type is
// an error. A message field that occurs twice merges, as protobuf specifies.

import { PbReader } from "./pb";
import {
  ClusterDecision,
  ClusterWindow,
  DecisionAck,
  DecisionNack,
  DecisionSet,
  HISTOGRAM_BUCKETS,
  CONTROL_DECISIONS,
  CONTROL_REPORT_REJECTED,
  Hello,
  LatencyHistogram,
  ReportRejected,
  SIDECAR_ACK,
  SIDECAR_HELLO,
  SIDECAR_NACK,
  SIDECAR_REPORT,
  SourceCount,
  SourceLimit,
  TelemetryReport,
  StreamWindow,
  UpstreamLoad,
} from "./messages";
import { dec } from "../core/numbertext";

/** What decodeControlMessage found: at most one kind (the last one on the wire, as a oneof);
 *  neither when error is set or the message carries no kind this build knows (a newer control
 *  plane's message: ignore it). */
export class DecodeResult {
  decisions: DecisionSet | null = null;
  reportRejected: ReportRejected | null = null;
  /** Why the bytes were rejected, naming the field and the problem; null when they decoded. */
  error: string | null = null;
}

function readClusterDecision(r: PbReader, m: ClusterDecision): void {
  while (r.more()) {
    const f = r.key("ClusterDecision");
    if (f == 1) m.cluster = r.string("cluster");
    else if (f == 2) m.state = r.int32("state");
    else if (f == 3) m.weight = r.uint32("weight");
    else if (f == 4) m.probeFraction = r.float("probe_fraction");
    else if (f == 5) m.retryAfterS = r.uint32("retry_after_s");
    else if (f == 6) m.reason = r.string("reason");
    else if (f == 7) m.anomalyScore = r.float("anomaly_score");
    else if (f == 8) m.shedFraction = r.float("shed_fraction");
    else if (f != 0) r.skip("field " + dec(f));
  }
}

function readDecisionSet(r: PbReader, m: DecisionSet): void {
  while (r.more()) {
    const f = r.key("DecisionSet");
    if (f == 1) m.version = r.uint64("version");
    else if (f == 2) m.issuedAtMs = r.uint64("issued_at_ms");
    else if (f == 3) m.ttlMs = r.uint32("ttl_ms");
    else if (f == 4) m.halted = r.bool("halted");
    else if (f == 5) m.haltReason = r.string("halt_reason");
    else if (f == 6 || f == 10) {
      const what = (f == 6 ? "clusters[" + dec(m.clusters.length) : "source_limits[" + dec(m.sourceLimits.length)) + "]";
      const outer = r.enter(what);
      if (outer < 0) return;
      if (f == 6) {
        const c = new ClusterDecision();
        readClusterDecision(r, c);
        m.clusters.push(c);
      } else {
        const l = new SourceLimit();
        readSourceLimit(r, l);
        m.sourceLimits.push(l);
      }
      r.leave(outer);
      if (r.error !== null) {
        r.error = what + "." + (r.error as string);
        return;
      }
    } else if (f == 7) m.shedFraction = r.float("shed_fraction");
    else if (f == 8) m.shedReason = r.string("shed_reason");
    else if (f == 9) m.haltMode = r.int32("halt_mode");
    else if (f != 0) r.skip("field " + dec(f));
  }
}

function readSourceLimit(r: PbReader, m: SourceLimit): void {
  while (r.more()) {
    const f = r.key("SourceLimit");
    if (f == 1) m.source = r.string("source");
    else if (f == 3) m.admitFraction = r.float("admit_fraction");
    else if (f != 0) r.skip("field " + dec(f));
  }
}

function readReportRejected(r: PbReader, m: ReportRejected): void {
  while (r.more()) {
    const f = r.key("ReportRejected");
    if (f == 1) m.sequence = r.uint64("sequence");
    else if (f == 2) m.reason = r.string("reason");
    else if (f == 3) m.clockOffsetMs = r.sint64("clock_offset_ms");
    else if (f != 0) r.skip("field " + dec(f));
  }
}

/** Decodes a serialized ControlMessage. Never traps. A kind that occurs twice merges; another
 *  kind replaces it (oneof semantics). */
export function decodeControlMessage(buf: ArrayBuffer): DecodeResult {
  const r = new PbReader(buf);
  const result = new DecodeResult();
  let decisions: DecisionSet | null = null;
  let rejected: ReportRejected | null = null;
  while (r.more()) {
    const f = r.key("ControlMessage");
    if (f == CONTROL_DECISIONS) {
      const outer = r.enter("decisions");
      if (outer < 0) break;
      rejected = null;
      if (decisions === null) decisions = new DecisionSet();
      readDecisionSet(r, decisions);
      r.leave(outer);
      if (r.error !== null) r.error = "decisions." + (r.error as string);
    } else if (f == CONTROL_REPORT_REJECTED) {
      const outer = r.enter("report_rejected");
      if (outer < 0) break;
      decisions = null;
      if (rejected === null) rejected = new ReportRejected();
      readReportRejected(r, rejected);
      r.leave(outer);
      if (r.error !== null) r.error = "report_rejected." + (r.error as string);
    } else if (f != 0) r.skip("ControlMessage field " + dec(f));
  }
  if (r.error !== null) result.error = r.error;
  else {
    result.decisions = decisions;
    result.reportRejected = rejected;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// SidecarMessage (the control plane's side; for tests and tools)
// ---------------------------------------------------------------------------------------------

/** What decodeSidecarMessage found: kind is SIDECAR_HELLO..SIDECAR_NACK (0: none), and the
 *  matching field is set; or error. */
export class SidecarDecodeResult {
  kind: i32 = 0;
  hello: Hello | null = null;
  report: TelemetryReport | null = null;
  ack: DecisionAck | null = null;
  nack: DecisionNack | null = null;
  error: string | null = null;
}

function readHello(r: PbReader, m: Hello): void {
  while (r.more()) {
    const f = r.key("Hello");
    if (f == 1) m.nodeId = r.string("node_id");
    else if (f == 2) m.zone = r.string("zone");
    else if (f == 3) m.workerId = r.uint32("worker_id");
    else if (f == 4) m.filterVersion = r.string("filter_version");
    else if (f == 5) m.clusters.push(r.string("clusters"));
    else if (f == 6) m.instanceId = r.uint64("instance_id");
    else if (f == 7) m.enforcedVersion = r.uint64("enforced_version");
    else if (f == 8) m.capabilities.push(r.string("capabilities"));
    else if (f == 9) m.disconnectedMs = r.uint64("disconnected_ms");
    else if (f == 10) m.fallbackMs = r.uint64("fallback_ms");
    else if (f != 0) r.skip("field " + dec(f));
  }
}

/** Reads one sparse histogram into the dense counts, adding (so repeated fields merge). */
function readHistogram(r: PbReader, h: LatencyHistogram): void {
  let first: u32 = 0;
  const counts = new Array<u32>();
  while (r.more()) {
    const f = r.key("LatencyHistogram");
    if (f == 1) first = r.uint32("first_bucket");
    else if (f == 2) {
      if (r.wireType == 0) counts.push(r.uint32("counts"));
      else {
        const outer = r.enter("counts");
        if (outer < 0) return;
        while (r.more()) counts.push(<u32>r.varint("counts"));
        r.leave(outer);
      }
    } else if (f == 3) h.sumUs = r.uint64("sum_us");
    else if (f == 4) h.maxUs = r.uint64("max_us");
    else if (f != 0) r.skip("field " + dec(f));
  }
  if (r.error !== null) return;
  if (<u64>first + <u64>counts.length > <u64>HISTOGRAM_BUCKETS) {
    r.fail("counts", "buckets " + dec(first) + ".." + dec(<u64>first + <u64>counts.length - 1) + " exceed the last bucket " + dec(HISTOGRAM_BUCKETS - 1));
    return;
  }
  for (let i = 0; i < counts.length; i++) {
    const b = <i32>first + i;
    h.counts[b] = h.counts[b] + counts[i];
  }
}

function readClusterWindow(r: PbReader, m: ClusterWindow): void {
  while (r.more()) {
    const f = r.key("ClusterWindow");
    if (f == 1) m.cluster = r.string("cluster");
    else if (f == 2) m.requests = r.uint32("requests");
    else if (f == 3) m.errors5xx = r.uint32("errors_5xx");
    else if (f == 4) m.localRejects = r.uint32("local_rejects");
    else if (f == 5) m.timeouts = r.uint32("timeouts");
    else if (f == 6) m.resets = r.uint32("resets");
    else if (f == 7) m.grpcErrors = r.uint32("grpc_errors");
    else if (f == 8 || f == 9) {
      const what = f == 8 ? "headers_latency" : "total_latency";
      const outer = r.enter(what);
      if (outer < 0) return;
      readHistogram(r, f == 8 ? m.headersLatency : m.totalLatency);
      r.leave(outer);
      if (r.error !== null) r.error = what + "." + (r.error as string);
    } else if (f == 10) m.shed = r.uint32("shed");
    else if (f == 11) {
      const outer = r.enter("upstream_load");
      if (outer < 0) return;
      readUpstreamLoad(r, m.upstreamLoad);
      r.leave(outer);
      if (r.error !== null) r.error = "upstream_load." + (r.error as string);
    } else if (f == 12) {
      const outer = r.enter("streams");
      if (outer < 0) return;
      let s = m.streams;
      if (s === null) m.streams = s = new StreamWindow();
      readStreamWindow(r, s);
      r.leave(outer);
      if (r.error !== null) r.error = "streams." + (r.error as string);
    } else if (f == 13) {
      const outer = r.enter("body_scan");
      if (outer < 0) return;
      let b = m.bodyScan;
      if (b === null) m.bodyScan = b = new StaticArray<u32>(3);
      while (r.more()) {
        const g = r.key("BodyScan");
        if (g >= 1 && g <= 3) unchecked((b[g - 1] = r.uint32(g == 1 ? "scanned" : g == 2 ? "matched" : "compressed")));
        else if (g != 0) r.skip("field " + dec(g));
      }
      r.leave(outer);
      if (r.error !== null) r.error = "body_scan." + (r.error as string);
    } else if (f == 14) m.sent = r.uint32("sent");
    else if (f == 15) m.sentEnded = r.uint32("sent_ended");
    else if (f == 16) m.failed = r.uint32("failed");
    else if (f != 0) r.skip("field " + dec(f));
  }
}

const STREAM_HISTOGRAMS: StaticArray<string> = ["ttft", "tpot", "max_gap"];

function readStreamWindow(r: PbReader, m: StreamWindow): void {
  while (r.more()) {
    const f = r.key("StreamWindow");
    if (f == 1) m.streams = r.uint32("streams");
    else if (f == 2) m.cut = r.uint32("cut");
    else if (f == 3) m.failedInStream = r.uint32("failed_in_stream");
    else if (f == 4) m.tokensOut = r.uint64("tokens_out");
    else if (f == 5) m.tokensEstimated = r.uint64("tokens_estimated");
    else if (f >= 6 && f <= 8) {
      const what = STREAM_HISTOGRAMS[f - 6];
      const outer = r.enter(what);
      if (outer < 0) return;
      readHistogram(r, f == 6 ? m.ttft : f == 7 ? m.tpot : m.maxGap);
      r.leave(outer);
      if (r.error !== null) {
        r.error = what + "." + (r.error as string);
        return;
      }
    } else if (f != 0) r.skip("field " + dec(f));
  }
}

const LOAD_METRIC_NAMES: StaticArray<string> = ["cpu_utilization", "mem_utilization", "application_utilization", "rps_fractional", "queue_size"];

function readUpstreamLoad(r: PbReader, m: UpstreamLoad): void {
  while (r.more()) {
    const f = r.key("UpstreamLoad");
    if (f == 1) m.reports = r.uint32("reports");
    else if (f == 2) m.unparsed = r.uint32("unparsed");
    else if (f >= 3 && f <= 7) {
      const what = LOAD_METRIC_NAMES[f - 3];
      const outer = r.enter(what);
      if (outer < 0) return;
      const k = f - 3;
      while (r.more()) {
        const g = r.key("LoadMetric");
        if (g == 1) m.counts[k] = r.uint32("count");
        else if (g == 2) m.sums[k] = r.double("sum");
        else if (g == 3) m.maxes[k] = r.double("max");
        else if (g != 0) r.skip("field " + dec(g));
      }
      r.leave(outer);
      if (r.error !== null) {
        r.error = what + "." + (r.error as string);
        return;
      }
    } else if (f != 0) r.skip("field " + dec(f));
  }
}

function readReport(r: PbReader, m: TelemetryReport): void {
  while (r.more()) {
    const f = r.key("TelemetryReport");
    if (f == 1) m.windowStartMs = r.uint64("window_start_ms");
    else if (f == 2) m.windowLengthMs = r.uint32("window_length_ms");
    else if (f == 3) m.sequence = r.uint64("sequence");
    else if (f == 4) m.enforcedVersion = r.uint64("enforced_version");
    else if (f == 5) {
      const what = "clusters[" + dec(m.clusters.length) + "]";
      const outer = r.enter(what);
      if (outer < 0) return;
      const c = new ClusterWindow();
      readClusterWindow(r, c);
      r.leave(outer);
      if (r.error !== null) {
        r.error = what + "." + (r.error as string);
        return;
      }
      m.clusters.push(c);
    } else if (f == 6) {
      const outer = r.enter("sources");
      if (outer < 0) return;
      const s = new SourceCount();
      while (r.more()) {
        const g = r.key("SourceCount");
        if (g == 1) s.source = r.string("source");
        else if (g == 2) s.requests = r.uint32("requests");
        else if (g == 3) s.overestimate = r.uint32("overestimate");
        else if (g == 4) s.errors = r.uint32("errors");
        else if (g == 5) s.limited = r.uint32("limited");
        else if (g != 0) r.skip("field " + dec(g));
      }
      r.leave(outer);
      if (r.error !== null) {
        r.error = "sources." + (r.error as string);
        return;
      }
      m.sources.push(s);
    } else if (f == 7) m.sourcesTotal = r.uint64("sources_total");
    else if (f != 0) r.skip("field " + dec(f));
  }
}

/** Decodes a serialized SidecarMessage. Never traps. A kind that occurs twice merges if it is
 *  the same kind; another kind replaces it (oneof semantics). */
export function decodeSidecarMessage(buf: ArrayBuffer): SidecarDecodeResult {
  const r = new PbReader(buf);
  const res = new SidecarDecodeResult();
  while (r.more()) {
    const f = r.key("SidecarMessage");
    if (f >= SIDECAR_HELLO && f <= SIDECAR_NACK) {
      const what = f == SIDECAR_HELLO ? "hello" : f == SIDECAR_REPORT ? "report" : f == SIDECAR_ACK ? "ack" : "nack";
      const outer = r.enter(what);
      if (outer < 0) break;
      if (res.kind != f) {
        res.hello = null;
        res.report = null;
        res.ack = null;
        res.nack = null;
        res.kind = f;
      }
      if (f == SIDECAR_HELLO) {
        let m = res.hello;
        if (m === null) res.hello = m = new Hello();
        readHello(r, m);
      } else if (f == SIDECAR_REPORT) {
        let m = res.report;
        if (m === null) res.report = m = new TelemetryReport();
        readReport(r, m);
      } else if (f == SIDECAR_ACK) {
        let m = res.ack;
        if (m === null) res.ack = m = new DecisionAck();
        while (r.more()) {
          const g = r.key("DecisionAck");
          if (g == 1) m.version = r.uint64("version");
          else if (g != 0) r.skip("field " + dec(g));
        }
      } else {
        let m = res.nack;
        if (m === null) res.nack = m = new DecisionNack();
        while (r.more()) {
          const g = r.key("DecisionNack");
          if (g == 1) m.version = r.uint64("version");
          else if (g == 2) m.reason = r.string("reason");
          else if (g == 3) m.enforcedVersion = r.uint64("enforced_version");
          else if (g != 0) r.skip("field " + dec(g));
        }
      }
      r.leave(outer);
      if (r.error !== null) r.error = what + "." + (r.error as string);
    } else if (f != 0) r.skip("SidecarMessage field " + dec(f));
  }
  if (r.error !== null) {
    const err = new SidecarDecodeResult();
    err.error = r.error;
    return err;
  }
  return res;
}
