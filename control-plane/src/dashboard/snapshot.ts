// What the dashboard page gets every tick (the `snapshot` event of /v1/events): the clusters as
// the admin API shows them, the decision set sent, the traffic measured from the sidecars'
// reports next to it, and the sidecars that do not follow the decisions. Pure.
import type { GoneSidecar } from "../core/gone-sidecars.js";
import type { ClusterStatus, DecisionSet, SidecarStatus } from "../core/types.js";
import { clusterView, decisionsView, type ClusterView, type DecisionsView } from "../admin/views.js";
import type { ModelStatus } from "../admin/deps.js";
import { sidecarAlerts, type SidecarAlert } from "./sidecar-alerts.js";
import { trafficShares, type TrafficShare } from "./traffic-share.js";
import type { BudgetStatus } from "../core/error-budget/types.js";
import type { SourceLimitEntry, SourcesView } from "../core/sources/index.js";

/** How far back the panel of top sources looks, ms, and how many it lists. */
export const SOURCES_PANEL_SPAN_MS = 60_000;
export const SOURCES_PANEL_ROWS = 10;

/** One of the top sources as the panel shows it (GET /v1/sources has the details). */
export interface SourcePanelRow {
  /** "" when the requests had no identity (no address, no header). */
  source: string;
  qps: number;
  share: number;
  /** null: nothing counted since it entered the sketches. */
  error_rate: number | null;
  flagged: boolean;
  /** "deny", "cap 100/s", or null. */
  limit: string | null;
}

/** A scope's error budget as the panel shows it (GET /v1/error-budgets has the details). */
export interface BudgetPanelRow {
  scope: string;
  objective: number;
  /** Budget left over the period: 1 untouched, below 0 overspent. */
  remaining: number;
  /** Names of the burn-rate alerts firing (fast_burn, slow_burn). */
  firing: string[];
}

/** Banner entries sent per snapshot (the page lists 12 and the counts; /v1/sidecars has all). */
export const MAX_SIDECAR_ALERTS = 50;

export interface DashboardSnapshot {
  /** Epoch ms. */
  at_ms: number;
  clusters: ClusterView[];
  decisions: DecisionsView;
  /** Connected sidecar streams. */
  sidecars: number;
  /** Refusing, unconfirmed and gone sidecar workers (the red banner), then workers back from
   *  their fallback (sidecar-alerts.ts), the first MAX_SIDECAR_ALERTS; empty when all follow and
   *  none came back. */
  sidecar_alerts: SidecarAlert[];
  /** How many there are of each kind in all. */
  sidecar_alert_counts: { refusing: number; unconfirmed: number; gone: number; back: number };
  /** Per cluster, in the order of `clusters`. */
  traffic: TrafficShare[];
  model: ModelStatus["mode"];
  /** Error budgets (the mesh first); empty when none are configured. */
  error_budgets: BudgetPanelRow[];
  /** Who sends the traffic: the top sources of the last SOURCES_PANEL_SPAN_MS; empty when the
   *  sidecars count none. */
  sources: SourcePanelRow[];
}

export interface SnapshotInput {
  nowMs: number;
  statuses: readonly ClusterStatus[];
  decisions: DecisionSet;
  sidecars: readonly SidecarStatus[];
  gone: readonly GoneSidecar[];
  model: ModelStatus["mode"];
  budgets?: readonly BudgetStatus[];
  /** The top sources (core/sources/) and the limits in force; absent: none. */
  sources?: SourcesView & { flagged: readonly string[] };
  sourceLimits?: readonly SourceLimitEntry[];
}

export function dashboardSnapshot(input: SnapshotInput): DashboardSnapshot {
  const alerts = sidecarAlerts(input.sidecars, input.gone, input.nowMs);
  const refusing = alerts.filter((a) => a.kind === "refusing").length;
  const unconfirmed = alerts.filter((a) => a.kind === "unconfirmed").length;
  const back = alerts.filter((a) => a.kind === "back").length;
  return {
    at_ms: input.nowMs,
    clusters: input.statuses.map((s) => clusterView(s)),
    decisions: decisionsView(input.decisions),
    sidecars: input.sidecars.length,
    sidecar_alerts: alerts.slice(0, MAX_SIDECAR_ALERTS),
    sidecar_alert_counts: { refusing, unconfirmed, gone: alerts.length - refusing - unconfirmed - back, back },
    traffic: trafficShares(input.statuses, input.decisions),
    model: input.model,
    error_budgets: (input.budgets ?? []).map((b) => ({
      scope: b.scope,
      objective: b.objective,
      remaining: b.remaining,
      firing: b.alerts.filter((a) => a.firing).map((a) => a.name),
    })),
    sources: sourceRows(input),
  };
}

function sourceRows(input: SnapshotInput): SourcePanelRow[] {
  const flagged = new Set(input.sources?.flagged ?? []);
  const limits = new Map((input.sourceLimits ?? []).map((l) => [l.source, l]));
  return (input.sources?.sources ?? []).map((s) => {
    const l = limits.get(s.source);
    return {
      source: s.source,
      qps: s.qps,
      share: s.share,
      error_rate: s.errorRate ?? null,
      flagged: flagged.has(s.source),
      limit: l === undefined ? null : l.action === "deny" ? "deny" : `cap ${l.capPerS}/s`,
    };
  });
}
