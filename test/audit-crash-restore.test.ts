import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readAudit } from "../control-plane/src/audit/reader.js";

const TOKEN = "crash-test-token";
const CLUSTERS = ["llm-a", "llm-b", "llm-c", "llm-d"];

/** Starts `autoglm control-plane` as a child process; resolves with its admin URL. */
async function startChild(config: string): Promise<{ child: ChildProcess; url: string; exited: Promise<void> }> {
  const child = spawn(process.execPath, ["bin/autoglm.mjs", "control-plane", "--config", config], {
    env: { ...process.env, AUTOGLM_LOG_LEVEL: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (b: Buffer) => {
      stdout += b.toString();
      const m = /admin API and dashboard on (http:\/\/\S+?)[,\s]/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`control plane exited ${code} before starting: ${stderr}`)));
  });
  return { child, url, exited };
}

test("a control plane killed with SIGKILL in a burst of overrides restores every acknowledged one", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-audit-crash-"));
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });
  const auditDir = join(dir, "audit");
  const config = join(dir, "cp.yaml");
  await writeFile(
    config,
    [
      "grpc: { port: 0 }",
      `admin: { port: 0, token: ${TOKEN} }`,
      `clusters: [ ${CLUSTERS.map((c) => `{ name: ${c} }`).join(", ")} ]`,
      `audit: { dir: ${JSON.stringify(auditDir)} }`,
      "",
    ].join("\n"),
  );

  const first = await startChild(config);
  children.push(first.child);
  const acknowledged = new Set<string>();
  let highestVersion = 0;
  let sent = 0;
  let killed = false;
  const killAfter = 200;
  // Workers send overrides back to back; the process is killed while many are in flight.
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !killed; i++) {
      const reason = `burst-${w}-${i}`;
      const cluster = CLUSTERS[(w + i) % CLUSTERS.length]!;
      sent++;
      try {
        const res = await fetch(`${first.url}/v1/clusters/${cluster}/override`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ state: i % 2 === 0 ? "open" : "closed", reason }),
        });
        if (res.status === 200) {
          const body = (await res.json()) as { decisions: { version: number } };
          acknowledged.add(reason);
          highestVersion = Math.max(highestVersion, body.decisions.version);
        } else await res.body?.cancel();
      } catch {
        return; // the process is gone: this call was never acknowledged
      }
      if (acknowledged.size >= killAfter && !killed) {
        killed = true;
        first.child.kill("SIGKILL");
      }
    }
  };
  await Promise.all(Array.from({ length: 24 }, (_, w) => worker(w)));
  await first.exited;
  assert.equal(first.child.signalCode, "SIGKILL");
  assert.ok(acknowledged.size >= killAfter, `${acknowledged.size} acknowledged of ${sent} sent`);

  // Restart on the same directory: it restores, and every acknowledged override is in the log.
  const second = await startChild(config);
  children.push(second.child);
  const ready = await fetch(`${second.url}/readyz`);
  assert.equal(ready.status, 200);
  const decisions = (await (await fetch(`${second.url}/v1/decisions`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { version: number };
  second.child.kill("SIGTERM");
  await second.exited;

  const recorded = new Set<string>();
  for await (const r of readAudit(auditDir, { kinds: ["override"] })) if (r.kind === "override") recorded.add(r.override.reason);
  const lost = [...acknowledged].filter((reason) => !recorded.has(reason));
  assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.size} acknowledged overrides lost`);
  assert.ok(decisions.version >= highestVersion, `restored version ${decisions.version} < acknowledged ${highestVersion}`);
});
