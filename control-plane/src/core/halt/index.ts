// Confirmation that sidecar workers enforce a decision version (re-exports only).
export * from "./confirmation.js";
export * from "./version-confirmation.js";
export * from "./remote-workers.js";
