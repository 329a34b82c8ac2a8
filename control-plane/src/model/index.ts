// The anomaly model in the control plane: contract, features, file loading, the scorer.
export * from "./contract.js";
export * from "./features.js";
export * from "./model-file.js";
export * from "./onnx-scorer.js";
