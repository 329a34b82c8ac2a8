export type * from "./types.js";
export { CooldownGate, type GateDecision } from "./cooldown.js";
export { deliver, type DeliveryPolicy, type DeliveryResult, type Sleep } from "./webhook.js";
export { AlertNotifier, type NotifierOptions } from "./notifier.js";
export { bindAlerts, haltAlert, modelFallbackAlert, nackAlert, transitionAlert } from "./bind.js";
