// Turns a parsed configuration document (YAML or JSON, snake_case keys) into a validated
// ControlPlaneConfig, or a ConfigError listing every problem of the file at once:
//   1. every section's JSON Schema (./schema/), all violations, each by its dotted path;
//   2. the typed reading, with defaults, of what the schemas let through (bad values are left out,
//      so one mistake is reported once), and the checks across fields (tokens against
//      non-loopback hosts, duplicate clusters, detector.n <= detector.m, ...);
//   3. the sections read by their own modules, each with its own JSON Schema and cross-checks
//      (alerts: ../alerts/config-schema.ts; triggers: ./triggers.ts; etcd: ./etcd.ts;
//      error_budgets: ./error-budgets.ts; admin.export's cross-check: ./export-limits.ts).
import { DEFAULT_CONFIG, coreConfigProblems, type BreakerConfig, type CoreConfig, type DetectorConfig, type SourcesConfig } from "../core/config.js";
import type { ClusterSpec, Slo } from "../core/types.js";
import { readAlertsConfig } from "../alerts/config-schema.js";
import { DEFAULTS } from "./defaults.js";
import { readEtcdSection } from "./etcd.js";
import { describe, isObject, type Obj } from "./fields.js";
import { isLoopbackHost } from "./loopback.js";
import { schemaFindings, snakeCase, textWithValue, type SchemaFinding } from "./schema-problems.js";
import { coreParamKeys } from "./schema/core-params.js";
import { DOCUMENT_SCHEMA } from "./schema/index.js";
import { readTriggers } from "./triggers.js";
import { readErrorBudgets } from "./error-budgets.js";
import { readExportLimits } from "./export-limits.js";
import type { ControlPlaneConfig, TlsConfig } from "./types.js";

/** Every problem of a configuration, one line per field. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[], readonly source = "configuration") {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Validates `raw`. `labels` maps dotted paths to where a value came from (an env variable), so
 * messages can say so.
 */
