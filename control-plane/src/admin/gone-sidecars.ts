// The admin API's view of sidecar workers that were connected and are gone (they run on their
// fallback; core/gone-sidecars.ts): snake_case JSON, times in epoch ms, and its JSON schema (the
// twin of the view, as ./schemas.ts is of ./views.ts).
import type { GoneSidecar } from "../core/gone-sidecars.js";

export interface GoneSidecarView {
  node_id: string;
  zone: string;
  worker_id: number;
  instance_id: string;
  filter_version: string;
  transport: string;
  peer: string;
  stream_id: string;
  connected_at_ms: number;
  /** When its stream ended: the last time it was seen. */
  disconnected_at_ms: number;
  /** Time since then, ms. */
  gone_for_ms: number;
  last_report_at_ms: number | null;
  /** Why the stream ended. */
  reason: string;
  enforced_version: number;
  /** It was refusing the current decision set when it left (reject_reason says why). */
  refusing: boolean;
  reject_reason: string;
}

export function goneSidecarView(g: GoneSidecar, nowMs: number): GoneSidecarView {
  return {
    node_id: g.nodeId,
    zone: g.zone,
    worker_id: g.workerId,
    instance_id: g.instanceId,
    filter_version: g.filterVersion,
    transport: g.transport,
    peer: g.peer,
    stream_id: g.streamId,
    connected_at_ms: g.connectedAtMs,
    disconnected_at_ms: g.disconnectedAtMs,
    gone_for_ms: Math.max(0, nowMs - g.disconnectedAtMs),
    last_report_at_ms: g.lastReportAtMs ?? null,
    reason: g.reason,
    enforced_version: g.enforcedVersion,
    refusing: g.refusing,
    reject_reason: g.rejectReason,
  };
}

const str = { type: "string" } as const;
const num = { type: "number" } as const;
const int = { type: "integer" } as const;

export const goneSidecarSchema = {
  type: "object",
  description: "A sidecar worker whose stream ended and that has not reconnected: it runs on its fallback (remembered for a bounded time and number).",
  required: ["node_id", "worker_id", "disconnected_at_ms", "reason"],
  properties: {
    node_id: str,
    zone: str,
    worker_id: int,
    instance_id: str,
    filter_version: str,
    transport: str,
    peer: str,
    stream_id: str,
    connected_at_ms: num,
    disconnected_at_ms: num,
    gone_for_ms: num,
    last_report_at_ms: { type: ["number", "null"] },
    reason: str,
    enforced_version: num,
    refusing: { type: "boolean" },
    reject_reason: str,
  },
} as const;
