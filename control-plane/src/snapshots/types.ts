// Fault snapshots: what the control plane saw around a breaker opening, a trigger firing, a halt,
// or an operator's request. Plain data in the admin API's spelling (snake_case, epoch ms, null
// for "no number"), so a snapshot file is what GET /v1/snapshots/{id} answers, byte for byte.
import type { ClusterView, DecisionsView, SidecarView, WindowView } from "../admin/views.js";
import type { GoneSidecarView } from "../admin/gone-sidecars.js";

/** Version of the snapshot file format; bumped when a field changes meaning. */
export const SNAPSHOT_FORMAT = "autoglm-snapshot/1";

export const SNAPSHOT_CAUSES = ["breaker_open", "trigger_fired", "halt", "on_demand"] as const;
export type SnapshotCauseKind = (typeof SNAPSHOT_CAUSES)[number];

/**
 * A snapshot id: the capture time (epoch ms, 13 digits), the cause and a sequence number of this
 * control plane's lifetime, e.g. "1800000000000-breaker_open-3". Ids sort by time; the pattern
 * admits no "/", "." or "\\", so an id can never name a file outside the snapshot directory.
 */
export const SNAPSHOT_ID_PATTERN = /^[0-9]{13}-(breaker_open|trigger_fired|halt|on_demand)-[0-9]{1,9}$/;

export function snapshotId(atMs: number, cause: SnapshotCauseKind, seq: number): string {
  return `${String(Math.max(0, Math.floor(atMs))).padStart(13, "0")}-${cause}-${seq}`;
}

export function isSnapshotId(text: string): boolean {
  return SNAPSHOT_ID_PATTERN.test(text);
}

export interface SnapshotCause {
  kind: SnapshotCauseKind;
  /** The cluster concerned; "" for mesh-wide causes (halt, a mesh-scope trigger, on demand). */
  cluster: string;
  /** The transition's, trigger's, halt's or operator's reason. */
  reason: string;
  /** Who asked (halt, on demand); "" for the detectors and triggers. */
  actor: string;
  /** The trigger's name (trigger_fired); "". */
  trigger: string;
}

/** One scorer's verdict, as the admin API spells it. */
export interface ScoreView {
  score: number;
  hard: boolean;
  reasons: string[];
  /** Pooled evidence of a verdict resting on several thin windows (the hard rules); null: the newest window alone. */
  evidence: { requests: number; error_rate: number; windows: number } | null;
}

/** The scoring of one cluster in the last round: combined and per scorer (core/score-combination.ts). */
export interface ClusterScoresView {
  combined: ScoreView;
  /** By scorer name (hard_rules, dynamic_baseline, trend, onnx-model...). */
  per_scorer: Record<string, ScoreView>;
}

/** The anomaly model's last inference: its input rows and output, by cluster. */
export interface ModelInferenceView {
  /** Start of the newest window scored, epoch ms. */
  window_start_ms: number;
  /** Names of the input's columns, in order (model/contract.ts FEATURE_NAMES). */
  feature_names: string[];
  clusters: Record<string, { features: (number | null)[]; risk: number | null }>;
}

export interface ModelView {
  /** "model": the ONNX model scores; "rules-only": it does not (detail says why). */
  mode: string;
  path: string | null;
  detail: string | null;
  /** null: no inference yet (or rules-only). */
  last_inference: ModelInferenceView | null;
}

/** The state at one moment: at capture ("at_capture") or once the windows after it closed ("after"). */
export interface SnapshotState {
  at_ms: number;
  decisions: DecisionsView;
  clusters: ClusterView[];
  scorers: Record<string, ClusterScoresView>;
  model: ModelView;
}

export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  id: string;
  taken_at_ms: number;
  cause: SnapshotCause;
  /** True once `windows_after` windows closed after the capture (or the control plane stopped
   *  first: then false, and `after` is what there was). */
  complete: boolean;
  completed_at_ms: number | null;
  /** Windows of every cluster: the last ones closed at capture, and those closed since. */
  windows: Record<string, { before: WindowView[]; after: WindowView[] }>;
  at_capture: SnapshotState;
  /** null until complete. */
  after: SnapshotState | null;
  sidecars: { connected: SidecarView[]; gone: GoneSidecarView[] };
  /** The configuration in force, secrets redacted (./redact.ts). */
  config: Record<string, unknown>;
}

/** A snapshot as GET /v1/snapshots lists it. */
export interface SnapshotSummary {
  id: string;
  taken_at_ms: number;
  cause: SnapshotCauseKind;
  cluster: string;
  reason: string;
  complete: boolean;
  /** Size of its file, bytes. */
  bytes: number;
}
