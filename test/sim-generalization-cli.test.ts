// `autoglm bench generalization`: bad options are refused with exit code 2 naming the problem; a
// run of three scenarios writes the JSON, generalization.md and generalization.svg and prints
// the summary with every policy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { command } from "../cli/commands/bench-generalization.js";
import { tuningScenarios } from "../models/src/scenario-generator.js";
import { parseScenarioText } from "../sim/scenario.js";

/** Runs the command in this process, capturing stderr (stdout stays the test runner's). */
async function capture(run: () => Promise<number>): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await run();
    return { code, stderr: err.join("") };
  } finally {
    process.stderr.write = writeErr;
  }
}

/** Runs `autoglm <args>` as a child process (its stdout is ours to read). */
function autoglm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/autoglm.mjs", ...args], { env: { ...process.env, AUTOGLM_LOG_LEVEL: "silent" } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
  });
}

const bad: Array<[string[], RegExp]> = [
  [["--count", "0"], /--count: expected a whole number from 1 to 100000, got "0"/],
  [["--count", "many"], /--count: expected a whole number from 1 to 100000, got "many"/],
  [["--seed=-3"], /--seed: expected a whole number from 0 to 999999, got "-3"/],
  [["--seed", "999999", "--count", "2"], /seed \+ count must be at most 1000000/],
  [["--workers", "0"], /--workers: expected a whole number from 1 to 64, got "0"/],
  [["--colour", "red"], /Unknown option '--colour'/],
  [["--json", ""], /--json: give a file name/],
  [["--llm-share", "1.5"], /--llm-share: expected a number from 0 to 1, got "1.5"/],
  [["--llm-share", "half"], /--llm-share: expected a number from 0 to 1, got "half"/],
  [["--tuning", "soon"], /--tuning: expected a whole number from 0 to 4294967295, got "soon"/],
  [["--tuning", "5", "--seed", "3"], /--tuning and --seed choose different seed ranges: give one of them/],
  [["--scenarios", ""], /--scenarios: give a folder/],
  [["--family", "wide"], /--family: expected main or shifted, got "wide"/],
  [["--reseed", "21"], /--reseed: expected a whole number from 0 to 20, got "21"/],
  [["--reseed-all"], /--reseed-all: give --reseed k \(1 to 20\), the number of extra seeds/],
  [["--subjects", "autoglm,best"], /--subjects: expected names among autoglm, autoglm-rules, autoglm-host-ejection, autoglm-no-load-reports, oracle-next-window, oracle-last-window, got "autoglm,best"/],
  [["--subjects", "autoglm,autoglm"], /--subjects: a name is given twice in "autoglm,autoglm"/],
  [["--load-report-share", "2"], /--load-report-share: expected a number from 0 to 1, got "2"/],
  [["--load-report-share", " "], /--load-report-share: expected a number from 0 to 1, got " "/],
  [["--baselines-from", ""], /--baselines-from: give a file name/],
  [["--compare", ""], /--compare: give a file name/],
  [["--count", "1", "--compare", "no-such-dir/g.json"], /--compare: cannot read no-such-dir\/g\.json: ENOENT/],
  [["--count", "1", "--baselines-from", "no-such-dir/g.json"], /--baselines-from: cannot read no-such-dir\/g\.json: ENOENT/],
];
for (const [args, message] of bad) {
  test(`bench generalization ${args.join(" ")} is refused with exit code 2`, async () => {
    const { code, stderr } = await capture(() => command.run(args));
    assert.equal(code, 2);
    assert.match(stderr, message);
  });
}

