// Mutating routes (bearer token): overrides, mesh-wide halt/resume, model reload. Each hands
// over to the control plane and answers with the resulting state, 200 only once the change's
// audit record (and the resulting decision set's) is written and synced; 503
// AUTOGLM_ERR_AUDIT_UNAVAILABLE when it could not be (the message says what took effect).
import type { FastifyInstance } from "fastify";
import type { DecisionSet, HaltMode, Override } from "../../core/types.js";
import { actorOf, requireToken } from "../auth.js";
import { ModelReloadError, type AdminDeps } from "../deps.js";
import { AdminError, errorBodySchema } from "../errors.js";
import { clusterNameParams, decisionsSchema, emptyQuery, haltBody, haltStatusSchema, modelReloadBody, modelStatusSchema, overrideBody, reasonBody } from "../schemas.js";
import { allOpenRefusal } from "../all-open.js";
import { decisionsView } from "../views.js";

interface OverrideBody {
  state: "open" | "closed" | "auto";
  ttl_s?: number;
  reason: string;
  confirm_all_open?: boolean;
}

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 503: errorBodySchema } as const;

/** Errors the core raises for a request it refuses (a bad override, a halt without reason), and
 *  for a change it could not record (503). */
function refusedByCore(error: unknown): AdminError | undefined {
  if (error instanceof Error && "code" in error && error.code === "CP_ERR_AUDIT") {
    return new AdminError("AUTOGLM_ERR_AUDIT_UNAVAILABLE", error.message);
  }
  if (error instanceof Error && "code" in error && typeof error.code === "string" && error.code.startsWith("CP_ERR_")) {
    return new AdminError("AUTOGLM_ERR_BAD_REQUEST", error.message);
  }
  return undefined;
}

