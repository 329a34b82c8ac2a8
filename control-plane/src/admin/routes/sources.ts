// Who sends the traffic (core/sources/): GET /v1/sources shows the top sources merged over every
// sidecar (QPS, share, error rate, the count's bounds, flags and limits); GET/POST/DELETE
// /v1/sources/limits lists, sets (admin token) and removes (admin token) limits, 200 once the
// change's audit record and the resulting decision set's are durable (as overrides).
import type { FastifyInstance } from "fastify";
import type { SourceLimitEntry, SourceStat } from "../../core/sources/index.js";
import { MAX_SOURCE_CHARS, MAX_SOURCE_LIMIT_TTL_MS } from "../../core/sources/index.js";
import { actorOf, requireToken } from "../auth.js";
import type { AdminDeps, ControlPlaneView } from "../deps.js";
import { AdminError, errorBodySchema } from "../errors.js";
import { decisionsSchema } from "../schemas.js";
import { decisionsView } from "../views.js";

const num = { type: "number" } as const;
const str = { type: "string" } as const;

/** GET /v1/sources looks back this far by default, and at most this far (keep_windows bounds it too), s. */
const DEFAULT_WINDOW_S = 60;
const MAX_WINDOW_S = 3600;

const limitSchema = {
  type: "object",
  properties: {
    source: str,
    action: { type: "string", enum: ["deny", "cap"] },
    cap_per_s: { type: ["number", "null"], description: "For a cap: requests per second over the whole mesh" },
    until_ms: num,
    reason: str,
    actor: str,
    at_ms: num,
  },
} as const;

const sourceSchema = {
  type: "object",
  properties: {
    source: { type: "string", description: "The identity: a client address, or 16 hex digits of a hashed header value; \"\" when the request had none" },
    requests: { type: "number", description: "Sum of the sidecars' sketch counts over the span" },
    min_requests: { type: "number", description: "Its true count is at least this (counts less space-saving's overestimates)" },
    max_requests: { type: "number", description: "and at most this (plus what the sketches that did not keep it may have counted)" },
    qps: num,
    share: { type: "number", description: "requests / every source's requests, [0, 1]" },
    error_rate: { type: ["number", "null"], description: "errors / requests counted since it entered the sketches; null when none" },
    errors: num,
    limited: { type: "number", description: "Requests refused by its source limit (local 429)" },
    flagged: { type: "boolean", description: "Its share or rate jumped above its own threshold (mean + k·σ, n of m windows)" },
    limit: { anyOf: [limitSchema, { type: "null" }] },
  },
} as const;

const limitBody = {
  type: "object",
  required: ["source", "action", "ttl_s", "reason"],
  additionalProperties: false,
  properties: {
    source: { type: "string", maxLength: MAX_SOURCE_CHARS, description: "As GET /v1/sources spells it" },
    action: { type: "string", enum: ["deny", "cap"] },
    cap_per_s: { type: "number", exclusiveMinimum: 0, description: "Required for a cap: requests per second over the whole mesh" },
    ttl_s: { type: "integer", minimum: 1, maximum: MAX_SOURCE_LIMIT_TTL_MS / 1000 },
    reason: { type: "string", minLength: 1, maxLength: 500 },
  },
} as const;

const removeBody = {
  type: "object",
  required: ["source", "reason"],
  additionalProperties: false,
  properties: { source: { type: "string", maxLength: MAX_SOURCE_CHARS }, reason: { type: "string", minLength: 1, maxLength: 500 } },
} as const;

interface LimitBody {
  source: string;
  action: "deny" | "cap";
  cap_per_s?: number;
  ttl_s: number;
  reason: string;
}

export function limitView(l: SourceLimitEntry): Record<string, unknown> {
  return { source: l.source, action: l.action, cap_per_s: l.capPerS ?? null, until_ms: l.untilMs, reason: l.reason, actor: l.actor, at_ms: l.atMs };
}

function sourceView(s: SourceStat, flagged: ReadonlySet<string>, limits: ReadonlyMap<string, SourceLimitEntry>): Record<string, unknown> {
  const limit = limits.get(s.source);
  return {
    source: s.source,
    requests: s.requests,
    min_requests: s.minRequests,
    max_requests: s.maxRequests,
    qps: s.qps,
    share: s.share,
    error_rate: s.errorRate ?? null,
    errors: s.errors,
    limited: s.limited,
    flagged: flagged.has(s.source),
    limit: limit === undefined ? null : limitView(limit),
  };
}

/** The control plane's sources API, or a 503 naming why it is missing. */
function sourcesOf(cp: ControlPlaneView): Required<Pick<ControlPlaneView, "sourcesView" | "sourceLimits" | "setSourceLimit" | "removeSourceLimit">> {
  if (cp.sourcesView === undefined || cp.sourceLimits === undefined || cp.setSourceLimit === undefined || cp.removeSourceLimit === undefined) {
    throw new AdminError("AUTOGLM_ERR_SOURCES_UNAVAILABLE", "this control plane does not merge sources");
  }
  return {
    sourcesView: cp.sourcesView.bind(cp),
    sourceLimits: cp.sourceLimits.bind(cp),
    setSourceLimit: cp.setSourceLimit.bind(cp),
    removeSourceLimit: cp.removeSourceLimit.bind(cp),
  };
}

/** A core refusal as the API's error (400 bad field, 404 no such limit, 503 audit). */
function refused(error: unknown): unknown {
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  if (code === "CP_ERR_AUDIT") return new AdminError("AUTOGLM_ERR_AUDIT_UNAVAILABLE", (error as Error).message);
  if (code === "CP_ERR_SOURCE_LIMIT_UNKNOWN") return new AdminError("AUTOGLM_ERR_SOURCE_LIMIT_UNKNOWN", (error as Error).message);
  if (code === "CP_ERR_SOURCE_LIMIT") return new AdminError("AUTOGLM_ERR_BAD_REQUEST", (error as Error).message);
  return error;
}

