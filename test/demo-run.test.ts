// The demo in real time, as `npm start` runs it: the default scenario to its end with the ONNX
// model, its command's terminal output, an early stop and bad options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseScenario } from "../sim/scenario.js";
import { defaultScenarioPath, runDemo } from "../demo/run.js";
import { DEMO_CLIENTS } from "../demo/load.js";
import { command } from "../cli/commands/demo.js";
import { readAudit } from "../control-plane/src/audit/reader.js";
import type { Transition } from "../control-plane/src/core/types.js";
import { loadScenarioFile } from "../sim/scenario.js";

const shortScenario = parseScenario({
  name: "demo-test",
  seed: 3,
  duration_s: 20,
  window_s: 1,
  sidecars: 2,
  slo: { latency_ms: 10000, success_rate: 0.99, client_timeout_ms: 20000 },
  clusters: [
    { name: "llm-a", weight: 50, endpoints: 1, capacity_rps: 200, latency_ms: { p50: 100, p99: 500 }, error_rate: 0.001 },
    { name: "llm-b", weight: 50, endpoints: 1, capacity_rps: 200, latency_ms: { p50: 100, p99: 500 }, error_rate: 0.001 },
  ],
  traffic: [{ at_s: 0, rps: 10 }],
}, "demo-test");

test("the default demo runs to its end with the ONNX model, and the failed cluster's breaker opens and closes again", { timeout: 400_000 }, async () => {
  const scenario = loadScenarioFile(defaultScenarioPath());
  const faulty = scenario.faults[0]!.cluster;
  const lines: string[] = [];
  const auditDir = await mkdtemp(join(tmpdir(), "autoglm-demo-audit-"));
  const mailDir = join(auditDir, "mail");
  try {
    // No scenario, duration or model given: what `npm start` runs.
    const summary = await runDemo({ auditDir, mailDir, print: (l) => lines.push(l) });
    const output = lines.join("\n");
    assert.equal(summary.aborted, false);
    assert.ok(summary.ranS >= scenario.duration_s, `ran ${summary.ranS} s of ${scenario.duration_s}`);
    assert.equal(summary.model.mode, "model", `model: ${JSON.stringify(summary.model)}`);
    assert.match(output, /^model: model \(.*anomaly\.onnx\)$/m);

    // The breaker opened on the faulty cluster and closed again before the end, and said so.
    const opened = summary.transitions.findIndex((t) => t.cluster === faulty && t.to === "open");
    assert.ok(opened >= 0, `transitions: ${JSON.stringify(summary.transitions)}`);
    assert.ok(summary.transitions.slice(opened).some((t) => t.cluster === faulty && t.to === "closed"), `transitions: ${JSON.stringify(summary.transitions)}`);
    assert.equal(summary.clusters.find((c) => c.name === faulty)?.state, "closed");
    const story = summary.breakers.find((b) => b.cluster === faulty);
    assert.ok(story?.closedAgainAtS !== undefined, `breakers: ${JSON.stringify(summary.breakers)}`);
    assert.match(lines.at(-1)!, new RegExp(`^done: \\d+ requests, [\\d.]+% ok; ${faulty} opened at t=\\d+s and closed again at t=\\d+s`));
    assert.ok(summary.transitions.every((t) => t.cluster === faulty), `only the faulty cluster trips: ${JSON.stringify(summary.transitions)}`);

    // Traffic went through the filters, and the audit log (flushed on shutdown) holds the story.
    assert.ok(summary.totals.requests > 50 * scenario.duration_s / 2, `requests: ${summary.totals.requests}`);
    assert.ok(summary.totals.filtered > summary.totals.requests / 2, `filtered answers: ${summary.totals.filtered} of ${summary.totals.requests}`);
    assert.ok(summary.sidecarRequests.every((n) => n > 0), `sidecar request counters: ${summary.sidecarRequests.join(", ")}`);
    const audited: Transition[] = [];
    for await (const record of readAudit(auditDir, { cluster: faulty })) if (record.kind === "transition") audited.push(record.transition);
    assert.deepEqual(audited.map((t) => t.to), summary.transitions.map((t) => t.to));
    assert.ok(lines.some((l) => l.startsWith("dashboard: http://127.0.0.1:")), output);
    assert.ok(lines.some((l) => l.startsWith("t=")), "a per-second summary line is printed");

    // The breaker's opening was e-mailed to the local mailbox, said in a line, and saved.
    const mail = summary.mails.find((m) => m.subject.includes(`breaker_open ${faulty}`));
    assert.ok(mail !== undefined, `mails: ${JSON.stringify(summary.mails)}`);
    assert.ok(lines.includes(`mail at t=${mail.atS}s to oncall@demo.localhost: ${mail.subject} (${mail.file})`), output);
    assert.match(await readFile(mail.file!, "utf8"), new RegExp(`breaker of ${faulty} opened`));
    assert.ok(lines.some((l) => l.startsWith(`alerts: e-mailed to oncall@demo.localhost through a local SMTP server (127.0.0.1:`) && l.includes(`each saved in ${mailDir}`)), output);

    // Who sends the traffic: the sidecars counted the clients by x-forwarded-for, and the heaviest
    // one (about half of the requests) leads the mesh's top sources, printed before the last line.
    const top = summary.topSources;
    assert.ok(top.length >= 3, `top sources: ${JSON.stringify(top)}`);
    assert.equal(top[0]!.source, DEMO_CLIENTS[0]!.address, JSON.stringify(top));
    assert.ok(top[0]!.share > 0.35 && top[0]!.share > top[1]!.share, JSON.stringify(top));
    assert.ok(top.every((s) => DEMO_CLIENTS.some((c) => c.address === s.source)), JSON.stringify(top));
    assert.ok(lines.at(-2)!.startsWith(`top sources (last minute): ${DEMO_CLIENTS[0]!.address} `), output);
  } finally {
    await rm(auditDir, { recursive: true, force: true });
  }
});