test("autoglm bench --help lists the generalization benchmark", async () => {
  const { code, stdout } = await autoglm(["bench", "--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^ {2}generalization /m);
  const own = await autoglm(["bench", "generalization", "--help"]);
  assert.equal(own.code, 0);
  assert.match(own.stdout, /^Usage: autoglm bench generalization/);
});

test("a run of three scenarios writes the JSON, the Markdown summary and the chart, and prints the summary", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-gen-cli-"));
  try {
    const { code, stdout, stderr } = await autoglm(["bench", "generalization", "--count", "3", "--seed", "7", "--workers", "2", "--json", join(dir, "g.json"), "--out", dir]);
    assert.equal(code, 0, stderr);
    const policies = ["none", "envoy-outlier", "resilience4j", "linkerd-ewma", "envoy-cswrr", "autoglm", "autoglm-rules", "autoglm-host-ejection"];
    const json = JSON.parse(readFileSync(join(dir, "g.json"), "utf8")) as {
      seed_range: number[]; complete: boolean; summary: { scenarios: number; subjects: Record<string, { scored: number }> };
      scenarios: Array<{ name: string; runs: Record<string, { failed?: number; unavailable?: string }> }>;
    };
    assert.deepEqual(json.seed_range, [3_000_007, 3_000_009]);
    assert.equal(json.complete, true);
    assert.equal(json.summary.scenarios, 3);
    assert.deepEqual(json.scenarios.map((s) => s.name), ["gen-3000007", "gen-3000008", "gen-3000009"]);
    for (const s of json.scenarios) {
      assert.deepEqual(Object.keys(s.runs).sort(), [...policies].sort());
      for (const p of policies) assert.equal(typeof s.runs[p]!.failed, "number", `${s.name} × ${p}: ${s.runs[p]!.unavailable}`);
    }
    assert.equal(json.summary.subjects["autoglm"]!.scored, 3);
    const md = readFileSync(join(dir, "generalization.md"), "utf8");
    assert.match(md, /\| gen-3000008 \|/);
    assert.match(md, /## Targets/);
    assert.match(readFileSync(join(dir, "generalization.svg"), "utf8"), /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(stdout, /\| harm \(worse than none\) \| \d+ \| 0 \|/);
    for (const p of policies) assert.match(stdout, new RegExp(`^\\| ${p} \\| 3 \\|`, "m"), `totals row of ${p}`);
    assert.doesNotMatch(stdout, /## Per scenario/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--tuning runs scenarios of the tuning range (eval seeds), never the generalization run's, and --scenarios writes them to replay alone with the same results", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-gen-tuning-"));
  try {
    const { code, stderr } = await autoglm(["bench", "generalization", "--tuning", "2468", "--count", "1", "--llm-share", "0", "--json", join(dir, "t.json"), "--scenarios", join(dir, "s")]);
    assert.equal(code, 0, stderr);
    type Runs = Record<string, { failed: number; slo_violation_s: number }>;
    const json = JSON.parse(readFileSync(join(dir, "t.json"), "utf8")) as { tuning: number; seed_range: number[]; scenarios: Array<{ name: string; seed: number; runs: Runs }> };
    assert.equal(json.tuning, 2468);
    assert.deepEqual(json.scenarios.map((s) => s.name), ["generated-eval-0"]);
    const simSeed = json.scenarios[0]!.seed;
    assert.ok(simSeed >= 2_000_000 && simSeed < 3_000_000, `seed ${simSeed} is in the eval range`);
    assert.deepEqual(json.seed_range, [simSeed, simSeed]);
    // The written scenario is the generated one, and replayed alone it gives the same runs.
    const file = join(dir, "s", "generated-eval-0.json");
    assert.deepEqual(parseScenarioText(readFileSync(file, "utf8"), file), tuningScenarios(2468, 1)[0]);
    const alone = await autoglm(["bench", "scenarios", file, "--policies", "none,autoglm", "--json", join(dir, "alone.json")]);
    assert.equal(alone.code, 0, alone.stderr);
    const replayed = JSON.parse(readFileSync(join(dir, "alone.json"), "utf8")) as { scenarios: Array<{ name: string; policies: Runs }> };
    assert.equal(replayed.scenarios[0]!.name, "generated-eval-0");
    for (const policy of ["none", "autoglm"]) {
      const r = replayed.scenarios[0]!.policies[policy]!;
      const run = json.scenarios[0]!.runs[policy]!;
      assert.deepEqual([r.failed, r.slo_violation_s], [run.failed, run.slo_violation_s], policy);
    }
    // The same batch with autoglm alone, the baselines' runs taken from the full run: the same scores.
    const sub = await autoglm(["bench", "generalization", "--tuning", "2468", "--count", "1", "--llm-share", "0", "--subjects", "autoglm", "--baselines-from", join(dir, "t.json"), "--compare", join(dir, "t.json"), "--json", join(dir, "sub.json")]);
    assert.equal(sub.code, 0, sub.stderr);
    assert.match(sub.stderr, /the baselines' runs from .*t\.json: 1 runs/);
    type Scored = { policies: string[]; baselines_from: string; scenarios: Array<{ runs: Runs; scores: Record<string, unknown> }> };
    const full = JSON.parse(readFileSync(join(dir, "t.json"), "utf8")) as Scored;
    const alone2 = JSON.parse(readFileSync(join(dir, "sub.json"), "utf8")) as Scored;
    assert.deepEqual(alone2.policies, ["none", "envoy-outlier", "resilience4j", "linkerd-ewma", "envoy-cswrr", "autoglm"]);
    assert.equal(alone2.baselines_from, join(dir, "t.json"));
    assert.deepEqual(alone2.scenarios[0]!.scores["autoglm"], full.scenarios[0]!.scores["autoglm"]);
    assert.deepEqual(alone2.scenarios[0]!.runs["autoglm"]!.failed, full.scenarios[0]!.runs["autoglm"]!.failed);
    // …and compared with the full run: nothing changed.
    assert.match(sub.stdout, /## Against .*t\.json[\s\S]*\| autoglm \| 1 \| \d+ → \d+ \(\+0\.0 %\) \|[^\n]*\| 0 \|/);
    // Scenarios generated with other options are not the ones in the file: refused, naming the difference.
    const other = await autoglm(["bench", "generalization", "--tuning", "2468", "--count", "1", "--llm-share", "1", "--subjects", "autoglm", "--baselines-from", join(dir, "t.json")]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /scenario generated-eval-0 there is another scenario: its description is .*other --family or --llm-share\?/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--family shifted runs the shifted family's scenarios from its own seed range and names the family in the JSON", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-gen-shifted-"));
  try {
    // Offset 18: a small scenario (7 clusters, about 2,000 requests), so the test stays short.
    const { code, stderr } = await autoglm(["bench", "generalization", "--family", "shifted", "--seed", "18", "--count", "1", "--json", join(dir, "s.json"), "--out", dir]);
    assert.equal(code, 0, stderr);
    const json = JSON.parse(readFileSync(join(dir, "s.json"), "utf8")) as { family: string; seed_range: number[]; scenarios: Array<{ name: string; description: string }> };
    assert.equal(json.family, "shifted");
    assert.deepEqual(json.seed_range, [4_000_018, 4_000_018]);
    assert.deepEqual(json.scenarios.map((s) => s.name), ["shifted-4000018"]);
    assert.match(json.scenarios[0]!.description, /^generated \(shifted family\): 7 clusters; equal weights/);
    assert.match(readFileSync(join(dir, "generalization.md"), "utf8"), /simulator seeds 4000018–4000018 \(the shifted family's own range, disjoint from training, tuning and the main generalization range\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--reseed-all runs a scenario without harm at its own seed again too, and reports its verdict among all", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-gen-reseed-all-"));
  try {
    // shifted-4000018: the first seed shows no harm by autoglm.
    const { code, stderr } = await autoglm(["bench", "generalization", "--family", "shifted", "--seed", "18", "--count", "1", "--subjects", "autoglm", "--reseed", "1", "--reseed-all", "--json", join(dir, "r.json"), "--out", dir]);
    assert.equal(code, 0, stderr);
    type Verdict = { scenario: string; subject: string; runs: Array<{ seed: number; harm: boolean }>; harmedIn: number };
    const json = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as { reseed: { scope: string; verdicts: Verdict[] }; scenarios: Array<{ scores: Record<string, { harm: boolean }> }> };
    assert.equal(json.scenarios[0]!.scores["autoglm"]!.harm, false, "no harm under its own seed");
    assert.equal(json.reseed.scope, "all");
    assert.equal(json.reseed.verdicts.length, 1);
    const v = json.reseed.verdicts[0]!;
    assert.deepEqual([v.scenario, v.subject], ["shifted-4000018", "autoglm"]);
    assert.deepEqual(v.runs.map((r) => r.seed), [4_000_018, 4_000_018 + 10_000_019]);
    assert.match(readFileSync(join(dir, "generalization.md"), "utf8"), /\*\*autoglm\*\*: systematic harm in \d of 1 scenario\(s\); harm in at least one of the 2 seeds in \d; at the scenarios' own seeds in 0\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--reseed runs a harmed scenario again under more seeds with none and the harmed policy, and reports the verdict", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-gen-reseed-"));
  try {
    // gen-3000148: autoglm does harm under its own seed (small counts: 24 SLO seconds against 12).
    const { code, stderr } = await autoglm(["bench", "generalization", "--seed", "148", "--count", "1", "--reseed", "1", "--json", join(dir, "r.json"), "--out", dir]);
    assert.equal(code, 0, stderr);
    type Verdict = { scenario: string; subject: string; runs: Array<{ seed: number; harm: boolean }>; harmedIn: number; systematic: boolean };
    const json = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as { reseed: { extra_seeds: number; verdicts: Verdict[] }; scenarios: Array<{ scores: Record<string, { harm: boolean }> }> };
    assert.equal(json.scenarios[0]!.scores["autoglm"]!.harm, true, "the scenario is harmed under its own seed");
    assert.equal(json.reseed.extra_seeds, 1);
    const v = json.reseed.verdicts.find((x) => x.subject === "autoglm")!;
    assert.equal(v.scenario, "gen-3000148");
    assert.deepEqual(v.runs.map((r) => r.seed), [3_000_148, 3_000_148 + 10_000_019]);
    assert.equal(v.runs[0]!.harm, true);
    assert.equal(v.harmedIn, v.runs.filter((r) => r.harm).length);
    assert.match(readFileSync(join(dir, "generalization.md"), "utf8"), /## Harm under other seeds[\s\S]*\| gen-3000148 \| \d of 2 \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
