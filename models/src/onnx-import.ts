// Reads back an Mlp from an ONNX file written by onnx-export.ts (standardisation + Gemm layers),
// so the TypeScript forward pass can be compared with onnxruntime on any committed model.
// Only the layout onnx-export.ts writes is understood; anything else is an error naming it.
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, TensorProto_DataType, type TensorProto } from "../onnx/gen/onnx_pb.js";
import type { DenseLayer, Mlp } from "./mlp.js";

function floats(t: TensorProto): Float64Array {
  if (t.dataType !== TensorProto_DataType.FLOAT) throw new Error(`initializer ${t.name} is not float32`);
  if (t.rawData.length > 0) {
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    return Float64Array.from({ length: t.rawData.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
  }
  return Float64Array.from(t.floatData);
}

export function mlpFromOnnx(bytes: Uint8Array): Mlp {
  const model = fromBinary(ModelProtoSchema, bytes);
  const graph = model.graph;
  if (graph === undefined) throw new Error("the model has no graph");
  const init = new Map(graph.initializer.map((t) => [t.name, t]));
  const get = (name: string): TensorProto => {
    const t = init.get(name);
    if (t === undefined) throw new Error(`the model has no initializer "${name}"`);
    return t;
  };
  const mean = floats(get("input_mean"));
  const std = floats(get("input_std"));
  const layers: DenseLayer[] = [];
  for (let l = 0; init.has(`dense${l}_weight`); l++) {
    const w = get(`dense${l}_weight`);
    const [inputs, outputs] = w.dims.map(Number);
    if (inputs === undefined || outputs === undefined) throw new Error(`dense${l}_weight is not a matrix`);
    layers.push({ inputs, outputs, weights: floats(w), bias: floats(get(`dense${l}_bias`)) });
  }
  if (layers.length === 0) throw new Error("the model has no dense layers");
  return { mean, std, layers };
}
