// Reads the configuration file (YAML, or JSON, which YAML also reads), applies the AUTOGLM_*
// environment overrides and validates the result.
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { applyEnv } from "./env.js";
import { ConfigError, validateConfig } from "./validate.js";
import type { ControlPlaneConfig } from "./types.js";

/** Parses configuration text; `source` names the file in errors. */
export function parseConfigText(text: string, source: string): unknown {
  try {
    if (/\.json$/i.test(source)) return JSON.parse(text) as unknown;
    return parseYaml(text, { prettyErrors: true }) as unknown;
  } catch (error) {
    throw new ConfigError([`not valid ${/\.json$/i.test(source) ? "JSON" : "YAML"}: ${(error as Error).message}`], source);
  }
}

/** Builds the configuration from parsed text plus the environment. */
export function configFromDocument(doc: unknown, env: NodeJS.ProcessEnv, source = "configuration"): ControlPlaneConfig {
  const { doc: merged, labels } = applyEnv(doc, env);
  try {
    return validateConfig(merged, labels);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.problems, source);
    throw error;
  }
}

/** Loads `path` (undefined: environment only) and validates it with `env` applied. */
export async function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<ControlPlaneConfig> {
  if (path === undefined) return configFromDocument(undefined, env, "environment");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError([`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`], path);
  }
  return configFromDocument(parseConfigText(text, path), env, path);
}
