// What the dashboard page gets every tick (the `snapshot` event of /v1/events): the clusters as
// the admin API shows them, the decision set sent, the traffic measured from the sidecars'
// reports next to it, and the sidecars that do not follow the decisions. Pure.
import type { GoneSidecar } from "../core/gone-sidecars.js";
import type { ClusterStatus, DecisionSet, SidecarStatus } from "../core/types.js";
import { clusterView, decisionsView, type ClusterView, type DecisionsView } from "../admin/views.js";
import type { ModelStatus } from "../admin/deps.js";
import { sidecarAlerts, type SidecarAlert } from "./sidecar-alerts.js";
import { trafficShares, type TrafficShare } from "./traffic-share.js";

export interface DashboardSnapshot {
  /** Epoch ms. */
  at_ms: number;
  clusters: ClusterView[];
  decisions: DecisionsView;
  /** Connected sidecar streams. */
  sidecars: number;
  /** Refusing and gone sidecar workers (the red banner); empty when all follow. */
  sidecar_alerts: SidecarAlert[];
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
  return {
    at_ms: input.nowMs,
    clusters: input.statuses.map((s) => clusterView(s)),
    decisions: decisionsView(input.decisions),
    sidecars: input.sidecars.length,
    sidecar_alerts: sidecarAlerts(input.sidecars, input.gone),
    traffic: trafficShares(input.statuses, input.decisions),
    model: input.model,
  };
}
