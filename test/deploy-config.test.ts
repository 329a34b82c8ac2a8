import { test, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { ENVOY_OUTLIER_DEFAULTS, LOCAL_ORIGIN_ONLY } from "../sim/policies/outlier-detection.js";
import { SHIPPED_HEALTH_CHECK } from "../sim/policies/active-health-check.js";
import { SHIPPED_PANIC_THRESHOLD } from "../sim/policies/envoy-outlier.js";
import { join } from "node:path";
import protobuf from "protobufjs";
import { parse as parseYaml } from "yaml";

// ---------------------------------------------------------------------------------------------
// Strict proto3-JSON checker over Envoy's API protos (as shipped in @grpc/grpc-js-xds/deps).
// protobufjs's fromObject silently drops unknown fields and coerces types, so this walks the
// JSON itself: every key must be a field of its message (by proto name or lowerCamel JSON name),
// every value must fit the field's type, Any is resolved by @type, the well-known types take their
// JSON forms, oneofs hold at most one member, and the simple protoc-gen-validate rules hold
// (message.required, string.min_len, repeated.min_items, numeric bounds, oneof required).
// ---------------------------------------------------------------------------------------------

const DEPS = join("node_modules", "@grpc", "grpc-js-xds", "deps");
const INCLUDE = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => join(DEPS, d)).concat([join("node_modules", "protobufjs")]);
const ENVOY_PROTOS = [
  "envoy/config/bootstrap/v3/bootstrap.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/wasm/v3/wasm.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
  "envoy/extensions/http/early_header_mutation/header_mutation/v3/header_mutation.proto",
  "google/protobuf/wrappers.proto",
];

function loadEnvoyRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    for (const dir of INCLUDE) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync(ENVOY_PROTOS, { keepCase: true });
  root.resolveAll();
  return root;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is { [key: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);
const lowerCamel = (name: string): string => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};
const WRAPPERS: Record<string, string> = {
  ".google.protobuf.DoubleValue": "double",
  ".google.protobuf.FloatValue": "float",
  ".google.protobuf.Int64Value": "int64",
  ".google.protobuf.UInt64Value": "uint64",
  ".google.protobuf.Int32Value": "int32",
  ".google.protobuf.UInt32Value": "uint32",
  ".google.protobuf.BoolValue": "bool",
  ".google.protobuf.StringValue": "string",
  ".google.protobuf.BytesValue": "bytes",
};
/** Types whose JSON form is not an object of their fields (so Any wraps them in {"value": ...}). */
const SPECIAL_JSON = new Set([
  ...Object.keys(WRAPPERS),
  ".google.protobuf.Duration",
  ".google.protobuf.Timestamp",
  ".google.protobuf.Struct",
  ".google.protobuf.Value",
  ".google.protobuf.ListValue",
  ".google.protobuf.FieldMask",
  ".google.protobuf.Any",
]);

class StrictProtoJson {
  readonly errors: string[] = [];

  constructor(private readonly root: protobuf.Root) {}

  /** Checks value as JSON of the named message type; returns the problems found. */
  check(typeName: string, value: unknown): string[] {
    this.errors.length = 0;
    this.message(this.root.lookupType(typeName), value as Json, "$");
    return [...this.errors];
  }

  private fail(path: string, problem: string): void {
    this.errors.push(`${path}: ${problem}`);
  }

  private message(type: protobuf.Type, value: Json, path: string): void {
    const name = type.fullName;
    if (name in WRAPPERS) return this.scalar(WRAPPERS[name], value, path);
    if (name === ".google.protobuf.Any") return this.any(value, path);
    if (name === ".google.protobuf.Duration") {
      if (typeof value !== "string" || !/^-?\d+(\.\d{1,9})?s$/.test(value)) this.fail(path, `expected a Duration like "1.5s", got ${JSON.stringify(value)}`);
      return;
    }
    if (name === ".google.protobuf.Timestamp") {
      if (typeof value !== "string" || Number.isNaN(Date.parse(value))) this.fail(path, `expected an RFC 3339 timestamp, got ${JSON.stringify(value)}`);
      return;
    }
    if (name === ".google.protobuf.Struct") {
      if (!isObject(value)) this.fail(path, "expected an object (Struct)");
      return;
    }
    if (name === ".google.protobuf.Value") return;
    if (name === ".google.protobuf.ListValue") {
      if (!Array.isArray(value)) this.fail(path, "expected an array (ListValue)");
      return;
    }
    if (name === ".google.protobuf.FieldMask") {
      if (typeof value !== "string") this.fail(path, "expected a string (FieldMask)");
      return;
    }
    if (!isObject(value)) return this.fail(path, `expected an object (${name.slice(1)}), got ${JSON.stringify(value)}`);
    this.fields(type, value, path, new Set());
  }

