// Triggers (core/triggers/): GET /v1/triggers lists every configured rule, its state and the
// values that fired it; POST /v1/triggers/{name}/clear (admin token) clears a fired one by hand,
// 200 once the clear's audit record and the resulting decision set's are durable (as overrides).
import type { FastifyInstance } from "fastify";
import type { TriggerAction, TriggerStatus } from "../../core/triggers/index.js";
import { actorOf, requireToken } from "../auth.js";
import type { AdminDeps } from "../deps.js";
import { AdminError, errorBodySchema } from "../errors.js";
import { decisionsSchema, emptyQuery, reasonBody } from "../schemas.js";
import { decisionsView } from "../views.js";

const num = { type: "number" } as const;
const str = { type: "string" } as const;
const nullableNumber = { type: ["number", "null"] } as const;

const firingSchema = {
  type: ["object", "null"],
  properties: { value: num, peak: num, threshold: num, held_ms: num, reason: str },
} as const;

const triggerSchema = {
  type: "object",
  properties: {
    name: str,
    metric: str,
    scope: str,
    above: num,
    statistic: str,
    for_ms: num,
    action: {
      type: "object",
      properties: {
        kind: { type: "string", enum: ["halt", "open", "shed", "limit_source"] },
        cluster: str,
        fraction: num,
        source: { type: "string", description: "limit_source: the source it limits; absent: the top flagged one when it fires" },
        deny: { type: "boolean", description: "limit_source: a deny (else a cap)" },
        cap_per_s: { type: "number", description: "limit_source: the cap, requests per second over the mesh" },
        ttl_s: { type: "number", description: "limit_source: how long the limit lasts from the firing" },
      },
    },
    clear: str,
    clear_after_ms: num,
    state: { type: "string", enum: ["idle", "pending", "fired"] },
    /** pending: since when the condition holds; fired: since when it held before firing. */
    since_ms: nullableNumber,
    fired_at_ms: nullableNumber,
    fired: firingSchema,
    last_value: nullableNumber,
    last_window_start_ms: nullableNumber,
  },
} as const;

const nameParams = {
  type: "object",
  required: ["name"],
  properties: { name: { type: "string", minLength: 1, maxLength: 63 } },
} as const;

/** A rule's action as the admin API shows it (snake_case; a source limit's TTL in seconds). */
function actionView(a: TriggerAction): Record<string, unknown> {
  if (a.kind !== "limit_source") return { ...a };
  return { kind: a.kind, ...(a.source === undefined ? {} : { source: a.source }), deny: a.deny, ...(a.capPerS === undefined ? {} : { cap_per_s: a.capPerS }), ttl_s: a.ttlMs / 1000 };
}

/** A trigger as the admin API shows it (snake_case). */
export function triggerView(t: TriggerStatus): Record<string, unknown> {
  const { rule, state } = t;
  const c = rule.condition;
  return {
    name: rule.name,
    metric: c.metric,
    scope: c.scope,
    above: c.above,
    statistic: c.statistic,
    for_ms: rule.forMs,
    action: actionView(rule.action),
    clear: rule.clear,
    clear_after_ms: rule.clearAfterMs,
    state: state.kind,
    since_ms: state.kind === "idle" ? null : state.since,
    fired_at_ms: state.kind === "fired" ? state.firedAtMs : null,
    fired: state.kind === "fired"
      ? { value: state.fired.value, peak: state.fired.peak, threshold: state.fired.threshold, held_ms: state.fired.heldMs, reason: state.fired.reason }
      : null,
    last_value: t.lastValue ?? null,
    last_window_start_ms: t.lastWindowStartMs ?? null,
  };
}

export function registerTriggerRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const cp = deps.controlPlane;

  app.get(
    "/v1/triggers",
    {
      schema: {
        summary: "Every trigger rule: its condition and action, its state, and the values that fired it",
        tags: ["state"],
        querystring: emptyQuery,
        response: { 200: { type: "object", properties: { triggers: { type: "array", items: triggerSchema } } } },
      },
    },
    async () => ({ triggers: (cp.triggerStatuses?.() ?? []).map(triggerView) }),
  );

  app.post<{ Params: { name: string }; Body: { reason: string } }>(
    "/v1/triggers/:name/clear",
    {
      preHandler: requireToken(deps.token),
      schema: {
        summary: "Clear a fired trigger by hand (its action ends); needed for triggers with clear: manual",
        tags: ["control"],
        params: nameParams,
        querystring: emptyQuery,
        body: reasonBody,
        response: {
          200: { type: "object", properties: { trigger: triggerSchema, decisions: decisionsSchema } },
          400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema, 503: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { name } = request.params;
      const statuses = cp.triggerStatuses?.() ?? [];
      if (cp.clearTrigger === undefined || !statuses.some((t) => t.rule.name === name)) {
        throw new AdminError("AUTOGLM_ERR_TRIGGER_UNKNOWN", JSON.stringify(name));
      }
      const actor = actorOf(request);
      let decisions;
      try {
        ({ decisions } = await cp.clearTrigger(name, request.body.reason, actor));
      } catch (error) {
        const code = error instanceof Error && "code" in error ? error.code : undefined;
        if (code === "CP_ERR_AUDIT") throw new AdminError("AUTOGLM_ERR_AUDIT_UNAVAILABLE", (error as Error).message);
        if (code === "CP_ERR_TRIGGER") throw new AdminError("AUTOGLM_ERR_CONFLICT", (error as Error).message);
        throw error;
      }
      request.log.warn({ trigger: name, actor, reason: request.body.reason }, "trigger cleared");
      const now = (cp.triggerStatuses?.() ?? []).find((t) => t.rule.name === name)!;
      return { trigger: triggerView(now), decisions: decisionsView(decisions) };
    },
  );
}
