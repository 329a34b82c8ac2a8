// The whole training run, from a seed to the bytes of models/anomaly.onnx:
//   1. generate scenarios (scenario-generator.ts) from the seed,
//   2. simulate them and build labelled feature rows (simulate-pool.ts, dataset.ts),
//   3. fit the standardisation and train the MLP (mlp.ts),
//   4. export ONNX (onnx-export.ts) and check it: onnxruntime must load it and agree with the
//      TypeScript forward pass within 1e-5 on the validation rows.
// Same seed and configuration → the same bytes (the only randomness is the seeded Rng, and the
// rows come back in scenario order whatever the worker scheduling).
import * as ort from "onnxruntime-node";
import {
  FEATURE_COUNT,
  FEATURE_NAMES,
  HISTORY_WINDOWS,
  HORIZON_S,
  INPUT_NAME,
  METADATA_KEYS,
  OUTPUT_NAME,
} from "../../control-plane/src/model/contract.js";
import { concatRows, type ScenarioRows } from "./dataset.js";
import { createMlp, predict, standardisation, toFloat32, train, type Mlp } from "./mlp.js";
import { exportOnnx } from "./onnx-export.js";
import { createRng } from "./prng.js";
import { generateScenarios } from "./scenario-generator.js";
import { simulateScenarios } from "./simulate-pool.js";

export interface TrainConfig {
  seed: number;
  /** Generated scenarios; the last VALIDATION_FRACTION of them are held out for checks. */
  scenarios: number;
  epochs: number;
  /** Hidden layer sizes. */
  hidden: readonly number[];
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  /** Risk at or above which the model calls an alarm, written to the metadata. */
  alarmThreshold: number;
  /** Longest generated run, seconds. */
  maxDurationS: number;
  /** Simulation worker threads (default: one per core). */
  workers?: number;
  /** Keep simulated rows here and reuse them (see simulate-pool.ts); no effect on the model. */
  cacheDir?: string;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  seed: 1,
  scenarios: 120,
  epochs: 15,
  hidden: [16, 8],
  batchSize: 256,
  learningRate: 0.003,
  weightDecay: 1e-4,
  alarmThreshold: 0.5,
  maxDurationS: 600,
};

/** Fraction of generated scenarios held out of training (threshold report, ONNX check). */
export const VALIDATION_FRACTION = 0.15;

/** Where a training run is, for a progress bar. */
export type TrainProgress =
  | { phase: "simulate"; done: number; total: number }
  | { phase: "train"; epoch: number; epochs: number; loss: number }
  | { phase: "export" };

export interface TrainSummary {
  trainRows: number;
  trainPositives: number;
  validationRows: number;
  validationPositives: number;
  finalLoss: number;
  /** At the alarm threshold, on the held-out validation rows. */
  validationPrecision: number;
  validationRecall: number;
  /** Largest |onnxruntime − TypeScript| risk over the validation rows. */
  onnxMaxAbsDiff: number;
  seconds: { simulate: number; train: number; total: number };
}

export interface TrainResult {
  bytes: Uint8Array;
  /** The model as stored (float32 parameters), for TypeScript-side inference. */
  mlp: Mlp;
  summary: TrainSummary;
}

/** Largest |a − b| allowed between onnxruntime's and the TypeScript forward pass. */
export const ONNX_TOLERANCE = 1e-5;

/** Runs a model file with onnxruntime on rows [rows][FEATURE_COUNT]; returns the risks. */
export async function runOnnx(bytes: Uint8Array, features: Float32Array, rows: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const out = await session.run({ [INPUT_NAME]: new ort.Tensor("float32", features, [rows, FEATURE_COUNT]) });
    return out[OUTPUT_NAME]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function precisionRecall(risk: ArrayLike<number>, labels: Uint8Array, threshold: number): { precision: number; recall: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const alarm = risk[i]! >= threshold;
    if (alarm && labels[i] === 1) tp++;
    else if (alarm) fp++;
    else if (labels[i] === 1) fn++;
  }
  return { precision: tp + fp > 0 ? tp / (tp + fp) : 0, recall: tp + fn > 0 ? tp / (tp + fn) : 0 };
}

function positives(labels: Uint8Array): number {
  let n = 0;
  for (const l of labels) n += l;
  return n;
}

