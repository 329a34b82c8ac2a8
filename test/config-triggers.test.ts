// The `triggers` section of the control plane's configuration (control-plane/src/config/triggers.ts):
// its JSON Schema reports every problem by its dotted path, then the rules are checked against
// the configured clusters, and defaults are filled in.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { readTriggers } from "../control-plane/src/config/triggers.js";
import { ConfigError, validateConfig } from "../control-plane/src/config/validate.js";

const CLUSTERS = [{ name: "llm-a", baseWeight: 1 }, { name: "llm-b", baseWeight: 1 }];

describe("valid trigger rules become the core's rules, with defaults", () => {
  it("a mesh halt with the defaults: held 30 s, clears by itself after 30 s", () => {
    const { rules, problems } = readTriggers([{ name: "mesh-p99", when: { metric: "p99_ms", above: 5000 }, action: { halt: true } }], CLUSTERS);
    assert.deepEqual(problems, []);
    assert.deepEqual(rules, [{
      name: "mesh-p99",
      condition: { metric: "p99_ms", scope: "mesh", above: 5000, statistic: "mean" },
      forMs: 30_000, action: { kind: "halt" }, clear: "auto", clearAfterMs: 30_000,
    }]);
  });

  const actions: [string, object, object][] = [
    ["a cluster-scoped shed sheds that cluster", { when: { metric: "cpu_utilization", scope: "llm-a", above: 0.95, statistic: "max" }, action: { shed: 0.5 } }, { kind: "shed", fraction: 0.5, cluster: "llm-a" }],
    ["a mesh-scoped shed sheds the mesh", { when: { metric: "queue_size", above: 40 }, action: { shed: 0.25 } }, { kind: "shed", fraction: 0.25 }],
    ["a shed may name another cluster", { when: { metric: "error_rate", scope: "llm-a", above: 0.2 }, action: { shed: 1, cluster: "llm-b" } }, { kind: "shed", fraction: 1, cluster: "llm-b" }],
    ["open names its cluster", { when: { metric: "error_rate", scope: "llm-b", above: 0.2 }, action: { open: "llm-b" } }, { kind: "open", cluster: "llm-b" }],
    ["a source limit may deny a named source, for its TTL", { when: { metric: "error_rate", above: 0.2 }, action: { limit_source: { source: "10.0.0.7", deny: true, ttl_s: 600 } } },
      { kind: "limit_source", source: "10.0.0.7", deny: true, ttlMs: 600_000 }],
    ["a source limit without a source caps the top flagged one", { when: { metric: "p99_ms", scope: "llm-a", above: 900 }, action: { limit_source: { cap_per_s: 50, ttl_s: 60 } } },
      { kind: "limit_source", deny: false, capPerS: 50, ttlMs: 60_000 }],
  ];
  for (const [name, rule, action] of actions) {
    it(name, () => {
      const { rules, problems } = readTriggers([{ name: "r", for_s: 10, clear: "manual", ...rule }], CLUSTERS);
      assert.deepEqual(problems, []);
      assert.deepEqual(rules[0]!.action, action);
      assert.deepEqual([rules[0]!.forMs, rules[0]!.clear, rules[0]!.clearAfterMs], [10_000, "manual", 10_000]);
    });
  }

  it("no section means no rules", () => {
    assert.deepEqual(readTriggers(undefined, CLUSTERS), { rules: [], problems: [] });
  });
});

