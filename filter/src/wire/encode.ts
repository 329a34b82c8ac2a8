// Encoders of the messages the filter sends (SidecarMessage, wrapping Hello, TelemetryReport,
// DecisionAck, DecisionNack) and, for tests and tools, of ControlMessage (decisions,
// report_rejected). Output is the same
// bytes protobuf-es's toBinary writes for the same values (fields in number order, proto3
// defaults omitted, repeated uint32 packed); test/wire-golden.test.ts checks it.

import { PbWriter, WIRE_VARINT } from "./pb";
import { endNonEmptyBucket, firstNonEmptyBucket } from "./histogram";
import {
  ClusterDecision,
  ClusterWindow,
  DecisionAck,
  DecisionNack,
  DecisionSet,
  CONTROL_DECISIONS,
  CONTROL_REPORT_REJECTED,
  Hello,
  LatencyHistogram,
  LOAD_METRICS,
  ReportRejected,
  SIDECAR_ACK,
  SIDECAR_HELLO,
  SIDECAR_NACK,
  SIDECAR_REPORT,
  TelemetryReport,
} from "./messages";

function writeHello(w: PbWriter, m: Hello): void {
  w.string(1, m.nodeId);
  w.string(2, m.zone);
  w.uint32(3, m.workerId);
  w.string(4, m.filterVersion);
  for (let i = 0; i < m.clusters.length; i++) w.string(5, unchecked(m.clusters[i]), true);
  w.uint64(6, m.instanceId);
  w.uint64(7, m.enforcedVersion);
  for (let i = 0; i < m.capabilities.length; i++) w.string(8, unchecked(m.capabilities[i]), true);
  w.uint64(9, m.disconnectedMs);
  w.uint64(10, m.fallbackMs);
}

/** Writes the histogram trimmed to its non-empty buckets; nothing at all when it is empty. */
function writeHistogram(w: PbWriter, field: i32, h: LatencyHistogram): void {
  const first = firstNonEmptyBucket(h);
  const end = endNonEmptyBucket(h);
  if (first >= end && h.sumUs == 0 && h.maxUs == 0) return;
  const mark = w.begin(field);
  if (first < end) {
    w.uint32(1, <u32>first);
    const packed = w.begin(2);
    for (let b = first; b < end; b++) w.varint(<u64>unchecked(h.counts[b]));
    w.end(packed);
  }
  w.uint64(3, h.sumUs);
  w.uint64(4, h.maxUs);
  w.end(mark);
}

function writeClusterWindow(w: PbWriter, m: ClusterWindow): void {
  w.string(1, m.cluster);
  w.uint32(2, m.requests);
  w.uint32(3, m.errors5xx);
  w.uint32(4, m.localRejects);
  w.uint32(5, m.timeouts);
  w.uint32(6, m.resets);
  w.uint32(7, m.grpcErrors);
  writeHistogram(w, 8, m.headersLatency);
  writeHistogram(w, 9, m.totalLatency);
  w.uint32(10, m.shed);
  const load = m.upstreamLoad;
  if (!load.isEmpty()) {
    const mark = w.begin(11);
    w.uint32(1, load.reports);
    w.uint32(2, load.unparsed);
    for (let k = 0; k < LOAD_METRICS; k++) {
      if (load.metricEmpty(k)) continue;
      const inner = w.begin(k + 3);
      w.uint32(1, unchecked(load.counts[k]));
      w.double(2, unchecked(load.sums[k]));
      w.double(3, unchecked(load.maxes[k]));
      w.end(inner);
    }
    w.end(mark);
  }
  const s = m.streams;
  if (s !== null) {
    const mark = w.begin(12);
    w.uint32(1, s.streams);
    w.uint32(2, s.cut);
    w.uint32(3, s.failedInStream);
    w.uint64(4, s.tokensOut);
    w.uint64(5, s.tokensEstimated);
    writeHistogram(w, 6, s.ttft);
    writeHistogram(w, 7, s.tpot);
    writeHistogram(w, 8, s.maxGap);
    w.end(mark);
  }
  const b = m.bodyScan;
  if (b !== null) {
    const mark = w.begin(13);
    for (let k = 0; k < 3; k++) w.uint32(k + 1, unchecked(b[k]));
    w.end(mark);
  }
  w.uint32(14, m.sent);
  // proto3 optional: present (0 too) whenever requests were sent, so that a control plane tells
  // "none ended" from a filter that does not count them.
  if (m.sent != 0) {
    w.tag(15, WIRE_VARINT);
    w.varint(<u64>m.sentEnded);
  }
  // proto3 optional: present (0 too) whenever requests completed, so that a control plane tells
  // "none failed" from a filter that does not count them.
  if (m.requests != 0) {
    w.tag(16, WIRE_VARINT);
    w.varint(<u64>m.failed);
  }
}

