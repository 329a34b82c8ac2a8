// Rollback (core/rollback.ts): POST /v1/decisions/rollback republishes an earlier decision set,
// found by version in the audit log, as a new version and pins it until released or ttl_s ends;
// DELETE /v1/decisions/rollback releases it; GET /v1/decisions/rollback shows the pin in force.
// The mutating routes need the admin token and answer 200 once the audit records (the rollback's
// and the resulting set's) are durable, as overrides do. With etcd replicas any replica takes
// them: the version is found in etcd's decision history and the pin is committed to etcd before
// the 200 (the leader publishes it; on a follower `decisions` is the set in force then).
import type { FastifyInstance } from "fastify";
import type { Rollback } from "../../core/types.js";
import { actorOf, requireToken } from "../auth.js";
import type { AdminDeps } from "../deps.js";
import { AdminError, errorBodySchema, type AdminErrorCode } from "../errors.js";
import { decisionsSchema, emptyQuery, reasonBody } from "../schemas.js";
import { decisionsView } from "../views.js";

interface RollbackBody {
  version: number;
  ttl_s?: number;
  reason: string;
}

const rollbackBody = {
  type: "object",
  required: ["version", "reason"],
  additionalProperties: false,
  properties: {
    /** The earlier decision version to republish (GET /v1/audit lists them). */
    version: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    /** Seconds the rollback stays pinned; absent: until released (DELETE /v1/decisions/rollback). */
    ttl_s: { type: "integer", minimum: 1, maximum: 604_800 },
    reason: { type: "string", minLength: 1, maxLength: 500 },
  },
} as const;

const num = { type: "number" } as const;
const str = { type: "string" } as const;

const rollbackSchema = {
  type: ["object", "null"],
  properties: {
    from_version: num,
    until_ms: { type: ["number", "null"] },
    reason: str,
    actor: str,
    at_ms: num,
    /** The pinned per-cluster decisions, as the earlier set had them. */
    clusters: {
      type: "array",
      items: { type: "object", properties: { cluster: str, state: str, weight: num, probe_fraction: num, retry_after_s: num, reason: str, anomaly_score: num } },
    },
  },
} as const;

const answer = { type: "object", properties: { rollback: rollbackSchema, decisions: decisionsSchema } } as const;
const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 409: errorBodySchema, 503: errorBodySchema } as const;

function rollbackView(r: Rollback | undefined): Record<string, unknown> | null {
  if (r === undefined) return null;
  return {
    from_version: r.fromVersion,
    until_ms: r.untilMs ?? null,
    reason: r.reason,
    actor: r.actor,
    at_ms: r.atMs,
    clusters: r.clusters.map((c) => ({
      cluster: c.cluster,
      state: c.state,
      weight: c.weight,
      probe_fraction: c.probeFraction,
      retry_after_s: c.retryAfterS,
      reason: c.reason,
      anomaly_score: c.anomalyScore,
    })),
  };
}

/** The core's refusals as the API's errors (undefined: not one of them). */
const CORE_ERRORS: Record<string, AdminErrorCode> = {
  CP_ERR_ROLLBACK: "AUTOGLM_ERR_BAD_REQUEST",
  CP_ERR_VERSION_UNKNOWN: "AUTOGLM_ERR_VERSION_UNKNOWN",
  CP_ERR_VERSION_NOT_RETAINED: "AUTOGLM_ERR_VERSION_NOT_RETAINED",
  CP_ERR_ROLLBACK_CONFLICT: "AUTOGLM_ERR_CONFLICT",
  CP_ERR_ROLLBACK_UNAVAILABLE: "AUTOGLM_ERR_ROLLBACK_UNAVAILABLE",
  CP_ERR_AUDIT: "AUTOGLM_ERR_AUDIT_UNAVAILABLE",
};

