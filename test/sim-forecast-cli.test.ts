// `autoglm bench forecast`: bad options are refused with exit code 2 naming the problem; a run of
// one tuning scenario (with the committed anomaly model) prints the calibration tables, the model's
// alarm among the callers of trouble, and writes the summary and its rows as JSON, and the
// summary and its chart with --out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { command } from "../cli/commands/bench-forecast.js";

/** Runs the command in this process, capturing stderr. */
async function capture(run: () => Promise<number>): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: await run(), stderr: err.join("") };
  } finally {
    process.stderr.write = writeErr;
  }
}

const bad: Array<[string[], RegExp]> = [
  [["--count", "0"], /--count: expected a whole number from 1 to 10000, got "0"/],
  [["--tuning", "soon"], /--tuning: expected a whole number from 0 to 4294967295, got "soon"/],
  [["--lag", "0"], /--lag: expected a whole number from 1 to 10, got "0"/],
  [["--lag", "11"], /--lag: expected a whole number from 1 to 10, got "11"/],
  [["--family", "wide"], /--family: expected main or shifted, got "wide"/],
  [["--llm-share", "2"], /--llm-share: expected a number from 0 to 1, got "2"/],
  [["--json", " "], /--json: give a file name/],
  [["--out", ""], /--out: give a folder/],
  [["--seed", "3"], /Unknown option '--seed'/],
  [["--model", "no-such-dir/model.onnx"], /--model: anomaly model no-such-dir\/model\.onnx: cannot be read/],
];
for (const [args, message] of bad) {
  test(`bench forecast ${args.join(" ")} is refused with exit code 2`, async () => {
    const { code, stderr } = await capture(() => command.run(args));
    assert.equal(code, 2);
    assert.match(stderr, message);
  });
}

test("a forecast run of one scenario prints the calibration and writes its rows", async () => {
  const dir = mkdtempSync(join(tmpdir(), "autoglm-forecast-"));
  try {
    const json = join(dir, "forecast.json");
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["bin/autoglm.mjs", "bench", "forecast", "--count", "1", "--tuning", "3", "--json", json, "--out", join(dir, "out")], { env: { ...process.env, AUTOGLM_LOG_LEVEL: "silent" } });
      const out: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.on("error", reject);
      child.on("close", (c) => resolve({ code: c, stdout: Buffer.concat(out).toString("utf8") }));
    });
    assert.equal(code, 0);
    assert.match(stdout, /^# Forecast calibration/m);
    assert.match(stdout, /autoglm bench forecast --count 1 --tuning 3 --family main --llm-share 0 --lag 2/);
    assert.match(stdout, /autoglm with the anomaly model/);
    assert.match(stdout, /\| the anomaly model's alarm \(risk ≥ 0\.5\) \| — \| \d+ of \d+ \| \d+ \|/);
    assert.match(stdout, /\| band \| rows \| observed \(mean\) \| observed p99 \| load_response: mean \/ MAE \/ bias \| persistence: mean \/ MAE \/ bias \|/);
    const written = JSON.parse(readFileSync(json, "utf8")) as { summary: { rows: number }; rows: Array<{ loadRatio: number; predicted: { load_response: number } }> };
    assert.ok(written.rows.length > 0, "no prediction was paired with an outcome");
    assert.equal(written.summary.rows, written.rows.length);
    for (const r of written.rows) assert.ok(r.loadRatio > 0 && r.predicted.load_response >= 0 && r.predicted.load_response <= 1);
    assert.match(readFileSync(join(dir, "out", "forecast.md"), "utf8"), /^# Forecast calibration[\s\S]*!\[calibration and callers\]\(forecast\.svg\)/);
    assert.match(readFileSync(join(dir, "out", "forecast.svg"), "utf8"), /^<svg [\s\S]*model alarm \(risk ≥ 0\.5\)[\s\S]*<\/svg>$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
