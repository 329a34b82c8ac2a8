// Turns a parsed configuration document (YAML or JSON, snake_case keys) into a validated
// ControlPlaneConfig, or a ConfigError listing every bad field by its dotted path.
import { FieldReader, describe, isObject } from "./fields.js";
import type { ClusterSpec } from "../core/types.js";
import { isLoopbackHost } from "./loopback.js";
import { readAlertsConfig } from "../alerts/config-schema.js";
import type { ControlPlaneConfig, TlsConfig } from "./types.js";
import { readTriggers } from "./triggers.js";

/** Every problem of a configuration, one line per field. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[], readonly source = "configuration") {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

export const DEFAULTS = {
  host: "127.0.0.1",
  grpcPort: 50051,
  adminPort: 18081,
  xdsPort: 18000,
  sloLatencyMs: 2000,
  sloSuccessRate: 0.99,
  auditRotateBytes: 64 * 1024 * 1024,
  snapshotMaxBytes: 64 * 1024 * 1024,
  snapshotMaxFiles: 200,
  snapshotWindowsBefore: 10,
  snapshotWindowsAfter: 5,
} as const;

const PORT_MAX = 65535;
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * Validates `raw`. `labels` maps dotted paths to where a value came from (an env variable), so
 * messages can say so.
 */
