import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_TRAIN_CONFIG, trainAnomalyModel, type TrainConfig } from "../models/src/train-pipeline.js";
import { PUBLIC_SCENARIO_SEEDS, generateScenarios } from "../models/src/scenario-generator.js";
import { createRng } from "../models/src/prng.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { projectRoot } from "../sim/scenario.js";

// A tiny configuration: two short generated runs, two epochs, one small hidden layer.
const tiny: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, seed: 3, scenarios: 2, maxDurationS: 200, epochs: 2, hidden: [4] };

test("training twice from the same seed gives the same model bytes whatever the number of workers, and another seed another model", async () => {
  const one = await trainAnomalyModel({ ...tiny, workers: 1 });
  const two = await trainAnomalyModel({ ...tiny, workers: 2 });
  assert.ok(one.bytes.length > 0);
  assert.ok(one.summary.trainRows > 0);
  assert.ok(one.summary.onnxMaxAbsDiff < 1e-5);
  assert.deepEqual(two.bytes, one.bytes);
  const other = await trainAnomalyModel({ ...tiny, seed: 4, workers: 2 });
  assert.notDeepEqual(other.bytes, one.bytes);
});

test("generated scenarios never use a public scenario's seed, and training and evaluation seeds are disjoint", () => {
  const train = generateScenarios(createRng(1), "train", 300, { maxDurationS: 250 }).map((s) => s.seed);
  const evaluation = generateScenarios(createRng(1), "eval", 300, { maxDurationS: 250 }).map((s) => s.seed);
  const trainSet = new Set(train);
  for (const seed of PUBLIC_SCENARIO_SEEDS) assert.ok(!trainSet.has(seed) && !evaluation.includes(seed));
  for (const seed of evaluation) assert.ok(!trainSet.has(seed));
});

test("the committed model is the one `npm run train` writes: the default configuration, byte for byte", async () => {
  // The model is a generated artifact: a change to the generator, the simulator or the training
  // that changes what the defaults produce must come with the retrained file (and its model card).
  const committed = await readFile(join(projectRoot(), "models", "anomaly.onnx"));
  const trained = await trainAnomalyModel({ ...DEFAULT_TRAIN_CONFIG, workers: 2 });
  assert.ok(Buffer.from(trained.bytes).equals(committed), "models/anomaly.onnx differs from what `npm run train` writes: run it and commit the result with the model card's figures");
});
