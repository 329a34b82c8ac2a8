// The admin API's view of the control plane's state: snake_case JSON, times in epoch ms,
// non-finite numbers (NaN before data, Infinity for "never seen") as null.
import type { ClusterStatus, ClusterWindowStats, DecisionSet, HaltMode, SidecarStatus } from "../core/types.js";
import { streamsView, type StreamsView } from "./stream-views.js";
import { slownessIsStale } from "../core/promptness.js";

export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

export interface WindowView {
  window_start_ms: number;
  window_length_ms: number;
  requests: number;
  errors_5xx: number;
  local_rejects: number;
  timeouts: number;
  resets: number;
  grpc_errors: number;
  error_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  rps: number;
  reporters: number;
  /** Its streamed responses: TTFT, TPOT, max gap, cuts, tokens (null: none ended in the window). */
  streams: StreamsView | null;
  /** The banned-output scan of its response bodies (null: none reported for the window). */
  body_scan: { scanned: number; matched: number; compressed: number } | null;
  /** Of the requests sent in the window, the share that ended in it, the share the latencies of
   *  its ended requests imply, and whether its slow requests are older than it (promptness.ts);
   *  null: some sidecar's filter does not count them, or nothing was sent. */
  promptness: { sent: number; ended_share: number; implied_share: number | null; stale_slowness: boolean } | null;
}

export function windowView(w: ClusterWindowStats): WindowView {
  return {
    window_start_ms: w.windowStartMs,
    window_length_ms: w.windowLengthMs,
    requests: w.requests,
    errors_5xx: w.errors5xx,
    local_rejects: w.localRejects,
    timeouts: w.timeouts,
    resets: w.resets,
    grpc_errors: w.grpcErrors,
    error_rate: w.errorRate,
    p50_ms: finiteOrNull(w.p50Ms),
    p95_ms: finiteOrNull(w.p95Ms),
    p99_ms: finiteOrNull(w.p99Ms),
    rps: w.rps,
    reporters: w.reporters,
    streams: streamsView(w.streams),
    body_scan: w.bodyScan === undefined ? null : { ...w.bodyScan },
    promptness: w.promptness === undefined ? null : {
      sent: w.promptness.sent,
      ended_share: w.promptness.endedShare,
      implied_share: finiteOrNull(w.promptness.impliedShare),
      stale_slowness: slownessIsStale(w.promptness),
    },
  };
}

export interface ClusterView {
  name: string;
  base_weight: number;
  state: string;
  since_ms: number;
  until_ms: number | null;
  weight: number;
  score: number;
  hard: boolean;
  reasons: string[];
  anomalous_windows: number;
  override: { state: string; until_ms: number | null; reason: string; actor: string } | null;
  capacity: { baseline_p50_ms: number | null; safe_rps: number | null; knee_rps: number | null; limit_rps: number | null };
  last_window: WindowView | null;
  recent?: WindowView[];
}

/** `recentWindows`: how many of the newest windows to include (0: none, only the last). */
export function clusterView(status: ClusterStatus, recentWindows = 0): ClusterView {
  const last = status.recent[status.recent.length - 1];
  const view: ClusterView = {
    name: status.cluster,
    base_weight: status.baseWeight,
    state: status.state.kind,
    since_ms: status.state.since,
    until_ms: status.state.kind === "open" ? status.state.until : null,
    weight: status.weight,
    score: finiteOrNull(status.score) ?? 0,
    hard: status.hard,
    reasons: status.reasons,
    anomalous_windows: status.anomalousWindows,
    override:
      status.override === undefined
        ? null
        : {
            state: status.override.state,
            until_ms: status.override.untilMs ?? null,
            reason: status.override.reason,
            actor: status.override.actor,
          },
    capacity: {
      baseline_p50_ms: finiteOrNull(status.capacity.baselineP50Ms),
      safe_rps: finiteOrNull(status.capacity.safeRps),
      knee_rps: finiteOrNull(status.capacity.kneeRps),
      limit_rps: finiteOrNull(status.capacity.limitRps),
    },
    last_window: last === undefined ? null : windowView(last),
  };
  if (recentWindows > 0) view.recent = status.recent.slice(-recentWindows).map(windowView);
  return view;
}