/** The lines the demo command itself prints (anything else on stdout is a stray log line). */
const DEMO_LINE = /^(logs: |autoglm demo: |dashboard: |model: |sidecars: |audit log: |alerts: |mail at t=\d+s |t=\s*\d+s |duration reached: |top sources \(last minute\): |done: )/;

test("the demo command prints only its own lines while the admin API is called; the logs go to their file", { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-demo-cli-"));
  const logFile = join(dir, "demo.ndjson");
  try {
    const child = spawn(process.execPath, ["bin/autoglm.mjs", "demo", "--duration", "4", "--audit-dir", join(dir, "audit"), "--log-file", logFile, "--mail-dir", join(dir, "mail")], {
      env: { ...process.env, AUTOGLM_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const stdout: string[] = [];
    const readyz: unknown[] = [];
    for await (const line of createInterface({ input: child.stdout })) {
      stdout.push(line);
      const dashboard = /^dashboard: (\S+)$/.exec(line);
      if (dashboard === null) continue;
      // The admin API logs every request at info: none of it may reach the terminal.
      for (const path of ["readyz", "v1/clusters", "v1/decisions"]) {
        const res = await fetch(`${dashboard[1]}${path}`);
        if (path === "readyz") readyz.push(await res.json());
        else await res.text();
      }
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(stderr, "");
    assert.deepEqual(stdout.filter((l) => !DEMO_LINE.test(l)), [], stdout.join("\n"));
    assert.equal(stdout[0], `logs: ${logFile}`);
    assert.match(stdout.at(-1)!, /^done: /);
    assert.equal((readyz[0] as { model?: string } | undefined)?.model, "model", JSON.stringify(readyz));
    const logs = (await readFile(logFile, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { msg?: string; model?: string });
    assert.ok(logs.filter((l) => l.msg === "incoming request").length >= 3, "the admin requests are logged in the file");
    assert.equal(logs.find((l) => l.msg === "control plane started")?.model, "model");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the demo stops early and cleanly when aborted", { timeout: 60_000 }, async () => {
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 3000);
  const summary = await runDemo({ scenario: shortScenario, durationS: 60, rps: 10, signal: abort.signal, print: () => undefined });
  assert.equal(summary.aborted, true);
  assert.ok(summary.ranS < 30, `ran ${summary.ranS} s`);
});

test("the demo command rejects bad options with exit code 2, and a missing filter says how to build it", async () => {
  const table: Array<{ args: string[]; code: number }> = [
    { args: ["--rps", "zero"], code: 2 },
    { args: ["--duration", "-1"], code: 2 },
    { args: ["--log-file", ""], code: 2 },
    { args: ["--mail-dir", ""], code: 2 },
    { args: ["--bogus"], code: 2 },
  ];
  for (const { args, code } of table) assert.equal(await command.run(args), code, args.join(" "));
  await assert.rejects(runDemo({ scenario: shortScenario, wasmPath: "/nonexistent/filter.wasm", print: () => undefined }), /`npm start` builds it.*npm run build:filter/);
});

test("demo --help says that npm start builds the filter, not that the user must build first", () => {
  assert.match(command.help, /`npm start` runs this command .* after building build\/filter\.wasm/s);
  assert.doesNotMatch(command.help, /build(.*) first/i);
});
