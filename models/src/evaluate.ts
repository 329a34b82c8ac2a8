// Measures a model file on held-out generated scenarios: the figures of models/MODEL_CARD.md.
// Scenarios come from the "eval" seed range (disjoint from training's and from the public
// scenarios'), are simulated like the training data, and the file is run with onnxruntime.
//
// Definitions (per cluster, window by window; an alarm is risk >= the file's alarm threshold):
//   - precision / recall: over windows, against the label "the SLO breaks within the next H s";
//   - breach onset: a window that breaks the SLO after H seconds without a breach;
//     caught early: an alarm in the H seconds before it; lead time: onset − first such alarm;
//   - false alarm: an alarm rising edge on a cluster with no fault now or in the last 60 s and
//     no SLO breach now or within H; counted per hour of such fault-free cluster time.
// The same figures are given for a reactive rule (alarm when the current level already breaks
// the SLO: p99 over slo.latency_ms or error rate over the budget), to show what prediction adds.
import * as ort from "onnxruntime-node";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "../onnx/gen/onnx_pb.js";
import { FEATURE_COUNT, FEATURE_NAMES, HORIZON_S, INPUT_NAME, METADATA_KEYS, OUTPUT_NAME } from "../../control-plane/src/model/contract.js";
import { SESSION_OPTIONS } from "../../control-plane/src/model/model-file.js";
import { concatRows, type ScenarioRows } from "./dataset.js";
import { createRng } from "./prng.js";
import { generateScenarios } from "./scenario-generator.js";
import { simulateScenarios } from "./simulate-pool.js";

export interface EvalConfig {
  modelPath: string;
  /** Reads the model; called after the scenarios are simulated. */
  readModel: () => Promise<Uint8Array>;
  cacheDir?: string;
  scenarios: number;
  seed: number;
  maxDurationS: number;
  workers?: number;
}

export interface DetectorFigures {
  threshold: number;
  precision: number;
  recall: number;
  onsets: number;
  /** Fraction of onsets with an alarm in the H seconds before them. */
  caughtEarly: number;
  /** Fraction of onsets with an alarm in the H seconds before them or in the onset window. */
  caughtByOnset: number;
  /** Mean lead time over the onsets caught early, seconds. */
  meanLeadS: number;
  medianLeadS: number;
  falseAlarms: number;
  falseAlarmsPerHour: number;
}

export interface TimingFigures {
  batch: number;
  runs: number;
  medianUs: number;
  p99Us: number;
}

export interface EvalReport {
  model: string;
  version: string;
  scenarios: number;
  seed: number;
  rows: number;
  positives: number;
  clusterHours: number;
  faultFreeClusterHours: number;
  model_: DetectorFigures;
  reactiveRule: DetectorFigures;
  inference: TimingFigures[];
}

function figures(parts: readonly ScenarioRows[], alarms: (part: number, row: number) => boolean, threshold: number): DetectorFigures {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let onsets = 0;
  let early = 0;
  let byOnset = 0;
  const leads: number[] = [];
  let falseAlarms = 0;
  let faultFreeRows = 0;
  let faultFreeSeconds = 0;
  parts.forEach((part, p) => {
    const horizon = Math.max(1, Math.round(HORIZON_S / part.windowS));
    // Rows are window-major, clusters in order: index rows per cluster.
    const byCluster = new Map<number, number[]>();
    for (let r = 0; r < part.rows; r++) {
      const c = part.cluster[r]!;
      let list = byCluster.get(c);
      if (list === undefined) byCluster.set(c, (list = []));
      list.push(r);
      const alarm = alarms(p, r);
      if (alarm && part.labels[r] === 1) tp++;
      else if (alarm) fp++;
      else if (part.labels[r] === 1) fn++;
    }
    for (const rows of byCluster.values()) {
      for (let k = 0; k < rows.length; k++) {
        const r = rows[k]!;
        if (part.faultFree[r] === 1) {
          faultFreeRows++;
          faultFreeSeconds += part.windowS;
          const rising = alarms(p, r) && (k === 0 || !alarms(p, rows[k - 1]!));
          if (rising && part.labels[r] === 0 && part.breachNow[r] === 0) falseAlarms++;
        }
        // An onset needs H windows of history in the rows, none of them breaching.
        if (part.breachNow[r] !== 1 || k < horizon) continue;
        let quiet = true;
        for (let j = k - horizon; j < k; j++) if (part.breachNow[rows[j]!] === 1) quiet = false;
        if (!quiet) continue;
        onsets++;
        let first = -1;
        for (let j = k - horizon; j < k; j++) {
          if (alarms(p, rows[j]!)) {
            first = j;
            break;
          }
        }
        if (first >= 0) {
          early++;
          byOnset++;
          leads.push((k - first) * part.windowS);
        } else if (alarms(p, r)) {
          byOnset++;
        }
      }
    }
  });
  void faultFreeRows;
  leads.sort((a, b) => a - b);
  return {
    threshold,
    precision: tp + fp > 0 ? tp / (tp + fp) : 0,
    recall: tp + fn > 0 ? tp / (tp + fn) : 0,
    onsets,
    caughtEarly: onsets > 0 ? early / onsets : 0,
    caughtByOnset: onsets > 0 ? byOnset / onsets : 0,
    meanLeadS: leads.length > 0 ? leads.reduce((a, b) => a + b, 0) / leads.length : 0,
    medianLeadS: leads.length > 0 ? leads[Math.floor(leads.length / 2)]! : 0,
    falseAlarms,
    falseAlarmsPerHour: faultFreeSeconds > 0 ? falseAlarms / (faultFreeSeconds / 3600) : 0,
  };
}

