// JSON schemas of the admin API's bodies, query strings, params and responses (the twins of
// ./views.ts). Fastify validates inputs with them and serialises outputs through them.

import { streamsSchema } from "./stream-views.js";

const nullableNumber = { type: ["number", "null"] } as const;
const str = { type: "string" } as const;
const int = { type: "integer" } as const;
const num = { type: "number" } as const;

export const windowSchema = {
  type: "object",
  properties: {
    window_start_ms: int,
    window_length_ms: int,
    requests: int,
    errors_5xx: int,
    local_rejects: int,
    timeouts: int,
    resets: int,
    grpc_errors: int,
    error_rate: num,
    p50_ms: nullableNumber,
    p95_ms: nullableNumber,
    p99_ms: nullableNumber,
    rps: num,
    reporters: int,
    streams: streamsSchema,
    body_scan: {
      type: ["object", "null"],
      properties: { scanned: int, matched: int, compressed: int },
    },
    promptness: {
      type: ["object", "null"],
      properties: { sent: int, ended_share: num, implied_share: { type: ["number", "null"] }, stale_slowness: { type: "boolean" } },
    },
  },
} as const;

export const clusterSchema = {
  type: "object",
  required: ["name", "state", "weight", "score"],
  properties: {
    name: str,
    base_weight: num,
    state: { type: "string", enum: ["closed", "open", "half_open"] },
    since_ms: num,
    until_ms: nullableNumber,
    weight: num,
    score: num,
    hard: { type: "boolean" },
    reasons: { type: "array", items: str },
    anomalous_windows: int,
    override: {
      type: ["object", "null"],
      properties: { state: str, until_ms: nullableNumber, reason: str, actor: str },
    },
    capacity: {
      type: "object",
      properties: { baseline_p50_ms: nullableNumber, safe_rps: nullableNumber, knee_rps: nullableNumber, limit_rps: nullableNumber },
    },
    last_window: { anyOf: [{ type: "null" }, windowSchema] },
    recent: { type: "array", items: windowSchema },
  },
} as const;

export const sidecarSchema = {
  type: "object",
  properties: {
    stream_id: str,
    transport: str,
    peer: str,
    node_id: str,
    zone: str,
    worker_id: int,
    instance_id: str,
    filter_version: str,
    capabilities: { type: "array", items: str },
    connected_at_ms: num,
    acked_version: num,
    rejected_version: num,
    reject_reason: str,
    refusing: { type: "boolean" },
    enforced_version: num,
    disconnected_ms: nullableNumber,
    fallback_ms: nullableNumber,
    last_report_at_ms: nullableNumber,
    lag_versions: num,
    report_lag_ms: nullableNumber,
    reports: int,
    /** Not confirmed the decision version in force within halt.confirm_wait_s. */
    unconfirmed: { type: "boolean" },
    /** Listed unconfirmed by the halt in force. */
    halt_unconfirmed: { type: "boolean" },
    confirmation: {
      type: ["object", "null"],
      properties: { version: num, state: { type: "string", enum: ["waiting", "confirmed", "unconfirmed"] }, due_at_ms: num, confirmed_at_ms: nullableNumber },
    },
  },
} as const;

export const decisionsSchema = {
  type: "object",
  properties: {
    version: num,
    issued_at_ms: num,
    ttl_ms: num,
    halted: { type: "boolean" },
    halt_reason: str,
    halt_mode: { type: ["string", "null"], enum: ["drain", "immediate", null] },
    clusters: {
      type: "array",
      items: {
        type: "object",
        properties: {
          cluster: str,
          state: str,
          weight: num,
          probe_fraction: num,
          retry_after_s: num,
          reason: str,
          anomaly_score: num,
          shed_fraction: num,
        },
      },
    },
    shed_fraction: num,
    shed_reason: str,
    source_limits: {
      type: "array",
      description: "Limits on sources the set carries (absent: none): a deny, or a cap as the fraction of the source's requests every sidecar admits.",
      items: {
        type: "object",
        properties: { source: str, deny: { type: "boolean" }, admit_fraction: num, cap_per_s: num, retry_after_s: num, reason: str },
      },
    },
  },
} as const;

