import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configFromDocument, loadConfig } from "../control-plane/src/config/index.js";
import { readFileSync } from "node:fs";
import { parseConfigText } from "../control-plane/src/config/load.js";

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
  assert.deepEqual(config.admin, {
    host: "127.0.0.1",
    port: 18081,
    token: "",
    readToken: "",
    allowUnauthenticatedNonLoopback: false,
    export: { maxConcurrent: 4, maxConcurrentPerClient: 2, bytesPerSecond: 8 * 1024 * 1024, burstBytes: 1024 * 1024, retryAfterS: 5 },
  });
  assert.equal(config.errorBudgets, undefined, "no error budgets unless configured");
  assert.equal(config.xds.enabled, false);
  assert.deepEqual(config.clusters, [
    { name: "llm-a", baseWeight: 50 },
    { name: "llm-b", baseWeight: 50 },
  ]);
  assert.deepEqual(config.slo, { latencyMs: 2000, successRate: 0.99 }, "no stream objectives unless set");
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
      detector: { error_rate_threshold: 0.2, hard_n: 1 },
      breaker: { open_base_ms: 10000, open_max_ms: 60000 },
      model: { path: "models/anomaly.onnx" },
      audit: { dir: "/var/tmp/audit", rotate_bytes: 1048576 },
      alerts: { webhooks: ["http://127.0.0.1:9/a", { url: "https://example.test/h", headers: { Authorization: "x" } }], cooldown_s: 60, retries: 5 },
    },
    {},
  );
  assert.deepEqual(config.grpc.tls, { certFile: "c.pem", keyFile: "k.pem" });
  assert.equal(config.grpc.port, 0);
  assert.equal(config.xds.enabled, true);
  assert.deepEqual(config.detector, { errorRateThreshold: 0.2, hardN: 1 });
  assert.deepEqual(config.breaker, { openBaseMs: 10000, openMaxMs: 60000 });
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
  { name: "a port that is text", doc: { ...minimal, grpc: { port: "x" } }, problem: 'grpc.port: must be integer, got "x"' },
  { name: "a port out of range", doc: { ...minimal, admin: { port: 70000 } }, problem: "admin.port: must be <= 65535, got 70000" },
  { name: "no clusters", doc: {}, problem: "clusters: required" },
  { name: "an empty cluster list", doc: { clusters: [] }, problem: "clusters: must NOT have fewer than 1 items" },
  { name: "a zero base weight", doc: { clusters: [{ name: "a", base_weight: 0 }] }, problem: "clusters[0].base_weight: must be >= 1, got 0" },
  { name: "a cluster without a name", doc: { clusters: [{ base_weight: 1 }] }, problem: "clusters[0].name: required" },
  { name: "a cluster name with a space", doc: { clusters: [{ name: "a b" }] }, problem: 'clusters[0].name: must match pattern "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", got "a b"' },
  {
    name: "a duplicate cluster",
    doc: { clusters: [{ name: "a" }, { name: "a" }] },
    problem: 'clusters[1].name: duplicate cluster "a"',
  },
  { name: "an unknown top-level field", doc: { ...minimal, grcp: {} }, problem: "grcp: unknown field" },
  { name: "a success rate above one", doc: { ...minimal, slo: { success_rate: 1.5 } }, problem: "slo.success_rate: must be <= 1, got 1.5" },
  { name: "a TTFT objective of zero", doc: { ...minimal, slo: { ttft_ms: 0 } }, problem: "slo.ttft_ms: must be > 0, got 0" },
  { name: "a TTFT objective that is text", doc: { ...minimal, slo: { ttft_ms: "1s" } }, problem: 'slo.ttft_ms: must be number, got "1s"' },
  { name: "a TPOT objective above a minute per token", doc: { ...minimal, slo: { tpot_ms: 120000 } }, problem: "slo.tpot_ms: must be <= 60000, got 120000" },
  { name: "a camelCase stream objective", doc: { ...minimal, slo: { ttftMs: 500 } }, problem: "slo.ttftMs: unknown field; did you mean `ttft_ms`" },
  { name: "a bad TPOT objective from the environment", doc: minimal, env: { AUTOGLM_SLO_TPOT_MS: "-1" }, problem: "slo.tpot_ms (from AUTOGLM_SLO_TPOT_MS): must be > 0, got -1" },
  { name: "a minimum of zero streams", doc: { ...minimal, detector: { min_streams: 0 } }, problem: "detector.min_streams: must be >= 1, got 0" },
  { name: "a halt confirmation wait of zero", doc: { ...minimal, halt: { confirm_wait_s: 0 } }, problem: "halt.confirm_wait_s: must be > 0, got 0" },
  { name: "a webhook that is not a URL", doc: { ...minimal, alerts: { webhooks: ["nope"] } }, problem: 'alerts.webhooks[0].url: expected an http:// or https:// URL, got "nope"' },
  { name: "a negative cooldown", doc: { ...minimal, alerts: { cooldown_s: -1 } }, problem: "alerts.cooldown_s: must be >= 0" },
  { name: "a bad cooldown from the environment", doc: minimal, env: { AUTOGLM_ALERTS_COOLDOWN_S: "-5" }, problem: "alerts.cooldown_s (from AUTOGLM_ALERTS_COOLDOWN_S): must be >= 0" },
  { name: "a webhook from the environment that is not a URL", doc: minimal, env: { AUTOGLM_ALERTS_WEBHOOKS: "http://127.0.0.1:1/a,nope" }, problem: 'alerts.webhooks[1].url (from AUTOGLM_ALERTS_WEBHOOKS): expected an http:// or https:// URL, got "nope"' },
  { name: "TLS without a key", doc: { ...minimal, grpc: { tls: { cert_file: "c.pem" } } }, problem: "grpc.tls.key_file: required" },
  { name: "a nested detector value", doc: { ...minimal, detector: { n: { y: 1 } } }, problem: "detector.n: must be integer" },
  { name: "an unknown detector parameter", doc: { ...minimal, detector: { error_rate: 0.2 } }, problem: "detector.error_rate: unknown field" },
  { name: "a detector parameter out of its core range", doc: { ...minimal, detector: { trend_windows: 2 } }, problem: "detector.trend_windows: must be >= 3, got 2" },
  { name: "an n above m", doc: { ...minimal, detector: { n: 6 } }, problem: "detector.n: must not exceed detector.m (5), got 6" },
  { name: "an open maximum below the base", doc: { ...minimal, breaker: { open_max_ms: 1000 } }, problem: "breaker.open_max_ms: must be at least breaker.open_base_ms (5000), got 1000" },
  { name: "a section that is not an object", doc: { ...minimal, admin: 5 }, problem: "admin: must be object, got 5" },
  { name: "a document that is not an object", doc: [1], problem: "(top level): must be object" },
  { name: "an empty model path", doc: { ...minimal, model: { path: "" } }, problem: 'model.path: must NOT have fewer than 1 characters, got ""' },
  { name: "a tiny rotation size", doc: { ...minimal, audit: { rotate_bytes: 10 } }, problem: "audit.rotate_bytes: must be >= 4096, got 10" },
  { name: "a bad port from the environment", doc: minimal, env: { AUTOGLM_GRPC_PORT: "x" }, problem: 'grpc.port (from AUTOGLM_GRPC_PORT): must be integer, got "x"' },
  { name: "a bad boolean from the environment", doc: minimal, env: { AUTOGLM_XDS_ENABLED: "maybe" }, problem: 'xds.enabled (from AUTOGLM_XDS_ENABLED): must be boolean, got "maybe"' },
];

