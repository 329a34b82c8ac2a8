// `autoglm bench forecast`: how well the planner's load–response model predicts each cluster's
// bad fraction a few windows ahead, at the load the cluster then got, against persistence (the
// bad fraction it showed then), on generated tuning scenarios run under autoglm
// (sim/forecast-calibration.ts). The bar a forecaster must clear before it steers traffic.
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import type { Command } from "../command.js";
import { share, wholeNumber } from "../option-values.js";
import { tryWriteFile } from "../output-file.js";
import type { Scenario } from "../../sim/scenario.js";

const DEFAULT_COUNT = 60;
const DEFAULT_TUNING = 1;
/** Windows between a prediction and its outcome: a move decided in a round shows fully in the window after the next. */
const DEFAULT_LAG = 2;

const help = `Usage: autoglm bench forecast [options]

Runs autoglm on N generated scenarios of the tuning range and, after every decision round,
takes each closed cluster's load-response model as the planner assesses it
(control-plane/src/core/planner/). --lag windows later it compares what that model predicted at
the load the cluster then got with the bad fraction it showed (failed or slower than the SLO),
beside persistence (the bad fraction it showed at the time). Prints the calibration by load
ratio and, where clusters took more load, by the prediction; how far each predictor fell short
where a cluster went bad; and each predictor, and the anomaly model's alarm, as a caller of
that trouble (caught, and false alarms).

Options:
  --count <n>       scenarios (default ${DEFAULT_COUNT})
  --tuning <t>      the tuning draw (generator's eval purpose, seeds 2000000-2999999) seeded with
                    t (default ${DEFAULT_TUNING}); never the generalization range
  --family <f>      main (default) or shifted (models/src/scenario-generator-shifted.ts)
  --llm-share <f>   share of scenarios, 0 to 1, with streamed LLM answers (default 0)
  --lag <k>         windows from a prediction to its outcome, 1 to 10 (default ${DEFAULT_LAG})
  --model <file>    the anomaly model the runs use, whose alarm is scored as a caller of trouble
                    too (default: models/anomaly.onnx when present; "" for none)
  --json <file>     write the summary and every row as JSON
  --out <folder>    write forecast.md (the summary) and forecast.svg (calibration and callers charted)
  -h, --help        this help

The summary is printed on stdout; a progress bar goes to stderr.`;

function fail(message: string): number {
  process.stderr.write(`autoglm bench forecast: ${message}\n\nRun \`autoglm bench forecast --help\` for usage.\n`);
  return 2;
}

