// Loading and checking an anomaly model file: the only place that reads the file and starts an
// onnxruntime session. A file is accepted only when it is an ONNX model whose input is
// "features" float32 [N, FEATURE_COUNT], whose output is "risk" float32 [N, 1], whose metadata
// names the same features, window count K and horizon H as this build's extractor computes, and
// which answers a probe row with a risk in [0, 1]. Anything else is refused with a
// ModelLoadError naming what is wrong.
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import * as ort from "onnxruntime-node";
import { ModelProtoSchema, type ModelProto } from "../../../models/onnx/gen/onnx_pb.js";
import { FEATURE_COUNT, FEATURE_NAMES, HISTORY_WINDOWS, HORIZON_S, INPUT_NAME, METADATA_KEYS, OUTPUT_NAME } from "./contract.js";

/** Why a model file was refused; `code` is stable, `message` names the file and the problem. */
export type ModelLoadErrorCode =
  | "MODEL_ERR_READ" // the file cannot be read
  | "MODEL_ERR_NOT_ONNX" // not an ONNX protobuf, or no graph
  | "MODEL_ERR_RUNTIME" // onnxruntime refuses the model
  | "MODEL_ERR_SIGNATURE" // input/output names, types or shapes differ from the contract
  | "MODEL_ERR_METADATA" // features, K or H in the metadata differ from this build's
  | "MODEL_ERR_PROBE"; // a probe inference fails or gives a risk outside [0, 1]

export class ModelLoadError extends Error {
  constructor(
    readonly code: ModelLoadErrorCode,
    readonly path: string,
    problem: string,
  ) {
    super(`anomaly model ${path}: ${problem}`);
    this.name = "ModelLoadError";
  }
}

/** What is known about a loaded model. */
export interface ModelInfo {
  path: string;
  /** autoglm.model_version from the metadata ("" if absent). */
  version: string;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  featureNames: readonly string[];
  /** K: windows the features summarise. */
  historyWindows: number;
  /** H: the prediction horizon, seconds. */
  horizonS: number;
  /** Risk at or above which the model's training calls an alarm (0.5 if absent). */
  alarmThreshold: number;
  /** Seed the model was trained from ("" if absent). */
  trainingSeed: string;
  bytes: number;
}

/** A model ready to run: its session and its description. */
export interface LoadedModel {
  session: ort.InferenceSession;
  info: ModelInfo;
}

function metadata(model: ModelProto): Map<string, string> {
  return new Map(model.metadataProps.map((p) => [p.key, p.value]));
}

function describeShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.join(", ")}]`;
}

/** True when a dimension is symbolic or dynamic (a batch dimension of any size). */
function isBatchDim(dim: number | string | undefined): boolean {
  return typeof dim === "string" || dim === -1;
}

function checkSignature(session: ort.InferenceSession, path: string): void {
  const fail = (problem: string): never => {
    throw new ModelLoadError("MODEL_ERR_SIGNATURE", path, problem);
  };
  if (session.inputNames.length !== 1 || session.inputNames[0] !== INPUT_NAME) {
    fail(`inputs are [${session.inputNames.join(", ")}], expected exactly one named "${INPUT_NAME}"`);
  }
  if (session.outputNames.length !== 1 || session.outputNames[0] !== OUTPUT_NAME) {
    fail(`outputs are [${session.outputNames.join(", ")}], expected exactly one named "${OUTPUT_NAME}"`);
  }
  const input = session.inputMetadata[0]!;
  if (!input.isTensor || input.type !== "float32") {
    fail(`input "${INPUT_NAME}" is ${input.isTensor ? input.type : "not a tensor"}, expected float32`);
  }
  if (input.isTensor) {
    const s = input.shape;
    if (s.length !== 2 || !isBatchDim(s[0]) || s[1] !== FEATURE_COUNT) {
      fail(`input "${INPUT_NAME}" has shape ${describeShape(s)}, expected [N, ${FEATURE_COUNT}]`);
    }
  }
  const output = session.outputMetadata[0]!;
  if (!output.isTensor || output.type !== "float32") {
    fail(`output "${OUTPUT_NAME}" is ${output.isTensor ? output.type : "not a tensor"}, expected float32`);
  }
  if (output.isTensor) {
    const s = output.shape;
    if (s.length !== 2 || !isBatchDim(s[0]) || s[1] !== 1) {
      fail(`output "${OUTPUT_NAME}" has shape ${describeShape(s)}, expected [N, 1]`);
    }
  }
}

function checkMetadata(meta: Map<string, string>, path: string): void {
  const fail = (problem: string): never => {
    throw new ModelLoadError("MODEL_ERR_METADATA", path, problem);
  };
  const names = meta.get(METADATA_KEYS.featureNames);
  if (names === undefined) fail(`metadata "${METADATA_KEYS.featureNames}" is missing`);
  const expected = FEATURE_NAMES.join(",");
  if (names !== expected) fail(`metadata "${METADATA_KEYS.featureNames}" is "${names}", this build computes "${expected}"`);
  const k = meta.get(METADATA_KEYS.historyWindows);
  if (k !== String(HISTORY_WINDOWS)) fail(`metadata "${METADATA_KEYS.historyWindows}" is ${k ?? "missing"}, this build uses ${HISTORY_WINDOWS}`);
  const h = meta.get(METADATA_KEYS.horizonS);
  if (h !== String(HORIZON_S)) fail(`metadata "${METADATA_KEYS.horizonS}" is ${h ?? "missing"}, this build uses ${HORIZON_S}`);
  const threshold = meta.get(METADATA_KEYS.threshold);
  if (threshold !== undefined) {
    const t = Number(threshold);
    if (!Number.isFinite(t) || t <= 0 || t >= 1) fail(`metadata "${METADATA_KEYS.threshold}" is "${threshold}", expected a number in (0, 1)`);
  }
}

/** Session options: one intra-op and one inter-op thread (tightest tails on small machines). */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionProviders: ["cpu"],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
};

/** Reads, checks and opens a model file; throws ModelLoadError naming the problem. */
export async function loadModel(path: string): Promise<LoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ModelLoadError("MODEL_ERR_READ", path, `cannot be read: ${(err as Error).message}`);
  }
  if (bytes.length === 0) throw new ModelLoadError("MODEL_ERR_NOT_ONNX", path, "is empty");
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (err) {
    throw new ModelLoadError("MODEL_ERR_NOT_ONNX", path, `is not an ONNX model (protobuf: ${(err as Error).message})`);
  }
  if (model.graph === undefined || model.irVersion === 0n) {
    throw new ModelLoadError("MODEL_ERR_NOT_ONNX", path, "is not an ONNX model (no ir_version or no graph)");
  }
  const meta = metadata(model);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  } catch (err) {
    throw new ModelLoadError("MODEL_ERR_RUNTIME", path, `onnxruntime refuses it: ${(err as Error).message}`);
  }
  try {
    checkSignature(session, path);
    checkMetadata(meta, path);
    // Probe: one all-zero row must give one risk in [0, 1].
    let risk: number | undefined;
    try {
      const out = await session.run({ [INPUT_NAME]: new ort.Tensor("float32", new Float32Array(FEATURE_COUNT), [1, FEATURE_COUNT]) });
      const data = out[OUTPUT_NAME]?.data;
      risk = data instanceof Float32Array && data.length === 1 ? data[0] : undefined;
    } catch (err) {
      throw new ModelLoadError("MODEL_ERR_PROBE", path, `a probe inference fails: ${(err as Error).message}`);
    }
    if (risk === undefined || !(risk >= 0 && risk <= 1)) {
      throw new ModelLoadError("MODEL_ERR_PROBE", path, `a probe inference gives risk ${String(risk)}, expected one value in [0, 1]`);
    }
  } catch (err) {
    await session.release().catch(() => undefined);
    throw err;
  }
  const threshold = meta.get(METADATA_KEYS.threshold);
  return {
    session,
    info: {
      path,
      version: meta.get(METADATA_KEYS.version) ?? "",
      sha256: createHash("sha256").update(bytes).digest("hex"),
      featureNames: [...FEATURE_NAMES],
      historyWindows: HISTORY_WINDOWS,
      horizonS: HORIZON_S,
      alarmThreshold: threshold === undefined ? 0.5 : Number(threshold),
      trainingSeed: meta.get(METADATA_KEYS.trainingSeed) ?? "",
      bytes: bytes.length,
    },
  };
}
