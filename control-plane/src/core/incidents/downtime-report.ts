// The downtime report of one incident (GET /v1/incidents/{id}/report): who or what stopped or
// shed the mesh and why, start, confirmation, end, duration, requests refused per cluster and in
// total, which workers confirmed and when. As JSON (snake_case, like the admin API) and as
// Markdown for a postmortem. A running incident is reported up to `nowMs`. Pure.
import type { Incident } from "./incident.js";

export interface DowntimeReport {
  id: string;
  kind: Incident["kind"];
  running: boolean;
  started_by: string;
  reason: string;
  trigger: string | null;
  /** "halt", "open", "shed" (trigger) or "halt" (operator). */
  action: string;
  /** The trigger's figures: value, peak, threshold, held_ms. */
  values: { value: number; peak: number; threshold: number; held_ms: number } | null;
  mode: string | null;
  version: number;
  clusters: string[];
  started_at_ms: number;
  confirmed_at_ms: number | null;
  /** From the start to confirmation, ms. */
  time_to_confirm_ms: number | null;
  ended_at_ms: number | null;
  ended_by: string | null;
  end_reason: string | null;
  /** From the start to the end (or to now, while running), ms. */
  duration_ms: number;
  rejected: { cluster: string; local_rejects: number; shed: number }[];
  rejected_total: number;
  shed_total: number;
  confirmations: { node_id: string; worker_id: number; at_ms: number }[];
  cannot_enforce: string[];
}

export function downtimeReport(i: Incident, nowMs: number): DowntimeReport {
  const end = i.endedAtMs ?? nowMs;
  return {
    id: i.id,
    kind: i.kind,
    running: i.endedAtMs === undefined,
    started_by: i.startedBy,
    reason: i.reason,
    trigger: i.trigger ?? null,
    action: i.action?.kind ?? "halt",
    values: i.values === undefined ? null : { value: i.values.value, peak: i.values.peak, threshold: i.values.threshold, held_ms: i.values.heldMs },
    mode: i.mode ?? null,
    version: i.version,
    clusters: [...i.clusters],
    started_at_ms: i.startedAtMs,
    confirmed_at_ms: i.confirmedAtMs ?? null,
    time_to_confirm_ms: i.confirmedAtMs === undefined ? null : Math.max(0, i.confirmedAtMs - i.startedAtMs),
    ended_at_ms: i.endedAtMs ?? null,
    ended_by: i.endedBy ?? null,
    end_reason: i.endReason ?? null,
    duration_ms: Math.max(0, end - i.startedAtMs),
    rejected: i.rejected.map((r) => ({ cluster: r.cluster, local_rejects: r.localRejects, shed: r.shed })),
    rejected_total: i.rejected.reduce((n, r) => n + r.localRejects, 0),
    shed_total: i.rejected.reduce((n, r) => n + r.shed, 0),
    confirmations: i.confirmations.map((c) => ({ node_id: c.nodeId, worker_id: c.workerId, at_ms: c.atMs })),
    cannot_enforce: [...i.cannotEnforce],
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
/** Text in a Markdown table cell: no line breaks, pipes escaped. */
const cell = (text: string): string => text.replace(/[\r\n]+/g, " ").replace(/\|/g, "\\|");

export function downtimeReportMarkdown(r: DowntimeReport): string {
  const lines = [
    `# Incident ${r.id}${r.running ? " (running)" : ""}`,
    "",
    `- **Started by:** ${cell(r.started_by)}`,
    `- **Why:** ${cell(r.reason)}`,
    `- **Action:** ${r.action}${r.mode === null ? "" : ` (${r.mode})`}, decision version ${r.version}`,
  ];
  if (r.values !== null) lines.push(`- **Figures:** value ${r.values.value}, peak ${r.values.peak}, threshold ${r.values.threshold}, held ${seconds(r.values.held_ms)}`);
  lines.push(
    `- **Clusters affected:** ${r.clusters.map(cell).join(", ") || "none"}`,
    `- **Start:** ${iso(r.started_at_ms)}`,
    `- **Confirmed by every sidecar:** ${r.confirmed_at_ms === null ? "not confirmed" : `${iso(r.confirmed_at_ms)} (after ${seconds(r.time_to_confirm_ms ?? 0)})`}`,
    `- **End:** ${r.ended_at_ms === null ? "running" : `${iso(r.ended_at_ms)} by ${cell(r.ended_by ?? "")} (${cell(r.end_reason ?? "")})`}`,
    `- **Duration:** ${seconds(r.duration_ms)}${r.running ? " so far" : ""}`,
    "",
    "## Requests refused locally",
    "",
    "| cluster | refused | of which shed (429) |",
    "|---|---:|---:|",
    ...r.rejected.map((x) => `| ${cell(x.cluster)} | ${x.local_rejects} | ${x.shed} |`),
    `| **total** | **${r.rejected_total}** | **${r.shed_total}** |`,
    "",
    "## Sidecars that confirmed",
    "",
  );
  if (r.confirmations.length === 0) lines.push("None recorded.");
  else lines.push("| node | worker | at |", "|---|---:|---|", ...r.confirmations.map((c) => `| ${cell(c.node_id)} | ${c.worker_id} | ${iso(c.at_ms)} |`));
  if (r.cannot_enforce.length > 0) lines.push("", `Could not enforce it (filter without the capability): ${r.cannot_enforce.map(cell).join(", ")}.`);
  return `${lines.join("\n")}\n`;
}