  /** Checks the members of an object against the fields of type (skipping the keys in skip). */
  private fields(type: protobuf.Type, value: { [key: string]: Json }, path: string, skip: Set<string>): void {
    const byJsonName = new Map<string, protobuf.Field>();
    for (const field of type.fieldsArray) {
      byJsonName.set(field.name, field);
      byJsonName.set(lowerCamel(field.name), field);
    }
    const present = new Set<protobuf.Field>();
    for (const [key, member] of Object.entries(value)) {
      if (skip.has(key)) continue;
      const field = byJsonName.get(key);
      const at = `${path}.${key}`;
      if (field === undefined) {
        this.fail(at, `unknown field of ${type.fullName.slice(1)}`);
        continue;
      }
      if (present.has(field)) this.fail(at, `field ${field.name} given twice`);
      present.add(field);
      if (member === null) continue; // JSON null: the field's default
      this.field(field, member, at);
    }
    for (const oneof of type.oneofsArray) {
      const set = oneof.fieldsArray.filter((f) => present.has(f));
      if (set.length > 1) this.fail(path, `oneof ${oneof.name} has more than one member set: ${set.map((f) => f.name).join(", ")}`);
      if (set.length === 0 && oneof.options?.["(validate.required)"] === true) {
        this.fail(path, `oneof ${oneof.name} of ${type.fullName.slice(1)} is required: set one of ${oneof.fieldsArray.map((f) => f.name).join(", ")}`);
      }
    }
    for (const field of type.fieldsArray) {
      const rules = field.options ?? {};
      if (present.has(field) || field.partOf) continue; // oneof members: the oneof rule above applies
      if (rules["(validate.rules).message.required"] === true) this.fail(`${path}.${field.name}`, "required field is missing");
      if (Number(rules["(validate.rules).string.min_len"] ?? 0) > 0) this.fail(`${path}.${field.name}`, "required (non-empty) string is missing");
      if (Number(rules["(validate.rules).repeated.min_items"] ?? 0) > 0) this.fail(`${path}.${field.name}`, "required list is missing");
    }
  }

  private field(field: protobuf.Field, value: Json, path: string): void {
    const rules = field.options ?? {};
    if (field instanceof protobuf.MapField) {
      if (!isObject(value)) return this.fail(path, `expected an object (map<${field.keyType}, ${field.type}>)`);
      for (const [key, entry] of Object.entries(value)) {
        if (field.keyType !== "string") this.scalar(field.keyType, key, `${path}[${key}] key`);
        this.single(field, entry, `${path}.${key}`);
      }
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) return this.fail(path, `expected an array (repeated ${field.type})`);
      const minItems = Number(rules["(validate.rules).repeated.min_items"] ?? 0);
      if (value.length < minItems) this.fail(path, `needs at least ${minItems} items, has ${value.length}`);
      value.forEach((item, i) => this.single(field, item, `${path}[${i}]`));
      return;
    }
    this.single(field, value, path);
  }

  private single(field: protobuf.Field, value: Json, path: string): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) return this.message(resolved, value, path);
    if (resolved instanceof protobuf.Enum) {
      const ok = typeof value === "string" ? value in resolved.values : typeof value === "number" && Object.values(resolved.values).includes(value);
      if (!ok) this.fail(path, `expected one of ${Object.keys(resolved.values).join(", ")}, got ${JSON.stringify(value)}`);
      return;
    }
    this.scalar(field.type, value, path);
    this.numericRules(field, value, path);
    const rules = field.options ?? {};
    const minLen = Number(rules["(validate.rules).string.min_len"] ?? 0);
    if (typeof value === "string" && value.length < minLen) this.fail(path, `must be at least ${minLen} characters`);
  }

  private numericRules(field: protobuf.Field, value: Json, path: string): void {
    if (!(field.type in INT_RANGES) && field.type !== "double" && field.type !== "float") return;
    const n = Number(value);
    const rules = field.options ?? {};
    const bound = (op: string): number | undefined => {
      const v = rules[`(validate.rules).${field.type}.${op}`];
      return v === undefined ? undefined : Number(v);
    };
    const [gt, gte, lt, lte] = ["gt", "gte", "lt", "lte"].map(bound);
    if (gt !== undefined && !(n > gt)) this.fail(path, `must be > ${gt}`);
    if (gte !== undefined && !(n >= gte)) this.fail(path, `must be >= ${gte}`);
    if (lt !== undefined && !(n < lt)) this.fail(path, `must be < ${lt}`);
    if (lte !== undefined && !(n <= lte)) this.fail(path, `must be <= ${lte}`);
  }

  private scalar(type: string, value: Json, path: string): void {
    const got = JSON.stringify(value);
    switch (type) {
      case "string":
        if (typeof value !== "string") this.fail(path, `expected a string, got ${got}`);
        return;
      case "bool":
        if (typeof value !== "boolean") this.fail(path, `expected a boolean, got ${got}`);
        return;
      case "bytes":
        if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) this.fail(path, `expected base64 bytes, got ${got}`);
        return;
      case "double":
      case "float":
        if (typeof value === "number" || value === "NaN" || value === "Infinity" || value === "-Infinity") return;
        if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return;
        this.fail(path, `expected a number, got ${got}`);
        return;
      default: {
        const range = INT_RANGES[type];
        if (range === undefined) return this.fail(path, `unsupported scalar type ${type}`);
        let n: bigint;
        if (typeof value === "number" && Number.isInteger(value)) n = BigInt(value);
        else if (typeof value === "string" && /^-?\d+$/.test(value)) n = BigInt(value);
        else return this.fail(path, `expected an integer (${type}), got ${got}`);
        if (n < range[0] || n > range[1]) this.fail(path, `${n} is out of range for ${type}`);
      }
    }
  }

  private any(value: Json, path: string): void {
    if (!isObject(value)) return this.fail(path, "expected an object (Any)");
    const url = value["@type"];
    if (typeof url !== "string") return this.fail(path, "Any without a string @type");
    const typeName = url.slice(url.lastIndexOf("/") + 1);
    let type: protobuf.Type;
    try {
      type = this.root.lookupType(typeName);
    } catch {
      return this.fail(`${path}.@type`, `unknown type ${typeName} (not in the loaded Envoy API)`);
    }
    if (SPECIAL_JSON.has(type.fullName)) {
      const extra = Object.keys(value).filter((k) => k !== "@type" && k !== "value");
      if (extra.length > 0) this.fail(path, `unknown field(s) ${extra.join(", ")} in an Any of ${typeName} (only "value")`);
      if (!("value" in value)) return this.fail(path, `Any of ${typeName} needs "value"`);
      return this.message(type, value.value, `${path}.value`);
    }
    this.fields(type, value, path, new Set(["@type"]));
  }
}

