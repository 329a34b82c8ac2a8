// Triggers (re-exports only): rules that halt, open or shed by themselves on the merged telemetry.
export * from "./types.js";
export { conditionValue, conditionLabel } from "./condition.js";
export { TriggerEngine, type TriggerStatus } from "./trigger-engine.js";
export { applyTriggerActions, combineActions, noActions, triggerOpenStep } from "./actions.js";
export { encodeTriggerStates, parseTriggerStates, sameFiring, sameTriggerStates, type SharedTriggerState, type SharedTriggerStates } from "./shared-states.js";
