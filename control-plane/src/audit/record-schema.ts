// The shape of every audit record kind as the files spell it (snake_case, `kind`, `at_ms`),
// checked when a line is read back (restore and export); lines of the earlier camelCase format
// are brought to this spelling first (./record-codec.ts). A line can be valid JSON and still be
// damaged (a snapshot without `overrides`, `clusters: [null]`, a version of 1e300): each check
// names the first field that is wrong, as a path ("snapshot.state.overrides: missing"), so
// restore can skip the record and say why. Unknown extra fields are allowed (a newer writer may
// add some).

/** Why a line was skipped: a bounded set, used as a metric label. */
export type SkipReason = "not_json" | "not_object" | "unknown_kind" | "bad_field";

/** The first problem found, or undefined when the value has the expected shape. */
type Check = (value: unknown, path: string) => string | undefined;

const describe = (v: unknown): string => {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return `a string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return Array.isArray(v) ? "an array" : `a ${typeof v}`;
};

const fail = (path: string, expected: string, got: unknown): string =>
  got === undefined ? `${path}: missing` : `${path}: expected ${expected}, got ${describe(got)}`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const str: Check = (v, p) => (typeof v === "string" ? undefined : fail(p, "a string", v));
const bool: Check = (v, p) => (typeof v === "boolean" ? undefined : fail(p, "a boolean", v));
/** A finite number (times in epoch ms, weights, scores). */
const finite: Check = (v, p) => (typeof v === "number" && Number.isFinite(v) ? undefined : fail(p, "a finite number", v));
const nonNegative: Check = (v, p) => finite(v, p) ?? ((v as number) >= 0 ? undefined : fail(p, "a number >= 0", v));
/** Versions: integers in [0, 2^53), so they compare and increment exactly. */
const version: Check = (v, p) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? undefined : fail(p, "a safe non-negative integer", v));
const oneOf =
  (...values: string[]): Check =>
  (v, p) =>
    typeof v === "string" && values.includes(v) ? undefined : fail(p, values.map((x) => JSON.stringify(x)).join(" | "), v);
const optional =
  (check: Check): Check =>
  (v, p) =>
    v === undefined ? undefined : check(v, p);
const arrayOf =
  (check: Check): Check =>
  (v, p) => {
    if (!Array.isArray(v)) return fail(p, "an array", v);
    for (let i = 0; i < v.length; i++) {
      const problem = check(v[i], `${p}[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
const object =
  (fields: Record<string, Check>): Check =>
  (v, p) => {
    if (!isObject(v)) return fail(p, "an object", v);
    for (const [key, check] of Object.entries(fields)) {
      const problem = check(v[key], `${p}.${key}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };

const breakerKind = oneOf("closed", "open", "half_open");

const clusterDecision = object({
  cluster: str,
  state: breakerKind,
  weight: nonNegative,
  probe_fraction: nonNegative,
  retry_after_s: nonNegative,
  reason: str,
  anomaly_score: finite,
  shed_fraction: optional(finite),
});

const sourceLimitDecision = object({ source: str, deny: bool, admit_fraction: nonNegative, retry_after_s: nonNegative, reason: str, cap_per_s: nonNegative });

const sourceLimit = object({
  source: str,
  action: oneOf("deny", "cap"),
  cap_per_s: optional(nonNegative),
  until_ms: finite,
  reason: str,
  actor: str,
  at_ms: finite,
});

const sourceFlag = object({
  kind: oneOf("flagged", "cleared"),
  source: str,
  metric: oneOf("share", "qps"),
  window_start_ms: finite,
  value: finite,
  threshold: finite,
  at_ms: finite,
});

const decisionSet = object({
  version,
  issued_at_ms: finite,
  ttl_ms: nonNegative,
  halted: bool,
  halt_reason: str,
  clusters: arrayOf(clusterDecision),
  shed_fraction: optional(finite),
  shed_reason: optional(str),
  halt_mode: optional(oneOf("drain", "immediate")),
  source_limits: optional(arrayOf(sourceLimitDecision)),
});

const override = object({
  cluster: str,
  state: oneOf("open", "closed", "auto"),
  until_ms: optional(finite),
  reason: str,
  actor: str,
});

const haltMode = optional(oneOf("drain", "immediate"));

const haltState = object({ halted: bool, reason: str, actor: str, at_ms: finite, mode: haltMode });

const transition = object({ cluster: str, from: breakerKind, to: breakerKind, at_ms: finite, reason: str });

const nack = object({ stream_id: str, node_id: str, version, reason: str, enforced_version: version, at_ms: finite });

const firingValues = object({ value: finite, peak: finite, threshold: finite, held_ms: finite, reason: str });

const triggerAction = object({
  kind: oneOf("halt", "open", "shed", "limit_source"),
  cluster: optional(str),
  fraction: optional(finite),
  source: optional(str),
  deny: optional(bool),
  cap_per_s: optional(finite),
  ttl_ms: optional(finite),
});

const triggerEvent = object({
  kind: oneOf("fired", "cleared"),
  trigger: str,
  action: triggerAction,
  at_ms: finite,
  values: firingValues,
  cleared_by: optional(str),
  clear_reason: optional(str),
});

const firedTrigger = object({ name: str, since: finite, fired_at_ms: finite, fired: firingValues });

/** Bucket widths and periods: positive integers of ms. */
const positiveMs: Check = (v, p) => (typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? undefined : fail(p, "a positive integer (ms)", v));

const budgetBucket = object({ scope: str, start_ms: finite, good: nonNegative, total: nonNegative });

const persistedBudget = object({ bucket_ms: positiveMs, period_ms: positiveMs, buckets: arrayOf(budgetBucket) });
const incident = object({
  id: str,
  kind: oneOf("halt", "trigger"),
  started_by: str,
  reason: str,
  trigger: optional(str),
  action: optional(triggerAction),
  values: optional(firingValues),
  mode: haltMode,
  started_at_ms: finite,
  version,
  clusters: arrayOf(str),
  confirmed_at_ms: optional(finite),
  confirmations: arrayOf(object({ node_id: str, worker_id: nonNegative, at_ms: finite })),
  cannot_enforce: arrayOf(str),
  ended_at_ms: optional(finite),
  ended_by: optional(str),
  end_reason: optional(str),
  rejected: arrayOf(object({ cluster: str, local_rejects: nonNegative, shed: nonNegative })),
});

const rollback = object({
  from_version: version,
  clusters: arrayOf(clusterDecision),
  until_ms: optional(finite),
  reason: str,
  actor: str,
  at_ms: finite,
});

const persistedState = object({
  decisions: optional(decisionSet),
  overrides: arrayOf(override),
  halt: optional(haltState),
  triggers: optional(arrayOf(firedTrigger)),
  error_budget: optional(persistedBudget),
  incidents: optional(arrayOf(incident)),
  rollback: optional(rollback),
  source_limits: optional(arrayOf(sourceLimit)),
});

/** Fields of each record kind besides `kind` and `at_ms`. */
const RECORD_FIELDS: Record<string, Record<string, Check>> = {
  decisions: { decisions: decisionSet },
  override: { override },
  halt: { reason: str, actor: str, mode: haltMode },
  resume: { reason: str, actor: str },
  transition: { transition },
  nack: { nack },
  trigger: { event: triggerEvent, in_force: arrayOf(firedTrigger) },
  incident: { incident },
  model_reload: { actor: str, path: str, outcome: oneOf("loaded", "rejected"), reason: optional(str), detail: optional(str) },
  error_budget: { budget: persistedBudget },
  rollback: { rollback },
  rollback_end: { rollback, cause: oneOf("released", "expired"), actor: optional(str), reason: optional(str) },
  source_limit: { limit: sourceLimit, cause: oneOf("set", "removed", "expired"), actor: optional(str), reason: optional(str) },
  source_flag: { flag: sourceFlag },
  snapshot: { state: persistedState },
};

export const RECORD_KINDS: readonly string[] = Object.keys(RECORD_FIELDS);

/**
 * Checks a record (in the files' spelling) against its kind's shape. Paths start with the
 * record's kind ("decisions.decisions.clusters[0]: expected an object, got null").
 */
export function checkRecordShape(value: unknown): { reason: SkipReason; problem: string } | undefined {
  if (!isObject(value)) return { reason: "not_object", problem: `record: expected a JSON object, got ${describe(value)}` };
  const kind = value.kind;
  const fields = typeof kind === "string" && Object.hasOwn(RECORD_FIELDS, kind) ? RECORD_FIELDS[kind] : undefined;
  if (fields === undefined) return { reason: "unknown_kind", problem: `kind: expected one of ${RECORD_KINDS.join(", ")}, got ${describe(kind)}` };
  const problem = finite(value.at_ms, `${kind as string}.at_ms`) ?? object(fields)(value, kind as string);
  return problem === undefined ? undefined : { reason: "bad_field", problem };
}
