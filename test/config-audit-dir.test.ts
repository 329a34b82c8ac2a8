// An audit directory that cannot be created or written stops the control plane at start with an
// error naming audit.dir, never a hang: Node's recursive mkdir loops for ever on a path such as
// /proc/forbidden (procfs answers ENOENT for a new name under an existing directory), which is
// what `audit.dir: /proc/forbidden` did before (lib/make-directory.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeDirectory } from "../lib/make-directory.js";
import { ConfigError, validateConfig } from "../control-plane/src/config/index.js";
import { startControlPlane } from "../control-plane/src/server.js";

// A hang fails the test instead of stalling the run; no assertion depends on how long anything takes.
const HANG_GUARD = { timeout: 120_000 };

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-audit-dir-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Paths under `dir` that cannot become a directory, and the error code each gives. */
function unusable(dir: string): { name: string; path: string; code: RegExp }[] {
  return [
    { name: "a new name under procfs", path: "/proc/forbidden", code: /ENOENT/ },
    { name: "a new name two levels under procfs", path: "/proc/forbidden/audit", code: /ENOENT/ },
    { name: "a path under a regular file", path: join(dir, "file", "audit"), code: /ENOTDIR/ },
    { name: "a regular file", path: join(dir, "file"), code: /ENOTDIR/ },
  ];
}

test("makeDirectory creates missing parents and accepts an existing directory", HANG_GUARD, async (t) => {
  const dir = await tempDir(t);
  const nested = join(dir, "a", "b", "c");
  await makeDirectory(nested);
  assert.ok((await stat(nested)).isDirectory());
  await makeDirectory(nested);
  await makeDirectory(dir);
});

test("makeDirectory rejects, naming the reason, where Node's recursive mkdir hangs or fails", HANG_GUARD, async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, "file"), "x");
  for (const c of unusable(dir)) {
    await assert.rejects(makeDirectory(c.path), (e: Error) => c.code.test(e.message), c.name);
  }
});

test("the control plane refuses to start on an unusable audit.dir with a ConfigError naming it", HANG_GUARD, async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, "file"), "x");
  for (const c of unusable(dir)) {
    const config = validateConfig({ grpc: { port: 0 }, admin: { port: 0 }, clusters: [{ name: "llm-a" }], audit: { dir: c.path } });
    await assert.rejects(startControlPlane(config), (e: unknown) => {
      assert.ok(e instanceof ConfigError, `${c.name}: ${String(e)}`);
      assert.equal(e.problems.length, 1);
      assert.match(e.problems[0]!, /^audit\.dir: cannot create /, c.name);
      assert.ok(e.problems[0]!.includes(c.path), c.name);
      assert.match(e.problems[0]!, c.code, c.name);
      return true;
    });
  }
});

test("the control plane refuses to start on an audit.dir it can open but not write in", HANG_GUARD, async () => {
  // /proc exists and is a directory, but no file can be created in it (as root too).
  const config = validateConfig({ grpc: { port: 0 }, admin: { port: 0 }, clusters: [{ name: "llm-a" }], audit: { dir: "/proc" } });
  await assert.rejects(startControlPlane(config), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match(e.problems[0]!, /^audit\.dir: cannot write in \/proc: audit log: cannot open \/proc\/audit-\d+\.ndjson: /);
    return true;
  });
});

test("`autoglm control-plane` with audit.dir /proc/forbidden exits 2 naming the file and the field", HANG_GUARD, async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, "cp.yaml");
  await writeFile(file, "grpc: { port: 0 }\nadmin: { port: 0 }\nclusters: [ { name: llm-a } ]\naudit: { dir: /proc/forbidden }\n");
  const result = spawnSync(process.execPath, ["bin/autoglm.mjs", "control-plane", "--config", file], {
    encoding: "utf8",
    env: { ...process.env, AUTOGLM_LOG_LEVEL: "silent" },
    timeout: 100_000,
  });
  assert.equal(result.signal, null, "it exits by itself (no hang)");
  assert.equal(result.status, 2, result.stderr);
  assert.ok(result.stderr.includes(`bad configuration (${file}): 1 problem`), result.stderr);
  assert.match(result.stderr, /audit\.dir: cannot create \/proc\/forbidden: ENOENT/);
});