function refused(error: unknown): unknown {
  const code = error instanceof Error && "code" in error && typeof error.code === "string" ? CORE_ERRORS[error.code] : undefined;
  return code === undefined ? error : new AdminError(code, (error as Error).message);
}

export function registerRollbackRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const cp = deps.controlPlane;
  const auth = requireToken(deps.token);

  app.get(
    "/v1/decisions/rollback",
    {
      schema: {
        summary: "The rollback in force: the earlier version pinned, until when, by whom and why (null: none)",
        tags: ["state"],
        querystring: emptyQuery,
        response: { 200: { type: "object", properties: { rollback: rollbackSchema } } },
      },
    },
    async () => ({ rollback: rollbackView(cp.rollbackInForce?.()) }),
  );

  app.post<{ Body: RollbackBody }>(
    "/v1/decisions/rollback",
    {
      preHandler: auth,
      schema: {
        summary: "Republish an earlier decision set (by version, from the audit log) as a new version, pinned until released or ttl_s ends",
        description:
          "The pin replaces what the detectors and the planner decide; the halt, overrides and triggers in force still apply on top " +
          "(an emergency stop is never undone by a rollback), and the earlier set's own halt and shed are not republished. " +
          "404 AUTOGLM_ERR_VERSION_UNKNOWN: a version never issued (above the set in force, or absent from the range the log retains); " +
          "410 AUTOGLM_ERR_VERSION_NOT_RETAINED: older than every set the audit log retains; 409 AUTOGLM_ERR_CONFLICT: the version in force, " +
          "or a set deciding for other clusters than the configured ones; 503 AUTOGLM_ERR_ROLLBACK_UNAVAILABLE: one process without an audit log (audit.dir). " +
          "With etcd replicas any replica takes it: the version is looked up in etcd's decision history and the pin is committed to etcd before the 200 " +
          "(on a follower, decisions is the set in force then; the leader publishes the pinned one). Audited (kind rollback); a restart or a new leader keeps it.",
        tags: ["control"],
        querystring: emptyQuery,
        body: rollbackBody,
        response: { 200: answer, ...errors, 404: errorBodySchema, 410: errorBodySchema },
      },
    },
    async (request) => {
      if (cp.rollback === undefined) throw new AdminError("AUTOGLM_ERR_ROLLBACK_UNAVAILABLE", "this control plane does not support it");
      const actor = actorOf(request);
      const { version, ttl_s: ttlS, reason } = request.body;
      try {
        const done = await cp.rollback({ version, reason, actor, ...(ttlS === undefined ? {} : { untilMs: deps.now() + ttlS * 1000 }) });
        request.log.warn({ from_version: version, version: done.decisions.version, until_ms: done.rollback.untilMs, actor }, "decisions rolled back");
        return { rollback: rollbackView(done.rollback), decisions: decisionsView(done.decisions) };
      } catch (error) {
        throw refused(error);
      }
    },
  );

  app.delete<{ Body: { reason: string } }>(
    "/v1/decisions/rollback",
    {
      preHandler: auth,
      schema: {
        summary: "Release the rollback in force: the policy decides again from the set this issues",
        description: "409 AUTOGLM_ERR_CONFLICT when no rollback is in force. Audited (kind rollback_end, cause released).",
        tags: ["control"],
        querystring: emptyQuery,
        body: reasonBody,
        response: { 200: answer, ...errors },
      },
    },
    async (request) => {
      if (cp.releaseRollback === undefined) throw new AdminError("AUTOGLM_ERR_ROLLBACK_UNAVAILABLE", "this control plane does not support it");
      const actor = actorOf(request);
      try {
        const done = await cp.releaseRollback(request.body.reason, actor);
        request.log.warn({ from_version: done.rollback.fromVersion, version: done.decisions.version, actor }, "rollback released");
        return { rollback: rollbackView(done.rollback), decisions: decisionsView(done.decisions) };
      } catch (error) {
        throw refused(error);
      }
    },
  );
}
