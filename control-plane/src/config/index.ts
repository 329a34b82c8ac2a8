export type * from "./types.js";
export { ConfigError, DEFAULTS, validateConfig } from "./validate.js";
export { ENV_VARIABLES, applyEnv } from "./env.js";
export { configFromDocument, loadConfig, parseConfigText } from "./load.js";
