// A small multilayer perceptron for binary classification, trained with hand-written
// backpropagation and Adam: standardise → (Gemm → ReLU)* → Gemm → Sigmoid. Deterministic: the
// only randomness is the Rng passed in (initialisation and shuffling). Float64 while training;
// the exported model holds float32 (see toFloat32 and onnx-export.ts).
import type { Rng } from "./prng.js";

/** One dense layer: y = x · W + b, W row-major [inputs][outputs]. */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  weights: Float64Array;
  bias: Float64Array;
}

/** The whole model: input standardisation, then dense layers (ReLU between, sigmoid at the end). */
export interface Mlp {
  /** Per-feature mean and standard deviation subtracted/divided before the first layer. */
  mean: Float64Array;
  std: Float64Array;
  layers: DenseLayer[];
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty on weights (not biases), per sample. */
  weightDecay: number;
  /** Loss weight of a positive example relative to a negative one. */
  positiveWeight: number;
}

/** Per-feature mean and standard deviation over a row-major dataset [rows][features]. */
export function standardisation(x: Float32Array, rows: number, features: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(features);
  const std = new Float64Array(features);
  for (let r = 0; r < rows; r++) for (let f = 0; f < features; f++) mean[f]! += x[r * features + f]!;
  for (let f = 0; f < features; f++) mean[f]! /= Math.max(1, rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) {
      const d = x[r * features + f]! - mean[f]!;
      std[f]! += d * d;
    }
  }
  // A constant feature gets std 1, so it passes through as 0 instead of dividing by 0.
  for (let f = 0; f < features; f++) {
    const s = Math.sqrt(std[f]! / Math.max(1, rows));
    std[f] = s > 1e-6 ? s : 1;
  }
  return { mean, std };
}

/** A freshly initialised network (He-uniform weights, zero biases). */
export function createMlp(sizes: readonly number[], mean: Float64Array, std: Float64Array, rng: Rng): Mlp {
  if (sizes.length < 2) throw new Error("an MLP needs at least an input and an output size");
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l]!;
    const outputs = sizes[l + 1]!;
    const limit = Math.sqrt(6 / inputs);
    const weights = new Float64Array(inputs * outputs);
    for (let i = 0; i < weights.length; i++) weights[i] = rng.uniform(-limit, limit);
    layers.push({ inputs, outputs, weights, bias: new Float64Array(outputs) });
  }
  return { mean: Float64Array.from(mean), std: Float64Array.from(std), layers };
}

/** The same network with every parameter rounded to float32, as the ONNX file stores it. */
export function toFloat32(mlp: Mlp): Mlp {
  const round = (a: Float64Array): Float64Array => Float64Array.from(Float32Array.from(a));
  return {
    mean: round(mlp.mean),
    std: round(mlp.std),
    layers: mlp.layers.map((l) => ({ ...l, weights: round(l.weights), bias: round(l.bias) })),
  };
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Risk in [0, 1] for each row of x [rows][features]. */
export function predict(mlp: Mlp, x: Float32Array, rows: number): Float64Array {
  const features = mlp.mean.length;
  const out = new Float64Array(rows);
  const widest = Math.max(features, ...mlp.layers.map((l) => l.outputs));
  let a = new Float64Array(widest);
  let b = new Float64Array(widest);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) a[f] = (x[r * features + f]! - mlp.mean[f]!) / mlp.std[f]!;
    for (let l = 0; l < mlp.layers.length; l++) {
      const layer = mlp.layers[l]!;
      const last = l === mlp.layers.length - 1;
      for (let o = 0; o < layer.outputs; o++) {
        let z = layer.bias[o]!;
        for (let i = 0; i < layer.inputs; i++) z += a[i]! * layer.weights[i * layer.outputs + o]!;
        b[o] = last ? z : z > 0 ? z : 0;
      }
      [a, b] = [b, a];
    }
    out[r] = sigmoid(a[0]!);
  }
  return out;
}

/** Adam moments for every parameter array, in layer order (weights, bias). */
interface AdamState {
  m: Float64Array[];
  v: Float64Array[];
  step: number;
}

/**
 * Trains in place with mini-batch Adam on weighted binary cross-entropy. `onEpoch` gets the
 * epoch number (1-based) and the mean training loss of that epoch. Yields to the event loop
 * between epochs (so a progress bar can redraw); the result does not depend on timing.
 */
