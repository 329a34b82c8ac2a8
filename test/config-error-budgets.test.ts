// The `error_budgets` and `admin.export` sections of the control plane's configuration
// (control-plane/src/config/error-budgets.ts, export-limits.ts): JSON Schema problems named by
// their dotted paths, checks against the clusters, defaults, and the hook in validateConfig.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { DEFAULT_BURN_ALERTS, ERROR_BUDGETS_SCHEMA, readErrorBudgets } from "../control-plane/src/config/error-budgets.js";
import { DEFAULT_EXPORT_LIMITS, EXPORT_LIMITS_SCHEMA, readExportLimits } from "../control-plane/src/config/export-limits.js";
import { parseConfigText } from "../control-plane/src/config/load.js";
import { ConfigError, validateConfig } from "../control-plane/src/config/validate.js";

const CLUSTERS = [{ name: "llm-a", baseWeight: 1 }, { name: "llm-b", baseWeight: 1 }];

describe("error budgets are configured with defaults filled in", () => {
  it("an empty section: the SLO's success rate over 30 days, the workbook's burn alerts", () => {
    const { settings, problems } = readErrorBudgets({}, CLUSTERS, 0.995);
    assert.deepEqual(problems, []);
    assert.equal(settings!.objective, 0.995);
    assert.equal(settings!.periodMs, 30 * 86_400_000);
    assert.deepEqual(settings!.alerts, DEFAULT_BURN_ALERTS);
    assert.deepEqual([settings!.countLocalRejects, settings!.persistIntervalMs], [true, 300_000]);
  });

  it("every key given", () => {
    const { settings, problems } = readErrorBudgets(
      {
        objective: 0.999,
        period_days: 7,
        count_local_rejects: false,
        persist_interval_s: 60,
        clusters: { "llm-a": { objective: 0.95 } },
        alerts: { fast_burn: { burn_rate: 10, long_window_s: 1800, short_window_s: 120 }, slow_burn: { severity: "critical" } },
      },
      CLUSTERS,
      0.99,
    );
    assert.deepEqual(problems, []);
    assert.equal(settings!.objective, 0.999);
    assert.deepEqual([...settings!.clusterObjectives], [["llm-a", 0.95]]);
    assert.deepEqual(settings!.alerts[0], { name: "fast_burn", burnRate: 10, longWindowMs: 1_800_000, shortWindowMs: 120_000, severity: "critical" });
    assert.deepEqual(settings!.alerts[1], { ...DEFAULT_BURN_ALERTS[1], severity: "critical" });
    assert.deepEqual([settings!.periodMs, settings!.countLocalRejects, settings!.persistIntervalMs], [7 * 86_400_000, false, 60_000]);
  });

  it("no section: no error budgets", () => {
    assert.deepEqual(readErrorBudgets(undefined, CLUSTERS, 0.99), { settings: undefined, problems: [] });
  });
});

describe("bad error budget settings are refused, each named by its path", () => {
  const cases: [string, unknown, string[]][] = [
    ["not an object", 0.99, ["error_budgets: must be object"]],
    ["an objective of 1 leaves no budget", { objective: 1 }, ["error_budgets.objective: must be < 1"]],
    ["an unknown key", { objectve: 0.99 }, ["error_budgets.objectve: unknown field"]],
    ["a fractional period", { period_days: 1.5 }, ["error_budgets.period_days: must be integer"]],
    ["an unknown cluster", { clusters: { "llm-z": { objective: 0.9 } } }, ["error_budgets.clusters.llm-z: unknown cluster; configured: llm-a, llm-b"]],
    ["an alert other than fast_burn and slow_burn", { alerts: { medium_burn: {} } }, ["error_budgets.alerts.medium_burn: unknown field"]],
    ["a short window not shorter than the long one", { alerts: { slow_burn: { short_window_s: 21600 } } }, ["error_budgets.alerts.slow_burn: short_window_s (21600) must be below long_window_s (21600)"]],
    ["a window longer than the period", { period_days: 1, alerts: { slow_burn: { long_window_s: 172800 } } }, ["error_budgets.alerts.slow_burn.long_window_s: must not exceed the period (86400 s)"]],
    ["a window below a minute", { alerts: { fast_burn: { short_window_s: 30 } } }, ["error_budgets.alerts.fast_burn.short_window_s: must be >= 60"]],
  ];
  for (const [name, raw, problems] of cases) {
    it(name, () => assert.deepEqual(readErrorBudgets(raw, CLUSTERS, 0.99).problems, problems));
  }
  it("a cluster called mesh (the mesh-wide scope's name) is refused", () => {
    assert.deepEqual(readErrorBudgets({}, [{ name: "mesh", baseWeight: 1 }], 0.99).problems, [
      'clusters: a cluster named "mesh" cannot have an error budget (the name is the mesh-wide scope\'s)',
    ]);
  });
});

