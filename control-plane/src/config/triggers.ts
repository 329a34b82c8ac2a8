// The `triggers` section of the control plane's configuration: a list of rules (core/triggers/)
// checked against a JSON Schema (every violation reported by its dotted path, ./schema-problems.ts)
// and then against the configured clusters. Example (YAML):
//
//   triggers:
//     - name: mesh-p99
//       when: { metric: p99_ms, above: 5000 }          # scope: mesh by default
//       for_s: 30
//       action: { halt: true }
//       clear: manual                                  # or auto (the default), after clear_after_s
//     - name: llm-a-cpu
//       when: { metric: cpu_utilization, scope: llm-a, above: 0.95, statistic: max }
//       for_s: 10
//       action: { shed: 0.5 }                          # of llm-a's requests (the scope's cluster)
//       clear_after_s: 30
//     - name: llm-b-errors
//       when: { metric: error_rate, scope: llm-b, above: 0.2 }
//       for_s: 5
//       action: { open: llm-b }
//     - name: banned-output
//       when: { metric: banned_output, scope: llm-c, above: 0 }   # any response cut for it
//       for_s: 0
//       action: { open: llm-c }
//       clear: manual
//     - name: llm-a-abuse
//       when: { metric: error_rate, scope: llm-a, above: 0.3 }
//       for_s: 10
//       action: { limit_source: { cap_per_s: 50, ttl_s: 600 } }   # the top flagged source, or
//                                                   # { source: "10.0.0.7", deny: true, ttl_s: 600 }
import type { ClusterSpec } from "../core/types.js";
import { TRIGGER_METRICS, type TriggerAction, type TriggerRule } from "../core/triggers/types.js";
import { MAX_SOURCE_CHARS, MAX_SOURCE_LIMIT_TTL_MS } from "../core/sources/source-limits.js";
import { schemaProblems, type JsonSchema } from "./schema-problems.js";

/** Rule names: also a path segment of the admin API. */
const NAME = "^[a-z0-9][a-z0-9_-]{0,62}$";

export const TRIGGERS_SCHEMA: JsonSchema = {
  type: "array",
  maxItems: 64,
  items: {
    type: "object",
    additionalProperties: false,
    required: ["name", "when", "action"],
    properties: {
      name: { type: "string", pattern: NAME },
      when: {
        type: "object",
        additionalProperties: false,
        required: ["metric", "above"],
        properties: {
          metric: { enum: [...TRIGGER_METRICS] },
          scope: { type: "string", minLength: 1, maxLength: 63 },
          above: { type: "number", minimum: 0 },
          statistic: { enum: ["mean", "max"] },
        },
      },
      for_s: { type: "number", minimum: 0, maximum: 86_400 },
      action: {
        type: "object",
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 2,
        properties: {
          halt: { const: true },
          open: { type: "string", minLength: 1, maxLength: 63 },
          shed: { type: "number", exclusiveMinimum: 0, maximum: 1 },
          cluster: { type: "string", minLength: 1, maxLength: 63 },
          limit_source: {
            type: "object",
            additionalProperties: false,
            required: ["ttl_s"],
            properties: {
              source: { type: "string", maxLength: MAX_SOURCE_CHARS },
              deny: { const: true },
              cap_per_s: { type: "number", exclusiveMinimum: 0 },
              ttl_s: { type: "integer", minimum: 1, maximum: MAX_SOURCE_LIMIT_TTL_MS / 1000 },
            },
          },
        },
      },
      clear: { enum: ["auto", "manual"] },
      clear_after_s: { type: "number", minimum: 0, maximum: 86_400 },
    },
  },
};

interface RawRule {
  name: string;
  when: { metric: TriggerRule["condition"]["metric"]; scope?: string; above: number; statistic?: "mean" | "max" };
  for_s?: number;
  action: { halt?: true; open?: string; shed?: number; cluster?: string; limit_source?: { source?: string; deny?: true; cap_per_s?: number; ttl_s: number } };
  clear?: "auto" | "manual";
  clear_after_s?: number;
}

/** Default hold and clearing time, seconds. */
const DEFAULT_FOR_S = 30;

/** The rules of a `triggers` section (undefined: none), or every problem, each by its path. */
export function readTriggers(raw: unknown, clusters: readonly ClusterSpec[]): { rules: TriggerRule[]; problems: string[] } {
  if (raw === undefined || raw === null) return { rules: [], problems: [] };
  const problems = schemaProblems(TRIGGERS_SCHEMA, raw, "triggers");
  if (problems.length > 0) return { rules: [], problems };
  const names = new Set(clusters.map((c) => c.name));
  const known = (path: string, name: string): void => {
    if (!names.has(name)) problems.push(`${path}: unknown cluster ${JSON.stringify(name)}; configured: ${[...names].join(", ")}`);
  };
  const seen = new Set<string>();
  const rules = (raw as RawRule[]).map((r, i): TriggerRule => {
    const at = `triggers[${i}]`;
    if (seen.has(r.name)) problems.push(`${at}.name: duplicate trigger ${JSON.stringify(r.name)}`);
    seen.add(r.name);
    const scope = r.when.scope ?? "mesh";
    if (scope !== "mesh") known(`${at}.when.scope`, scope);
    if (r.when.statistic !== undefined && (r.when.metric === "p99_ms" || r.when.metric === "error_rate" || r.when.metric === "banned_output")) {
      problems.push(`${at}.when.statistic: only for the upstream-load metrics (cpu_utilization, application_utilization, queue_size)`);
    }
    const a = r.action;
    const kinds = [a.halt !== undefined, a.open !== undefined, a.shed !== undefined, a.limit_source !== undefined].filter(Boolean).length;
    let action: TriggerAction = { kind: "halt" };
    if (kinds !== 1) problems.push(`${at}.action: expected exactly one of halt, open, shed, limit_source`);
    else if (a.cluster !== undefined && a.shed === undefined) problems.push(`${at}.action.cluster: only with shed`);
    else if (a.limit_source !== undefined) {
      const l = a.limit_source;
      if ((l.deny === undefined) === (l.cap_per_s === undefined)) {
        problems.push(`${at}.action.limit_source: expected exactly one of deny (true) or cap_per_s (requests per second over the mesh)`);
      }
      action = {
        kind: "limit_source",
        ...(l.source === undefined ? {} : { source: l.source }),
        deny: l.deny === true,
        ...(l.cap_per_s === undefined ? {} : { capPerS: l.cap_per_s }),
        ttlMs: l.ttl_s * 1000,
      };
    } else if (a.open !== undefined) {
      known(`${at}.action.open`, a.open);
      action = { kind: "open", cluster: a.open };
    } else if (a.shed !== undefined) {
      // A cluster-scoped rule sheds its cluster unless the action names another; a mesh rule the mesh.
      const cluster = a.cluster ?? (scope === "mesh" ? undefined : scope);
      if (a.cluster !== undefined) known(`${at}.action.cluster`, a.cluster);
      action = cluster === undefined ? { kind: "shed", fraction: a.shed } : { kind: "shed", fraction: a.shed, cluster };
    }
    const forS = r.for_s ?? DEFAULT_FOR_S;
    return {
      name: r.name,
      condition: { metric: r.when.metric, scope, above: r.when.above, statistic: r.when.statistic ?? "mean" },
      forMs: forS * 1000,
      action,
      clear: r.clear ?? "auto",
      clearAfterMs: (r.clear_after_s ?? forS) * 1000,
    };
  });
  if (problems.length > 0) return { rules: [], problems };
  return { rules, problems: [] };
}
