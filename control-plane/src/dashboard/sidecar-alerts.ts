// The dashboard's red banner: sidecar workers that do not follow the control plane. Refusing
// ones are connected but NACK the decision sets (they keep enforcing what they had); unconfirmed
// ones are connected and have not confirmed the version in force within halt.confirm_wait_s
// (core/halt/version-confirmation.ts: a halt they may not enforce, say); gone ones were
// connected and their stream ended (they run on their fallback). Each with the reason and
// when it was last seen. Below them, for BACK_SHOWN_MS after their hello, workers that came back
// after running without the control plane, with how long and how much of it on their fallback
// (Hello.disconnected_ms and fallback_ms). Pure.
import type { GoneSidecar } from "../core/gone-sidecars.js";
import type { SidecarStatus } from "../core/types.js";

export interface SidecarAlert {
  kind: "refusing" | "unconfirmed" | "gone" | "back";
  node_id: string;
  worker_id: number;
  zone: string;
  /** Refusing: the NACK's reason; unconfirmed: the version and since when it is due; gone: why
   *  the stream ended; back: "back after N s, M s on its fallback". */
  reason: string;
  /** Epoch ms: a refusing or unconfirmed worker's last report (its hello before any); a gone
   *  one's departure; a returning one's hello. */
  last_seen_at_ms: number;
  /** The decision version it enforces (refusing, unconfirmed) or enforced when it left (gone). */
  enforced_version: number;
}

/** How long a returning worker stays listed after its hello, ms. */
export const BACK_SHOWN_MS = 5 * 60_000;

/** "back after N s, M s on its fallback" (whole seconds, rounded down). */
export function backText(disconnectedMs: number, fallbackMs: number): string {
  return `back after ${Math.floor(disconnectedMs / 1000)} s, ${Math.floor(fallbackMs / 1000)} s on its fallback`;
}

export function sidecarAlerts(connected: readonly SidecarStatus[], gone: readonly GoneSidecar[], nowMs = 0): SidecarAlert[] {
  const refusing = connected
    .filter((s) => s.refusing)
    .map((s): SidecarAlert => ({
      kind: "refusing",
      node_id: s.nodeId,
      worker_id: s.workerId,
      zone: s.zone,
      reason: s.rejectReason,
      last_seen_at_ms: Math.max(s.connectedAtMs, s.lastReportAtMs ?? s.connectedAtMs),
      enforced_version: s.enforcedVersion,
    }));
  const unconfirmed = connected
    .filter((s) => !s.refusing && s.confirmation?.state === "unconfirmed")
    .map((s): SidecarAlert => ({
      kind: "unconfirmed",
      node_id: s.nodeId,
      worker_id: s.workerId,
      zone: s.zone,
      reason: `has not confirmed decision version ${s.confirmation!.version}, due at ${new Date(s.confirmation!.dueAtMs).toISOString()}`,
      last_seen_at_ms: Math.max(s.connectedAtMs, s.lastReportAtMs ?? s.connectedAtMs),
      enforced_version: Math.max(s.enforcedVersion, s.ackedVersion),
    }));
  const departed = gone.map((g): SidecarAlert => ({
    kind: "gone",
    node_id: g.nodeId,
    worker_id: g.workerId,
    zone: g.zone,
    reason: g.refusing && g.rejectReason !== "" ? `${g.reason} (it was refusing decisions: ${g.rejectReason})` : g.reason,
    last_seen_at_ms: g.disconnectedAtMs,
    enforced_version: g.enforcedVersion,
  }));
  const back = connected
    .filter((s) => !s.refusing && (s.disconnectedMs ?? 0) > 0 && nowMs - s.connectedAtMs <= BACK_SHOWN_MS)
    .map((s): SidecarAlert => ({
      kind: "back",
      node_id: s.nodeId,
      worker_id: s.workerId,
      zone: s.zone,
      reason: backText(s.disconnectedMs ?? 0, s.fallbackMs ?? 0),
      last_seen_at_ms: s.connectedAtMs,
      enforced_version: s.enforcedVersion,
    }));
  return [...refusing, ...unconfirmed, ...departed, ...back];
}