export function registerSourceRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const cp = deps.controlPlane;
  const auth = requireToken(deps.token);
  const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 503: errorBodySchema } as const;

  app.get<{ Querystring: { window_s?: string; limit?: string } }>(
    "/v1/sources",
    {
      schema: {
        summary: "The top sources merged over every sidecar: QPS, share, error rate, the count's bounds, flags and limits",
        description:
          "Each sidecar worker counts its requests per client identity with a space-saving sketch of K slots (the filter's sources.top_k) " +
          "and reports them per window; the control plane adds them up. A listed source's true count lies within [min_requests, max_requests]; " +
          "a source not listed sent at most unlisted_max_requests over the span. Only closed windows count (the newest ends lateGraceMs ago).",
        tags: ["sources"],
        querystring: {
          type: "object",
          additionalProperties: false,
          // Query values arrive as text (the admin app does not coerce types); ranges checked below.
          properties: {
            window_s: { type: "string", pattern: "^[0-9]{1,4}$", description: `How far back, seconds: 1 to ${MAX_WINDOW_S} (default ${DEFAULT_WINDOW_S})` },
            limit: { type: "string", pattern: "^[0-9]{1,4}$", description: "Most sources listed, the busiest first: 1 to 1000 (default 20)" },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              from_ms: num,
              until_ms: num,
              windows: num,
              total_requests: num,
              unlisted_max_requests: num,
              flagged: { type: "array", items: str },
              sources: { type: "array", items: sourceSchema },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const api = sourcesOf(cp);
      const windowS = Number(request.query.window_s ?? DEFAULT_WINDOW_S);
      const limit = Number(request.query.limit ?? 20);
      if (windowS < 1 || windowS > MAX_WINDOW_S) throw new AdminError("AUTOGLM_ERR_BAD_REQUEST", `querystring.window_s: expected 1 to ${MAX_WINDOW_S} seconds, got ${windowS}`);
      if (limit < 1 || limit > 1000) throw new AdminError("AUTOGLM_ERR_BAD_REQUEST", `querystring.limit: expected 1 to 1000, got ${limit}`);
      const view = api.sourcesView(windowS * 1000, limit);
      const flagged = new Set(view.flagged);
      const limits = new Map(api.sourceLimits().map((l) => [l.source, l]));
      return {
        from_ms: view.fromMs,
        until_ms: view.untilMs,
        windows: view.windows,
        total_requests: view.totalRequests,
        unlisted_max_requests: view.unlistedMaxRequests,
        flagged: view.flagged,
        sources: view.sources.map((s) => sourceView(s, flagged, limits)),
      };
    },
  );

  app.get(
    "/v1/sources/limits",
    {
      schema: {
        summary: "The source limits in force",
        tags: ["sources"],
        response: { 200: { type: "object", properties: { limits: { type: "array", items: limitSchema } } }, ...errors },
      },
    },
    async () => ({ limits: sourcesOf(cp).sourceLimits().map(limitView) }),
  );

  app.post<{ Body: LimitBody }>(
    "/v1/sources/limits",
    {
      preHandler: auth,
      schema: {
        summary: "Limit a source for ttl_s seconds: deny it, or cap its rate over the mesh (cap_per_s)",
        description:
          "Replaces a limit on the same source. A cap reaches the sidecars as the fraction of the source's requests each admits " +
          "(cap / the source's rate over every sidecar in the last closed window), so each admits cap x its own share of the source, " +
          "and one that never saw it admits the same fraction. Refused requests get a local 429 with retry-after. Audited (kind source_limit).",
        tags: ["sources"],
        body: limitBody,
        response: { 200: { type: "object", properties: { limit: limitSchema, decisions: decisionsSchema } }, ...errors },
      },
    },
    async (request) => {
      const api = sourcesOf(cp);
      const b = request.body;
      const atMs = deps.now();
      const limit: SourceLimitEntry = {
        source: b.source,
        action: b.action,
        ...(b.cap_per_s === undefined ? {} : { capPerS: b.cap_per_s }),
        untilMs: atMs + b.ttl_s * 1000,
        reason: b.reason,
        actor: actorOf(request),
        atMs,
      };
      let decisions;
      try {
        decisions = await api.setSourceLimit(limit);
      } catch (error) {
        throw refused(error);
      }
      request.log.info({ source: limit.source, action: limit.action, cap_per_s: limit.capPerS, until_ms: limit.untilMs, actor: limit.actor }, "source limit set");
      return { limit: limitView(limit), decisions: decisionsView(decisions) };
    },
  );

  app.delete<{ Body: { source: string; reason: string } }>(
    "/v1/sources/limits",
    {
      preHandler: auth,
      schema: {
        summary: "Remove the limit on a source before its TTL ends",
        tags: ["sources"],
        body: removeBody,
        response: { 200: { type: "object", properties: { limit: limitSchema, decisions: decisionsSchema } }, ...errors, 404: errorBodySchema },
      },
    },
    async (request) => {
      const api = sourcesOf(cp);
      let removed;
      try {
        removed = await api.removeSourceLimit(request.body.source, actorOf(request), request.body.reason);
      } catch (error) {
        throw refused(error);
      }
      request.log.info({ source: request.body.source }, "source limit removed");
      return { limit: limitView(removed.limit), decisions: decisionsView(removed.decisions) };
    },
  );
}
