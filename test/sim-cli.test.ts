// `autoglm bench scenarios` argument handling: bad options and invalid scenario files are
// refused with exit code 2 and a message naming what is wrong; a small run writes every output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command } from "../cli/commands/bench-scenarios.js";
import { scenarioJson } from "./sim-support.js";

/** Runs the command, capturing stderr (stdout stays the test runner's: the table lands in results.md too). */
async function capture(args: string[]): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await command.run(args);
    return { code, stderr: err.join("") };
  } finally {
    process.stderr.write = writeErr;
  }
}

const bad: Array<[string[], RegExp]> = [
  [["--colour", "red"], /Unknown option '--colour'/],
  [["--policies", "none,magic"], /--policies: unknown policy "magic"/],
  [["--workers", "0"], /--workers: expected a whole number from 1 to 64, got "0"/],
  [["no-such-file.json"], /no-such-file\.json: invalid scenario:\n\s+cannot read: ENOENT/],
];
for (const [args, message] of bad) {
  test(`bench scenarios ${args.join(" ")} is refused with exit code 2`, async () => {
    const { code, stderr } = await capture(args);
    assert.equal(code, 2);
    assert.match(stderr, message);
  });
}

test("an invalid scenario file is refused naming the file, the field and the problem", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-cli-"));
  try {
    const json = scenarioJson() as Record<string, any>;
    json.clusters[1].latency_ms.p99 = 50;
    writeFileSync(join(dir, "bad.json"), JSON.stringify(json));
    const { code, stderr } = await capture([join(dir, "bad.json")]);
    assert.equal(code, 2);
    assert.match(stderr, /bad\.json: invalid scenario:\n\s+clusters\[1\]\.latency_ms\.p99: must be > p50 \(120\), got 50/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a small run writes the JSON, results.md and a chart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-cli-"));
  try {
    const json = scenarioJson() as Record<string, any>;
    json.duration_s = 30;
    json.traffic = [{ at_s: 0, rps: 40 }];
    json.faults = [{ at_s: 10, cluster: "a", down: true, for_s: 10 }];
    writeFileSync(join(dir, "small.json"), JSON.stringify(json));
    const out = join(dir, "out");
    const { code } = await capture([join(dir, "small.json"), "--policies", "none,resilience4j", "--workers", "1", "--json", join(dir, "r.json"), "--out", out]);
    assert.equal(code, 0);
    const results = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as { scenarios: Array<{ name: string; policies: Record<string, Record<string, unknown>> }> };
    assert.equal(results.scenarios[0]!.name, "test");
    assert.deepEqual(Object.keys(results.scenarios[0]!.policies), ["none", "resilience4j"]);
    const none = results.scenarios[0]!.policies["none"]!;
    assert.deepEqual(Object.keys(none).sort(), ["by_phase", "detect_s", "failed", "false_cuts", "p99_ms", "recover_s", "requests", "slo_violation_s", "success_rate"]);
    assert.ok((results.scenarios[0]!.policies["resilience4j"]!["failed"] as number) < (none["failed"] as number));
    assert.match(readFileSync(join(out, "results.md"), "utf8"), /\| test \| resilience4j \|/);
    assert.match(readFileSync(join(out, "test.svg"), "utf8"), /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an output file that cannot be written is reported by name with exit code 2, and the runs still finish", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-cli-"));
  try {
    const json = scenarioJson() as Record<string, any>;
    json.duration_s = 20;
    json.traffic = [{ at_s: 0, rps: 20 }];
    json.faults = [];
    writeFileSync(join(dir, "small.json"), JSON.stringify(json));
    writeFileSync(join(dir, "a-file"), "not a folder");
    const target = join(dir, "a-file", "r.json"); // a folder that is a file
    const { code, stderr } = await capture([join(dir, "small.json"), "--policies", "none", "--workers", "1", "--json", target]);
    assert.equal(code, 2);
    assert.ok(stderr.includes(`cannot write ${target}`), stderr);
    assert.match(stderr, /\[1\/1\] test × none: failed \d+\/\d+/, "the run finished");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
