// The control plane core's catalogue of errors: stable codes, one place. Callers (admin API,
// CLI) map them to HTTP statuses or exit codes; tests assert the code and the message.

export const ERROR_CODES = {
  /** A configuration parameter is missing or out of range. */
  CP_ERR_CONFIG: "invalid configuration",
  /** A cluster list is empty, has duplicates or bad weights. */
  CP_ERR_CLUSTERS: "invalid cluster list",
  /** The SLO is malformed. */
  CP_ERR_SLO: "invalid slo",
  /** An override names an unknown cluster or has a bad state / expiry. */
  CP_ERR_OVERRIDE: "invalid override",
  /** halt/resume without a reason or an actor. */
  CP_ERR_HALT: "invalid halt request",
  /** The control plane was stopped. */
  CP_ERR_STOPPED: "control plane stopped",
  /** A trigger clear names an unknown trigger, one not fired, or lacks a reason / actor. */
  CP_ERR_TRIGGER: "invalid trigger request",
  /** A rollback request has a bad field (reason, actor, expiry). */
  CP_ERR_ROLLBACK: "invalid rollback request",
  /** A rollback names a version that was never issued (or is newer than the set in force). */
  CP_ERR_VERSION_UNKNOWN: "unknown decision version",
  /** A rollback names a version older than any decision set the audit log retains. */
  CP_ERR_VERSION_NOT_RETAINED: "decision version not retained",
  /** A rollback cannot be made or released in the present state (the version is the set in
   *  force, its clusters differ from the configured ones, no rollback to release). */
  CP_ERR_ROLLBACK_CONFLICT: "rollback conflicts with the present state",
  /** No audit log to find earlier sets in (audit.dir), or several replicas. */
  CP_ERR_ROLLBACK_UNAVAILABLE: "rollback not available",
  /** The audit log cannot be opened or written. */
  CP_ERR_AUDIT: "audit log error",
  /** A source limit has a bad field (source, action, cap, expiry, reason), or too many are in force. */
  CP_ERR_SOURCE_LIMIT: "invalid source limit",
  /** A source limit to remove is not in force. */
  CP_ERR_SOURCE_LIMIT_UNKNOWN: "no such source limit",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ControlPlaneError extends Error {
  override readonly name = "ControlPlaneError";
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
