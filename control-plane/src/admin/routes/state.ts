// Read-only views: clusters, sidecars, the current decision set.
import type { FastifyInstance } from "fastify";
import type { AdminDeps } from "../deps.js";
import { AdminError, errorBodySchema } from "../errors.js";
import { clusterSchema, clusterNameParams, decisionsSchema, emptyQuery, sidecarSchema } from "../schemas.js";
import { clusterView, decisionsView, sidecarView } from "../views.js";
import { goneSidecarSchema, goneSidecarView } from "../gone-sidecars.js";

/** Windows GET /v1/clusters/:name includes (about a minute at 1 s windows). */
const DETAIL_WINDOWS = 60;

export function registerStateRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const cp = deps.controlPlane;

  app.get(
    "/v1/clusters",
    {
      schema: {
        summary: "Every cluster: breaker state, weight, anomaly score, override, capacity, last window",
        tags: ["state"],
        querystring: emptyQuery,
        response: { 200: { type: "object", properties: { clusters: { type: "array", items: clusterSchema } } } },
      },
    },
    async () => ({ clusters: cp.clusterStatuses().map((s) => clusterView(s)) }),
  );

  app.get<{ Params: { name: string } }>(
    "/v1/clusters/:name",
    {
      schema: {
        summary: "One cluster, with its recent telemetry windows (about the last minute)",
        tags: ["state"],
        params: clusterNameParams,
        querystring: emptyQuery,
        response: { 200: clusterSchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const status = cp.clusterStatuses().find((s) => s.cluster === request.params.name);
      if (status === undefined) throw new AdminError("AUTOGLM_ERR_CLUSTER_UNKNOWN", JSON.stringify(request.params.name));
      return clusterView(status, DETAIL_WINDOWS);
    },
  );

  app.get(
    "/v1/sidecars",
    {
      schema: {
        summary: "Every connected sidecar stream (acknowledged, refused and enforced versions, report lag, whether it confirmed the version in force) and the workers that are gone",
        tags: ["state"],
        querystring: emptyQuery,
        response: {
          200: {
            type: "object",
            properties: {
              sidecars: { type: "array", items: sidecarSchema },
              /** Workers whose stream ended and that have not come back, most recent first. */
              gone: { type: "array", items: goneSidecarSchema },
            },
          },
        },
      },
    },
    async () => {
      const now = deps.now();
      const halt = cp.haltStatus?.();
      const haltUnconfirmed = new Set(halt?.halted === true ? halt.confirmation.unconfirmed.map((w) => w.stream_id) : []);
      return {
        sidecars: cp.sidecarStatuses().map((s) => sidecarView(s, now, haltUnconfirmed)),
        gone: cp.goneSidecars().map((g) => goneSidecarView(g, now)),
      };
    },
  );

  const decisions = {
    summary: "The current decision set sent to sidecars (version, halt, per-cluster state and weight)",
    tags: ["state"],
    querystring: emptyQuery,
    response: { 200: decisionsSchema },
  };
  app.get("/v1/decisions", { schema: decisions }, async () =>
    decisionsView(cp.currentDecisions()),
  );
}
