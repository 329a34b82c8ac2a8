// The snapshot builder on plain data (no I/O, time given): what a capture holds, when a snapshot
// is complete, and the configuration's redaction.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { validateConfig } from "../control-plane/src/config/index.js";
import type { ClusterStatus, ClusterWindowStats, DecisionSet, ScoreResult } from "../control-plane/src/core/types.js";
import { FEATURE_NAMES } from "../control-plane/src/model/index.js";
import {
  captureSnapshot,
  completeSnapshot,
  isSnapshotId,
  redactedConfig,
  scrubSnapshotText,
  secretValues,
  snapshotId,
  windowsSinceCapture,
  type SnapshotCause,
  type SnapshotFacts,
} from "../control-plane/src/snapshots/index.js";

const T0 = 1_800_000_000_000;

function window(cluster: string, i: number, errorRate = 0): ClusterWindowStats {
  return {
    cluster, windowStartMs: T0 + i * 1000, windowLengthMs: 1000, requests: 100, errors5xx: Math.round(errorRate * 100), localRejects: 0, timeouts: 0, resets: 0,
    grpcErrors: 0, errorRate, p50Ms: 100, p95Ms: 200, p99Ms: i === 0 ? Number.NaN : 300, rps: 100, reporters: 2,
  };
}

const HARD: ScoreResult = { score: 1, hard: true, reasons: ["error rate 0.90 > 0.05"], evidence: { requests: 300, errorRate: 0.9, windows: 3 } };
const CALM: ScoreResult = { score: 0.1, hard: false, reasons: [] };

/** Statuses with windows 0..n-1 of each cluster (llm-a failing from `failFrom`). */
function statuses(n: number, failFrom = Infinity): ClusterStatus[] {
  return ["llm-a", "llm-b"].map((cluster) => ({
    cluster, baseWeight: 50, state: cluster === "llm-a" && n > failFrom ? { kind: "open", since: T0, until: T0 + 5000, reason: "r", openings: 1 } : { kind: "closed", since: 0 },
    weight: 500, score: cluster === "llm-a" && n > failFrom ? 1 : 0.1, hard: cluster === "llm-a" && n > failFrom, reasons: [],
    scorers: cluster === "llm-a" && n > failFrom ? { hard_rules: HARD, trend: CALM } : { hard_rules: CALM, trend: CALM },
    anomalousWindows: 0, capacity: { baselineP50Ms: 100, safeRps: 200, kneeRps: Infinity, limitRps: 300 },
    recent: Array.from({ length: n }, (_, i) => window(cluster, i, cluster === "llm-a" && i >= failFrom ? 0.9 : 0)).slice(-10),
  }));
}

const DECISIONS: DecisionSet = { version: 7, issuedAtMs: T0, ttlMs: 30_000, halted: false, haltReason: "", clusters: [] };

function facts(n: number, failFrom = Infinity): SnapshotFacts {
  return {
    atMs: T0 + n * 1000 + 100,
    decisions: { ...DECISIONS, version: 7 + n },
    clusters: statuses(n, failFrom),
    sidecars: [],
    gone: [],
    model: {
      mode: "model",
      featureNames: FEATURE_NAMES,
      lastInference: { windowStartMs: T0 + (n - 1) * 1000, rows: new Map([["llm-a", { features: FEATURE_NAMES.map((_, i) => (i === 0 ? Number.NaN : i)), risk: 0.97 }]]) },
    },
  };
}

const OPENING: SnapshotCause = { kind: "breaker_open", cluster: "llm-a", reason: "error rate 0.90 > 0.05", actor: "", trigger: "" };
const MESH: SnapshotCause = { kind: "halt", cluster: "", reason: "drill", actor: "alice", trigger: "" };