export const modelStatusSchema = {
  type: "object",
  required: ["mode"],
  properties: {
    mode: { type: "string", enum: ["model", "rules-only", "loading"] },
    path: str,
    detail: str,
    loaded_at_ms: num,
  },
} as const;

export const clusterNameParams = {
  type: "object",
  required: ["name"],
  properties: { name: { type: "string", minLength: 1, maxLength: 63 } },
} as const;

export const overrideBody = {
  type: "object",
  required: ["state", "reason"],
  additionalProperties: false,
  properties: {
    state: { type: "string", enum: ["open", "closed", "auto"] },
    /** Seconds until the override expires; absent: until replaced by another override. */
    ttl_s: { type: "integer", minimum: 1, maximum: 604_800 },
    reason: { type: "string", minLength: 1, maxLength: 500 },
    /** Required (true) for an "open" that would leave every cluster forced open: that stops all
     *  traffic, a halt by another name (POST /v1/halt says so plainly and POST /v1/resume undoes it). */
    confirm_all_open: { type: "boolean" },
  },
} as const;

/** POST /v1/model/reload: no body, or only a reason for the audit log. The file is always the
 *  configured model.path (an API that loads any path would read any file the process can). */
export const modelReloadBody = {
  type: "object",
  additionalProperties: false,
  properties: { reason: { type: "string", minLength: 1, maxLength: 500 } },
} as const;

export const reasonBody = {
  type: "object",
  required: ["reason"],
  additionalProperties: false,
  properties: { reason: { type: "string", minLength: 1, maxLength: 500 } },
} as const;

/** Times as epoch ms or ISO 8601 text. */
const timeParam = { type: "string", minLength: 1, maxLength: 40 } as const;

export const auditQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    since: timeParam,
    until: timeParam,
    cluster: { type: "string", minLength: 1, maxLength: 63 },
    format: { type: "string", enum: ["ndjson", "csv"], default: "ndjson" },
  },
} as const;

export const emptyQuery = { type: "object", additionalProperties: false, properties: {} } as const;

/** POST /v1/halt. */
export const haltBody = {
  type: "object",
  required: ["reason"],
  additionalProperties: false,
  properties: {
    reason: { type: "string", minLength: 1, maxLength: 500 },
    /** drain (default): admit nothing new, let requests in flight finish; immediate: also end the
     *  streams in flight on filters that can (capability halt_immediate). */
    mode: { type: "string", enum: ["drain", "immediate"] },
    /** Wait up to this long for every connected sidecar worker to confirm, seconds (0: answer at once). */
    wait_s: { type: "number", minimum: 0, maximum: 300 },
  },
} as const;

const workerRef = { stream_id: str, node_id: str, worker_id: num } as const;

/** Which connected sidecar workers confirmed enforcing a decision version (core/halt/confirmation.ts). */
export const confirmationSchema = {
  type: "object",
  properties: {
    version: num,
    since_ms: num,
    wait_ms: num,
    deadline_ms: num,
    state: { type: "string", enum: ["waiting", "unconfirmed", "confirmed", "confirmed_partly", "no_sidecars"] },
    confirmed_at_ms: { type: ["number", "null"] },
    confirmed: { type: "array", items: { type: "object", properties: { ...workerRef, at_ms: num } } },
    waiting: { type: "array", items: { type: "object", properties: workerRef } },
    unconfirmed: { type: "array", items: { type: "object", properties: workerRef } },
    cannot: { type: "array", items: { type: "object", properties: { ...workerRef, missing_capability: str, at_ms: { type: ["number", "null"] } } } },
  },
} as const;

/** GET /v1/halt, and the `halt` of POST /v1/halt's answer. */
export const haltStatusSchema = {
  type: "object",
  required: ["halted"],
  properties: {
    halted: { type: "boolean" },
    mode: { type: "string", enum: ["drain", "immediate"] },
    reason: str,
    version: num,
    confirmation: confirmationSchema,
  },
} as const;
