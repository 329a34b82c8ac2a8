// The `model` section: the ONNX anomaly model.
import { objectSchema } from "./common.js";

export const MODEL_SCHEMA = objectSchema("The ONNX anomaly model.", {
  path: {
    type: "string",
    minLength: 1,
    description: "Path of the ONNX model; absent: rules-only detectors. A file that does not load also means rules-only (logged, counted, model_fallback alert).",
  },
});