describe("snapshot ids", () => {
  const cases: [string, string, boolean][] = [
    ["a generated id", snapshotId(T0, "breaker_open", 3), true],
    ["an on-demand id", snapshotId(T0, "on_demand", 123456789), true],
    ["a path up", "../../etc/passwd", false],
    ["an id with a slash", `${T0}-halt-1/x`, false],
    ["an id with a dot", `${T0}-halt-1.json`, false],
    ["an unknown cause", `${T0}-reboot-1`, false],
    ["a short time", "18-halt-1", false],
    ["empty", "", false],
  ];
  for (const [name, id, valid] of cases) it(`${name} is ${valid ? "" : "not "}a snapshot id`, () => assert.equal(isSnapshotId(id), valid));
});

describe("the snapshot builder", () => {
  it("a breaker opening is captured with the windows before it, each scorer's verdict and the model's input, nothing after yet", () => {
    const s = captureSnapshot("x", OPENING, facts(20, 17), { windowsBefore: 5, config: { c: 1 } });
    assert.equal(s.complete, false);
    assert.equal(s.after, null);
    assert.deepEqual(s.windows["llm-a"]!.before.map((w) => w.window_start_ms), [15, 16, 17, 18, 19].map((i) => T0 + i * 1000));
    assert.deepEqual(s.windows["llm-a"]!.before.map((w) => w.error_rate), [0, 0, 0.9, 0.9, 0.9]);
    assert.deepEqual(s.windows["llm-a"]!.after, []);
    assert.deepEqual(s.at_capture.scorers["llm-a"]!.per_scorer["hard_rules"], { score: 1, hard: true, reasons: ["error rate 0.90 > 0.05"], evidence: { requests: 300, error_rate: 0.9, windows: 3 } });
    assert.equal(s.at_capture.scorers["llm-a"]!.combined.hard, true);
    assert.equal(s.at_capture.scorers["llm-b"]!.per_scorer["hard_rules"]!.evidence, null);
    const row = s.at_capture.model.last_inference!.clusters["llm-a"]!;
    assert.equal(row.risk, 0.97);
    assert.equal(row.features[0], null, "a NaN feature is null in JSON");
    assert.equal(s.at_capture.decisions.version, 27);
    assert.equal(s.at_capture.clusters.find((c) => c.name === "llm-a")!.state, "open");
    assert.deepEqual(s.config, { c: 1 });
  });

  const completion: [string, SnapshotCause, number, number, boolean][] = [
    // [name, cause, windows closed after the capture, wanted, complete]
    ["two of three windows after a cluster's event", OPENING, 2, 3, false],
    ["three of three windows after a cluster's event", OPENING, 3, 3, true],
    ["more windows than wanted", OPENING, 6, 3, true],
    ["a mesh-wide cause with its windows", MESH, 3, 3, true],
    ["a mesh-wide cause with none yet", MESH, 0, 1, false],
  ];
  for (const [name, cause, closed, wanted, complete] of completion) {
    it(`${name} ${complete ? "completes" : "does not complete"} the snapshot`, () => {
      const captured = captureSnapshot("x", cause, facts(20, 17), { windowsBefore: 10, config: {} });
      const later = facts(20 + closed, 17);
      assert.equal(windowsSinceCapture(captured, later.clusters), closed);
      const s = completeSnapshot(captured, later, wanted);
      assert.equal(s.complete, complete);
      assert.equal(s.completed_at_ms, complete ? later.atMs : null);
      assert.deepEqual(s.windows["llm-a"]!.after.map((w) => w.window_start_ms), Array.from({ length: Math.min(closed, wanted) }, (_, i) => T0 + (20 + i) * 1000));
      assert.equal(s.windows["llm-a"]!.before.length, 10, "the windows before stay");
      assert.equal(s.after!.decisions.version, 27 + closed);
    });
  }
});

