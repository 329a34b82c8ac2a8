// The schema of a section of decision-core parameters (`detector`, `breaker`, `sources`): one snake_case
// field per parameter of the core, its range taken from the core's own table (PARAM_RANGES in
// core/config.ts), its default from DEFAULT_CONFIG, so the file and the core cannot disagree.
import { DEFAULT_CONFIG, PARAM_RANGES, type CoreConfig, type ParamRange } from "../../core/config.js";
import type { JsonSchema } from "../schema-problems.js";
import { snakeCase } from "../schema-problems.js";
import { objectSchema } from "./common.js";

function rangeSchema(range: ParamRange): JsonSchema {
  return {
    type: range.integer === true ? "integer" : "number",
    ...(range.min === undefined ? {} : range.exclusiveMin === true ? { exclusiveMinimum: range.min } : { minimum: range.min }),
    ...(range.max === undefined ? {} : range.exclusiveMax === true ? { exclusiveMaximum: range.max } : { maximum: range.max }),
  };
}

/** The section's schema; `descriptions` names every parameter of the core section (a missing one is a type error). */
export function coreParamsSchema<S extends "detector" | "breaker" | "sources">(
  section: S,
  description: string,
  descriptions: Readonly<Record<keyof CoreConfig[S], string>>,
): JsonSchema {
  const ranges = PARAM_RANGES[section] as Readonly<Record<string, ParamRange>>;
  const defaults = DEFAULT_CONFIG[section] as unknown as Record<string, number>;
  const properties: Record<string, JsonSchema> = {};
  for (const [key, text] of Object.entries(descriptions) as [string, string][]) {
    properties[snakeCase(key)] = { ...rangeSchema(ranges[key]!), default: defaults[key], description: text };
  }
  return objectSchema(description, properties);
}

/** snake_case file key -> the core's camelCase key, for the parameters of `section`. */
export function coreParamKeys(section: "detector" | "breaker" | "sources"): ReadonlyMap<string, string> {
  return new Map(Object.keys(DEFAULT_CONFIG[section]).map((key) => [snakeCase(key), key]));
}
