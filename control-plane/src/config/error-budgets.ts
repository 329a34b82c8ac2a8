// The `error_budgets` section of the control plane's configuration: SLO budgets per cluster and
// mesh-wide, and their burn-rate alerts (core/error-budget/). Checked against a JSON Schema
// (every violation by its dotted path, ./schema-problems.ts), then against the clusters.
// Absent: no error budgets are tracked. Example (YAML), every key with its default:
//
//   error_budgets:
//     objective: 0.99              # default: slo.success_rate
//     period_days: 30
//     count_local_rejects: true    # requests refused by the sidecar count as bad
//     persist_interval_s: 300      # how often the period's counts go to the audit log
//     clusters:
//       llm-a: { objective: 0.995 }
//     alerts:                      # SRE workbook, "Alerting on SLOs", multiwindow multi-burn-rate
//       fast_burn: { burn_rate: 14.4, long_window_s: 3600, short_window_s: 300, severity: critical }
//       slow_burn: { burn_rate: 6, long_window_s: 21600, short_window_s: 1800, severity: warning }
import type { BurnAlertSpec, ErrorBudgetSettings } from "../core/error-budget/types.js";
import { MESH_SCOPE } from "../core/error-budget/types.js";
import type { ClusterSpec } from "../core/types.js";
import { schemaProblems, type JsonSchema } from "./schema-problems.js";

const objective = { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 } as const;
/** Alert windows: 1 minute (the tracker's bucket) to 3 days. */
const windowS = { type: "integer", minimum: 60, maximum: 259_200 } as const;

const burnAlert = {
  type: "object",
  additionalProperties: false,
  properties: {
    burn_rate: { type: "number", exclusiveMinimum: 0, maximum: 1000 },
    long_window_s: windowS,
    short_window_s: windowS,
    severity: { enum: ["critical", "warning"] },
  },
} as const;

export const ERROR_BUDGETS_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    objective,
    period_days: { type: "integer", minimum: 1, maximum: 90 },
    count_local_rejects: { type: "boolean" },
    persist_interval_s: { type: "integer", minimum: 10, maximum: 3600 },
    clusters: {
      type: "object",
      additionalProperties: { type: "object", additionalProperties: false, required: ["objective"], properties: { objective } },
    },
    alerts: {
      type: "object",
      additionalProperties: false,
      properties: { fast_burn: burnAlert, slow_burn: burnAlert },
    },
  },
};

interface RawBurnAlert {
  burn_rate?: number;
  long_window_s?: number;
  short_window_s?: number;
  severity?: "critical" | "warning";
}

interface RawErrorBudgets {
  objective?: number;
  period_days?: number;
  count_local_rejects?: boolean;
  persist_interval_s?: number;
  clusters?: Record<string, { objective: number }>;
  alerts?: { fast_burn?: RawBurnAlert; slow_burn?: RawBurnAlert };
}

/** The workbook's recommended pairs (for a 30-day 99.9 % SLO: 2 % of the budget in 1 h, 5 % in 6 h). */
export const DEFAULT_BURN_ALERTS: readonly BurnAlertSpec[] = [
  { name: "fast_burn", burnRate: 14.4, longWindowMs: 3_600_000, shortWindowMs: 300_000, severity: "critical" },
  { name: "slow_burn", burnRate: 6, longWindowMs: 21_600_000, shortWindowMs: 1_800_000, severity: "warning" },
];

const DEFAULT_PERIOD_DAYS = 30;
const DEFAULT_PERSIST_INTERVAL_S = 300;

/** The settings of an `error_budgets` section (undefined when absent), or every problem. */
export function readErrorBudgets(
  raw: unknown,
  clusters: readonly ClusterSpec[],
  defaultObjective: number,
): { settings: ErrorBudgetSettings | undefined; problems: string[] } {
  if (raw === undefined || raw === null) return { settings: undefined, problems: [] };
  const problems = schemaProblems(ERROR_BUDGETS_SCHEMA, raw, "error_budgets");
  if (problems.length > 0) return { settings: undefined, problems };
  const r = raw as RawErrorBudgets;
  const names = new Set(clusters.map((c) => c.name));
  if (names.has(MESH_SCOPE)) problems.push(`clusters: a cluster named ${JSON.stringify(MESH_SCOPE)} cannot have an error budget (the name is the mesh-wide scope's)`);
  const clusterObjectives = new Map<string, number>();
  for (const [name, entry] of Object.entries(r.clusters ?? {})) {
    if (!names.has(name)) problems.push(`error_budgets.clusters.${name}: unknown cluster; configured: ${[...names].join(", ")}`);
    else clusterObjectives.set(name, entry.objective);
  }
  const alerts = DEFAULT_BURN_ALERTS.map((d): BurnAlertSpec => {
    const given = r.alerts?.[d.name as "fast_burn" | "slow_burn"] ?? {};
    const spec = {
      name: d.name,
      burnRate: given.burn_rate ?? d.burnRate,
      longWindowMs: given.long_window_s === undefined ? d.longWindowMs : given.long_window_s * 1000,
      shortWindowMs: given.short_window_s === undefined ? d.shortWindowMs : given.short_window_s * 1000,
      severity: given.severity ?? d.severity,
    };
    if (spec.shortWindowMs >= spec.longWindowMs) {
      problems.push(`error_budgets.alerts.${d.name}: short_window_s (${spec.shortWindowMs / 1000}) must be below long_window_s (${spec.longWindowMs / 1000})`);
    }
    return spec;
  });
  const periodMs = (r.period_days ?? DEFAULT_PERIOD_DAYS) * 86_400_000;
  for (const a of alerts) {
    if (a.longWindowMs > periodMs) problems.push(`error_budgets.alerts.${a.name}.long_window_s: must not exceed the period (${periodMs / 1000} s)`);
  }
  if (problems.length > 0) return { settings: undefined, problems };
  return {
    settings: {
      objective: r.objective ?? defaultObjective,
      clusterObjectives,
      periodMs,
      alerts,
      countLocalRejects: r.count_local_rejects ?? true,
      persistIntervalMs: (r.persist_interval_s ?? DEFAULT_PERSIST_INTERVAL_S) * 1000,
    },
    problems: [],
  };
}