describe("audit export limits", () => {
  it("defaults when admin.export is absent, given values otherwise", () => {
    assert.deepEqual(readExportLimits(undefined), { limits: DEFAULT_EXPORT_LIMITS, problems: [] });
    assert.deepEqual(readExportLimits({ max_concurrent: 8, max_concurrent_per_client: 1, bytes_per_second: 4096, burst_bytes: 2048, retry_after_s: 30 }), {
      limits: { maxConcurrent: 8, maxConcurrentPerClient: 1, bytesPerSecond: 4096, burstBytes: 2048, retryAfterS: 30 },
      problems: [],
    });
  });
  const cases: [string, unknown, string[]][] = [
    ["zero concurrent exports", { max_concurrent: 0 }, ["admin.export.max_concurrent: must be >= 1"]],
    ["a rate below 1 KiB/s", { bytes_per_second: 10 }, ["admin.export.bytes_per_second: must be >= 1024"]],
    ["an unknown key", { rate: 1 }, ["admin.export.rate: unknown field"]],
    ["more per client than in all", { max_concurrent: 2, max_concurrent_per_client: 3 }, ["admin.export.max_concurrent_per_client: must not exceed max_concurrent (2)"]],
  ];
  for (const [name, raw, problems] of cases) it(`refused: ${name}`, () => assert.deepEqual(readExportLimits(raw).problems, problems));
});

describe("validateConfig reads both sections", () => {
  it("error_budgets and admin.export reach the validated configuration", () => {
    const config = validateConfig({ clusters: [{ name: "llm-a" }], slo: { success_rate: 0.98 }, error_budgets: { period_days: 14 }, admin: { export: { max_concurrent: 3 } } });
    assert.equal(config.errorBudgets!.objective, 0.98);
    assert.equal(config.errorBudgets!.periodMs, 14 * 86_400_000);
    assert.equal(config.admin.export.maxConcurrent, 3);
    assert.equal(validateConfig({ clusters: [{ name: "llm-a" }] }).errorBudgets, undefined);
  });
  it("their problems are listed with the others'", () => {
    assert.throws(
      () => validateConfig({ clusters: [{ name: "llm-a" }], error_budgets: { objective: 2 }, admin: { export: { burst_bytes: "1M" } } }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.includes("error_budgets.objective: must be < 1") &&
        e.problems.includes(`admin.export.burst_bytes: must be integer, got "1M"`),
    );
  });
});

describe("the README's examples", () => {
  const blocks = [...readFileSync("README.md", "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  it("the error_budgets and admin.export examples are a valid configuration with every key set", () => {
    const budgets = blocks.find((b) => b.startsWith("error_budgets:"));
    const exportBlock = blocks.find((b) => b.startsWith("admin:\n  export:"));
    assert.ok(budgets !== undefined && exportBlock !== undefined, "the README has both examples");
    const doc = { clusters: [{ name: "llm-a" }], ...(parseConfigText(budgets, "readme.yaml") as object), ...(parseConfigText(exportBlock, "readme.yaml") as object) };
    const config = validateConfig(doc);
    assert.equal(config.errorBudgets!.clusterObjectives.get("llm-a"), 0.995);
    assert.deepEqual(config.errorBudgets!.alerts, DEFAULT_BURN_ALERTS);
    assert.deepEqual(config.admin.export, DEFAULT_EXPORT_LIMITS);
    for (const key of Object.keys(ERROR_BUDGETS_SCHEMA.properties as object)) assert.match(budgets, new RegExp(`^  ${key}:`, "m"), `the example shows ${key}`);
    for (const key of Object.keys(EXPORT_LIMITS_SCHEMA.properties as object)) assert.match(exportBlock, new RegExp(`^    ${key}:`, "m"), `the example shows ${key}`);
  });
});
