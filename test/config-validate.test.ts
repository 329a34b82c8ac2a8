import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configFromDocument, loadConfig } from "../control-plane/src/config/index.js";

const minimal = { clusters: [{ name: "llm-a", base_weight: 50 }, { name: "llm-b", base_weight: 50 }] };

function problemsOf(doc: unknown, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    configFromDocument(doc, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  return [];
}

test("a minimal configuration gets the documented defaults", () => {
  const config = configFromDocument(minimal, {});
  assert.deepEqual(config.grpc, { host: "127.0.0.1", port: 50051, token: "", allowUnauthenticatedNonLoopback: false });
  assert.deepEqual(config.admin, { host: "127.0.0.1", port: 18081, token: "", readToken: "", allowUnauthenticatedNonLoopback: false });
  assert.equal(config.xds.enabled, false);
  assert.deepEqual(config.clusters, [
    { name: "llm-a", baseWeight: 50 },
    { name: "llm-b", baseWeight: 50 },
  ]);
  assert.deepEqual(config.slo, { latencyMs: 2000, successRate: 0.99 });
  assert.equal(config.alerts.cooldownS, 300);
  assert.equal(config.alerts.retries, 3);
  assert.deepEqual(config.model, {});
});

test("a full configuration is read field by field", () => {
  const config = configFromDocument(
    {
      grpc: { host: "0.0.0.0", port: 0, token: "s3", tls: { cert_file: "c.pem", key_file: "k.pem" } },
      admin: { port: 8081, token: "adm" },
      xds: { enabled: true, port: 18001 },
      clusters: [{ name: "llm-a", base_weight: 3 }],
      slo: { latency_ms: 1500, success_rate: 0.995 },
      detector: { error_rate: 0.2, use_model: true },
      breaker: { open_ms: 10000 },
      model: { path: "models/anomaly.onnx" },
      audit: { dir: "/var/tmp/audit", rotate_bytes: 1048576 },
      alerts: { webhooks: ["http://127.0.0.1:9/a", { url: "https://example.test/h", headers: { Authorization: "x" } }], cooldown_s: 60, retries: 5 },
    },
    {},
  );
  assert.deepEqual(config.grpc.tls, { certFile: "c.pem", keyFile: "k.pem" });
  assert.equal(config.grpc.port, 0);
  assert.equal(config.xds.enabled, true);
  assert.deepEqual(config.detector, { error_rate: 0.2, use_model: true });
  assert.deepEqual(config.breaker, { open_ms: 10000 });
  assert.equal(config.model.path, "models/anomaly.onnx");
  assert.equal(config.audit.rotateBytes, 1048576);
  // The first form of the alerts section: each webhook is a channel of type webhook.
  assert.deepEqual(config.alerts.channels, [
    { name: "webhook-1", type: "webhook", settings: { type: "webhook", url: "http://127.0.0.1:9/a" } },
    { name: "webhook-2", type: "webhook", settings: { type: "webhook", url: "https://example.test/h", headers: { Authorization: "x" } } },
  ]);
  assert.equal(config.alerts.routes, undefined, "no routes: every alert to every channel");
  assert.deepEqual([config.alerts.cooldownS, config.alerts.retries], [60, 5]);
});

const badCases: { name: string; doc: unknown; env?: NodeJS.ProcessEnv; problem: string }[] = [
  { name: "a port that is text", doc: { ...minimal, grpc: { port: "x" } }, problem: 'grpc.port: expected an integer 0..65535, got "x"' },
  { name: "a port out of range", doc: { ...minimal, admin: { port: 70000 } }, problem: "admin.port: expected an integer 0..65535, got 70000" },
  { name: "no clusters", doc: {}, problem: "clusters: required: a list of { name, base_weight }" },
  { name: "an empty cluster list", doc: { clusters: [] }, problem: "clusters: expected at least one cluster" },
  { name: "a zero base weight", doc: { clusters: [{ name: "a", base_weight: 0 }] }, problem: "clusters[0].base_weight: expected an integer 1..1000000, got 0" },
  { name: "a cluster without a name", doc: { clusters: [{ base_weight: 1 }] }, problem: "clusters[0].name: required" },
  {
    name: "a duplicate cluster",
    doc: { clusters: [{ name: "a" }, { name: "a" }] },
    problem: 'clusters[1].name: duplicate cluster "a"',
  },
  { name: "an unknown top-level field", doc: { ...minimal, grcp: {} }, problem: "grcp: unknown field; expected one of grpc, admin, xds, clusters, slo, detector, breaker, model, audit, alerts, triggers, halt" },
  { name: "a success rate above one", doc: { ...minimal, slo: { success_rate: 1.5 } }, problem: "slo.success_rate: expected a number in (0, 1], got 1.5" },
  { name: "a webhook that is not a URL", doc: { ...minimal, alerts: { webhooks: ["nope"] } }, problem: 'alerts.webhooks[0].url: expected an http:// or https:// URL, got "nope"' },
  { name: "a negative cooldown", doc: { ...minimal, alerts: { cooldown_s: -1 } }, problem: "alerts.cooldown_s: must be >= 0" },
  { name: "a bad cooldown from the environment", doc: minimal, env: { AUTOGLM_ALERTS_COOLDOWN_S: "-5" }, problem: "alerts.cooldown_s (from AUTOGLM_ALERTS_COOLDOWN_S): must be >= 0" },
  { name: "a webhook from the environment that is not a URL", doc: minimal, env: { AUTOGLM_ALERTS_WEBHOOKS: "http://127.0.0.1:1/a,nope" }, problem: 'alerts.webhooks[1].url (from AUTOGLM_ALERTS_WEBHOOKS): expected an http:// or https:// URL, got "nope"' },
  { name: "TLS without a key", doc: { ...minimal, grpc: { tls: { cert_file: "c.pem" } } }, problem: "grpc.tls.key_file: required when grpc.tls is set" },
  { name: "a nested detector value", doc: { ...minimal, detector: { x: { y: 1 } } }, problem: "detector.x: expected a number, boolean or string, got an object" },
  { name: "a section that is not an object", doc: { ...minimal, admin: 5 }, problem: "admin: expected an object, got 5" },
  { name: "a bad port from the environment", doc: minimal, env: { AUTOGLM_GRPC_PORT: "x" }, problem: 'grpc.port (from AUTOGLM_GRPC_PORT): expected an integer 0..65535, got "x"' },
  { name: "a bad boolean from the environment", doc: minimal, env: { AUTOGLM_XDS_ENABLED: "maybe" }, problem: 'xds.enabled (from AUTOGLM_XDS_ENABLED): expected true or false, got "maybe"' },
];

for (const { name, doc, env, problem } of badCases) {
  test(`a configuration with ${name} is refused naming the field`, () => {
    assert.ok(problemsOf(doc, env).includes(problem), `problems: ${JSON.stringify(problemsOf(doc, env))}`);
  });
}

test("every bad field of a file is reported at once", () => {
  const problems = problemsOf({ grpc: { port: -1 }, admin: { port: "a" }, clusters: [] });
  assert.equal(problems.length, 3);
});

const envCases: { name: string; env: NodeJS.ProcessEnv; check: (c: ReturnType<typeof configFromDocument>) => void }[] = [
  { name: "AUTOGLM_GRPC_PORT", env: { AUTOGLM_GRPC_PORT: "6000" }, check: (c) => assert.equal(c.grpc.port, 6000) },
  { name: "AUTOGLM_ADMIN_TOKEN", env: { AUTOGLM_ADMIN_TOKEN: "t0k" }, check: (c) => assert.equal(c.admin.token, "t0k") },
  { name: "AUTOGLM_XDS_ENABLED", env: { AUTOGLM_XDS_ENABLED: "true" }, check: (c) => assert.equal(c.xds.enabled, true) },
  { name: "AUTOGLM_MODEL_PATH", env: { AUTOGLM_MODEL_PATH: "m.onnx" }, check: (c) => assert.equal(c.model.path, "m.onnx") },
  {
    name: "AUTOGLM_ALERTS_WEBHOOKS",
    env: { AUTOGLM_ALERTS_WEBHOOKS: "http://127.0.0.1:1/a, http://127.0.0.1:2/b" },
    check: (c) => assert.deepEqual(c.alerts.channels.map((w) => w.settings.url), ["http://127.0.0.1:1/a", "http://127.0.0.1:2/b"]),
  },
];

for (const { name, env, check } of envCases) {
  test(`the environment variable ${name} overrides the file`, () => {
    check(configFromDocument({ ...minimal, grpc: { port: 1 } }, env));
  });
}

test("a YAML file and a JSON file are both read", async () => {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-config-"));
  const yamlPath = join(dir, "cp.yaml");
  await writeFile(yamlPath, "admin:\n  port: 0\nclusters:\n  - name: llm-a\n    base_weight: 2\n");
  const jsonPath = join(dir, "cp.json");
  await writeFile(jsonPath, JSON.stringify(minimal));
  assert.equal((await loadConfig(yamlPath, {})).clusters[0]!.baseWeight, 2);
  assert.equal((await loadConfig(jsonPath, {})).clusters.length, 2);
});

test("a file that does not parse or does not exist is refused naming the file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-config-"));
  const path = join(dir, "bad.json");
  await writeFile(path, "{ not json");
  await assert.rejects(loadConfig(path, {}), (error: Error) => error.message.startsWith(`${path}: 1 problem:`) && /not valid JSON/.test(error.message));
  await assert.rejects(loadConfig(join(dir, "missing.yaml"), {}), /cannot read: ENOENT/);
});