export function validateConfig(raw: unknown, labels: ReadonlyMap<string, string> = new Map()): ControlPlaneConfig {
  const r = new FieldReader(labels);
  const root = isObject(raw) ? raw : {};
  if (!isObject(raw) && raw !== undefined && raw !== null) {
    throw new ConfigError([`(top level): expected an object, got ${describe(raw)}`]);
  }
  r.unknownKeys(root, "", ["grpc", "admin", "xds", "clusters", "slo", "detector", "breaker", "model", "audit", "alerts", "triggers"]);

  const grpcIn = r.section(root, "grpc", "grpc", ["host", "port", "tls", "token", "allow_unauthenticated_non_loopback"]);
  const grpcTls = readTls(r, grpcIn, "grpc.tls", true);
  const grpc = {
    host: r.string(grpcIn, "host", "grpc.host", DEFAULTS.host, false),
    port: r.int(grpcIn, "port", "grpc.port", 0, PORT_MAX, DEFAULTS.grpcPort),
    token: r.string(grpcIn, "token", "grpc.token", ""),
    allowUnauthenticatedNonLoopback: r.boolean(grpcIn, "allow_unauthenticated_non_loopback", "grpc.allow_unauthenticated_non_loopback", false),
    ...(grpcTls === undefined ? {} : { tls: grpcTls }),
  };
  if (grpc.token === "" && !grpc.allowUnauthenticatedNonLoopback && !isLoopbackHost(grpc.host)) {
    r.fail(
      "grpc.host",
      `${describe(grpc.host)} is not a loopback address and grpc.token is empty, so any host could stream to the control plane; ` +
        "set grpc.token, or grpc.allow_unauthenticated_non_loopback: true to accept that",
    );
  }

  const adminIn = r.section(root, "admin", "admin", ["host", "port", "token", "read_token", "tls", "allow_unauthenticated_non_loopback"]);
  const adminTls = readTls(r, adminIn, "admin.tls", false);
  const admin = {
    host: r.string(adminIn, "host", "admin.host", DEFAULTS.host, false),
    port: r.int(adminIn, "port", "admin.port", 0, PORT_MAX, DEFAULTS.adminPort),
    token: r.string(adminIn, "token", "admin.token", ""),
    readToken: r.string(adminIn, "read_token", "admin.read_token", ""),
    allowUnauthenticatedNonLoopback: r.boolean(adminIn, "allow_unauthenticated_non_loopback", "admin.allow_unauthenticated_non_loopback", false),
    ...(adminTls === undefined ? {} : { tls: adminTls }),
  };
  if (admin.readToken !== "" && admin.readToken === admin.token) {
    r.fail("admin.read_token", "must differ from admin.token (the read token must not be able to write)");
  }
  if (admin.token === "" && admin.readToken === "" && !admin.allowUnauthenticatedNonLoopback && !isLoopbackHost(admin.host)) {
    r.fail(
      "admin.host",
      `${describe(admin.host)} is not a loopback address and neither admin.token nor admin.read_token is set, so anyone on the ` +
        "network could read the state and the audit log; set a token, or admin.allow_unauthenticated_non_loopback: true to accept that",
    );
  }

  const xdsIn = r.section(root, "xds", "xds", ["enabled", "host", "port", "allow_unauthenticated_non_loopback"]);
  const xds = {
    enabled: r.boolean(xdsIn, "enabled", "xds.enabled", false),
    host: r.string(xdsIn, "host", "xds.host", DEFAULTS.host, false),
    port: r.int(xdsIn, "port", "xds.port", 0, PORT_MAX, DEFAULTS.xdsPort),
    allowUnauthenticatedNonLoopback: r.boolean(xdsIn, "allow_unauthenticated_non_loopback", "xds.allow_unauthenticated_non_loopback", false),
  };
  // The xDS server has no authentication of its own (Envoys and proxyless clients connect to it
  // as to any ADS server): off loopback it serves every decision to anyone who asks.
  if (xds.enabled && !xds.allowUnauthenticatedNonLoopback && !isLoopbackHost(xds.host)) {
    r.fail(
      "xds.host",
      `${describe(xds.host)} is not a loopback address and the xDS server has no authentication, so any host could read the routes; ` +
        "keep it on loopback (behind a proxy that authenticates), or set xds.allow_unauthenticated_non_loopback: true to accept that",
    );
  }

  const clusters: ClusterSpec[] = [];
  const clusterItems = r.list(root, "clusters", "clusters");
  if (root.clusters === undefined) r.fail("clusters", "required: a list of { name, base_weight }");
  else if (Array.isArray(root.clusters) && clusterItems.length === 0) r.fail("clusters", "expected at least one cluster");
  const seen = new Set<string>();
  clusterItems.forEach((item, i) => {
    const path = `clusters[${i}]`;
    if (!isObject(item)) {
      r.fail(path, `expected an object { name, base_weight }, got ${describe(item)}`);
      return;
    }
    r.unknownKeys(item, path, ["name", "base_weight"]);
    const name = r.string(item, "name", `${path}.name`, "", false);
    if (item.name === undefined) r.fail(`${path}.name`, "required");
    else if (name !== "" && !CLUSTER_NAME.test(name)) {
      r.fail(`${path}.name`, `expected letters, digits, ".", "_" or "-" (at most 63), got ${describe(name)}`);
    } else if (seen.has(name)) r.fail(`${path}.name`, `duplicate cluster ${describe(name)}`);
    seen.add(name);
    const baseWeight = r.int(item, "base_weight", `${path}.base_weight`, 1, 1_000_000, 1);
    clusters.push({ name, baseWeight });
  });

  const sloIn = r.section(root, "slo", "slo", ["latency_ms", "success_rate"]);
  const slo = {
    latencyMs: r.number(sloIn, "latency_ms", "slo.latency_ms", { min: 0, max: 3_600_000, exclusiveMin: true }, DEFAULTS.sloLatencyMs),
    successRate: r.number(sloIn, "success_rate", "slo.success_rate", { min: 0, max: 1, exclusiveMin: true }, DEFAULTS.sloSuccessRate),
  };

  const detector = r.scalars(root, "detector", "detector");
  const breaker = r.scalars(root, "breaker", "breaker");

  const modelIn = r.section(root, "model", "model", ["path"]);
  const modelPath = r.optionalString(modelIn, "path", "model.path");

  const auditIn = r.section(root, "audit", "audit", ["dir", "rotate_bytes", "snapshot_max_bytes", "snapshot_max_files", "snapshot_windows_before", "snapshot_windows_after"]);
  const auditDir = r.optionalString(auditIn, "dir", "audit.dir");
  const audit = {
    rotateBytes: r.int(auditIn, "rotate_bytes", "audit.rotate_bytes", 4096, Number.MAX_SAFE_INTEGER, DEFAULTS.auditRotateBytes),
    snapshots: {
      maxBytes: r.int(auditIn, "snapshot_max_bytes", "audit.snapshot_max_bytes", 4096, Number.MAX_SAFE_INTEGER, DEFAULTS.snapshotMaxBytes),
      maxFiles: r.int(auditIn, "snapshot_max_files", "audit.snapshot_max_files", 1, 100_000, DEFAULTS.snapshotMaxFiles),
      // At most 10: a snapshot reads the windows a cluster's status keeps (core/cluster-runtime.ts).
      windowsBefore: r.int(auditIn, "snapshot_windows_before", "audit.snapshot_windows_before", 1, 10, DEFAULTS.snapshotWindowsBefore),
      windowsAfter: r.int(auditIn, "snapshot_windows_after", "audit.snapshot_windows_after", 1, 10, DEFAULTS.snapshotWindowsAfter),
    },
    ...(auditDir === undefined ? {} : { dir: auditDir }),
  };

  // The alerts section has its JSON Schema and checks beside the channels (../alerts/config-schema.ts).
  const alerts = readAlertsConfig(root.alerts, labels);
  r.errors.push(...alerts.problems);

  const triggers = readTriggers(root.triggers, clusters);
  r.errors.push(...triggers.problems);
  if (r.errors.length > 0) throw new ConfigError(r.errors);
  return {
    grpc,
    admin,
    xds,
    clusters,
    slo,
    detector,
    breaker,
    model: modelPath === undefined ? {} : { path: modelPath },
    audit,
    alerts: alerts.config,
    triggers: triggers.rules,
  };
}

/** An optional `tls` section of PEM file paths (`ca_file` only where `withCa`). */
function readTls(r: FieldReader, parent: Record<string, unknown>, path: string, withCa: boolean): TlsConfig | undefined {
  const tlsIn = r.section(parent, "tls", path, withCa ? ["cert_file", "key_file", "ca_file"] : ["cert_file", "key_file"]);
  if (Object.keys(tlsIn).length === 0) return undefined;
  const certFile = r.string(tlsIn, "cert_file", `${path}.cert_file`, "", false);
  const keyFile = r.string(tlsIn, "key_file", `${path}.key_file`, "", false);
  if (tlsIn.cert_file === undefined) r.fail(`${path}.cert_file`, `required when ${path} is set`);
  if (tlsIn.key_file === undefined) r.fail(`${path}.key_file`, `required when ${path} is set`);
  const caFile = withCa ? r.optionalString(tlsIn, "ca_file", `${path}.ca_file`) : undefined;
  return caFile === undefined ? { certFile, keyFile } : { certFile, keyFile, caFile };
}
