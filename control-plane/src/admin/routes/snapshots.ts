// Fault snapshots (../../snapshots/): GET /v1/snapshots lists them (newest first), GET
// /v1/snapshots/{id} downloads one (the JSON file as written), POST /v1/snapshots (admin token)
// takes one now, 201 once its file is written. An id must match the snapshot id pattern (a 400
// otherwise, before anything is read): no id can name a file outside the snapshot directory.
import type { FastifyInstance } from "fastify";
import { SNAPSHOT_CAUSES, SNAPSHOT_ID_PATTERN } from "../../snapshots/types.js";
import { actorOf } from "../auth.js";
import type { AdminDeps, SnapshotAccess } from "../deps.js";
import { AdminError, errorBodySchema } from "../errors.js";
import { emptyQuery } from "../schemas.js";

const str = { type: "string" } as const;
const num = { type: "number" } as const;
const bool = { type: "boolean" } as const;
const open = { type: "object", additionalProperties: true } as const;

export const snapshotSummarySchema = {
  type: "object",
  required: ["id", "taken_at_ms", "cause", "cluster", "reason", "complete", "bytes"],
  properties: {
    id: str,
    taken_at_ms: num,
    cause: { type: "string", enum: [...SNAPSHOT_CAUSES] },
    /** "" for a mesh-wide cause. */
    cluster: str,
    reason: str,
    /** False until the windows after the event are in (or when the control plane stopped first). */
    complete: bool,
    bytes: { type: "integer" },
  },
} as const;

const stateSchema = {
  type: ["object", "null"],
  properties: { at_ms: num, decisions: open, clusters: { type: "array", items: open }, scorers: open, model: open },
} as const;

/** The document GET /v1/snapshots/{id} answers (snapshots/types.ts Snapshot); nested views as the state routes spell them. */
export const snapshotSchema = {
  type: "object",
  properties: {
    format: str,
    id: str,
    taken_at_ms: num,
    cause: { type: "object", properties: { kind: { type: "string", enum: [...SNAPSHOT_CAUSES] }, cluster: str, reason: str, actor: str, trigger: str } },
    complete: bool,
    completed_at_ms: { type: ["number", "null"] },
    windows: { type: "object", description: "By cluster: { before: windows, after: windows }.", additionalProperties: true },
    at_capture: stateSchema,
    after: stateSchema,
    sidecars: { type: "object", properties: { connected: { type: "array", items: open }, gone: { type: "array", items: open } } },
    config: { ...open, description: "The configuration in force, secrets replaced by \"[redacted]\"." },
  },
} as const;

const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", pattern: SNAPSHOT_ID_PATTERN.source, maxLength: 40 } },
} as const;

const captureBody = {
  type: "object",
  required: ["reason"],
  additionalProperties: false,
  properties: {
    reason: { type: "string", minLength: 1, maxLength: 500 },
    /** The cluster the snapshot is about; absent: the mesh. */
    cluster: { type: "string", minLength: 1, maxLength: 63 },
  },
} as const;

function available(deps: AdminDeps): SnapshotAccess {
  if (deps.snapshots === undefined) throw new AdminError("AUTOGLM_ERR_SNAPSHOTS_UNAVAILABLE", "no audit directory is configured (audit.dir); snapshots are kept beside the audit log");
  return deps.snapshots;
}

export function registerSnapshotRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get(
    "/v1/snapshots",
    {
      schema: {
        summary: "Fault snapshots kept (breaker openings, fired triggers, halts, on demand), the newest first",
        tags: ["snapshots"],
        querystring: emptyQuery,
        response: { 200: { type: "object", properties: { snapshots: { type: "array", items: snapshotSummarySchema } } }, 503: errorBodySchema },
      },
    },
    async () => ({ snapshots: available(deps).list() }),
  );

  app.get<{ Params: { id: string } }>(
    "/v1/snapshots/:id",
    {
      schema: {
        summary: "Download one fault snapshot (JSON)",
        description: "The file as written: windows before and after the event, each scorer's verdict, the model's input and score, the decision sets, the sidecars, the configuration with secrets redacted.",
        tags: ["snapshots"],
        params: idParams,
        querystring: emptyQuery,
        produces: ["application/json"],
        response: { 200: snapshotSchema, 400: errorBodySchema, 404: errorBodySchema, 503: errorBodySchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const bytes = await available(deps).read(id);
      if (bytes === undefined) throw new AdminError("AUTOGLM_ERR_SNAPSHOT_UNKNOWN", JSON.stringify(id));
      return reply
        .type("application/json; charset=utf-8")
        .header("content-disposition", `attachment; filename="autoglm-snapshot-${id}.json"`)
        .send(bytes);
    },
  );

  app.post<{ Body: { reason: string; cluster?: string } }>(
    "/v1/snapshots",
    {
      schema: {
        summary: "Take a fault snapshot now (answers once its file is written; completed later with the windows after)",
        tags: ["snapshots"],
        querystring: emptyQuery,
        body: captureBody,
        response: { 201: snapshotSummarySchema, 400: errorBodySchema, 503: errorBodySchema },
      },
    },
    async (request, reply) => {
      const snapshots = available(deps);
      const cluster = request.body.cluster ?? "";
      if (cluster !== "") {
        const known = deps.controlPlane.clusterStatuses().map((s) => s.cluster);
        if (!known.includes(cluster)) throw new AdminError("AUTOGLM_ERR_BAD_REQUEST", `body.cluster: unknown cluster ${JSON.stringify(cluster)}; known: ${known.join(", ")}`);
      }
      const actor = actorOf(request);
      let summary;
      try {
        summary = await snapshots.capture(request.body.reason, actor, cluster);
      } catch (error) {
        throw new AdminError("AUTOGLM_ERR_SNAPSHOTS_UNAVAILABLE", (error as Error).message);
      }
      request.log.info({ id: summary.id, actor, reason: request.body.reason }, "fault snapshot taken on demand");
      return reply.code(201).send(summary);
    },
  );
}
