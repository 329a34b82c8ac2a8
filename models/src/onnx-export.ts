// Writes a trained Mlp as an ONNX model (IR 8, default opset 17) through the protobuf messages
// generated from models/onnx/onnx.proto:
//   features [N, F] → Sub(mean) → Div(std) → (Gemm → Relu)* → Gemm → Sigmoid → risk [N, 1]
// Parameters are float32 initializers in raw_data (little-endian). The bytes depend only on the
// model and the metadata given, so the same training run gives the same file.
import { create, toBinary } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "../onnx/gen/onnx_pb.js";
import { INPUT_NAME, IR_VERSION, OPSET_VERSION, OUTPUT_NAME } from "../../control-plane/src/model/contract.js";
import type { Mlp } from "./mlp.js";

function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  const data = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i]!;
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return create(TensorProtoSchema, {
    name,
    dims: dims.map((d) => BigInt(d)),
    dataType: TensorProto_DataType.FLOAT,
    rawData: bytes,
  });
}

/** A float32 tensor value of shape [dims], a string dim being symbolic (e.g. "N"). */
function valueInfo(name: string, dims: readonly (number | string)[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: "tensorType",
        value: create(TypeProto_TensorSchema, {
          elemType: TensorProto_DataType.FLOAT,
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value: typeof d === "string" ? { case: "dimParam", value: d } : { case: "dimValue", value: BigInt(d) },
              }),
            ),
          }),
        }),
      },
    }),
  });
}

function node(opType: string, inputs: string[], outputs: string[], name: string): NodeProto {
  return create(NodeProtoSchema, { opType, input: inputs, output: outputs, name });
}

export interface ExportOptions {
  /** Model doc string. */
  docString: string;
  /** ModelProto.model_version. */
  modelVersion: number;
  /** metadata_props, written in the order given. */
  metadata: ReadonlyArray<readonly [string, string]>;
}

/** The serialized ONNX model of `mlp` (float32 parameters). */
export function exportOnnx(mlp: Mlp, options: ExportOptions): Uint8Array {
  const features = mlp.mean.length;
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [floatTensor("input_mean", [features], mlp.mean), floatTensor("input_std", [features], mlp.std)];
  nodes.push(node("Sub", [INPUT_NAME, "input_mean"], ["centred"], "standardise_sub"));
  nodes.push(node("Div", ["centred", "input_std"], ["standardised"], "standardise_div"));
  let current = "standardised";
  mlp.layers.forEach((layer, l) => {
    const last = l === mlp.layers.length - 1;
    const w = `dense${l}_weight`;
    const b = `dense${l}_bias`;
    initializers.push(floatTensor(w, [layer.inputs, layer.outputs], layer.weights));
    initializers.push(floatTensor(b, [layer.outputs], layer.bias));
    const gemm = node("Gemm", [current, w, b], [`dense${l}`], `dense${l}_gemm`);
    gemm.attribute.push(
      create(AttributeProtoSchema, { name: "alpha", type: AttributeProto_AttributeType.FLOAT, f: 1 }),
      create(AttributeProtoSchema, { name: "beta", type: AttributeProto_AttributeType.FLOAT, f: 1 }),
      create(AttributeProtoSchema, { name: "transB", type: AttributeProto_AttributeType.INT, i: 0n }),
    );
    nodes.push(gemm);
    const activated = last ? OUTPUT_NAME : `relu${l}`;
    nodes.push(node(last ? "Sigmoid" : "Relu", [`dense${l}`], [activated], last ? "risk_sigmoid" : `relu${l}`));
    current = activated;
  });
  const outputs = mlp.layers[mlp.layers.length - 1]!.outputs;
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(IR_VERSION),
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(OPSET_VERSION) })],
    producerName: "autoglm-train",
    producerVersion: "1",
    domain: "io.autoglm",
    modelVersion: BigInt(options.modelVersion),
    docString: options.docString,
    graph: create(GraphProtoSchema, {
      name: "autoglm_anomaly",
      node: nodes,
      initializer: initializers,
      input: [valueInfo(INPUT_NAME, ["N", features])],
      output: [valueInfo(OUTPUT_NAME, ["N", outputs])],
    }),
    metadataProps: options.metadata.map(([key, value]) => create(StringStringEntryProtoSchema, { key, value })),
  });
  return toBinary(ModelProtoSchema, model);
}