export async function train(
  mlp: Mlp,
  x: Float32Array,
  y: Uint8Array,
  rows: number,
  options: TrainOptions,
  rng: Rng,
  onEpoch?: (epoch: number, loss: number) => void,
): Promise<void> {
  const features = mlp.mean.length;
  const params: Float64Array[] = mlp.layers.flatMap((l) => [l.weights, l.bias]);
  const grads = params.map((p) => new Float64Array(p.length));
  const adam: AdamState = {
    m: params.map((p) => new Float64Array(p.length)),
    v: params.map((p) => new Float64Array(p.length)),
    step: 0,
  };
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  const depth = mlp.layers.length;
  // Activations per layer (index 0: standardised input) and back-propagated deltas.
  const acts = [new Float64Array(features), ...mlp.layers.map((l) => new Float64Array(l.outputs))];
  const deltas = mlp.layers.map((l) => new Float64Array(l.outputs));
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    // Fisher–Yates shuffle from the seeded generator.
    for (let i = rows - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    let epochLoss = 0;
    let epochWeight = 0;
    for (let start = 0; start < rows; start += options.batchSize) {
      const end = Math.min(rows, start + options.batchSize);
      for (const g of grads) g.fill(0);
      let batchWeight = 0;
      for (let k = start; k < end; k++) {
        const r = order[k]!;
        const input = acts[0]!;
        for (let f = 0; f < features; f++) input[f] = (x[r * features + f]! - mlp.mean[f]!) / mlp.std[f]!;
        for (let l = 0; l < depth; l++) {
          const layer = mlp.layers[l]!;
          const a = acts[l]!;
          const z = acts[l + 1]!;
          for (let o = 0; o < layer.outputs; o++) {
            let s = layer.bias[o]!;
            for (let i = 0; i < layer.inputs; i++) s += a[i]! * layer.weights[i * layer.outputs + o]!;
            z[o] = l === depth - 1 ? s : s > 0 ? s : 0;
          }
        }
        const logit = acts[depth]![0]!;
        const p = sigmoid(logit);
        const label = y[r]!;
        const w = label === 1 ? options.positiveWeight : 1;
        batchWeight += w;
        epochLoss += -w * (label === 1 ? Math.log(Math.max(p, 1e-12)) : Math.log(Math.max(1 - p, 1e-12)));
        epochWeight += w;
        // d(loss)/d(logit) for sigmoid + cross-entropy.
        deltas[depth - 1]![0] = w * (p - label);
        for (let l = depth - 1; l >= 0; l--) {
          const layer = mlp.layers[l]!;
          const a = acts[l]!;
          const d = deltas[l]!;
          const gw = grads[2 * l]!;
          const gb = grads[2 * l + 1]!;
          for (let o = 0; o < layer.outputs; o++) {
            const dz = d[o]!;
            if (dz === 0) continue;
            gb[o]! += dz;
            for (let i = 0; i < layer.inputs; i++) gw[i * layer.outputs + o]! += a[i]! * dz;
          }
          if (l > 0) {
            const below = deltas[l - 1]!;
            for (let i = 0; i < layer.inputs; i++) {
              if (a[i]! <= 0) {
                below[i] = 0; // ReLU gate
                continue;
              }
              let s = 0;
              for (let o = 0; o < layer.outputs; o++) s += layer.weights[i * layer.outputs + o]! * d[o]!;
              below[i] = s;
            }
          }
        }
      }
      // Adam step on the mean gradient of the batch (plus L2 on weights).
      adam.step += 1;
      const c1 = 1 - Math.pow(beta1, adam.step);
      const c2 = 1 - Math.pow(beta2, adam.step);
      const scale = 1 / Math.max(batchWeight, 1e-12);
      for (let p = 0; p < params.length; p++) {
        const param = params[p]!;
        const g = grads[p]!;
        const m = adam.m[p]!;
        const v = adam.v[p]!;
        const decay = p % 2 === 0 ? options.weightDecay : 0;
        for (let i = 0; i < param.length; i++) {
          const gi = g[i]! * scale + decay * param[i]!;
          m[i] = beta1 * m[i]! + (1 - beta1) * gi;
          v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
          param[i]! -= (options.learningRate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
        }
      }
    }
    onEpoch?.(epoch, epochLoss / Math.max(epochWeight, 1e-12));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