export interface SidecarView {
  stream_id: string;
  transport: string;
  peer: string;
  node_id: string;
  zone: string;
  worker_id: number;
  instance_id: string;
  filter_version: string;
  /** What its filter says it enforces beyond the base contract ("shed", "upstream_load"). */
  capabilities: string[];
  connected_at_ms: number;
  acked_version: number;
  rejected_version: number;
  reject_reason: string;
  /** Its last answer refused (NACKed) a decision set (reject_reason says why). */
  refusing: boolean;
  enforced_version: number;
  /** From its hello: ms without a live control-plane stream before it (0 on its first connection),
   *  and of that ms on its local fallback breakers; null when its filter does not report them. */
  disconnected_ms: number | null;
  fallback_ms: number | null;
  last_report_at_ms: number | null;
  /** Versions behind the current decision set. */
  lag_versions: number;
  /** Time since the last report, ms (null before the first). */
  report_lag_ms: number | null;
  reports: number;
  /** It has not confirmed (acknowledged or enforced) the decision version in force within
   *  halt.confirm_wait_s of its publication (or of its connection). */
  unconfirmed: boolean;
  /** Listed unconfirmed by the halt in force (GET /v1/halt); false when not halted. */
  halt_unconfirmed: boolean;
  /** The version it is measured against, waiting | confirmed | unconfirmed, when it is due and
   *  when it confirmed (null: not yet). */
  confirmation: { version: number; state: string; due_at_ms: number; confirmed_at_ms: number | null } | null;
}

/** `haltUnconfirmed`: stream ids the halt in force lists as unconfirmed. */
export function sidecarView(s: SidecarStatus, nowMs: number, haltUnconfirmed: ReadonlySet<string> = new Set()): SidecarView {
  const c = s.confirmation;
  return {
    stream_id: s.streamId,
    transport: s.transport,
    peer: s.peer,
    node_id: s.nodeId,
    zone: s.zone,
    worker_id: s.workerId,
    instance_id: s.instanceId,
    filter_version: s.filterVersion,
    capabilities: s.capabilities ?? [],
    connected_at_ms: s.connectedAtMs,
    acked_version: s.ackedVersion,
    rejected_version: s.rejectedVersion,
    reject_reason: s.rejectReason,
    refusing: s.refusing,
    enforced_version: s.enforcedVersion,
    disconnected_ms: s.disconnectedMs ?? null,
    fallback_ms: s.fallbackMs ?? null,
    last_report_at_ms: s.lastReportAtMs ?? null,
    lag_versions: s.lagVersions,
    report_lag_ms: s.lastReportAtMs === undefined ? null : Math.max(0, nowMs - s.lastReportAtMs),
    reports: s.reports,
    unconfirmed: c?.state === "unconfirmed",
    halt_unconfirmed: haltUnconfirmed.has(s.streamId),
    confirmation: c === undefined ? null : { version: c.version, state: c.state, due_at_ms: c.dueAtMs, confirmed_at_ms: c.confirmedAtMs ?? null },
  };
}

export interface DecisionsView {
  version: number;
  issued_at_ms: number;
  ttl_ms: number;
  halted: boolean;
  halt_reason: string;
  /** How the halt stops the mesh ("drain" | "immediate"); null when not halted. */
  halt_mode: HaltMode | null;
  clusters: {
    cluster: string;
    state: string;
    weight: number;
    probe_fraction: number;
    retry_after_s: number;
    reason: string;
    anomaly_score: number;
    /** Fraction of its new requests refused with a 429 (0: none). */
    shed_fraction: number;
  }[];
  /** Fraction of the mesh's new requests refused with a 429 (0: none), and why. */
  shed_fraction: number;
  /** Limits on sources the set carries (absent: none; core/sources/). */
  source_limits?: { source: string; deny: boolean; admit_fraction: number; cap_per_s: number; retry_after_s: number; reason: string }[];
  shed_reason: string;
}

export function decisionsView(set: DecisionSet): DecisionsView {
  return {
    version: set.version,
    issued_at_ms: set.issuedAtMs,
    ttl_ms: set.ttlMs,
    halted: set.halted,
    halt_reason: set.haltReason,
    halt_mode: set.halted ? (set.haltMode ?? "drain") : null,
    clusters: set.clusters.map((d) => ({
      cluster: d.cluster,
      state: d.state,
      weight: d.weight,
      probe_fraction: d.probeFraction,
      retry_after_s: d.retryAfterS,
      reason: d.reason,
      anomaly_score: d.anomalyScore,
      shed_fraction: d.shedFraction ?? 0,
    })),
    shed_fraction: set.shedFraction ?? 0,
    shed_reason: set.shedReason ?? "",
    ...(set.sourceLimits === undefined || set.sourceLimits.length === 0
      ? {}
      : {
          source_limits: set.sourceLimits.map((l) => ({
            source: l.source, deny: l.deny, admit_fraction: l.admitFraction, cap_per_s: l.capPerS, retry_after_s: l.retryAfterS, reason: l.reason,
          })),
        }),
  };
}
