// Alerts the control plane sends to webhooks.

export type AlertKind =
  /** A breaker opened (traffic cut from a cluster). */
  | "breaker_open"
  /** A breaker closed again (the cluster recovered). */
  | "breaker_closed"
  /** Mesh-wide emergency stop on / off. */
  | "halt"
  | "resume"
  /** The anomaly model could not be used; rules-only scoring. */
  | "model_fallback"
  /** A sidecar rejected (NACKed) a decision set. */
  | "sidecar_rejected"
  /** A configured trigger fired (its action is in force) or cleared. */
  | "trigger_fired"
  | "trigger_cleared";

export type Severity = "critical" | "warning" | "info";

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

/** The JSON body POSTed to every webhook target. */
export interface AlertPayload {
  source: "open-autoglm";
  /** Unique per alert, the same on every retry and target (receivers can deduplicate). */
  id: string;
  kind: AlertKind;
  cluster: string;
  severity: Severity;
  summary: string;
  at: string;
  at_ms: number;
  details: Record<string, string | number | boolean>;
  /** Alerts of this kind and cluster held back by the cooldown since the last one sent. */
  suppressed_since_last: number;
}
