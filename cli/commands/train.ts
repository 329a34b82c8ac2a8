// `autoglm train`: rebuilds the anomaly model (models/anomaly.onnx) from a seed, byte for byte,
// with a progress bar on stderr; `--eval` measures a model file on held-out generated
// scenarios instead (the figures of models/MODEL_CARD.md).
import { parseArgs } from "node:util";
import { writeFile, readFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { createHash } from "node:crypto";
import cliProgress from "cli-progress";
import type { Command } from "../command.js";
import { DEFAULT_TRAIN_CONFIG } from "../../models/src/train-pipeline.js";

// The training defaults are the pipeline's (one place): `npm run train` rebuilds the committed model.
const DEFAULTS = {
  seed: DEFAULT_TRAIN_CONFIG.seed,
  scenarios: DEFAULT_TRAIN_CONFIG.scenarios,
  epochs: DEFAULT_TRAIN_CONFIG.epochs,
  out: "models/anomaly.onnx",
  evalScenarios: 8,
  evalSeed: 1001,
  maxDurationS: DEFAULT_TRAIN_CONFIG.maxDurationS,
  evalMaxDurationS: 400,
};

const help = `Usage: autoglm train [options]

Trains the anomaly model on generated scenarios (simulated with sim/) and writes it as ONNX.
The same seed and options give the same file, byte for byte.

Options:
  --seed N            training seed (default ${DEFAULTS.seed})
  --scenarios N       generated scenarios to simulate (default ${DEFAULTS.scenarios}; 15% held out)
  --epochs N          training epochs (default ${DEFAULTS.epochs})
  --out PATH          where to write the model (default ${DEFAULTS.out})
  --max-duration S    longest generated run in seconds (default ${DEFAULTS.maxDurationS}; --eval: ${DEFAULTS.evalMaxDurationS})
  --workers N         simulation worker threads (default: one per core)
  --eval              do not train: evaluate the model at --out on held-out generated scenarios
  --eval-scenarios N  scenarios for --eval (default ${DEFAULTS.evalScenarios})
  --eval-seed N       seed of the --eval scenarios (default ${DEFAULTS.evalSeed})
  --cache-dir DIR     keep simulated rows in DIR and reuse them (same results, faster re-runs)
  --json              print the summary as JSON
  -h, --help          this help
`;

/** A positive integer option, or an error naming it. */
function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer >= ${min}, got "${raw}"`);
  return n;
}

class UsageError extends Error {}

function bar(label: string): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label.padEnd(9)} [{bar}] {percentage}% | {value}/{total} {detail} | {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: true,
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
}

async function runTrain(values: Record<string, string | boolean | undefined>): Promise<number> {
  const { trainAnomalyModel } = await import("../../models/src/train-pipeline.js");
  const config = {
    ...DEFAULT_TRAIN_CONFIG,
    seed: positiveInt("seed", values.seed as string | undefined, DEFAULTS.seed, 0),
    scenarios: positiveInt("scenarios", values.scenarios as string | undefined, DEFAULTS.scenarios, 2),
    epochs: positiveInt("epochs", values.epochs as string | undefined, DEFAULTS.epochs),
    maxDurationS: positiveInt("max-duration", values["max-duration"] as string | undefined, DEFAULTS.maxDurationS, 200),
    ...(values.workers === undefined ? {} : { workers: positiveInt("workers", values.workers as string, 1) }),
    ...(values["cache-dir"] === undefined ? {} : { cacheDir: values["cache-dir"] as string }),
  };
  const out = (values.out as string | undefined) ?? DEFAULTS.out;
  const simulate = bar("simulate");
  const fit = bar("train");
  let current: cliProgress.SingleBar | undefined;
  const result = await trainAnomalyModel(config, (p) => {
    if (p.phase === "simulate") {
      if (current === undefined) {
        current = simulate;
        simulate.start(p.total, 0, { detail: "scenarios" });
      }
      simulate.update(p.done);
    } else if (p.phase === "train") {
      if (current !== fit) {
        simulate.stop();
        current = fit;
        fit.start(p.epochs, 0, { detail: "epochs" });
      }
      fit.update(p.epoch, { detail: `epochs, loss ${p.loss.toFixed(4)}` });
    } else {
      current?.stop();
    }
  });
  current?.stop();
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, result.bytes);
  const s = result.summary;
  const summary = {
    out,
    bytes: result.bytes.length,
    sha256: createHash("sha256").update(result.bytes).digest("hex"),
    ...config,
    ...s,
  };
  if (values.json === true) {
    process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
  } else {
    process.stdout.write(
      [
        `wrote ${out} (${result.bytes.length} bytes, sha256 ${summary.sha256})`,
        `rows: ${s.trainRows} train (${s.trainPositives} positive), ${s.validationRows} validation (${s.validationPositives} positive)`,
        `final loss ${s.finalLoss.toFixed(4)}; validation precision ${s.validationPrecision.toFixed(3)}, recall ${s.validationRecall.toFixed(3)} at risk >= ${config.alarmThreshold}`,
        `onnxruntime vs TypeScript: max |diff| ${s.onnxMaxAbsDiff.toExponential(2)}`,
        `time: simulate ${s.seconds.simulate.toFixed(1)} s, train ${s.seconds.train.toFixed(1)} s, total ${s.seconds.total.toFixed(1)} s`,
      ].join("\n") + "\n",
    );
  }
  return 0;
}

async function runEval(values: Record<string, string | boolean | undefined>): Promise<number> {
  const { evaluateModel, formatEvaluation } = await import("../../models/src/evaluate.js");
  const path = (values.out as string | undefined) ?? DEFAULTS.out;
  const readModel = async (): Promise<Uint8Array> => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new Error(`cannot read model ${path}: ${(err as Error).message}`);
    }
  };
  const scenarios = positiveInt("eval-scenarios", values["eval-scenarios"] as string | undefined, DEFAULTS.evalScenarios);
  const seed = positiveInt("eval-seed", values["eval-seed"] as string | undefined, DEFAULTS.evalSeed, 0);
  const simulate = bar("simulate");
  let started = false;
  const report = await evaluateModel(
    { modelPath: path, readModel, scenarios, seed, ...(values["cache-dir"] === undefined ? {} : { cacheDir: values["cache-dir"] as string }), maxDurationS: positiveInt("max-duration", values["max-duration"] as string | undefined, DEFAULTS.evalMaxDurationS, 200), ...(values.workers === undefined ? {} : { workers: positiveInt("workers", values.workers as string, 1) }) },
    (done, total) => {
      if (!started) {
        simulate.start(total, 0, { detail: "scenarios" });
        started = true;
      }
      simulate.update(done);
    },
  );
  if (started) simulate.stop();
  process.stdout.write(values.json === true ? JSON.stringify(report, null, 2) + "\n" : formatEvaluation(report) + "\n");
  return 0;
}

export const command: Command = {
  name: "train",
  summary: "train the anomaly model and write models/anomaly.onnx",
  help,
  async run(args: string[]): Promise<number> {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args,
        strict: true,
        allowPositionals: false,
        options: {
          seed: { type: "string" },
          scenarios: { type: "string" },
          epochs: { type: "string" },
          out: { type: "string" },
          "max-duration": { type: "string" },
          workers: { type: "string" },
          eval: { type: "boolean" },
          "eval-scenarios": { type: "string" },
          "eval-seed": { type: "string" },
          json: { type: "boolean" },
          "cache-dir": { type: "string" },
        },
      }));
    } catch (err) {
      process.stderr.write(`autoglm train: ${(err as Error).message}\n\n${help}`);
      return 2;
    }
    try {
      return values.eval === true ? await runEval(values) : await runTrain(values);
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`autoglm train: ${err.message}\n`);
        return 2;
      }
      process.stderr.write(`autoglm train: ${(err as Error).stack ?? String(err)}\n`);
      return 1;
    }
  },
};
