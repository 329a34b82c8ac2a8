import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { FEATURE_COUNT } from "../control-plane/src/model/contract.js";
import { RATIO_CAP, SLOPE_CAP } from "../control-plane/src/model/features.js";
import { createMlp, predict, toFloat32 } from "../models/src/mlp.js";
import { exportOnnx } from "../models/src/onnx-export.js";
import { mlpFromOnnx } from "../models/src/onnx-import.js";
import { createRng } from "../models/src/prng.js";
import { ONNX_TOLERANCE, runOnnx } from "../models/src/train-pipeline.js";

/**
 * The values each feature can take: what control-plane/src/model/features.ts clips it to (ratios
 * and the SLO-relative levels to [0, RATIO_CAP], the error rate and the traffic share to [0, 1],
 * slopes to ±SLOPE_CAP per second).
 */
const FEATURE_DOMAIN: ReadonlyArray<readonly [number, number]> = [
  [0, RATIO_CAP], [0, 1], [0, RATIO_CAP], [0, RATIO_CAP], [0, RATIO_CAP],
  [-SLOPE_CAP, SLOPE_CAP], [-SLOPE_CAP, SLOPE_CAP], [-SLOPE_CAP, SLOPE_CAP], [-SLOPE_CAP, SLOPE_CAP], [-SLOPE_CAP, SLOPE_CAP],
  [0, 1], [0, RATIO_CAP], [0, RATIO_CAP],
];

function randomRows(rows: number, seed: number, extremeChance = 0.05): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(rows * FEATURE_COUNT);
  // Mostly ordinary values, some extreme ones: anywhere in the feature's domain (ratios up to
  // the cap of 100), never a value the feature extractor cannot produce.
  for (let i = 0; i < x.length; i++) {
    const [lo, hi] = FEATURE_DOMAIN[i % FEATURE_COUNT]!;
    x[i] = rng.chance(extremeChance) ? rng.uniform(lo, hi) : rng.normal() * 2 + 1;
  }
  return x;
}

/**
 * Bound for synthetic rows: features far outside their training spread (an error rate of 3
 * where the training rows' spread is a few hundredths) make pre-activations in the thousands,
 * where float32 (onnxruntime) against float64 (TypeScript) rounding alone reaches about 1e-5 on
 * the output probability. On the validation rows of the training data the export is held to
 * ONNX_TOLERANCE by the training pipeline itself (training fails otherwise).
 */
const SYNTHETIC_TOLERANCE = 1e-4;

async function maxDiff(bytes: Uint8Array, x: Float32Array, rows: number): Promise<number> {
  const onnx = await runOnnx(bytes, x, rows);
  const ts = predict(mlpFromOnnx(bytes), x, rows);
  assert.equal(onnx.length, rows);
  let d = 0;
  for (let i = 0; i < rows; i++) d = Math.max(d, Math.abs(onnx[i]! - ts[i]!));
  return d;
}

test("onnxruntime running an exported MLP agrees with the TypeScript forward pass within 1e-5", async () => {
  const rng = createRng(11);
  const mean = Float64Array.from({ length: FEATURE_COUNT }, () => rng.uniform(-1, 3));
  const std = Float64Array.from({ length: FEATURE_COUNT }, () => rng.uniform(0.1, 5));
  const mlp = createMlp([FEATURE_COUNT, 16, 8, 1], mean, std, rng);
  const bytes = exportOnnx(mlp, { docString: "", modelVersion: 1, metadata: [] });
  // The file holds float32 parameters: reading it back gives the float32-rounded model.
  assert.deepEqual(mlpFromOnnx(bytes), toFloat32(mlp));
  const d = await maxDiff(bytes, randomRows(500, 12), 500);
  assert.ok(d < ONNX_TOLERANCE, `max |diff| ${d}`);
});

test("the synthetic rows cover every feature's domain", () => assert.equal(FEATURE_DOMAIN.length, FEATURE_COUNT));

test("the committed models/anomaly.onnx agrees with the TypeScript forward pass on synthetic rows within 1e-4", async () => {
  const bytes = new Uint8Array(readFileSync("models/anomaly.onnx"));
  const ordinary = await maxDiff(bytes, randomRows(1000, 13, 0), 1000);
  assert.ok(ordinary < SYNTHETIC_TOLERANCE, `ordinary rows: max |diff| ${ordinary}`);
  const extreme = await maxDiff(bytes, randomRows(1000, 13), 1000);
  assert.ok(extreme < SYNTHETIC_TOLERANCE, `rows with extreme values: max |diff| ${extreme}`);
});

test("exporting the same model twice gives the same bytes", () => {
  const make = (): Uint8Array =>
    exportOnnx(createMlp([FEATURE_COUNT, 4, 1], new Float64Array(FEATURE_COUNT), new Float64Array(FEATURE_COUNT).fill(1), createRng(5)), {
      docString: "d",
      modelVersion: 1,
      metadata: [["k", "v"]],
    });
  assert.deepEqual(make(), make());
});
