// GET /healthz (the process answers), GET /readyz (the model is settled — loaded or the
// rules-only fallback chosen — and the sidecar gRPC server listens; its `audit` detail reports
// damaged audit lines skipped at restore and failed writes, without making it unready),
// GET /metrics.
import type { FastifyInstance } from "fastify";
import type { AdminDeps } from "../deps.js";
import { emptyQuery } from "../schemas.js";

const readySchema = {
  type: "object",
  properties: {
    ready: { type: "boolean" },
    grpc_listening: { type: "boolean" },
    model: { type: "string" },
    sidecars: {
      type: "object",
      properties: {
        connected: { type: "integer" },
        refusing: { type: "integer" },
        /** The first few refusing streams with their reasons. */
        refusing_streams: {
          type: "array",
          items: {
            type: "object",
            properties: { stream_id: { type: "string" }, node_id: { type: "string" }, rejected_version: { type: "number" }, enforced_version: { type: "number" }, reason: { type: "string" } },
          },
        },
      },
    },
    audit: {
      type: "object",
      properties: {
        skipped_records: { type: "integer" },
        first_problem: { type: "string" },
        write_failures: { type: "integer" },
        last_write_error: { type: "string" },
      },
    },
  },
} as const;

/** At most this many refusing streams are listed in /readyz (all are in /v1/sidecars). */
const REFUSING_LISTED = 10;

export function registerHealthRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get(
    "/healthz",
    {
      schema: {
        summary: "Liveness: the process answers",
        tags: ["health"],
        querystring: emptyQuery,
        response: { 200: { type: "object", properties: { status: { type: "string" } } } },
      },
    },
    async () => ({ status: "ok" }),
  );

  const readyz = {
    summary: "Readiness: the model is settled and the sidecar gRPC server listens (503 otherwise)",
    description: "Also reports sidecars that refuse decisions and audit-log problems, which do not make the control plane unready.",
    tags: ["health"],
    querystring: emptyQuery,
    response: { 200: readySchema, 503: readySchema },
  };
  app.get("/readyz", { schema: readyz }, async (_request, reply) => {
    const grpcListening = deps.readiness.grpcListening();
    const mode = deps.model.status().mode;
    const ready = grpcListening && mode !== "loading";
    // Sidecars that refuse decisions do not make the control plane unready (it serves the
    // others), but they are the first thing an operator must see: they enforce stale decisions.
    const statuses = deps.controlPlane.sidecarStatuses();
    const refusing = statuses.filter((s) => s.refusing);
    const sidecars = {
      connected: statuses.length,
      refusing: refusing.length,
      refusing_streams: refusing.slice(0, REFUSING_LISTED).map((s) => ({
        stream_id: s.streamId,
        node_id: s.nodeId,
        rejected_version: s.rejectedVersion,
        enforced_version: s.enforcedVersion,
        reason: s.rejectReason,
      })),
    };
    const audit = deps.readiness.audit?.();
    return reply.code(ready ? 200 : 503).send({
      ready,
      grpc_listening: grpcListening,
      model: mode,
      sidecars,
      ...(audit === undefined
        ? {}
        : {
            audit: {
              skipped_records: audit.skippedRecords,
              ...(audit.firstProblem === undefined ? {} : { first_problem: audit.firstProblem }),
              write_failures: audit.writeFailures,
              ...(audit.lastWriteError === undefined ? {} : { last_write_error: audit.lastWriteError }),
            },
          }),
    });
  });

  const metrics = {
    summary: "Prometheus metrics of the control plane (text exposition format)",
    tags: ["health"],
    produces: ["text/plain"],
    querystring: emptyQuery,
    response: { 200: { description: "Prometheus text exposition format 0.0.4.", type: "string" } },
  };
  app.get("/metrics", { schema: metrics }, async (_request, reply) => {
    const text = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(text);
  });
}
