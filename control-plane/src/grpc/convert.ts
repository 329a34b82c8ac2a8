// Conversions between the protobuf messages of the wire contract and the core's domain types,
// with validation of what sidecars send (a bad field gives an error naming it).
import { create } from "@bufbuild/protobuf";
import {
  BreakerState as ProtoBreakerState,
  HaltMode as ProtoHaltMode,
  ClusterDecisionSchema,
  DecisionSetSchema,
  type DecisionSet as ProtoDecisionSet,
  type TelemetryReport,
  type UpstreamLoad as ProtoUpstreamLoad,
} from "../../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import type { BreakerKind, DecisionSet, WorkerClusterWindow, WorkerReport } from "../core/types.js";
import { LOAD_METRICS, type UpstreamLoadSamples } from "../core/upstream-load.js";
import { checkLength, MAX_CLUSTER_NAME_CHARS, MAX_CLUSTERS } from "./input-limits.js";
import { streamsFromProto } from "./stream-convert.js";

/** Number of buckets of the wire histogram (see LatencyHistogram in the .proto). */
export const HISTOGRAM_BUCKETS = 240;

const STATE_TO_PROTO: Record<BreakerKind, ProtoBreakerState> = {
  closed: ProtoBreakerState.CLOSED,
  open: ProtoBreakerState.OPEN,
  half_open: ProtoBreakerState.HALF_OPEN,
};

export function decisionSetToProto(set: DecisionSet): ProtoDecisionSet {
  return create(DecisionSetSchema, {
    version: BigInt(set.version),
    issuedAtMs: BigInt(Math.max(0, Math.floor(set.issuedAtMs))),
    ttlMs: set.ttlMs,
    halted: set.halted,
    haltReason: set.haltReason,
    clusters: set.clusters.map((c) =>
      create(ClusterDecisionSchema, {
        cluster: c.cluster,
        state: STATE_TO_PROTO[c.state],
        weight: c.weight,
        probeFraction: c.probeFraction,
        retryAfterS: c.retryAfterS,
        reason: c.reason,
        anomalyScore: c.anomalyScore,
        shedFraction: c.shedFraction ?? 0,
      }),
    ),
    shedFraction: set.shedFraction ?? 0,
    shedReason: set.shedReason ?? "",
    haltMode: !set.halted ? ProtoHaltMode.UNSPECIFIED : set.haltMode === "immediate" ? ProtoHaltMode.IMMEDIATE : ProtoHaltMode.DRAIN,
  });
}

const PROTO_TO_STATE = new Map<ProtoBreakerState, BreakerKind>([
  [ProtoBreakerState.CLOSED, "closed"],
  [ProtoBreakerState.OPEN, "open"],
  [ProtoBreakerState.HALF_OPEN, "half_open"],
]);

/** The inverse of decisionSetToProto (used by simulated sidecars and tests). */
export function decisionSetFromProto(set: ProtoDecisionSet): DecisionSet {
  return {
    version: Number(set.version),
    issuedAtMs: Number(set.issuedAtMs),
    ttlMs: set.ttlMs,
    halted: set.halted,
    haltReason: set.haltReason,
    clusters: set.clusters.map((c) => ({
      cluster: c.cluster,
      state: PROTO_TO_STATE.get(c.state) ?? "closed",
      weight: c.weight,
      probeFraction: c.probeFraction,
      retryAfterS: c.retryAfterS,
      reason: c.reason,
      anomalyScore: c.anomalyScore,
      ...(c.shedFraction !== 0 ? { shedFraction: c.shedFraction } : {}),
    })),
    ...(set.shedFraction !== 0 ? { shedFraction: set.shedFraction, shedReason: set.shedReason } : {}),
    ...(set.halted ? { haltMode: set.haltMode === ProtoHaltMode.IMMEDIATE ? "immediate" : "drain" } : {}),
  };
}

