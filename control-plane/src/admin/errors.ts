// The admin API's catalogue of errors: one stable code per kind of failure, its HTTP status and
// a message template. Every error the API answers with comes from here, as
// { "code": "AUTOGLM_ERR_…", "message": "…", "request_id": "…" }.

export const ADMIN_ERRORS = {
  AUTOGLM_ERR_BAD_REQUEST: { status: 400, text: "bad request: %s" },
  AUTOGLM_ERR_UNAUTHORIZED: { status: 401, text: "%s" },
  AUTOGLM_ERR_FORBIDDEN: { status: 403, text: "%s" },
  AUTOGLM_ERR_NOT_FOUND: { status: 404, text: "no route %s" },
  AUTOGLM_ERR_CLUSTER_UNKNOWN: { status: 404, text: "unknown cluster %s" },
  AUTOGLM_ERR_TRIGGER_UNKNOWN: { status: 404, text: "unknown trigger %s" },
  AUTOGLM_ERR_INCIDENT_UNKNOWN: { status: 404, text: "unknown incident %s" },
  AUTOGLM_ERR_SOURCE_LIMIT_UNKNOWN: { status: 404, text: "%s" },
  AUTOGLM_ERR_SOURCES_UNAVAILABLE: { status: 503, text: "who sends the traffic is not available: %s" },
  AUTOGLM_ERR_MODEL_INVALID: { status: 422, text: "model rejected, still using the previous one: %s" },
  AUTOGLM_ERR_MODEL_UNAVAILABLE: { status: 503, text: "model reload is not available: %s" },
  AUTOGLM_ERR_AUDIT_UNAVAILABLE: { status: 503, text: "audit log is not available: %s" },
  AUTOGLM_ERR_SNAPSHOT_UNKNOWN: { status: 404, text: "no snapshot %s" },
  AUTOGLM_ERR_SNAPSHOTS_UNAVAILABLE: { status: 503, text: "fault snapshots are not available: %s" },
  AUTOGLM_ERR_CONFLICT: { status: 409, text: "%s" },
  AUTOGLM_ERR_VERSION_UNKNOWN: { status: 404, text: "unknown decision version: %s" },
  AUTOGLM_ERR_VERSION_NOT_RETAINED: { status: 410, text: "decision version not retained: %s" },
  AUTOGLM_ERR_ROLLBACK_UNAVAILABLE: { status: 503, text: "rollback is not available: %s" },
  AUTOGLM_ERR_ALERT_NOT_ROUTED: { status: 422, text: "no alert channel to test: %s" },
  AUTOGLM_ERR_ALERTS_UNAVAILABLE: { status: 503, text: "alerts are not available: %s" },
  AUTOGLM_ERR_ALL_CLUSTERS_OPEN: { status: 409, text: "%s" },
  AUTOGLM_ERR_EXPORT_LIMITED: { status: 429, text: "audit export refused, limit %s" },
  AUTOGLM_ERR_INTERNAL: { status: 500, text: "internal error: %s" },
} as const satisfies Record<string, { status: number; text: string }>;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

export class AdminError extends Error {
  override readonly name = "AdminError";
  readonly statusCode: number;
  constructor(
    readonly code: AdminErrorCode,
    detail: string,
  ) {
    super(ADMIN_ERRORS[code].text.replace("%s", detail));
    this.statusCode = ADMIN_ERRORS[code].status;
  }
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  code: AdminErrorCode;
  message: string;
  request_id: string;
}

export const errorBodySchema = {
  type: "object",
  required: ["code", "message", "request_id"],
  properties: {
    code: { type: "string", enum: Object.keys(ADMIN_ERRORS) },
    message: { type: "string" },
    request_id: { type: "string" },
  },
} as const;
