// Builds fault snapshots from plain data: the control plane's state at one moment (SnapshotFacts,
// its time included) in, a Snapshot (./types.ts) out. No I/O, no clock: the recorder
// (./recorder.ts) gathers the facts and the store (./store.ts) writes the result.
//
// A snapshot is captured at the event (the windows closed up to then, the scorers' verdicts and
// the model's input of the round that caused it, the decision set, the sidecars) and completed
// once `windowsAfter` more windows of its cluster have closed (the same again, and the windows
// since). Windows come from ClusterStatus.recent (at most the newest 10 of each cluster).
import { goneSidecarView } from "../admin/gone-sidecars.js";
import { clusterView, decisionsView, finiteOrNull, sidecarView, windowView } from "../admin/views.js";
import type { GoneSidecar } from "../core/gone-sidecars.js";
import type { ClusterStatus, ClusterWindowStats, DecisionSet, ScoreResult, SidecarStatus } from "../core/types.js";
import type { ModelInference } from "../model/contract.js";
import { SNAPSHOT_FORMAT, type ClusterScoresView, type ModelView, type ScoreView, type Snapshot, type SnapshotCause, type SnapshotState } from "./types.js";

/** Most windows a snapshot can hold before or after its capture (ClusterStatus.recent's length). */
export const MAX_SNAPSHOT_WINDOWS = 10;

/** How the model stood at one moment. */
export interface ModelFacts {
  mode: string;
  path?: string;
  detail?: string;
  lastInference?: ModelInference;
  /** Column names of an input row (model/contract.ts FEATURE_NAMES). */
  featureNames: readonly string[];
}

/** The control plane's state at `atMs`, as the admin API's views read it. */
export interface SnapshotFacts {
  atMs: number;
  decisions: DecisionSet;
  clusters: readonly ClusterStatus[];
  sidecars: readonly SidecarStatus[];
  gone: readonly GoneSidecar[];
  model: ModelFacts;
}

export interface CaptureOptions {
  /** Windows of each cluster kept from before the capture, 1..MAX_SNAPSHOT_WINDOWS. */
  windowsBefore: number;
  /** The configuration in force, already redacted (./redact.ts). */
  config: Record<string, unknown>;
}

function scoreView(r: ScoreResult): ScoreView {
  return {
    score: finiteOrNull(r.score) ?? 0,
    hard: r.hard,
    reasons: [...r.reasons],
    evidence: r.evidence === undefined ? null : { requests: r.evidence.requests, error_rate: r.evidence.errorRate, windows: r.evidence.windows },
  };
}

function scoresOf(status: ClusterStatus): ClusterScoresView {
  const per: Record<string, ScoreView> = {};
  for (const [name, r] of Object.entries(status.scorers)) per[name] = scoreView(r);
  return { combined: scoreView({ score: status.score, hard: status.hard, reasons: status.reasons }), per_scorer: per };
}

function modelView(m: ModelFacts): ModelView {
  const inference = m.lastInference;
  const clusters: Record<string, { features: (number | null)[]; risk: number | null }> = {};
  for (const [cluster, row] of inference?.rows ?? []) clusters[cluster] = { features: row.features.map(finiteOrNull), risk: finiteOrNull(row.risk) };
  return {
    mode: m.mode,
    path: m.path ?? null,
    detail: m.detail ?? null,
    last_inference: inference === undefined ? null : { window_start_ms: inference.windowStartMs, feature_names: [...m.featureNames], clusters },
  };
}

function stateOf(facts: SnapshotFacts): SnapshotState {
  const scorers: Record<string, ClusterScoresView> = {};
  for (const status of facts.clusters) scorers[status.cluster] = scoresOf(status);
  return {
    at_ms: facts.atMs,
    decisions: decisionsView(facts.decisions),
    clusters: facts.clusters.map((s) => clusterView(s)),
    scorers,
    model: modelView(facts.model),
  };
}

function clampWindows(n: number): number {
  return Math.min(MAX_SNAPSHOT_WINDOWS, Math.max(1, Math.floor(n)));
}

/** The snapshot at the event: the newest `windowsBefore` windows of every cluster, nothing after yet. */
export function captureSnapshot(id: string, cause: SnapshotCause, facts: SnapshotFacts, options: CaptureOptions): Snapshot {
  const windows: Snapshot["windows"] = {};
  for (const status of facts.clusters) windows[status.cluster] = { before: status.recent.slice(-clampWindows(options.windowsBefore)).map(windowView), after: [] };
  return {
    format: SNAPSHOT_FORMAT,
    id,
    taken_at_ms: facts.atMs,
    cause: { ...cause },
    complete: false,
    completed_at_ms: null,
    windows,
    at_capture: stateOf(facts),
    after: null,
    sidecars: { connected: facts.sidecars.map((s) => sidecarView(s, facts.atMs)), gone: facts.gone.map((g) => goneSidecarView(g, facts.atMs)) },
    config: options.config,
  };
}

/** The windows of `status` that closed after the capture (started after the newest one it held). */
function windowsAfter(snapshot: Snapshot, status: ClusterStatus): ClusterWindowStats[] {
  const before = snapshot.windows[status.cluster]?.before ?? [];
  const lastBefore = before.at(-1)?.window_start_ms ?? Number.NEGATIVE_INFINITY;
  return status.recent.filter((w) => w.windowStartMs > lastBefore);
}

/**
 * Windows closed since the capture: of the cause's cluster, or for a mesh-wide cause of the
 * cluster with the most (a cluster without traffic may have none).
 */
export function windowsSinceCapture(snapshot: Snapshot, clusters: readonly ClusterStatus[]): number {
  const subject = snapshot.cause.cluster;
  const counted = clusters.filter((c) => subject === "" || c.cluster === subject);
  return Math.max(0, ...counted.map((c) => windowsAfter(snapshot, c).length));
}

/**
 * The snapshot with what happened since: up to `wanted` windows of every cluster after the capture
 * and the state at `facts.atMs`. Complete when `wanted` windows closed (windowsSinceCapture); an
 * incomplete one (the control plane stopping first) keeps what there was and says so.
 */
export function completeSnapshot(snapshot: Snapshot, facts: SnapshotFacts, wanted: number): Snapshot {
  const n = clampWindows(wanted);
  const windows: Snapshot["windows"] = {};
  for (const [cluster, w] of Object.entries(snapshot.windows)) windows[cluster] = { before: w.before, after: [] };
  for (const status of facts.clusters) {
    const after = windowsAfter(snapshot, status).slice(0, n).map(windowView);
    windows[status.cluster] = { before: windows[status.cluster]?.before ?? [], after };
  }
  const complete = windowsSinceCapture(snapshot, facts.clusters) >= n;
  return { ...snapshot, windows, complete, completed_at_ms: complete ? facts.atMs : null, after: stateOf(facts) };
}