/** The samples of one report's upstream load (proto UpstreamLoad), undefined when absent. */
function loadFromProto(load: ProtoUpstreamLoad | undefined): UpstreamLoadSamples | undefined {
  if (load === undefined) return undefined;
  const samples: UpstreamLoadSamples = { reports: load.reports, unparsed: load.unparsed, metrics: {} };
  for (const name of LOAD_METRICS) {
    const m = load[name];
    if (m !== undefined && m.count > 0) samples.metrics[name] = { count: m.count, sum: m.sum, max: m.max };
  }
  return samples;
}

export type Converted<T> = { ok: true; value: T; ignoredClusters: string[] } | { ok: false; error: string };

/**
 * Checks a TelemetryReport's shape and converts it (an error closes the stream). Entries for
 * clusters the control plane does not know are left out (listed in ignoredClusters), not an
 * error, and create no state. Whether the content may be aggregated (window on the control
 * plane's clock, window length, counters against requests, histogram against requests) is
 * judged by the core (core/report-admission.ts): such a report is refused, the stream stays.
 */
export function reportFromProto(report: TelemetryReport, knownClusters: ReadonlySet<string>): Converted<WorkerReport> {
  if (report.windowStartMs > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, error: "report.window_start_ms: out of range" };
  if (report.sequence === 0n) return { ok: false, error: "report.sequence: must start at 1" };
  if (report.clusters.length > MAX_CLUSTERS) return { ok: false, error: `report.clusters: ${report.clusters.length} entries exceed the limit of ${MAX_CLUSTERS}` };
  const clusters: WorkerClusterWindow[] = [];
  const ignoredClusters: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < report.clusters.length; i++) {
    const w = report.clusters[i]!;
    const at = `report.clusters[${i}]`;
    if (w.cluster === "") return { ok: false, error: `${at}.cluster: must not be empty` };
    const tooLong = checkLength(`${at}.cluster`, w.cluster, MAX_CLUSTER_NAME_CHARS);
    if (tooLong !== undefined) return { ok: false, error: tooLong };
    if (seen.has(w.cluster)) return { ok: false, error: `${at}.cluster: "${w.cluster}" appears twice` };
    seen.add(w.cluster);
    if (!knownClusters.has(w.cluster)) {
      ignoredClusters.push(w.cluster);
      continue;
    }
    const h = w.totalLatency;
    const firstBucket = h?.firstBucket ?? 0;
    const counts = h?.counts ?? [];
    if (counts.length > 0 && firstBucket + counts.length > HISTOGRAM_BUCKETS) {
      return { ok: false, error: `${at}.total_latency: buckets ${firstBucket}..${firstBucket + counts.length - 1} exceed ${HISTOGRAM_BUCKETS - 1}` };
    }
    const streams = w.streams === undefined ? undefined : streamsFromProto(w.streams, at);
    if (streams !== undefined && !streams.ok) return { ok: false, error: streams.error };
    clusters.push({
      cluster: w.cluster,
      requests: w.requests,
      errors5xx: w.errors5xx,
      localRejects: w.localRejects,
      timeouts: w.timeouts,
      resets: w.resets,
      grpcErrors: w.grpcErrors,
      totalLatency: { firstBucket, counts, sumUs: Number(h?.sumUs ?? 0n), maxUs: Number(h?.maxUs ?? 0n) },
      ...(w.shed > 0 ? { shed: w.shed } : {}),
      ...(w.sent > 0 ? { sent: w.sent } : {}),
      ...(w.upstreamLoad !== undefined ? { upstreamLoad: loadFromProto(w.upstreamLoad)! } : {}),
      ...(streams !== undefined ? { streams: streams.value } : {}),
      ...(w.bodyScan !== undefined ? { bodyScan: { scanned: w.bodyScan.scanned, matched: w.bodyScan.matched, compressed: w.bodyScan.compressed } } : {}),
    });
  }
  return {
    ok: true,
    value: {
      windowStartMs: Number(report.windowStartMs),
      windowLengthMs: report.windowLengthMs,
      sequence: Number(report.sequence),
      enforcedVersion: report.enforcedVersion > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(report.enforcedVersion),
      clusters,
    },
    ignoredClusters,
  };
}
