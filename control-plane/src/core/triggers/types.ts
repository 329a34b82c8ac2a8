// Triggers: operator-configured rules that act on the merged telemetry by themselves. A rule's
// condition (a metric of the mesh or of one cluster above a value) must hold over consecutive
// merged windows spanning `forMs`; then its action (halt the mesh, open a cluster, shed a
// fraction of requests, limit a source) is in force until the rule clears: by itself once the condition has been
// false over windows spanning `clearAfterMs` (hysteresis), or only by a human (`clear: "manual"`).
// Times are epoch milliseconds (window times are the aggregation's, firing times the injected
// clock's).

/** What a condition measures in one merged window:
 *  - p99_ms: total-latency p99, milliseconds (mesh: the highest p99 among the clusters that
 *    served requests, an upper bound of the mesh's own p99);
 *  - error_rate: failed / requests, fraction (mesh: pooled over the clusters);
 *  - cpu_utilization, application_utilization, queue_size: what the upstreams' ORCA load reports
 *    said (core/upstream-load.ts), their request-weighted mean or their max (`statistic`; mesh:
 *    pooled over the clusters). A window without the metric does not meet the condition;
 *  - banned_output: responses the filters ended for banned output (proto BodyScan.matched; mesh:
 *    summed over the clusters), so `above: 0` fires on the first one. A window in which no filter
 *    scanned or passed a body does not meet the condition. */
export const TRIGGER_METRICS = ["p99_ms", "error_rate", "cpu_utilization", "application_utilization", "queue_size", "banned_output"] as const;
export type TriggerMetric = (typeof TRIGGER_METRICS)[number];

export interface TriggerCondition {
  metric: TriggerMetric;
  /** "mesh", or the name of one configured cluster. */
  scope: string;
  /** The condition holds in a window whose value is strictly above this. */
  above: number;
  /** For the upstream-load metrics: the window's mean (request-weighted) or its max. */
  statistic: "mean" | "max";
}

export type TriggerAction =
  | { kind: "halt" }
  | { kind: "open"; cluster: string }
  /** Refuses `fraction` (0, 1] of new requests with a local 429: of one cluster's, or of the
   *  mesh's when `cluster` is absent. */
  | { kind: "shed"; fraction: number; cluster?: string }
  /** Limits one source (core/sources/) for ttlMs from the firing, as an operator's limit is
   *  (audited as source_limit, actor "trigger <name>"): `source`, or when absent the flagged
   *  source (jump detector) with the most requests in the last closed window. A deny, or a cap of
   *  capPerS requests per second over the mesh. The limit lasts its TTL whether or not the rule
   *  clears (DELETE /v1/sources/limits ends it early); a rule fires it once per firing. */
  | { kind: "limit_source"; source?: string; deny: boolean; capPerS?: number; ttlMs: number };

/** The one cluster an action is about (open, or a cluster's shed); undefined for the mesh or a source. */
export function actionCluster(a: TriggerAction): string | undefined {
  return a.kind === "open" || a.kind === "shed" ? a.cluster : undefined;
}

export interface TriggerRule {
  /** Unique; in the admin API's path (`/v1/triggers/{name}/clear`). */
  name: string;
  condition: TriggerCondition;
  /** How long the condition must hold (over consecutive windows) before the action, ms. */
  forMs: number;
  action: TriggerAction;
  /** "auto": clears once the condition has been false over windows spanning clearAfterMs;
   *  "manual": only POST /v1/triggers/{name}/clear clears it. */
  clear: "auto" | "manual";
  clearAfterMs: number;
}

/** A rule's state, tagged with when it was entered. */
export type TriggerState =
  | { kind: "idle" }
  /** The condition has held in every window since the window that starts at `since`. */
  | { kind: "pending"; since: number; value: number }
  /** The action is in force. `falseSince`: the start of the first window of a run in which the
   *  condition no longer holds (auto clearing counts from there). */
  | { kind: "fired"; since: number; firedAtMs: number; fired: FiringValues; falseSince?: number };

/** The figures that fired a rule (shown in the admin API, audited, alerted). */
export interface FiringValues {
  /** The metric in the window that completed the hold. */
  value: number;
  /** The highest value over the hold. */
  peak: number;
  threshold: number;
  /** How long the condition had held, ms (window time). */
  heldMs: number;
  /** One line for a human: "p99_ms of llm-a 6200 > 5000 for 30 s". */
  reason: string;
}

/** A rule firing or clearing (audit record, alert, event). */
export interface TriggerEvent {
  kind: "fired" | "cleared";
  trigger: string;
  action: TriggerAction;
  atMs: number;
  /** For fired: the figures; for cleared: the figures it had fired with. */
  values: FiringValues;
  /** Who cleared it: "condition" (by itself) or the operator's actor. */
  clearedBy?: string;
  /** The operator's reason for a clear by hand. */
  clearReason?: string;
}

/** What the rules in force ask of the decision set (actions.ts combines them). */
export interface TriggerActions {
  /** The first halting rule's reason. */
  halt?: { trigger: string; reason: string };
  /** Clusters to hold open, with the first opening rule's name and reason. */
  open: Map<string, { trigger: string; reason: string }>;
  /** Mesh-wide shed: the largest fraction asked, with that rule's reason. */
  meshShed?: { trigger: string; fraction: number; reason: string };
  clusterShed: Map<string, { trigger: string; fraction: number; reason: string }>;
}

/** A fired rule as kept across restarts (audit log). */
export interface FiredTrigger {
  name: string;
  since: number;
  firedAtMs: number;
  fired: FiringValues;
}