export const command: Command = {
  name: "forecast",
  summary: "how well the planner's load-response model predicts a cluster's bad fraction at its next load",
  help,
  async run(args: string[]): Promise<number> {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: false,
        strict: true,
        options: {
          count: { type: "string" },
          tuning: { type: "string" },
          family: { type: "string" },
          "llm-share": { type: "string" },
          lag: { type: "string" },
          model: { type: "string" },
          json: { type: "string" },
          out: { type: "string" },
          help: { type: "boolean", short: "h" },
        },
      });
    } catch (e) {
      return fail((e as Error).message);
    }
    const values = parsed.values;
    if (values.help) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
    const count = wholeNumber("count", values.count, DEFAULT_COUNT, 1, 10_000);
    if (typeof count === "string") return fail(count);
    const tuning = wholeNumber("tuning", values.tuning, DEFAULT_TUNING, 0, 2 ** 32 - 1);
    if (typeof tuning === "string") return fail(tuning);
    const lag = wholeNumber("lag", values.lag, DEFAULT_LAG, 1, 10);
    if (typeof lag === "string") return fail(lag);
    if (values.json !== undefined && values.json.trim() === "") return fail("--json: give a file name");
    if (values.out !== undefined && values.out.trim() === "") return fail("--out: give a folder");
    const family = values.family ?? "main";
    if (family !== "main" && family !== "shifted") return fail(`--family: expected main or shifted, got "${family}"`);
    const llmShare = share("llm-share", values["llm-share"], 0);
    if (typeof llmShare === "string") return fail(llmShare);

    const { existsSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { projectRoot } = await import("../../sim/scenario.js");
    const defaultModel = join(projectRoot(), "models", "anomaly.onnx");
    const modelPath = values.model ?? (existsSync(defaultModel) ? defaultModel : "");
    let alarmThreshold: number | undefined;
    if (modelPath !== "") {
      const { loadModel } = await import("../../control-plane/src/model/index.js");
      try {
        const loaded = await loadModel(modelPath);
        alarmThreshold = loaded.info.alarmThreshold;
        await loaded.session.release();
      } catch (e) {
        return fail(`--model: ${(e as Error).message}`);
      }
    }
    const { autoglmUnavailableReason, createAutoglmPolicy } = await import("../../sim/policies/autoglm.js");
    const unavailable = autoglmUnavailableReason();
    if (unavailable !== undefined) return fail(unavailable);
    const { tuningScenarios } = await import("../../models/src/scenario-generator.js");
    const { shiftedTuningScenarios } = await import("../../models/src/scenario-generator-shifted.js");
    const { runScenario } = await import("../../sim/runner.js");
    const { ForecastRecorder, forecastMarkdown, summariseForecasts } = await import("../../sim/forecast-calibration.js");
    const { DEFAULT_CONFIG } = await import("../../control-plane/src/core/config.js");

    const generate = llmShare > 0 ? { llmShare } : {};
    const scenarios: Scenario[] = family === "shifted" ? shiftedTuningScenarios(tuning, count, generate) : tuningScenarios(tuning, count, generate);
    const recorders: InstanceType<typeof ForecastRecorder>[] = [];
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: "scenarios [{bar}] {value}/{total} | {duration_formatted} (eta {eta_formatted})", hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000 },
      cliProgress.Presets.shades_classic,
    );
    const started = performance.now();
    bar.start(scenarios.length, 0);
    for (const scenario of scenarios) {
      const recorder = new ForecastRecorder(lag, DEFAULT_CONFIG.detector.minRequests);
      const policy = await createAutoglmPolicy(scenario, scenario.seed, { modelPath, ...(modelPath === "" ? { name: "autoglm-rules" } : {}), onRound: (statuses) => recorder.observe(statuses) });
      try {
        await runScenario(scenario, policy);
      } finally {
        await policy.close?.();
      }
      recorders.push(recorder);
      bar.increment();
    }
    bar.stop();
    const rows = recorders.flatMap((r) => [...r.rows()]);
    const summary = summariseForecasts(rows, alarmThreshold);
    const wallS = Math.round((performance.now() - started) / 1000);
    const made = `autoglm bench forecast --count ${count} --tuning ${tuning} --family ${family} --llm-share ${llmShare} --lag ${lag}${values.model === undefined ? "" : ` --model ${JSON.stringify(values.model)}`}`;
    const subject = modelPath === "" ? "autoglm without the anomaly model" : "autoglm with the anomaly model";
    const markdown = `# Forecast calibration\n\nMade with \`${made}\` in ${wallS} s: ${scenarios.length} tuning scenarios (${family} family), ${subject}.\n\n${forecastMarkdown(summary)}`;
    process.stdout.write(markdown);
    if (values.out !== undefined) {
      const { forecastChart } = await import("../../sim/forecast-chart.js");
      const chart = forecastChart(summary, `bench forecast: tuning ${tuning} (${family} family), ${scenarios.length} scenarios, lag ${lag} windows`);
      for (const [name, text] of [["forecast.md", markdown + "\n![calibration and callers](forecast.svg)\n"], ["forecast.svg", chart]] as const) {
        const failed = tryWriteFile(join(values.out, name), text, true);
        if (failed !== null) {
          process.stderr.write(`autoglm bench forecast: cannot write ${join(values.out, name)}: ${failed}\n`);
          return 1;
        }
      }
    }
    if (values.json !== undefined) {
      const failed = tryWriteFile(values.json, `${JSON.stringify({ command: made, wall_s: wallS, scenarios: scenarios.map((s) => s.name), summary, rows }, null, 1)}\n`);
      if (failed !== null) {
        process.stderr.write(`autoglm bench forecast: cannot write ${values.json}: ${failed}\n`);
        return 1;
      }
    }
    return 0;
  },
};