describe("secrets in a snapshot", () => {
  const config = validateConfig({
    grpc: { token: "grpc-tok" },
    admin: { token: "admin-tok", read_token: "read-tok" },
    clusters: [{ name: "llm-a" }],
    alerts: {
      channels: {
        hook: { type: "webhook", url: "https://hooks.example/services/{{token}}", token_env: "HOOK_SECRET" },
        pager: { type: "sms", url: "https://sms.example/send?key=literal-key", method: "POST", to: ["+15550100"], body: "{{to}} {{text}} {{token}}", encoding: "text", token_env: "SMS_SECRET" },
      },
    },
  });
  const env = { HOOK_SECRET: "hook-val", SMS_SECRET: 'sms"val\\x' };

  it("the configuration keeps no token and no alert secret, only that one was set", () => {
    const text = JSON.stringify(redactedConfig(config));
    for (const secret of ["grpc-tok", "admin-tok", "read-tok", "hook-val", "literal-key"]) assert.ok(!text.includes(secret), `${secret} in ${text}`);
    const view = redactedConfig(config) as { grpc: { token: string }; admin: { token: string; read_token: string } };
    assert.deepEqual([view.grpc.token, view.admin.token, view.admin.read_token], ["[redacted]", "[redacted]", "[redacted]"]);
    assert.equal((redactedConfig(validateConfig({ clusters: [{ name: "a" }] })) as { grpc: { token: string } }).grpc.token, "", "none set stays empty");
  });

  it("etcd endpoints keep no user or password", () => {
    const withEtcd = { ...config, etcd: { endpoints: ["http://root:etcd-pass@etcd-0:2379", "http://etcd-1:2379"], prefix: "/p/", leaseTtlS: 5, replicaId: "r", dialTimeoutMs: 1000, commitTimeoutMs: 1000, takeoverHoldWindows: 3 } };
    const view = redactedConfig(withEtcd) as { etcd: { endpoints: string[]; lease_ttl_s: number } };
    assert.deepEqual(view.etcd.endpoints, ["http://[redacted]@etcd-0:2379", "http://etcd-1:2379"]);
    assert.equal(view.etcd.lease_ttl_s, 5);
  });

  it("the secret values are the tokens and the alert channels' environment values", () => {
    assert.deepEqual(secretValues(config, env).sort(), ["admin-tok", "grpc-tok", "hook-val", "read-tok", 'sms"val\\x'].sort());
  });

  const scrubbed: [string, string][] = [
    ["a secret as written", "hook-val"],
    ["a secret JSON escapes inside a string", 'sms"val\\x'],
  ];
  for (const [name, secret] of scrubbed) {
    it(`${name} is scrubbed from the serialised snapshot`, () => {
      const text = JSON.stringify({ reason: `pasted ${secret} here` });
      const out = scrubSnapshotText(text, secretValues(config, env));
      assert.ok(!out.includes(JSON.stringify(secret).slice(1, -1)) && !out.includes(secret), out);
      assert.deepEqual(JSON.parse(out), { reason: "pasted [redacted] here" });
    });
  }
});

describe("the snapshot configuration", () => {
  it("defaults to 200 files, 64 MiB, 10 windows before and 5 after", () => {
    assert.deepEqual(validateConfig({ clusters: [{ name: "a" }] }).audit.snapshots, { maxBytes: 64 * 1024 * 1024, maxFiles: 200, windowsBefore: 10, windowsAfter: 5 });
  });
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["more windows after than a status keeps", { snapshot_windows_after: 11 }, /audit\.snapshot_windows_after/],
    ["no windows before", { snapshot_windows_before: 0 }, /audit\.snapshot_windows_before/],
    ["a byte cap below 4096", { snapshot_max_bytes: 100 }, /audit\.snapshot_max_bytes/],
    ["no files", { snapshot_max_files: 0 }, /audit\.snapshot_max_files/],
    ["a misspelt key", { snapshot_max_file: 3 }, /audit\.snapshot_max_file/],
  ];
  for (const [name, audit, message] of bad) {
    it(`${name} is refused, naming the field`, () => assert.throws(() => validateConfig({ clusters: [{ name: "a" }], audit }), message));
  }
});