// ---------------------------------------------------------------------------------------------
// The filter configuration shape (filter/src/config.ts reads it)
// ---------------------------------------------------------------------------------------------

type Shape = "string" | "number" | "boolean" | { [key: string]: Shape } | [Shape];
const FILTER_CONFIG_SHAPE: Shape = {
  node_id: "string",
  zone: "string",
  control_plane: { cluster: "string", authority: "string", timeout_ms: "number", token: "string" },
  window_ms: "number",
  clusters: [{ name: "string", weight: "number" }],
  hosts: ["string"],
  headers: { cluster: "string", explicit_cluster: "string" },
  latency_header: "boolean",
  fallback: { failure_rate: "number", min_requests: "number", slow_call_ms: "number", slow_call_rate: "number", open_ms: "number", probe_requests: "number" },
  fast_trip: { consecutive_failures: "number", hold_ms: "number" },
  fail_open: "boolean",
};

function checkShape(shape: Shape, value: unknown, path: string, errors: string[]): void {
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return void errors.push(`${path}: expected an array`);
    value.forEach((item, i) => checkShape(shape[0], item, `${path}[${i}]`, errors));
  } else if (typeof shape === "object") {
    if (!isObject(value)) return void errors.push(`${path}: expected an object`);
    for (const [key, member] of Object.entries(value)) {
      if (!(key in shape)) errors.push(`${path}.${key}: not a field of the filter configuration`);
      else checkShape(shape[key], member, `${path}.${key}`, errors);
    }
  } else if (typeof value !== shape) {
    errors.push(`${path}: expected a ${shape}, got ${JSON.stringify(value)}`);
  }
}

interface FilterConfig {
  node_id?: string;
  hosts?: string[];
  control_plane?: { cluster: string };
  clusters: Array<{ name: string; weight: number }>;
  headers?: { cluster?: string };
}

