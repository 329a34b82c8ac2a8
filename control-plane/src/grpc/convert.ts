// Conversions between the protobuf messages of the wire contract and the core's domain types,
// with validation of what sidecars send (a bad field gives an error naming it).
import { create } from "@bufbuild/protobuf";
import {
  BreakerState as ProtoBreakerState,
  HaltMode as ProtoHaltMode,
  ClusterDecisionSchema,
  DecisionSetSchema,
  SourceLimitSchema,
  type DecisionSet as ProtoDecisionSet,
  type TelemetryReport,
  type UpstreamLoad as ProtoUpstreamLoad,
} from "../../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import type { BreakerKind, DecisionSet, WorkerClusterWindow, WorkerReport } from "../core/types.js";
import { MAX_SOURCE_CHARS, type WorkerSourceCount } from "../core/sources/index.js";
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
    sourceLimits: (set.sourceLimits ?? []).map((l) => create(SourceLimitSchema, l)),
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
    ...(set.sourceLimits.length > 0
      ? { sourceLimits: set.sourceLimits.map((l) => ({ source: l.source, deny: l.deny, admitFraction: l.admitFraction, retryAfterS: l.retryAfterS, reason: l.reason, capPerS: l.capPerS })) }
      : {}),
  };
}

/** Most sources one report may list (a filter's sketch holds at most 64). */
export const MAX_REPORT_SOURCES = 256;

/** A report's sources checked: counts consistent (overestimate, errors and limited within
 *  requests), identities not too long, each once. An error names the field. */
function sourcesFromProto(report: TelemetryReport): { ok: true; value: WorkerSourceCount[] } | { ok: false; error: string } {
  if (report.sources.length > MAX_REPORT_SOURCES) return { ok: false, error: `report.sources: ${report.sources.length} entries exceed the limit of ${MAX_REPORT_SOURCES}` };
  const seen = new Set<string>();
  const out: WorkerSourceCount[] = [];
  for (let i = 0; i < report.sources.length; i++) {
    const s = report.sources[i]!;
    const at = `report.sources[${i}]`;
    const tooLong = checkLength(`${at}.source`, s.source, MAX_SOURCE_CHARS);
    if (tooLong !== undefined) return { ok: false, error: tooLong };
    if (seen.has(s.source)) return { ok: false, error: `${at}.source: ${JSON.stringify(s.source)} appears twice` };
    seen.add(s.source);
    if (s.overestimate > s.requests) return { ok: false, error: `${at}.overestimate: ${s.overestimate} exceeds requests ${s.requests}` };
    if (s.errors > s.requests - s.overestimate) return { ok: false, error: `${at}.errors: ${s.errors} exceed the requests counted since it entered (${s.requests - s.overestimate})` };
    if (s.limited > s.requests) return { ok: false, error: `${at}.limited: ${s.limited} exceeds requests ${s.requests}` };
    out.push({ source: s.source, requests: s.requests, overestimate: s.overestimate, errors: s.errors, limited: s.limited });
  }
  return { ok: true, value: out };
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
  const sources = sourcesFromProto(report);
  if (!sources.ok) return sources;
  if (report.sourcesTotal > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, error: "report.sources_total: out of range" };
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
    if (w.sentEnded !== undefined && w.sentEnded > w.sent) {
      return { ok: false, error: `${at}.sent_ended: ${w.sentEnded} is more than sent (${w.sent})` };
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
      ...(w.sent > 0 && w.sentEnded !== undefined ? { sentEnded: w.sentEnded } : {}),
      ...(w.failed !== undefined ? { failed: w.failed } : {}),
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
      ...(sources.value.length > 0 || report.sourcesTotal > 0n ? { sources: { sources: sources.value, total: Number(report.sourcesTotal) } } : {}),
    },
    ignoredClusters,
  };
}
