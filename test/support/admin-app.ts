// The admin API over a real control plane, as the admin route tests build it (no sockets: tests
// call app.inject): the admin token and its header, the two LLM clusters and the SLO those tests
// use, and buildAdminApp with a rules-only model and the gRPC listener reported up.
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { buildAdminApp } from "../../control-plane/src/admin/app.js";
import type { AdminDeps } from "../../control-plane/src/admin/deps.js";
import type { ControlPlaneOptions } from "../../control-plane/src/service.js";
import type { Logger } from "../../lib/log.js";

export const ADMIN_TOKEN = "s3cret-admin-token";
/** The headers of an admin call. */
export const ADMIN_AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Two clusters of equal base weight, llm-a and llm-b, and an SLO of 2 s at 99 % success. */
export function twoLlmClusters(): Pick<ControlPlaneOptions, "clusters" | "slo"> {
  return { clusters: [{ name: "llm-a", baseWeight: 1 }, { name: "llm-b", baseWeight: 1 }], slo: { latencyMs: 2000, successRate: 0.99 } };
}

/** The admin app over `controlPlane` with the admin token, on the clock `now` (epoch ms). */
export function adminAppOver(controlPlane: AdminDeps["controlPlane"], now: () => number, logger: Logger): Promise<FastifyInstance> {
  return buildAdminApp({
    controlPlane,
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: ADMIN_TOKEN,
    logger,
    now,
  });
}