for (const { name, doc, env, problem } of badCases) {
  test(`a configuration with ${name} is refused naming the field`, () => {
    assert.ok(problemsOf(doc, env).includes(problem), `problems: ${JSON.stringify(problemsOf(doc, env))}`);
  });
}

// The spellings the file used to take silently: the core's camelCase names reached it unchanged.
const camelCases: { doc: object; problem: string }[] = [
  { doc: { detector: { minRequests: 10 } }, problem: "detector.minRequests: unknown field; did you mean `min_requests`" },
  { doc: { breaker: { openBaseMs: 1000 } }, problem: "breaker.openBaseMs: unknown field; did you mean `open_base_ms`" },
  { doc: { grpc: { allowUnauthenticatedNonLoopback: true } }, problem: "grpc.allowUnauthenticatedNonLoopback: unknown field; did you mean `allow_unauthenticated_non_loopback`" },
  { doc: { admin: { readToken: "r" } }, problem: "admin.readToken: unknown field; did you mean `read_token`" },
  { doc: { audit: { rotateBytes: 8192 } }, problem: "audit.rotateBytes: unknown field; did you mean `rotate_bytes`" },
  { doc: { clusters: [{ name: "a", baseWeight: 2 }] }, problem: "clusters[0].baseWeight: unknown field; did you mean `base_weight`" },
  { doc: { grpc: { tls: { certFile: "c", key_file: "k" } } }, problem: "grpc.tls.certFile: unknown field; did you mean `cert_file`" },
];

for (const { doc, problem } of camelCases) {
  test(`a camelCase key is refused and its snake_case field suggested: ${problem.split(":")[0]}`, () => {
    assert.ok(problemsOf({ ...minimal, ...doc }).includes(problem), `problems: ${JSON.stringify(problemsOf({ ...minimal, ...doc }))}`);
  });
}

