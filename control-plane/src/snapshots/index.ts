// Fault snapshots: types, the pure builder, redaction, the file store, the recorder, metrics.
export * from "./types.js";
export * from "./builder.js";
export * from "./redact.js";
export * from "./store.js";
export * from "./recorder.js";
export * from "./metrics.js";
export * from "./access.js";
