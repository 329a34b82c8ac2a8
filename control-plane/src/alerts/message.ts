// An alert as it leaves the control plane: the alert plus the identity and the cooldown count
// every channel shows, and the texts channels render from it (subject line, plain-text body,
// short text for SMS, the JSON payload of webhooks). Pure.
import type { Alert, AlertKind, Severity } from "./types.js";

export interface AlertMessage {
  /** Unique per alert, the same on every retry and channel (receivers can deduplicate). */
  id: string;
  alert: Alert;
  /** Alerts of this kind and cluster held back by the cooldown since the last one sent. */
  suppressedSinceLast: number;
}

/** The JSON body webhooks of format "json" receive (unchanged from the first webhook version). */
export interface AlertPayload {
  source: "open-autoglm";
  id: string;
  kind: AlertKind;
  cluster: string;
  severity: Severity;
  summary: string;
  /** ISO 8601 time of the event. */
  at: string;
  /** The same time, epoch ms. */
  at_ms: number;
  details: Record<string, string | number | boolean>;
  suppressed_since_last: number;
}

export function jsonPayload(message: AlertMessage): AlertPayload {
  const { alert } = message;
  return {
    source: "open-autoglm",
    id: message.id,
    kind: alert.kind,
    cluster: alert.cluster,
    severity: alert.severity,
    summary: alert.summary,
    at: isoTime(alert.atMs),
    at_ms: alert.atMs,
    details: alert.details,
    suppressed_since_last: message.suppressedSinceLast,
  };
}

/** "[CRITICAL] breaker_open llm-a: <summary>" (no cluster part for mesh-wide alerts). */
export function headline(message: AlertMessage): string {
  const { alert } = message;
  const where = alert.cluster === "" ? "" : ` ${alert.cluster}`;
  return `[${alert.severity.toUpperCase()}] ${alert.kind}${where}: ${alert.summary}`;
}

/** A plain-text body: the headline, then one "key: value" line per fact. */
export function textBody(message: AlertMessage): string {
  const { alert } = message;
  const lines = [
    headline(message),
    "",
    `kind: ${alert.kind}`,
    `severity: ${alert.severity}`,
    ...(alert.cluster === "" ? [] : [`cluster: ${alert.cluster}`]),
    `at: ${isoTime(alert.atMs)}`,
    ...Object.entries(alert.details).map(([key, value]) => `${key}: ${String(value)}`),
    ...(message.suppressedSinceLast > 0 ? [`held back by the cooldown since the last one: ${message.suppressedSinceLast}`] : []),
    `alert id: ${message.id}`,
    "",
    "-- Open-AutoGLM control plane",
  ];
  return `${lines.join("\n")}\n`;
}

/** The headline cut to `maxLength` characters (an ellipsis marks a cut). */
export function shortText(message: AlertMessage, maxLength: number): string {
  const text = headline(message);
  return text.length <= maxLength ? text : `${text.slice(0, Math.max(0, maxLength - 1))}…`;
}

/** Values of the placeholders a template may use ({{name}}), besides {{to}} and {{token}}. */
export function messageFields(message: AlertMessage, maxTextLength: number): Record<string, string> {
  const { alert } = message;
  return {
    text: shortText(message, maxTextLength),
    summary: alert.summary,
    kind: alert.kind,
    severity: alert.severity,
    cluster: alert.cluster,
    id: message.id,
    at: isoTime(alert.atMs),
  };
}

function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
