import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateConfig } from "../control-plane/src/config/index.js";
import { startControlPlane } from "../control-plane/src/server.js";

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-cp-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("startControlPlane serves healthz, readyz and clusters on free ports and closes cleanly", async (t) => {
  const dir = await tempDir(t);
  const config = validateConfig({
    grpc: { port: 0 },
    admin: { port: 0 },
    clusters: [{ name: "llm-a", base_weight: 60 }, { name: "llm-b", base_weight: 40 }],
    detector: { min_requests: 10 },
    audit: { dir: join(dir, "audit") },
  });
  const cp = await startControlPlane(config);
  let closed = false;
  t.after(async () => {
    if (!closed) await cp.close();
  });
  assert.ok(cp.grpcPort > 0, "grpc port bound");
  assert.equal(cp.xdsPort, undefined);
  assert.equal(cp.controlPlane.config.detector.minRequests, 10, "snake_case detector keys reach the core");

  const health = await fetch(`${cp.adminUrl}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok" });

  const ready = await fetch(`${cp.adminUrl}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true, grpc_listening: true, model: "rules-only", sidecars: { connected: 0, refusing: 0, refusing_streams: [] }, audit: { skipped_records: 0, write_failures: 0 } });

  const clusters = await fetch(`${cp.adminUrl}/v1/clusters`);
  assert.equal(clusters.status, 200);
  const text = await clusters.text();
  assert.match(text, /llm-a/);
  assert.match(text, /llm-b/);

  const audit = await fetch(`${cp.adminUrl}/v1/audit`);
  assert.equal(audit.status, 200, "audit export answers when an audit dir is configured");

  await cp.close();
  closed = true;
  await cp.close(); // idempotent
  const files = await readdir(join(dir, "audit"));
  const written = (await Promise.all(files.map((f) => readFile(join(dir, "audit", f), "utf8")))).join("");
  assert.match(written, /"kind":"decisions","at_ms":/, "the initial decision set was flushed to the audit log");
  await assert.rejects(fetch(`${cp.adminUrl}/healthz`), "admin API stopped accepting");
});

test("a bad configuration file exits 2 and names every bad field", async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, "bad.yaml");
  await writeFile(bad, "grpc: { port: 70000 }\nclusters: [ { name: llm-a, base_weight: -3 } ]\nslo: { success_rate: 2 }\n");
  const result = spawnSync(process.execPath, ["bin/autoglm.mjs", "control-plane", "--config", bad], {
    encoding: "utf8",
    env: { ...process.env, AUTOGLM_LOG_LEVEL: "silent" },
    timeout: 240_000,
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /grpc\.port/);
  assert.match(result.stderr, /clusters\[0\]\.base_weight/);
  assert.match(result.stderr, /slo\.success_rate/);
});

test("an unknown core parameter in the file exits 2 naming it", async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, "bad.json");
  await writeFile(bad, JSON.stringify({ grpc: { port: 0 }, admin: { port: 0 }, clusters: [{ name: "llm-a" }], breaker: { open_bse_ms: 5 } }));
  const result = spawnSync(process.execPath, ["bin/autoglm.mjs", "control-plane", "--config", bad], {
    encoding: "utf8",
    env: { ...process.env, AUTOGLM_LOG_LEVEL: "silent" },
    timeout: 240_000,
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /breaker\.open_bse_ms/);
});

test("the command runs until SIGTERM, then stops and exits 0", async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, "cp.yaml");
  await writeFile(file, `grpc: { port: 0 }\nadmin: { port: 0 }\nclusters: [ { name: llm-a } ]\naudit: { dir: ${JSON.stringify(join(dir, "audit"))} }\n`);
  const child = spawn(process.execPath, ["bin/autoglm.mjs", "control-plane", "--config", file], {
    env: { ...process.env, AUTOGLM_LOG_LEVEL: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
      const m = /admin API and dashboard on (http:\/\/\S+?)[,\s]/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`exited ${code} before starting: ${stderr}`)));
  });
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /SIGTERM, stopping/);
});
