// Read-only views: clusters, sidecars, the current decision set.
import type { FastifyInstance } from "fastify";
import type { AdminDeps } from "../deps.js";
import { AdminError } from "../errors.js";
import { clusterSchema, clusterNameParams, decisionsSchema, emptyQuery, sidecarSchema } from "../schemas.js";
import { clusterView, decisionsView, sidecarView } from "../views.js";

/** Windows GET /v1/clusters/:name includes (about a minute at 1 s windows). */
const DETAIL_WINDOWS = 60;

export function registerStateRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const cp = deps.controlPlane;

  app.get(
    "/v1/clusters",
    {
      schema: {
        querystring: emptyQuery,
        response: { 200: { type: "object", properties: { clusters: { type: "array", items: clusterSchema } } } },
      },
    },
    async () => ({ clusters: cp.clusterStatuses().map((s) => clusterView(s)) }),
  );

  app.get<{ Params: { name: string } }>(
    "/v1/clusters/:name",
    { schema: { params: clusterNameParams, querystring: emptyQuery, response: { 200: clusterSchema } } },
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
        querystring: emptyQuery,
        response: { 200: { type: "object", properties: { sidecars: { type: "array", items: sidecarSchema } } } },
      },
    },
    async () => {
      const now = deps.now();
      return { sidecars: cp.sidecarStatuses().map((s) => sidecarView(s, now)) };
    },
  );

  app.get("/v1/decisions", { schema: { querystring: emptyQuery, response: { 200: decisionsSchema } } }, async () =>
    decisionsView(cp.currentDecisions()),
  );
}
