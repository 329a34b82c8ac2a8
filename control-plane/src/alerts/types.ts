// Alerts the control plane sends, and the validated `alerts` section of its configuration.

export const ALERT_KINDS = [
  /** A breaker opened (traffic cut from a cluster). */
  "breaker_open",
  /** A breaker closed again (the cluster recovered). */
  "breaker_closed",
  /** Mesh-wide emergency stop on / off. */
  "halt",
  "resume",
  /** The anomaly model could not be used; rules-only scoring. */
  "model_fallback",
  /** A sidecar rejected (NACKed) a decision set. */
  "sidecar_rejected",
  /** A configured trigger fired (its action is in force) or cleared. */
  "trigger_fired",
  "trigger_cleared",
  /** An error budget burns faster than its multi-window alert allows (core/error-budget/):
   *  over 1 h and 5 min at 14.4x (fast), over 6 h and 30 min at 6x (slow), by default. */
  "error_budget_fast_burn",
  "error_budget_slow_burn",
  /** A burn-rate alert stopped firing (either window back below its threshold). */
  "error_budget_burn_resolved",
  /** A source's share or rate jumped above its own threshold (core/sources/), or came back. */
  "source_flagged",
  "source_cleared",
  /** Sent on request from the admin API (POST /v1/alerts/test) to check the channels. */
  "test",
] as const;

export type AlertKind = (typeof ALERT_KINDS)[number];

/** Most severe first. */
export const SEVERITIES = ["critical", "warning", "info"] as const;

export type Severity = (typeof SEVERITIES)[number];

export interface Alert {
  kind: AlertKind;
  /** The cluster concerned; "" for mesh-wide alerts. */
  cluster: string;
  severity: Severity;
  /** One line for a human. */
  summary: string;
  /** When it happened, epoch ms. */
  atMs: number;
  /** Kind-specific facts (from/to state, reason, node id, version...). */
  details: Record<string, string | number | boolean>;
}

/** One configured channel: its name (the key under `alerts.channels`), its type and its entry. */
export interface ChannelConfig {
  name: string;
  /** A registered channel type (./channels/index.ts): "email", "webhook", "sms". */
  type: string;
  /**
   * The entry as written (snake_case keys), already checked against the type's JSON Schema and
   * its own checks; the channel type reads it (./channel.ts).
   */
  settings: Readonly<Record<string, unknown>>;
}

/** Sends the alerts that match every given filter to `channels`. */
export interface RouteConfig {
  /** Undefined: every severity. */
  severities?: readonly Severity[];
  /** Undefined: every kind. */
  kinds?: readonly AlertKind[];
  /** Names of channels (keys of `alerts.channels`, or `webhook-N` for the `webhooks` shorthand). */
  channels: readonly string[];
}

export interface AlertsConfig {
  /** In the order written; the `webhooks` shorthand's channels first. */
  channels: readonly ChannelConfig[];
  /**
   * An alert goes to the union of the channels of every route it matches. Undefined (no
   * `routes` written): every alert goes to every channel.
   */
  routes?: readonly RouteConfig[];
  /** No second alert of the same kind for the same cluster within this many seconds. */
  cooldownS: number;
  /** Retries after a failed delivery attempt (so at most retries + 1 attempts per channel). */
  retries: number;
  /** First retry delay, milliseconds; doubles on every further retry, up to maxBackoffMs. */
  backoffMs: number;
  /** Longest retry delay, milliseconds. */
  maxBackoffMs: number;
  /** Per-attempt timeout, milliseconds. */
  timeoutMs: number;
  /** Alerts waiting per channel at most; beyond, the oldest waiting one is dropped and counted. */
  queueLimit: number;
}