export function validateConfig(raw: unknown, labels: ReadonlyMap<string, string> = new Map()): ControlPlaneConfig {
  // An empty YAML section (`grpc:` with everything below commented out) reads as null: the defaults.
  const doc = raw === undefined || raw === null ? {} : isObject(raw) ? Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null)) : raw;
  const findings = schemaFindings(DOCUMENT_SCHEMA, doc);
  const problems = findings.map((finding) => labelled(finding, labels));
  const fail = (path: string, message: string): void => {
    const source = labels.get(path);
    problems.push(`${path}${source === undefined ? "" : ` (from ${source})`}: ${message}`);
  };
  const root = withoutBadValues(doc, findings);
  const section = (key: string): Obj => (isObject(root[key]) ? root[key] : {});

  const grpcIn = section("grpc");
  const grpcTls = readTls(grpcIn.tls);
  const grpc = {
    host: or(grpcIn.host, DEFAULTS.host),
    port: or(grpcIn.port, DEFAULTS.grpcPort),
    token: or(grpcIn.token, ""),
    allowUnauthenticatedNonLoopback: or(grpcIn.allow_unauthenticated_non_loopback, false),
    ...(grpcTls === undefined ? {} : { tls: grpcTls }),
  };
  if (grpc.token === "" && !grpc.allowUnauthenticatedNonLoopback && !isLoopbackHost(grpc.host)) {
    fail(
      "grpc.host",
      `${describe(grpc.host)} is not a loopback address and grpc.token is empty, so any host could stream to the control plane; ` +
        "set grpc.token, or grpc.allow_unauthenticated_non_loopback: true to accept that",
    );
  }

  const adminIn = section("admin");
  const adminTls = readTls(adminIn.tls);
  // admin.export's schema is part of the admin section's (./schema/admin.ts); what is left here is
  // its defaults and the check across its fields.
  const exportLimits = readExportLimits(adminIn.export);
  problems.push(...exportLimits.problems);
  const admin = {
    host: or(adminIn.host, DEFAULTS.host),
    port: or(adminIn.port, DEFAULTS.adminPort),
    token: or(adminIn.token, ""),
    readToken: or(adminIn.read_token, ""),
    allowUnauthenticatedNonLoopback: or(adminIn.allow_unauthenticated_non_loopback, false),
    ...(adminTls === undefined ? {} : { tls: adminTls }),
    export: exportLimits.limits,
  };
  if (admin.readToken !== "" && admin.readToken === admin.token) {
    fail("admin.read_token", "must differ from admin.token (the read token must not be able to write)");
  }
  if (admin.token === "" && admin.readToken === "" && !admin.allowUnauthenticatedNonLoopback && !isLoopbackHost(admin.host)) {
    fail(
      "admin.host",
      `${describe(admin.host)} is not a loopback address and neither admin.token nor admin.read_token is set, so anyone on the ` +
        "network could read the state and the audit log; set a token, or admin.allow_unauthenticated_non_loopback: true to accept that",
    );
  }

  const xdsIn = section("xds");
  const xds = {
    enabled: or(xdsIn.enabled, false),
    host: or(xdsIn.host, DEFAULTS.host),
    port: or(xdsIn.port, DEFAULTS.xdsPort),
    allowUnauthenticatedNonLoopback: or(xdsIn.allow_unauthenticated_non_loopback, false),
    hostEjection: or(xdsIn.host_ejection, false),
  };
  // The xDS server has no authentication of its own (Envoys and proxyless clients connect to it
  // as to any ADS server): off loopback it serves every decision to anyone who asks.
  if (xds.enabled && !xds.allowUnauthenticatedNonLoopback && !isLoopbackHost(xds.host)) {
    fail(
      "xds.host",
      `${describe(xds.host)} is not a loopback address and the xDS server has no authentication, so any host could read the routes; ` +
        "keep it on loopback (behind a proxy that authenticates), or set xds.allow_unauthenticated_non_loopback: true to accept that",
    );
  }

  const clusters: ClusterSpec[] = [];
  const seen = new Set<string>();
  (Array.isArray(root.clusters) ? (root.clusters as unknown[]) : []).forEach((item, i) => {
    if (!isObject(item) || typeof item.name !== "string") return;
    if (seen.has(item.name)) fail(`clusters[${i}].name`, `duplicate cluster ${describe(item.name)}`);
    seen.add(item.name);
    clusters.push({ name: item.name, baseWeight: or(item.base_weight, 1) });
  });

  const sloIn = section("slo");
  const slo: Slo = {
    latencyMs: or(sloIn.latency_ms, DEFAULTS.sloLatencyMs),
    successRate: or(sloIn.success_rate, DEFAULTS.sloSuccessRate),
    ...(typeof sloIn.ttft_ms === "number" ? { ttftMs: sloIn.ttft_ms } : {}),
    ...(typeof sloIn.tpot_ms === "number" ? { tpotMs: sloIn.tpot_ms } : {}),
  };

  const detector = coreParams<DetectorConfig>("detector", section("detector"));
  const breaker = coreParams<BreakerConfig>("breaker", section("breaker"));
  const sources = coreParams<SourcesConfig>("sources", section("sources"));
  // Ranges were checked by the schemas; what is left are relations (detector.n <= detector.m, ...).
  const core: CoreConfig = {
    ...DEFAULT_CONFIG,
    detector: { ...DEFAULT_CONFIG.detector, ...detector },
    breaker: { ...DEFAULT_CONFIG.breaker, ...breaker },
    sources: { ...DEFAULT_CONFIG.sources, ...sources },
  };
  problems.push(...coreConfigProblems(core, (s, key) => `${s}.${snakeCase(key)}`));

  const modelPath = or<string | undefined>(section("model").path, undefined);
  const auditIn = section("audit");
  const auditDir = or<string | undefined>(auditIn.dir, undefined);
  const audit = {
    rotateBytes: or(auditIn.rotate_bytes, DEFAULTS.auditRotateBytes),
    snapshots: {
      maxBytes: or(auditIn.snapshot_max_bytes, DEFAULTS.snapshotMaxBytes),
      maxFiles: or(auditIn.snapshot_max_files, DEFAULTS.snapshotMaxFiles),
      windowsBefore: or(auditIn.snapshot_windows_before, DEFAULTS.snapshotWindowsBefore),
      windowsAfter: or(auditIn.snapshot_windows_after, DEFAULTS.snapshotWindowsAfter),
    },
    ...(auditDir === undefined ? {} : { dir: auditDir }),
  };

  const halt = { confirmWaitS: or(section("halt").confirm_wait_s, 30) };

  const own = (key: string): unknown => (isObject(doc) ? doc[key] : undefined);
  const alerts = readAlertsConfig(own("alerts"), labels);
  problems.push(...alerts.problems);
  const triggers = readTriggers(own("triggers"), clusters);
  problems.push(...triggers.problems);
  const { etcd, problems: etcdProblems } = readEtcdSection(own("etcd"));
  problems.push(...etcdProblems);
  // Error budgets: JSON Schema and checks in ./error-budgets.ts; the objective defaults to the SLO's.
  const errorBudgets = readErrorBudgets(own("error_budgets"), clusters, slo.successRate);
  problems.push(...errorBudgets.problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    grpc,
    admin,
    xds,
    clusters,
    slo,
    detector,
    breaker,
    sources,
    model: modelPath === undefined ? {} : { path: modelPath },
    audit,
    alerts: alerts.config,
    triggers: triggers.rules,
    halt,
    ...(etcd === undefined ? {} : { etcd }),
    ...(errorBudgets.settings === undefined ? {} : { errorBudgets: errorBudgets.settings }),
  };
}

