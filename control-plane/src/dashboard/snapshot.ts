// What the dashboard page gets every tick (the `snapshot` event of /v1/events): the clusters as
// the admin API shows them, the decision set sent, the traffic measured from the sidecars'
// reports next to it, and the sidecars that do not follow the decisions. Pure.
import type { GoneSidecar } from "../core/gone-sidecars.js";
import type { ClusterStatus, DecisionSet, SidecarStatus } from "../core/types.js";
import { clusterView, decisionsView, type ClusterView, type DecisionsView } from "../admin/views.js";
import type { ModelStatus } from "../admin/deps.js";
import { sidecarAlerts, type SidecarAlert } from "./sidecar-alerts.js";
import { trafficShares, type TrafficShare } from "./traffic-share.js";

/** Banner entries sent per snapshot (the page lists 12 and the counts; /v1/sidecars has all). */
export const MAX_SIDECAR_ALERTS = 50;

export interface DashboardSnapshot {
  /** Epoch ms. */
  at_ms: number;
  clusters: ClusterView[];
  decisions: DecisionsView;
  /** Connected sidecar streams. */
  sidecars: number;
  /** Refusing and gone sidecar workers (the red banner), the first MAX_SIDECAR_ALERTS; empty
   *  when all follow. */
  sidecar_alerts: SidecarAlert[];
  /** How many there are of each kind in all. */
  sidecar_alert_counts: { refusing: number; gone: number };
  /** Per cluster, in the order of `clusters`. */
  traffic: TrafficShare[];
  model: ModelStatus["mode"];
}

export interface SnapshotInput {
  nowMs: number;
  statuses: readonly ClusterStatus[];
  decisions: DecisionSet;
  sidecars: readonly SidecarStatus[];
  gone: readonly GoneSidecar[];
  model: ModelStatus["mode"];
}

export function dashboardSnapshot(input: SnapshotInput): DashboardSnapshot {
  const alerts = sidecarAlerts(input.sidecars, input.gone);
  const refusing = alerts.filter((a) => a.kind === "refusing").length;
  return {
    at_ms: input.nowMs,
    clusters: input.statuses.map((s) => clusterView(s)),
    decisions: decisionsView(input.decisions),
    sidecars: input.sidecars.length,
    sidecar_alerts: alerts.slice(0, MAX_SIDECAR_ALERTS),
    sidecar_alert_counts: { refusing, gone: alerts.length - refusing },
    traffic: trafficShares(input.statuses, input.decisions),
    model: input.model,
  };
}