function writeReport(w: PbWriter, m: TelemetryReport): void {
  w.uint64(1, m.windowStartMs);
  w.uint32(2, m.windowLengthMs);
  w.uint64(3, m.sequence);
  w.uint64(4, m.enforcedVersion);
  for (let i = 0; i < m.clusters.length; i++) {
    const mark = w.begin(5);
    writeClusterWindow(w, unchecked(m.clusters[i]));
    w.end(mark);
  }
  for (let i = 0; i < m.sources.length; i++) {
    const s = unchecked(m.sources[i]);
    const mark = w.begin(6);
    w.string(1, s.source);
    w.uint32(2, s.requests);
    w.uint32(3, s.overestimate);
    w.uint32(4, s.errors);
    w.uint32(5, s.limited);
    w.end(mark);
  }
  w.uint64(7, m.sourcesTotal);
}

/** SidecarMessage{hello}, serialized. */
export function encodeHello(m: Hello): ArrayBuffer {
  const w = new PbWriter(64 + m.clusters.length * 16);
  const mark = w.begin(SIDECAR_HELLO);
  writeHello(w, m);
  w.end(mark);
  return w.finish();
}

/** SidecarMessage{report}, serialized. */
export function encodeReport(m: TelemetryReport): ArrayBuffer {
  const w = new PbWriter(64 + m.clusters.length * 96 + m.sources.length * 40);
  const mark = w.begin(SIDECAR_REPORT);
  writeReport(w, m);
  w.end(mark);
  return w.finish();
}

/** SidecarMessage{ack}, serialized. */
export function encodeAck(m: DecisionAck): ArrayBuffer {
  const w = new PbWriter(16);
  const mark = w.begin(SIDECAR_ACK);
  w.uint64(1, m.version);
  w.end(mark);
  return w.finish();
}

/** SidecarMessage{nack}, serialized. */
export function encodeNack(m: DecisionNack): ArrayBuffer {
  const w = new PbWriter(32 + m.reason.length);
  const mark = w.begin(SIDECAR_NACK);
  w.uint64(1, m.version);
  w.string(2, m.reason);
  w.uint64(3, m.enforcedVersion);
  w.end(mark);
  return w.finish();
}

/** SidecarMessage wrapping msg (a Hello, TelemetryReport, DecisionAck or DecisionNack), serialized. */
export function encodeSidecarMessage<T>(msg: T): ArrayBuffer {
  if (msg instanceof Hello) return encodeHello(msg);
  if (msg instanceof TelemetryReport) return encodeReport(msg);
  if (msg instanceof DecisionAck) return encodeAck(msg);
  if (msg instanceof DecisionNack) return encodeNack(msg);
  ERROR("encodeSidecarMessage: not a SidecarMessage kind");
  return new ArrayBuffer(0);
}

function writeClusterDecision(w: PbWriter, m: ClusterDecision): void {
  w.string(1, m.cluster);
  w.int32(2, m.state);
  w.uint32(3, m.weight);
  w.float(4, m.probeFraction);
  w.uint32(5, m.retryAfterS);
  w.string(6, m.reason);
  w.float(7, m.anomalyScore);
  w.float(8, m.shedFraction);
}

/** ControlMessage{decisions}, serialized (the control plane's side; for tests and tools). */
export function encodeControlMessage(m: DecisionSet): ArrayBuffer {
  const w = new PbWriter(64 + m.clusters.length * 48);
  const mark = w.begin(CONTROL_DECISIONS);
  w.uint64(1, m.version);
  w.uint64(2, m.issuedAtMs);
  w.uint32(3, m.ttlMs);
  w.bool(4, m.halted);
  w.string(5, m.haltReason);
  for (let i = 0; i < m.clusters.length; i++) {
    const c = w.begin(6);
    writeClusterDecision(w, unchecked(m.clusters[i]));
    w.end(c);
  }
  w.float(7, m.shedFraction);
  w.string(8, m.shedReason);
  w.int32(9, m.haltMode);
  for (let i = 0; i < m.sourceLimits.length; i++) {
    const l = unchecked(m.sourceLimits[i]);
    const c = w.begin(10);
    w.string(1, l.source);
    w.float(3, l.admitFraction);
    w.end(c);
  }
  w.end(mark);
  return w.finish();
}

/** ControlMessage{report_rejected}, serialized (the control plane's side; for tests and tools). */
export function encodeReportRejected(m: ReportRejected): ArrayBuffer {
  const w = new PbWriter(32 + m.reason.length);
  const mark = w.begin(CONTROL_REPORT_REJECTED);
  w.uint64(1, m.sequence);
  w.string(2, m.reason);
  w.sint64(3, m.clockOffsetMs);
  w.end(mark);
  return w.finish();
}