/** The full run; `onProgress` is called as it goes. */
export async function trainAnomalyModel(config: TrainConfig, onProgress?: (p: TrainProgress) => void): Promise<TrainResult> {
  if (config.scenarios < 2) throw new Error("training needs at least 2 scenarios (one is held out)");
  const started = performance.now();
  const rng = createRng(config.seed);
  const scenarioRng = rng.fork();
  const initRng = rng.fork();
  const shuffleRng = rng.fork();

  const scenarios = generateScenarios(scenarioRng, "train", config.scenarios, { maxDurationS: config.maxDurationS });
  const parts: ScenarioRows[] = await simulateScenarios(scenarios, {
    ...(config.workers === undefined ? {} : { workers: config.workers }),
    ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
    onProgress: (done, total) => onProgress?.({ phase: "simulate", done, total }),
  });
  const simulated = performance.now();

  const heldOut = Math.max(1, Math.round(config.scenarios * VALIDATION_FRACTION));
  const trainSet = concatRows(parts.slice(0, parts.length - heldOut));
  const validation = concatRows(parts.slice(parts.length - heldOut));
  if (trainSet.rows === 0) throw new Error("the generated scenarios gave no training rows (runs too short?)");

  const { mean, std } = standardisation(trainSet.features, trainSet.rows, FEATURE_COUNT);
  const mlp = createMlp([FEATURE_COUNT, ...config.hidden, 1], mean, std, initRng);
  let finalLoss = NaN;
  await train(
    mlp,
    trainSet.features,
    trainSet.labels,
    trainSet.rows,
    {
      epochs: config.epochs,
      batchSize: config.batchSize,
      learningRate: config.learningRate,
      weightDecay: config.weightDecay,
      positiveWeight: 1,
    },
    shuffleRng,
    (epoch, loss) => {
      finalLoss = loss;
      onProgress?.({ phase: "train", epoch, epochs: config.epochs, loss });
    },
  );
  const trained = performance.now();

  onProgress?.({ phase: "export" });
  const stored = toFloat32(mlp);
  const bytes = exportOnnx(stored, {
    docString:
      "Open-AutoGLM anomaly model: probability that an upstream cluster breaks its SLO within the horizon, " +
      "from features of its last windows (see models/MODEL_CARD.md).",
    modelVersion: 1,
    metadata: [
      [METADATA_KEYS.featureNames, FEATURE_NAMES.join(",")],
      [METADATA_KEYS.historyWindows, String(HISTORY_WINDOWS)],
      [METADATA_KEYS.horizonS, String(HORIZON_S)],
      [METADATA_KEYS.version, `1-seed-${config.seed}`],
      [METADATA_KEYS.trainingSeed, String(config.seed)],
      [METADATA_KEYS.threshold, String(config.alarmThreshold)],
      ["autoglm.training_scenarios", String(config.scenarios)],
      ["autoglm.architecture", [FEATURE_COUNT, ...config.hidden, 1].join("-")],
    ],
  });

  // The file must say what the TypeScript model says.
  const checkRows = Math.max(1, validation.rows);
  const checkFeatures = validation.rows > 0 ? validation.features : new Float32Array(FEATURE_COUNT);
  const onnxRisk = await runOnnx(bytes, checkFeatures, checkRows);
  const tsRisk = predict(stored, checkFeatures, checkRows);
  let maxDiff = 0;
  for (let i = 0; i < checkRows; i++) maxDiff = Math.max(maxDiff, Math.abs(onnxRisk[i]! - tsRisk[i]!));
  if (!(maxDiff < ONNX_TOLERANCE)) {
    throw new Error(`the exported model disagrees with the TypeScript forward pass: max |diff| ${maxDiff} >= ${ONNX_TOLERANCE}`);
  }
  const pr = precisionRecall(tsRisk, validation.labels, config.alarmThreshold);
  const done = performance.now();
  return {
    bytes,
    mlp: stored,
    summary: {
      trainRows: trainSet.rows,
      trainPositives: positives(trainSet.labels),
      validationRows: validation.rows,
      validationPositives: positives(validation.labels),
      finalLoss,
      validationPrecision: pr.precision,
      validationRecall: pr.recall,
      onnxMaxAbsDiff: maxDiff,
      seconds: {
        simulate: (simulated - started) / 1000,
        train: (trained - simulated) / 1000,
        total: (done - started) / 1000,
      },
    },
  };
}
