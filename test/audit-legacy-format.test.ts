// The audit log's one spelling (snake_case, `kind`, `at_ms`; a resume is a `resume`) in the files
// and in the export, and files of earlier versions (camelCase, `type`, `atMs`, a resume logged as
// a halt) restored and exported as if written today. Model reloads are audited too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { validateConfig } from "../control-plane/src/config/index.js";
import { startControlPlane } from "../control-plane/src/server.js";
import { createLogger } from "../lib/log.js";
import { projectRoot } from "../sim/scenario.js";

const logger = createLogger("test", "silent");
const FIXTURE = join(projectRoot(), "test", "fixtures", "audit-camelcase", "audit-000001.ndjson");
const TOKEN = "t0ken";
const auth = { authorization: `Bearer ${TOKEN}` };

async function fixtureDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-audit-legacy-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, "audit"));
  await copyFile(FIXTURE, join(dir, "audit", "audit-000001.ndjson"));
  return dir;
}

/** Every key of a JSON value, at every depth. */
function keys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keys);
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...keys(v)]);
}

async function start(dir: string, modelPath = join(projectRoot(), "models", "anomaly.onnx")) {
  return startControlPlane(
    validateConfig({
      grpc: { port: 0 },
      admin: { port: 0, token: TOKEN },
      clusters: [{ name: "llm-a" }, { name: "llm-b" }],
      audit: { dir: join(dir, "audit") },
      model: { path: modelPath },
    }),
    { logger },
  );
}

test("a log of the earlier camelCase format restores: decisions, overrides, and a resume logged as a halt", async (t) => {
  const dir = await fixtureDir(t);
  const log = await AuditLog.open({ dir: join(dir, "audit"), logger });
  await log.close();
  assert.deepEqual(log.corruptions, []);
  assert.equal(log.restored?.decisions?.version, 1783000000000003);
  assert.equal(log.restored?.decisions?.clusters[0]?.probeFraction, 1);
  assert.deepEqual(log.restored?.overrides, [{ cluster: "llm-b", state: "closed", untilMs: 1900000000000, reason: "keep serving", actor: "admin@10.0.0.7" }]);
  assert.deepEqual(log.restored?.halt, { halted: false, reason: "rolled back", actor: "admin@10.0.0.7", atMs: 1700000006000 });
});

test("the export gives a log of the earlier format in today's spelling, as NDJSON and CSV", async (t) => {
  const dir = await fixtureDir(t);
  const running = await start(dir);
  t.after(() => running.close());
  const nd = await fetch(`${running.adminUrl}/v1/audit?until=1700000010000`, { headers: auth });
  assert.equal(nd.status, 200);
  const records = (await nd.text()).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(records.map((r) => r.kind), ["decisions", "transition", "override", "nack", "halt", "resume", "decisions"]);
  assert.deepEqual(records.map((r) => r.at_ms), [1, 2, 3, 4, 5, 6, 7].map((s) => 1700000000000 + s * 1000));
  const camel = [...new Set(records.flatMap(keys))].filter((k) => /[A-Z]/.test(k) || k === "type");
  assert.deepEqual(camel, [], "no camelCase key is left");
  assert.ok(records.every((r) => !("type" in r) && !("atMs" in r)));
  assert.deepEqual(records[5], { kind: "resume", at_ms: 1700000006000, reason: "rolled back", actor: "admin@10.0.0.7" });
  assert.deepEqual(records[2], {
    kind: "override",
    at_ms: 1700000003000,
    override: { cluster: "llm-b", state: "closed", until_ms: 1900000000000, reason: "keep serving", actor: "admin@10.0.0.7" },
  });
  assert.deepEqual((records[3] as { nack: object }).nack, {
    stream_id: "s-1",
    node_id: "sidecar-1",
    version: 1783000000000002,
    reason: "unknown cluster llm-z",
    enforced_version: 1783000000000001,
    at_ms: 1700000004000,
  });

  const csv = await fetch(`${running.adminUrl}/v1/audit?format=csv&cluster=llm-a&until=1700000010000`, { headers: auth });
  const [header, ...rows] = (await csv.text()).trimEnd().split("\r\n");
  const columns = header!.split(",");
  const row = (line: string): Record<string, string> => Object.fromEntries(line.split(",").map((v, i) => [columns[i]!, v]));
  // llm-a's rows: its decisions (one row per set), its transition, and the mesh-wide halt and resume.
  assert.deepEqual(rows.map((r) => row(r).kind), ["decisions", "transition", "halt", "resume", "decisions"]);
  assert.deepEqual(
    [row(rows[4]!).cluster, row(rows[4]!).state, row(rows[4]!).weight, row(rows[4]!).retry_after_s, row(rows[4]!).anomaly_score, row(rows[4]!).version],
    ["llm-a", "open", "0", "5", "0.91", "1783000000000003"],
  );
  assert.deepEqual([row(rows[1]!).from, row(rows[1]!).to], ["closed", "open"]);
  assert.deepEqual([row(rows[3]!).reason, row(rows[3]!).actor], ["rolled back", "admin@10.0.0.7"]);
});

test("new records are written in today's spelling: a resume is a resume, a model reload is recorded", async (t) => {
  const dir = await fixtureDir(t);
  const badModel = join(dir, "bad.onnx");
  await writeFile(badModel, "not an onnx model");
  const running = await start(dir);
  const post = (path: string, body: object) =>
    fetch(`${running.adminUrl}${path}`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
  try {
    assert.equal((await post("/v1/halt", { reason: "drill" })).status, 200);
    assert.equal((await post("/v1/resume", { reason: "drill over" })).status, 200);
    const reload = await post("/v1/model/reload", { reason: "new week" });
    assert.equal(reload.status, 200, await reload.clone().text());
    assert.equal(((await reload.json()) as { mode: string }).mode, "model");
  } finally {
    await running.close();
  }
  // The same log with a model file that does not load: the refused reload is recorded too.
  const broken = await start(dir, badModel);
  try {
    const refused = await fetch(`${broken.adminUrl}/v1/model/reload`, { method: "POST", headers: auth });
    assert.equal(refused.status, 422);
  } finally {
    await broken.close();
  }

  const files = (await readdir(join(dir, "audit"))).filter((f) => f.endsWith(".ndjson")).sort();
  const written = (await Promise.all(files.slice(1).map((f) => readFile(join(dir, "audit", f), "utf8")))).join("").trim().split("\n");
  const parsed = written.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(parsed.every((r) => typeof r.kind === "string" && typeof r.at_ms === "number" && !("type" in r)), written.join("\n"));
  assert.deepEqual([...new Set(parsed.flatMap(keys))].filter((k) => /[A-Z]/.test(k)), []);
  const operator = parsed.filter((r) => ["halt", "resume", "model_reload"].includes(r.kind as string));
  assert.deepEqual(
    operator.map((r) => ({ ...r, at_ms: 0, actor: String(r.actor).split("@")[0], ...(typeof r.detail === "string" ? { detail: "…" } : {}) })),
    [
      { kind: "halt", at_ms: 0, reason: "drill", actor: "admin", mode: "drain" },
      { kind: "resume", at_ms: 0, reason: "drill over", actor: "admin" },
      { kind: "model_reload", at_ms: 0, actor: "admin", path: join(projectRoot(), "models", "anomaly.onnx"), reason: "new week", outcome: "loaded" },
      { kind: "model_reload", at_ms: 0, actor: "admin", path: badModel, outcome: "rejected", detail: "…" },
    ],
  );
});
