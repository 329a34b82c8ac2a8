// The halt's confirmation and the incidents (read token): GET /v1/halt (the halt in force and
// which sidecar workers confirmed it), GET /v1/incidents (every incident kept, the most recent
// first), GET /v1/incidents/{id}/report (its downtime report, JSON or Markdown).
import type { FastifyInstance } from "fastify";
import { downtimeReport, downtimeReportMarkdown, type DowntimeReport } from "../../core/incidents/index.js";
import type { AdminDeps } from "../deps.js";
import { AdminError, errorBodySchema } from "../errors.js";
import { haltStatusSchema } from "../schemas.js";

const num = { type: "number" } as const;
const str = { type: "string" } as const;
const nullableNumber = { type: ["number", "null"] } as const;
const nullableString = { type: ["string", "null"] } as const;

/** The downtime report (core/incidents/downtime-report.ts); the incident list shows the same. */
const reportSchema = {
  type: "object",
  properties: {
    id: str,
    kind: { type: "string", enum: ["halt", "trigger"] },
    running: { type: "boolean" },
    started_by: str,
    reason: str,
    trigger: nullableString,
    action: str,
    values: { type: ["object", "null"], properties: { value: num, peak: num, threshold: num, held_ms: num } },
    mode: nullableString,
    version: num,
    clusters: { type: "array", items: str },
    started_at_ms: num,
    confirmed_at_ms: nullableNumber,
    time_to_confirm_ms: nullableNumber,
    ended_at_ms: nullableNumber,
    ended_by: nullableString,
    end_reason: nullableString,
    duration_ms: num,
    rejected: { type: "array", items: { type: "object", properties: { cluster: str, local_rejects: num, shed: num } } },
    rejected_total: num,
    shed_total: num,
    confirmations: { type: "array", items: { type: "object", properties: { node_id: str, worker_id: num, at_ms: num } } },
    cannot_enforce: { type: "array", items: str },
  },
} as const;

const listQuery = {
  type: "object",
  additionalProperties: false,
  properties: { state: { type: "string", enum: ["open", "ended", "all"] } },
} as const;

const reportQuery = {
  type: "object",
  additionalProperties: false,
  properties: { format: { type: "string", enum: ["json", "markdown"] } },
} as const;

const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 80 } },
} as const;

export function registerIncidentRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const cp = deps.controlPlane;

  app.get<{ Querystring: { wait_s?: string } }>(
    "/v1/halt",
    {
      schema: {
        summary: "The halt in force (mode, decision version) and which connected sidecar workers confirmed enforcing it, which have not within wait_s, which cannot",
        tags: ["state"],
        querystring: {
          type: "object",
          additionalProperties: false,
          // Query values arrive as text (the admin app does not coerce types): seconds, decimal.
          properties: { wait_s: { type: "string", pattern: "^[0-9]{1,5}(\\.[0-9]{1,3})?$", description: "How long workers are given to confirm, seconds (default halt.confirm_wait_s)" } },
        },
        response: { 200: haltStatusSchema },
      },
    },
    async (request) => {
      const waitS = request.query.wait_s;
      return cp.haltStatus?.(waitS === undefined ? undefined : Number(waitS) * 1000) ?? { halted: cp.currentDecisions().halted };
    },
  );

  app.get<{ Querystring: { state?: "open" | "ended" | "all" } }>(
    "/v1/incidents",
    {
      schema: {
        summary: "Incidents (halts, triggers firing), the most recent first, each as its downtime report",
        tags: ["state"],
        querystring: listQuery,
        response: { 200: { type: "object", properties: { incidents: { type: "array", items: reportSchema } } } },
      },
    },
    async (request) => {
      const state = request.query.state ?? "all";
      const nowMs = deps.now();
      const reports: DowntimeReport[] = (cp.incidentList?.() ?? []).map((i) => downtimeReport(i, nowMs));
      return { incidents: reports.filter((r) => state === "all" || (state === "open") === r.running) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { format?: "json" | "markdown" } }>(
    "/v1/incidents/:id/report",
    {
      schema: {
        summary: "An incident's downtime report: who or what acted and why, start, confirmation, end, duration, requests refused per cluster, the sidecars that confirmed",
        description: "JSON by default; Markdown with ?format=markdown or `Accept: text/markdown`. A running incident is reported up to now.",
        tags: ["state"],
        params: idParams,
        querystring: reportQuery,
        response: { 200: reportSchema, 404: errorBodySchema },
      },
    },
    async (request, reply) => {
      const incident = cp.incidentList?.().find((i) => i.id === request.params.id);
      if (incident === undefined) throw new AdminError("AUTOGLM_ERR_INCIDENT_UNKNOWN", JSON.stringify(request.params.id));
      const report = downtimeReport(incident, deps.now());
      const markdown = request.query.format === "markdown" || (request.query.format === undefined && (request.headers.accept ?? "").includes("text/markdown"));
      if (!markdown) return report;
      // The 200 schema describes the JSON form; the Markdown one is sent as text as is.
      return reply.type("text/markdown; charset=utf-8").serializer((payload: unknown) => payload as string).send(downtimeReportMarkdown(report));
    },
  );
}