test("an unknown key that is not a camelCase spelling of a field gets no suggestion", () => {
  assert.deepEqual(problemsOf({ ...minimal, detector: { minReqs: 1 } }), ["detector.minReqs: unknown field"]);
});

test("every bad field of a file is reported at once", () => {
  const problems = problemsOf({ grpc: { port: -1 }, admin: { port: "a" }, clusters: [] });
  assert.equal(problems.length, 3);
});

test("a file with problems in every section lists all of them in one error, each once", () => {
  const doc = {
    grpc: { port: 70000, host: "0.0.0.0", allowUnauthenticatedNonLoopback: true },
    admin: { port: "x", token: "same", read_token: "same", extra: 1 },
    xds: { enabled: "maybe" },
    clusters: [{ name: "llm-a", base_weight: 0 }, { name: "llm-a" }, { name: "bad name" }, 5],
    slo: { success_rate: 2 },
    detector: { n: 9, m: 5, minRequests: 3, ewma_alpha: 0 },
    breaker: { open_base_ms: 10000, open_max_ms: 100, openBackoff: 2 },
    model: { path: "" },
    audit: { rotate_bytes: 10 },
    alerts: { webhooks: ["nope"], retries: 99 },
    triggers: {},
  };
  const paths = problemsOf(doc).map((p) => p.split(":")[0]!);
  assert.deepEqual([...paths].sort(), [
    "admin.extra",
    "admin.port",
    "admin.read_token",
    "alerts.retries",
    "alerts.webhooks[0].url",
    "audit.rotate_bytes",
    "breaker.openBackoff",
    "breaker.open_max_ms",
    "clusters[0].base_weight",
    "clusters[1].name",
    "clusters[2].name",
    "clusters[3]",
    "detector.ewma_alpha",
    "detector.minRequests",
    "detector.n",
    "grpc.allowUnauthenticatedNonLoopback",
    "grpc.host",
    "grpc.port",
    "model.path",
    "slo.success_rate",
    "triggers",
    "xds.enabled",
  ]);
});

test("a bad value is reported once, not again by the checks that read it", () => {
  const cases: { doc: object; problems: string[] }[] = [
    // An empty host is refused by the schema and not then called a non-loopback address.
    { doc: { ...minimal, grpc: { host: "" } }, problems: ['grpc.host: must NOT have fewer than 1 characters, got ""'] },
    // An m that is not a number does not make a valid n exceed it.
    { doc: { ...minimal, detector: { n: 4, m: "five" } }, problems: ['detector.m: must be integer, got "five"'] },
    // A token that is not text is not compared with the read token.
    { doc: { ...minimal, admin: { token: 5, read_token: "r" } }, problems: ["admin.token: must be string, got 5"] },
  ];
  for (const { doc, problems } of cases) assert.deepEqual(problemsOf(doc), problems, JSON.stringify(doc));
});

test("an empty section (a YAML key with nothing under it) means its defaults", () => {
  const config = configFromDocument({ ...minimal, grpc: null, alerts: null }, {});
  assert.equal(config.grpc.port, 50051);
  assert.deepEqual(config.alerts.channels, []);
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

test("the stream objectives and the minimum of streams are read from the file and the environment", () => {
  const fromFile = configFromDocument({ ...minimal, slo: { latency_ms: 60000, ttft_ms: 800, tpot_ms: 45 }, detector: { min_streams: 30 } }, {});
  assert.deepEqual(fromFile.slo, { latencyMs: 60000, successRate: 0.99, ttftMs: 800, tpotMs: 45 });
  assert.deepEqual(fromFile.detector, { minStreams: 30 });
  const fromEnv = configFromDocument(minimal, { AUTOGLM_SLO_TTFT_MS: "1200", AUTOGLM_SLO_TPOT_MS: "60" });
  assert.deepEqual(fromEnv.slo, { latencyMs: 2000, successRate: 0.99, ttftMs: 1200, tpotMs: 60 });
});

test("the README's stream objectives example is a valid configuration", () => {
  const blocks = [...readFileSync("README.md", "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const block = blocks.find((b) => b.startsWith("slo:") && b.includes("ttft_ms:"));
  assert.ok(block !== undefined, "the README has a stream objectives example");
  const config = configFromDocument({ ...minimal, ...(parseConfigText(block, "readme.yaml") as object) }, {});
  assert.deepEqual(config.slo, { latencyMs: 60000, successRate: 0.99, ttftMs: 1000, tpotMs: 50 });
  assert.deepEqual(config.detector, { minStreams: 20 });
});