export function registerControlRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const cp = deps.controlPlane;
  const auth = requireToken(deps.token);

  app.post<{ Params: { name: string }; Body: OverrideBody }>(
    "/v1/clusters/:name/override",
    {
      preHandler: auth,
      schema: {
        summary: "Force a cluster's breaker open or closed (optionally for ttl_s seconds), or hand it back to the policy (auto)",
        description:
          "Forcing the last cluster open while every other one is forced open stops all traffic, a halt by another name: " +
          "it is refused (409 AUTOGLM_ERR_ALL_CLUSTERS_OPEN) unless the body says confirm_all_open: true. POST /v1/halt does the same plainly.",
        tags: ["control"],
        params: clusterNameParams,
        querystring: emptyQuery,
        body: overrideBody,
        response: {
          200: {
            type: "object",
            properties: {
              cluster: { type: "string" },
              state: { type: "string" },
              until_ms: { type: ["number", "null"] },
              reason: { type: "string" },
              actor: { type: "string" },
              decisions: decisionsSchema,
            },
          },
          ...errors,
          404: errorBodySchema,
          409: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { name } = request.params;
      if (!cp.clusterStatuses().some((s) => s.cluster === name)) {
        throw new AdminError("AUTOGLM_ERR_CLUSTER_UNKNOWN", JSON.stringify(name));
      }
      if (request.body.state === "open" && request.body.confirm_all_open !== true) {
        const refusal = allOpenRefusal(cp.clusterStatuses(), name, deps.now());
        if (refusal !== undefined) throw new AdminError("AUTOGLM_ERR_ALL_CLUSTERS_OPEN", refusal);
      }
      const override: Override = {
        cluster: name,
        state: request.body.state,
        reason: request.body.reason,
        actor: actorOf(request),
        ...(request.body.ttl_s === undefined ? {} : { untilMs: deps.now() + request.body.ttl_s * 1000 }),
      };
      let recorded: DecisionSet | void;
      try {
        recorded = await cp.setOverride(override);
      } catch (error) {
        throw refusedByCore(error) ?? error;
      }
      request.log.info({ cluster: name, state: override.state, until_ms: override.untilMs, actor: override.actor }, "override set");
      return {
        cluster: name,
        state: override.state,
        until_ms: override.untilMs ?? null,
        reason: override.reason,
        actor: override.actor,
        decisions: decisionsView(recorded instanceof Object ? recorded : cp.currentDecisions()),
      };
    },
  );

  app.post<{ Body: { reason: string; mode?: HaltMode; wait_s?: number } }>(
    "/v1/halt",
    {
      preHandler: auth,
      schema: {
        summary: "Halt the mesh: new requests get a local 503 until resume (mode drain or immediate); optionally wait for the sidecars to confirm",
        description:
          "drain (default): admit nothing new; requests in flight finish, bounded by the route timeout (a filter cannot cancel them). " +
          "immediate: also end the response streams in flight, on filters whose hello names the capability halt_immediate; the others " +
          "drain and are listed under halt.confirmation.cannot. With wait_s the answer comes once every connected sidecar worker " +
          "acknowledged the halting decision version, or when wait_s ends, naming those that did not (halt.confirmation.unconfirmed). " +
          "Opens an incident (GET /v1/incidents).",
        tags: ["control"],
        querystring: emptyQuery,
        body: haltBody,
        response: { 200: { type: "object", properties: { ...decisionsSchema.properties, halt: haltStatusSchema } }, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const { reason, mode = "drain", wait_s: waitS } = request.body;
      let recorded: DecisionSet | void;
      try {
        recorded = await cp.halt(reason, actor, mode);
      } catch (error) {
        throw refusedByCore(error) ?? error;
      }
      request.log.warn({ actor, reason, mode }, "mesh halted");
      const halt = waitS !== undefined && waitS > 0 && cp.awaitHaltConfirmation !== undefined
        ? await cp.awaitHaltConfirmation(waitS * 1000)
        : (cp.haltStatus?.() ?? { halted: true });
      return { ...decisionsView(recorded instanceof Object ? recorded : cp.currentDecisions()), halt };
    },
  );

  app.post<{ Body: { reason: string } }>(
    "/v1/resume",
    {
      preHandler: auth,
      schema: {
        summary: "Resume after a halt: the policy decides again (the operator's halt incident ends)",
        tags: ["control"],
        querystring: emptyQuery,
        body: reasonBody,
        response: { 200: decisionsSchema, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      let recorded: DecisionSet | void;
      try {
        recorded = await cp.resume(request.body.reason, actor);
      } catch (error) {
        throw refusedByCore(error) ?? error;
      }
      request.log.warn({ actor, reason: request.body.reason }, "mesh resumed");
      return decisionsView(recorded instanceof Object ? recorded : cp.currentDecisions());
    },
  );

  app.post<{ Body: { reason?: string } }>(
    "/v1/model/reload",
    {
      preHandler: auth,
      // No body at all is an empty one (the schema then refuses only unknown fields).
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        summary: "Reload the anomaly model from its configured file (model.path); a rejected model leaves the previous one in use (422)",
        description: "Every attempt, loaded or rejected, is recorded in the audit log (kind model_reload) with the actor and the optional reason.",
        tags: ["control"],
        querystring: emptyQuery,
        body: modelReloadBody,
        response: { 200: modelStatusSchema, ...errors, 422: errorBodySchema, 503: errorBodySchema },
      },
    },
    async (request) => {
      try {
        const status = await deps.model.reload(actorOf(request), request.body.reason);
        request.log.info({ mode: status.mode, path: status.path }, "model reloaded");
        return {
          mode: status.mode,
          ...(status.path === undefined ? {} : { path: status.path }),
          ...(status.detail === undefined ? {} : { detail: status.detail }),
          ...(status.loadedAtMs === undefined ? {} : { loaded_at_ms: status.loadedAtMs }),
        };
      } catch (error) {
        if (error instanceof ModelReloadError) throw new AdminError("AUTOGLM_ERR_MODEL_INVALID", error.message);
        throw refusedByCore(error) ?? error;
      }
    },
  );
}