describe("bad trigger rules are refused, every problem named by its path", () => {
  const cases: [string, unknown, string[]][] = [
    ["not a list", { name: "x" }, ["triggers: must be array"]],
    [
      "schema problems of several rules at once",
      [
        { name: "Bad Name", when: { metric: "p50_ms", above: -1 }, action: { halt: true }, for_s: -5 },
        { name: "ok", when: { metric: "p99_ms", above: 1 }, action: { shed: 0 }, extra: 1 },
      ],
      [
        "triggers[0].name: must match pattern \"^[a-z0-9][a-z0-9_-]{0,62}$\"",
        "triggers[0].when.metric: must be equal to one of the allowed values",
        "triggers[0].when.above: must be >= 0",
        "triggers[0].for_s: must be >= 0",
        "triggers[1].extra: unknown field",
        "triggers[1].action.shed: must be > 0",
      ],
    ],
    ["a missing condition and action", [{ name: "x" }], ["triggers[0].when: required", "triggers[0].action: required"]],
    [
      "unknown clusters, two actions, a duplicate name, a statistic on p99",
      [
        { name: "x", when: { metric: "p99_ms", scope: "llm-z", above: 1, statistic: "max" }, action: { open: "llm-y" } },
        { name: "x", when: { metric: "p99_ms", above: 1 }, action: { halt: true, shed: 0.5 } },
        { name: "y", when: { metric: "p99_ms", above: 1 }, action: { open: "llm-a", cluster: "llm-b" } },
      ],
      [
        "triggers[0].when.scope: unknown cluster \"llm-z\"; configured: llm-a, llm-b",
        "triggers[0].when.statistic: only for the upstream-load metrics (cpu_utilization, application_utilization, queue_size)",
        "triggers[0].action.open: unknown cluster \"llm-y\"; configured: llm-a, llm-b",
        "triggers[1].name: duplicate trigger \"x\"",
        "triggers[1].action: expected exactly one of halt, open, shed, limit_source",
        "triggers[2].action.cluster: only with shed",
      ],
    ],
    [
      "source limits without a TTL, or with a cap or TTL out of range (the schema)",
      [
        { name: "c", when: { metric: "p99_ms", above: 1 }, action: { limit_source: { deny: true } } },
        { name: "e", when: { metric: "p99_ms", above: 1 }, action: { limit_source: { cap_per_s: 0, ttl_s: 604_801 } } },
      ],
      [
        "triggers[0].action.limit_source.ttl_s: required",
        "triggers[1].action.limit_source.cap_per_s: must be > 0",
        "triggers[1].action.limit_source.ttl_s: must be <= 604800",
      ],
    ],
    [
      "source limits that deny and cap at once, do neither, or name a cluster (after the schema)",
      [
        { name: "a", when: { metric: "p99_ms", above: 1 }, action: { limit_source: { deny: true, cap_per_s: 5, ttl_s: 60 } } },
        { name: "b", when: { metric: "p99_ms", above: 1 }, action: { limit_source: { source: "x", ttl_s: 60 } } },
        { name: "d", when: { metric: "p99_ms", above: 1 }, action: { limit_source: { deny: true, ttl_s: 60 }, cluster: "llm-a" } },
      ],
      [
        "triggers[0].action.limit_source: expected exactly one of deny (true) or cap_per_s (requests per second over the mesh)",
        "triggers[1].action.limit_source: expected exactly one of deny (true) or cap_per_s (requests per second over the mesh)",
        "triggers[2].action.cluster: only with shed",
      ],
    ],
  ];
  for (const [name, raw, problems] of cases) {
    it(name, () => {
      const result = readTriggers(raw, CLUSTERS);
      assert.deepEqual([...result.problems].sort(), [...problems].sort());
      assert.deepEqual(result.rules, []);
    });
  }

  it("the control plane's configuration carries the rules, or fails naming the trigger's field", () => {
    const base = { clusters: [{ name: "llm-a", base_weight: 1 }] };
    assert.equal(validateConfig({ ...base, triggers: [{ name: "t", when: { metric: "p99_ms", above: 1 }, action: { halt: true } }] }).triggers.length, 1);
    assert.deepEqual(validateConfig(base).triggers, []);
    assert.throws(() => validateConfig({ ...base, triggers: [{ name: "t", when: { metric: "p99_ms", above: 1 }, action: { open: "llm-x" } }] }),
      (err: unknown) => err instanceof ConfigError && err.problems.includes("triggers[0].action.open: unknown cluster \"llm-x\"; configured: llm-a"));
  });
});