async function timeInference(session: ort.InferenceSession, pool: Float32Array, poolRows: number, batch: number, runs: number): Promise<TimingFigures> {
  const input = new Float32Array(batch * FEATURE_COUNT);
  for (let i = 0; i < batch; i++) {
    const src = (i % Math.max(1, poolRows)) * FEATURE_COUNT;
    input.set(pool.subarray(src, src + FEATURE_COUNT), i * FEATURE_COUNT);
  }
  const tensor = new ort.Tensor("float32", input, [batch, FEATURE_COUNT]);
  for (let i = 0; i < 20; i++) await session.run({ [INPUT_NAME]: tensor });
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await session.run({ [INPUT_NAME]: tensor });
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return { batch, runs, medianUs: times[Math.floor(runs / 2)]!, p99Us: times[Math.min(runs - 1, Math.floor(runs * 0.99))]! };
}

export async function evaluateModel(config: EvalConfig, onProgress?: (done: number, total: number) => void): Promise<EvalReport> {
  const scenarios = generateScenarios(createRng(config.seed), "eval", config.scenarios, { maxDurationS: config.maxDurationS });
  const parts = await simulateScenarios(scenarios, {
    ...(config.workers === undefined ? {} : { workers: config.workers }),
    ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
    ...(onProgress === undefined ? {} : { onProgress }),
  });
  const all = concatRows(parts);
  const bytes = await config.readModel();
  const meta = new Map(fromBinary(ModelProtoSchema, bytes).metadataProps.map((p) => [p.key, p.value]));
  const threshold = Number(meta.get(METADATA_KEYS.threshold) ?? "0.5");
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  try {
    const risks: Float32Array[] = [];
    for (const part of parts) {
      if (part.rows === 0) {
        risks.push(new Float32Array(0));
        continue;
      }
      const out = await session.run({ [INPUT_NAME]: new ort.Tensor("float32", part.features, [part.rows, FEATURE_COUNT]) });
      risks.push(Float32Array.from(out[OUTPUT_NAME]!.data as Float32Array));
    }
    const p99Col = FEATURE_NAMES.indexOf("p99_over_slo");
    const errCol = FEATURE_NAMES.indexOf("error_over_budget");
    const model = figures(parts, (p, r) => risks[p]![r]! >= threshold, threshold);
    const rule = figures(
      parts,
      (p, r) => {
        const f = parts[p]!.features;
        return f[r * FEATURE_COUNT + p99Col]! >= 1 || f[r * FEATURE_COUNT + errCol]! >= 1;
      },
      1,
    );
    let positives = 0;
    for (const l of all.labels) positives += l;
    let clusterSeconds = 0;
    let faultFreeSeconds = 0;
    for (const part of parts) {
      clusterSeconds += part.rows * part.windowS;
      for (let r = 0; r < part.rows; r++) faultFreeSeconds += part.faultFree[r]! * part.windowS;
    }
    const inference = [
      await timeInference(session, all.features, all.rows, 1, 2000),
      await timeInference(session, all.features, all.rows, 1000, 300),
    ];
    return {
      model: config.modelPath,
      version: meta.get(METADATA_KEYS.version) ?? "",
      scenarios: config.scenarios,
      seed: config.seed,
      rows: all.rows,
      positives,
      clusterHours: clusterSeconds / 3600,
      faultFreeClusterHours: faultFreeSeconds / 3600,
      model_: model,
      reactiveRule: rule,
      inference,
    };
  } finally {
    await session.release();
  }
}

function line(name: string, f: DetectorFigures): string {
  return (
    `${name.padEnd(14)} precision ${f.precision.toFixed(3)}  recall ${f.recall.toFixed(3)}  ` +
    `onsets caught early ${(100 * f.caughtEarly).toFixed(1)}% (by onset ${(100 * f.caughtByOnset).toFixed(1)}%)  ` +
    `lead mean ${f.meanLeadS.toFixed(1)} s median ${f.medianLeadS.toFixed(1)} s  ` +
    `false alarms ${f.falseAlarms} = ${f.falseAlarmsPerHour.toFixed(2)}/h`
  );
}

export function formatEvaluation(r: EvalReport): string {
  return [
    `model ${r.model} (version ${r.version}), alarm at risk >= ${r.model_.threshold}`,
    `held-out: ${r.scenarios} generated scenarios (eval seed ${r.seed}), ${r.rows} cluster-windows ` +
      `(${r.clusterHours.toFixed(2)} cluster-hours, ${r.faultFreeClusterHours.toFixed(2)} fault-free), ` +
      `${r.positives} labelled "breach within ${HORIZON_S} s", ${r.model_.onsets} breach onsets`,
    line("model", r.model_),
    line("reactive rule", r.reactiveRule),
    ...r.inference.map(
      (t) => `inference batch ${String(t.batch).padStart(4)}: median ${t.medianUs.toFixed(1)} µs, p99 ${t.p99Us.toFixed(1)} µs (${t.runs} runs)`,
    ),
  ].join("\n");
}
