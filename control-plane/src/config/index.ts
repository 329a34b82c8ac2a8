export type * from "./types.js";
export { ConfigError, validateConfig } from "./validate.js";
export { DEFAULTS } from "./defaults.js";
export { ENV_VARIABLES, applyEnv } from "./env.js";
export { configFromDocument, loadConfig, parseConfigText } from "./load.js";