/** A value the schema let through, or `fallback` when the file has none. */
function or<T>(value: unknown, fallback: T): T {
  return value === undefined ? fallback : (value as T);
}

/** A schema-checked `tls` object; undefined when absent or incomplete (the schema said why). */
function readTls(value: unknown): TlsConfig | undefined {
  if (!isObject(value) || typeof value.cert_file !== "string" || typeof value.key_file !== "string") return undefined;
  return typeof value.ca_file === "string"
    ? { certFile: value.cert_file, keyFile: value.key_file, caFile: value.ca_file }
    : { certFile: value.cert_file, keyFile: value.key_file };
}

/** The file's snake_case parameters of a core section under the core's camelCase names. */
function coreParams<T>(name: "detector" | "breaker" | "sources", values: Obj): Partial<T> {
  const keys = coreParamKeys(name);
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(values)) {
    const coreKey = keys.get(key);
    if (coreKey !== undefined && typeof value === "number") out[coreKey] = value;
  }
  return out as Partial<T>;
}

/** A schema problem with the environment variable its value came from, if any. */
function labelled(finding: SchemaFinding, labels: ReadonlyMap<string, string>): string {
  const source = labels.get(finding.path);
  const text = textWithValue(finding);
  return source === undefined ? text : `${finding.path} (from ${source})${text.slice(finding.path.length)}`;
}

/** A copy of `doc` without the values the schema refused (a bad root gives {}). */
function withoutBadValues(doc: unknown, findings: readonly SchemaFinding[]): Obj {
  if (!isObject(doc)) return {};
  const copy = structuredClone(doc);
  for (const { at } of findings) {
    if (at === undefined) continue;
    if (at.length === 0) return {};
    let node: unknown = copy;
    for (const step of at.slice(0, -1)) node = isObject(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[step] : undefined;
    const last = at[at.length - 1]!;
    if (Array.isArray(node) && typeof last === "number") node[last] = undefined;
    else if (isObject(node)) delete node[String(last)];
  }
  return copy;
}