function checkFilterConfig(value: unknown): string[] {
  const errors: string[] = [];
  checkShape(FILTER_CONFIG_SHAPE, value, "config", errors);
  if (isObject(value)) {
    // node_id may be left to Envoy's node.id (filter/src/filter/root.ts), but not given empty.
    if (value.node_id !== undefined && (typeof value.node_id !== "string" || value.node_id === "")) errors.push("config.node_id: non-empty when given");
    if (!Array.isArray(value.clusters) || value.clusters.length === 0) errors.push("config.clusters: required, non-empty");
    else if ((value.clusters as Array<{ weight?: number }>).reduce((s, c) => s + (c.weight ?? 0), 0) <= 0) errors.push("config.clusters: weights sum to 0");
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------

const readYaml = (path: string): Json => parseYaml(readFileSync(path, "utf8")) as Json;
const clone = <T>(v: T): T => structuredClone(v);

let checker: StrictProtoJson;
let envoy: Json;
before(() => {
  checker = new StrictProtoJson(loadEnvoyRoot());
  envoy = readYaml(join("deploy", "envoy", "envoy.yaml"));
});

/** Navigates the bootstrap to the parts the checks below look at. */
function parts(bootstrap: Json) {
  const b = bootstrap as any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test navigation of checked JSON
  const hcm = b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  return {
    hcm,
    routes: hcm.route_config.virtual_hosts[0].routes as Array<{ match: { headers?: Array<{ name: string }> }; route: Record<string, unknown> }>,
    httpFilters: hcm.http_filters as Array<{ name: string; typed_config: Record<string, any> }>, // eslint-disable-line @typescript-eslint/no-explicit-any
    clusters: b.static_resources.clusters as Array<{ name: string; typed_extension_protocol_options?: Record<string, Record<string, unknown>> }>,
  };
}

test("the Envoy bootstrap is valid against Envoy's API protos, field by field", () => {
  assert.deepEqual(checker.check("envoy.config.bootstrap.v3.Bootstrap", envoy), []);
});

test("the strict checker catches misspelled fields, wrong types and bad Any payloads", () => {
  const cases: Array<[string, (b: ReturnType<typeof parts>, root: any) => void, string]> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ["misspelled top-level field", (_p, root) => (root.static_resource = root.static_resources), "$.static_resource: unknown field of envoy.config.bootstrap.v3.Bootstrap"],
    ["misspelled field inside an Any", (p) => ((p.hcm.stat_prefx = "x"), delete p.hcm.stat_prefix), "stat_prefx: unknown field of envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"],
    ["missing required string", (p) => delete p.hcm.stat_prefix, "stat_prefix: required (non-empty) string is missing"],
    ["string for a port number", (_p, root) => (root.admin.address.socket_address.port_value = "ninety"), "port_value: expected an integer (uint32)"],
    ["port out of range", (_p, root) => (root.admin.address.socket_address.port_value = 70000), "port_value: must be <= 65535"],
    ["number for a string", (p) => (p.routes[0].route.cluster_header = 5), "cluster_header: expected a string, got 5"],
    ["bad Duration", (p) => (p.routes[0].route.timeout = "2 minutes"), 'timeout: expected a Duration like "1.5s"'],
    ["bad enum", (p) => (p.hcm.codec_type = "HTTP4"), "codec_type: expected one of AUTO, HTTP1, HTTP2, HTTP3"],
    ["two members of a oneof", (p) => (p.routes[0].route.cluster = "llm-a"), "oneof cluster_specifier has more than one member set"],
    ["empty required oneof", (p) => delete p.routes[0].route.cluster_header, "oneof cluster_specifier of envoy.config.route.v3.RouteAction is required"],
    ["unknown @type", (p) => (p.httpFilters[1].typed_config["@type"] = "type.googleapis.com/envoy.extensions.filters.http.routr.v3.Router"), "unknown type envoy.extensions.filters.http.routr.v3.Router"],
    ["StringValue with a stray field", (p) => (p.httpFilters[0].typed_config.config.configuration.json = "{}"), "unknown field(s) json in an Any of google.protobuf.StringValue"],
    ["object where a list belongs", (p) => (p.hcm.http_filters = { name: "x" }), "http_filters: expected an array"],
    ["misspelled map value field", (p) => (p.clusters[3].typed_extension_protocol_options!["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_cfg = {}), "explicit_http_cfg: unknown field"],
  ];
  for (const [what, mutate, expected] of cases) {
    const broken = clone(envoy);
    mutate(parts(broken), broken);
    const errors = checker.check("envoy.config.bootstrap.v3.Bootstrap", broken);
    assert.ok(errors.some((e) => e.includes(expected)), `${what}: expected an error containing "${expected}", got ${JSON.stringify(errors)}`);
  }
});

test("the Envoy bootstrap routes by the filter's cluster header to the three LLM clusters, router last", () => {
  const p = parts(envoy);
  const names = p.httpFilters.map((f) => f.name);
  assert.deepEqual(names, ["envoy.filters.http.wasm", "envoy.filters.http.router"]);
  const wasm = p.httpFilters[0].typed_config;
  assert.equal(wasm["@type"], "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm");
  assert.equal(wasm.config.vm_config.runtime, "envoy.wasm.runtime.v8");
  assert.match(wasm.config.vm_config.code.local.filename, /filter\.wasm$/);
  assert.equal(wasm.config.configuration["@type"], "type.googleapis.com/google.protobuf.StringValue");

  const config = JSON.parse(wasm.config.configuration.value as string) as FilterConfig;
  assert.deepEqual(checkFilterConfig(config), []);
  const clusterNames = new Set(p.clusters.map((c) => c.name));
  for (const c of config.clusters) assert.ok(clusterNames.has(c.name), `config cluster ${c.name} is an Envoy cluster`);
  assert.deepEqual(config.clusters.map((c) => c.name), ["llm-a", "llm-b", "llm-c"]);

  const byHeader = p.routes[0];
  assert.equal(byHeader.route.cluster_header, config.headers?.cluster ?? "x-autoglm-cluster");
  assert.equal(byHeader.match.headers?.[0].name, byHeader.route.cluster_header);
  const fallback = p.routes[1].route.weighted_clusters as { clusters: Array<{ name: string; weight: number }> };
  assert.deepEqual(fallback.clusters, config.clusters, "base-weights route mirrors the configured base weights");

  const cp = p.clusters.find((c) => c.name === config.control_plane?.cluster);
  assert.ok(cp, "the control plane cluster exists");
  const options = cp.typed_extension_protocol_options?.["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] as
    | { "@type": string; explicit_http_config?: { http2_protocol_options?: object } }
    | undefined;
  assert.equal(options?.["@type"], "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
  assert.ok(options?.explicit_http_config?.http2_protocol_options, "the control plane cluster speaks HTTP/2 (gRPC)");
});

test("every LLM cluster of the bootstrap ejects only hosts that refuse connections and lets a passing health check return one, as the simulator's autoglm runs model", () => {
  const p = parts(envoy);
  const config = JSON.parse(p.httpFilters[0].typed_config.config.configuration.value as string) as FilterConfig;
  // What sim/policies/outlier-detection.ts LOCAL_ORIGIN_ONLY models, in Envoy's field names.
  const modelled = {
    split_external_local_origin_errors: LOCAL_ORIGIN_ONLY.splitExternalLocalOriginErrors === 1,
    consecutive_local_origin_failure: ENVOY_OUTLIER_DEFAULTS.consecutiveLocalOriginFailure,
    enforcing_consecutive_local_origin_failure: 100,
    enforcing_consecutive_5xx: LOCAL_ORIGIN_ONLY.enforcingConsecutive5xx,
    enforcing_success_rate: LOCAL_ORIGIN_ONLY.enforcingSuccessRate,
    max_ejection_percent: LOCAL_ORIGIN_ONLY.maxEjectionPercent,
    max_ejection_time: `${LOCAL_ORIGIN_ONLY.maxEjectionTimeS}s`,
    successful_active_health_check_uneject_host: ENVOY_OUTLIER_DEFAULTS.successfulActiveHealthCheckUnejectHost === 1,
  };
  for (const c of config.clusters) {
    const cluster = p.clusters.find((x) => x.name === c.name) as { outlier_detection?: Record<string, unknown> } | undefined;
    assert.deepEqual(cluster?.outlier_detection, modelled, `cluster ${c.name}`);
  }
});

test("every LLM cluster of the bootstrap health-checks its hosts with panic mode only when no host is healthy, as the simulator's autoglm runs model", () => {
  const p = parts(envoy);
  const config = JSON.parse(p.httpFilters[0].typed_config.config.configuration.value as string) as FilterConfig;
  // What sim/policies/active-health-check.ts SHIPPED_HEALTH_CHECK models, in Envoy's field names
  // (Durations in seconds).
  const s = (ms: number): string => `${ms / 1000}s`;
  const modelled = [{
    timeout: s(SHIPPED_HEALTH_CHECK.timeoutMs),
    interval: s(SHIPPED_HEALTH_CHECK.intervalMs),
    interval_jitter: s(SHIPPED_HEALTH_CHECK.intervalJitterMs),
    initial_jitter: s(SHIPPED_HEALTH_CHECK.initialJitterMs),
    unhealthy_threshold: SHIPPED_HEALTH_CHECK.unhealthyThreshold,
    healthy_threshold: SHIPPED_HEALTH_CHECK.healthyThreshold,
    unhealthy_edge_interval: s(SHIPPED_HEALTH_CHECK.unhealthyEdgeIntervalMs),
    healthy_edge_interval: s(SHIPPED_HEALTH_CHECK.healthyEdgeIntervalMs),
    http_health_check: { path: SHIPPED_HEALTH_CHECK.path },
  }];
  for (const c of config.clusters) {
    const cluster = p.clusters.find((x) => x.name === c.name) as { health_checks?: unknown; common_lb_config?: unknown } | undefined;
    assert.deepEqual(cluster?.health_checks, modelled, `cluster ${c.name}`);
    // healthy_panic_threshold is a type.v3.Percent (0-100); the simulator's is a fraction.
    assert.deepEqual(cluster?.common_lb_config, { healthy_panic_threshold: { value: SHIPPED_PANIC_THRESHOLD * 100 } }, `cluster ${c.name}`);
  }
});

test("the opt-in host-ejection bootstrap parts are valid Envoy config, take llm-a from the control plane's EDS and report load to it, and keep envoy.yaml's host settings", () => {
  const parts = readYaml(join("deploy", "envoy", "host-ejection.yaml")) as unknown as {
    dynamic_resources: { ads_config: { grpc_services: Array<{ envoy_grpc: { cluster_name: string } }> } };
    cluster_manager: { load_stats_config: { grpc_services: Array<{ envoy_grpc: { cluster_name: string } }> } };
    static_resources: { clusters: Array<Record<string, unknown> & { name: string }> };
  };
  assert.deepEqual(checker.check("envoy.config.bootstrap.v3.Bootstrap", parts as unknown as Json), []);
  assert.equal(parts.dynamic_resources.ads_config.grpc_services[0]!.envoy_grpc.cluster_name, "autoglm-xds");
  assert.equal(parts.cluster_manager.load_stats_config.grpc_services[0]!.envoy_grpc.cluster_name, "autoglm-xds");
  const eds = parts.static_resources.clusters.find((c) => c.name === "llm-a")!;
  assert.equal(eds.type, "EDS");
  assert.deepEqual(eds.eds_cluster_config, { eds_config: { ads: {}, resource_api_version: "V3" } });
  const shipped = (envoy as unknown as { static_resources: { clusters: Array<Record<string, unknown> & { name: string }> } }).static_resources.clusters.find((c) => c.name === "llm-a")!;
  for (const key of ["connect_timeout", "common_lb_config", "health_checks", "outlier_detection"]) assert.deepEqual(eds[key], shipped[key], key);
  const xds = parts.static_resources.clusters.find((c) => c.name === "autoglm-xds") as unknown as { load_assignment: { endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: { port_value: number } } } }> }> } };
  assert.equal(xds.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value, 18000, "the control plane's default xds.port");
});

test("the filter configuration check rejects unknown and mistyped fields", () => {
  assert.deepEqual(checkFilterConfig({ node_id: "n", clusters: [{ name: "a", weight: 1 }] }), []);
  assert.deepEqual(checkFilterConfig({ node_id: "n", clusters: [{ name: "a", weight: 1 }], window: 5 }), ["config.window: not a field of the filter configuration"]);
  assert.deepEqual(checkFilterConfig({ node_id: "n", clusters: [{ name: "a", weight: "1" }] }), ['config.clusters[0].weight: expected a number, got "1"']);
  assert.deepEqual(checkFilterConfig({ node_id: "", clusters: [] }), ["config.node_id: non-empty when given", "config.clusters: required, non-empty"]);
});

// ---------------------------------------------------------------------------------------------
// Istio
// ---------------------------------------------------------------------------------------------

/** The documented spec fields of extensions.istio.io/v1alpha1 WasmPlugin (istio/api extensions/v1alpha1/wasm.proto). */
function checkWasmPlugin(doc: unknown): string[] {
  const errors: string[] = [];
  if (!isObject(doc)) return ["not an object"];
  if (doc.apiVersion !== "extensions.istio.io/v1alpha1") errors.push(`apiVersion: ${JSON.stringify(doc.apiVersion)}`);
  if (doc.kind !== "WasmPlugin") errors.push(`kind: ${JSON.stringify(doc.kind)}`);
  const meta = doc.metadata;
  if (!isObject(meta) || typeof meta.name !== "string") errors.push("metadata.name: required");
  const spec = doc.spec;
  if (!isObject(spec)) return [...errors, "spec: required"];
  const enums: Record<string, string[]> = {
    imagePullPolicy: ["UNSPECIFIED_POLICY", "IfNotPresent", "Always"],
    phase: ["UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"],
    failStrategy: ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"],
    type: ["UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK"],
  };
  const strings = ["url", "sha256", "imagePullSecret", "verificationKey", "pluginName"];
  const known = new Set([...Object.keys(enums), ...strings, "selector", "targetRef", "targetRefs", "pluginConfig", "priority", "vmConfig", "match"]);
  for (const [key, value] of Object.entries(spec)) {
    if (!known.has(key)) errors.push(`spec.${key}: not a WasmPlugin field`);
    else if (key in enums && !enums[key].includes(value as string)) errors.push(`spec.${key}: ${JSON.stringify(value)} is not one of ${enums[key].join(", ")}`);
    else if (strings.includes(key) && typeof value !== "string") errors.push(`spec.${key}: expected a string`);
  }
  if (typeof spec.url !== "string" || !/^(oci|file|https?):\/\/./.test(spec.url)) errors.push("spec.url: required, with scheme oci, file, http or https");
  if (spec.sha256 !== undefined && !/^([a-f0-9]{64})?$/.test(String(spec.sha256))) errors.push("spec.sha256: 64 lowercase hex digits");
  if (spec.priority !== undefined && !Number.isInteger(spec.priority)) errors.push("spec.priority: an integer");
  if (spec.selector !== undefined) {
    const sel = spec.selector;
    if (!isObject(sel) || Object.keys(sel).some((k) => k !== "matchLabels") || !isObject(sel.matchLabels) || Object.values(sel.matchLabels).some((v) => typeof v !== "string")) {
      errors.push("spec.selector: only matchLabels, a map of strings");
    }
  }
  if (spec.selector !== undefined && spec.targetRefs !== undefined) errors.push("spec: only one of selector and targetRefs");
  if (spec.match !== undefined) {
    if (!Array.isArray(spec.match)) errors.push("spec.match: a list");
    else
      spec.match.forEach((m, i) => {
        if (!isObject(m) || Object.keys(m).some((k) => k !== "mode" && k !== "ports")) errors.push(`spec.match[${i}]: only mode and ports`);
        else if (m.mode !== undefined && !["UNDEFINED", "CLIENT", "SERVER", "CLIENT_AND_SERVER"].includes(m.mode as string)) errors.push(`spec.match[${i}].mode: ${JSON.stringify(m.mode)}`);
      });
  }
  if (spec.vmConfig !== undefined) {
    const vm = spec.vmConfig;
    if (!isObject(vm) || Object.keys(vm).some((k) => k !== "env")) errors.push("spec.vmConfig: only env");
  }
  if (spec.pluginConfig !== undefined) errors.push(...checkFilterConfig(spec.pluginConfig).map((e) => `spec.pluginConfig: ${e}`));
  return errors;
}

test("the Istio WasmPlugin uses only documented fields and carries a valid filter configuration", () => {
  const plugin = readYaml(join("deploy", "istio", "wasmplugin.yaml"));
  assert.deepEqual(checkWasmPlugin(plugin), []);
  const spec = (plugin as unknown as { spec: { pluginConfig: FilterConfig; failStrategy: string; type: string } }).spec;
  assert.equal(spec.failStrategy, "FAIL_OPEN", "a broken plugin must not stop traffic");
  assert.equal(spec.type, "HTTP");
  assert.match(spec.pluginConfig.control_plane?.cluster ?? "", /^outbound\|\d+\|\|[a-z0-9.-]+$/, "Istio's name for the control plane's cluster");

  // The same filter settings as the Envoy bootstrap, apart from the control plane's cluster, the
  // identity (each pod's, from Envoy's node) and the hosts allow-list (Istio routes all outbound
  // traffic through the plugin; the bootstrap's listener carries only LLM traffic).
  const envoyConfig = JSON.parse(parts(envoy).httpFilters[0].typed_config.config.configuration.value as string) as FilterConfig & { zone?: string };
  const without = (c: object) => ({ ...c, control_plane: undefined, node_id: undefined, zone: undefined, hosts: undefined });
  assert.deepEqual(without(spec.pluginConfig), without(envoyConfig));
  assert.equal(spec.pluginConfig.node_id, undefined, "one WasmPlugin for every pod: node id from Envoy's node.id");
});

test("the WasmPlugin check rejects undocumented fields and bad enum values", () => {
  const plugin = readYaml(join("deploy", "istio", "wasmplugin.yaml")) as unknown as { spec: Record<string, unknown> };
  const cases: Array<[string, (spec: Record<string, unknown>) => void, string]> = [
    ["misspelled field", (s) => (s.pluginConfg = {}), "spec.pluginConfg: not a WasmPlugin field"],
    ["bad phase", (s) => (s.phase = "ROUTER"), 'spec.phase: "ROUTER" is not one of'],
    ["bad url", (s) => (s.url = "filter.wasm"), "spec.url: required"],
    ["bad plugin config", (s) => ((s.pluginConfig as Record<string, unknown>).window_ms = "1s"), 'spec.pluginConfig: config.window_ms: expected a number, got "1s"'],
  ];
  for (const [what, mutate, expected] of cases) {
    const broken = clone(plugin);
    mutate(broken.spec);
    const errors = checkWasmPlugin(broken);
    assert.ok(errors.some((e) => e.includes(expected)), `${what}: got ${JSON.stringify(errors)}`);
  }
});

test("the Istio VirtualService routes every configured cluster by the filter's header, then base weights", () => {
  const vs = readYaml(join("deploy", "istio", "virtualservice.yaml")) as unknown as {
    apiVersion: string;
    kind: string;
    spec: { http: Array<{ match?: Array<{ headers: Record<string, { exact: string }> }>; route: Array<{ destination: { host: string }; weight?: number }> }> };
  };
  const plugin = (readYaml(join("deploy", "istio", "wasmplugin.yaml")) as unknown as { spec: { pluginConfig: FilterConfig } }).spec.pluginConfig;
  assert.equal(vs.kind, "VirtualService");
  assert.match(vs.apiVersion, /^networking\.istio\.io\/v1(beta1|alpha3)?$/);
  const header = plugin.headers?.cluster ?? "x-autoglm-cluster";
  for (const c of plugin.clusters) {
    const route = vs.spec.http.find((r) => r.match?.some((m) => m.headers[header]?.exact === c.name));
    assert.ok(route, `a route matches ${header}: ${c.name}`);
    assert.equal(route.route.length, 1);
    assert.ok(route.route[0].destination.host.startsWith(`${c.name}.`), `${c.name} goes to its own service`);
  }
  const last = vs.spec.http[vs.spec.http.length - 1];
  assert.equal(last.match, undefined, "the last route catches requests without the header");
  assert.deepEqual(last.route.map((r) => r.weight), plugin.clusters.map((c) => c.weight));
});

test("a client cannot pick the cluster: the bootstrap strips its header before routing and routes only to configured clusters", () => {
  const p = parts(envoy);
  const config = JSON.parse(p.httpFilters[0].typed_config.config.configuration.value as string) as FilterConfig;
  const header = config.headers?.cluster ?? "x-autoglm-cluster";
  // Early header mutation runs before the route is first picked and before any HTTP filter.
  const early = p.hcm.early_header_mutation_extensions as Array<{ name: string; typed_config: { "@type": string; mutations: Array<{ remove?: string }> } }>;
  assert.ok(Array.isArray(early), "early_header_mutation_extensions is set");
  assert.equal(early[0]!.typed_config["@type"], "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation");
  assert.ok(early[0]!.typed_config.mutations.some((m) => m.remove === header), `the client's ${header} is removed`);
  // The header route matches exactly the configured names; anything else takes the base weights.
  const match = p.routes[0]!.match.headers![0] as { name: string; string_match?: { safe_regex?: { regex: string } } };
  assert.equal(match.name, header);
  const regex = new RegExp(match.string_match?.safe_regex?.regex ?? "(?!)");
  for (const c of config.clusters) assert.ok(regex.test(c.name), `${c.name} is routed by the header`);
  const others = p.clusters.map((c) => c.name).filter((n) => !config.clusters.some((c) => c.name === n));
  for (const name of [...others, "llm-a2", "xllm-a", ""]) assert.ok(!regex.test(name), `${JSON.stringify(name)} is never routed by the header`);
});

test("the Istio WasmPlugin applies only to the LLM service's port and governs only its authorities", () => {
  const plugin = readYaml(join("deploy", "istio", "wasmplugin.yaml")) as unknown as {
    spec: { match: Array<{ mode: string; ports?: Array<{ number: number }> }>; pluginConfig: FilterConfig & { control_plane: { authority?: string } } };
  };
  const vs = readYaml(join("deploy", "istio", "virtualservice.yaml")) as unknown as { spec: { hosts: string[] } };
  const match = plugin.spec.match;
  assert.ok(match.length > 0 && match.every((m) => m.mode === "CLIENT" && (m.ports?.length ?? 0) > 0), "every match names CLIENT and ports");
  for (const m of match) for (const port of m.ports!) assert.ok(Number.isInteger(port.number) && port.number > 0 && port.number < 65536);
  const hosts = plugin.spec.pluginConfig.hosts ?? [];
  for (const h of vs.spec.hosts) assert.ok(hosts.includes(h), `the allow-list governs the VirtualService host ${h}`);
  const authority = plugin.spec.pluginConfig.control_plane.authority ?? "";
  assert.match(authority, /^[a-z0-9.-]+(:\d+)?$/, "an :authority without Istio's '|'");
});
