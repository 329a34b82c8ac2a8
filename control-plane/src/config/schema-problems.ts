// Checks a configuration value against a JSON Schema (draft 2020-12 subset that ajv compiles)
// and renders every violation as one line `path: message`, the path dotted in the file's own
// spelling (snake_case keys, `[i]` for list items), so an operator sees all problems at once.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: false, coerceTypes: false });
const compiled = new WeakMap<object, ValidateFunction>();

/** A JSON Schema as a plain object (kept beside the code that reads the section). */
export type JsonSchema = Record<string, unknown>;

/** Every problem of `value` against `schema`, each prefixed with `prefix` (e.g. "alerts"). */
export function schemaProblems(schema: JsonSchema, value: unknown, prefix = ""): string[] {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => renderProblem(error, prefix));
}

function renderProblem(error: ErrorObject, prefix: string): string {
  const segments = error.instancePath
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
  let path = prefix;
  for (const segment of segments) path = /^\d+$/.test(segment) ? `${path}[${segment}]` : path === "" ? segment : `${path}.${segment}`;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "additionalProperties") {
    const key = String(params.additionalProperty);
    const where = path === "" ? key : `${path}.${key}`;
    return `${where}: unknown field`;
  }
  if (error.keyword === "required") {
    const key = String(params.missingProperty);
    return `${path === "" ? key : `${path}.${key}`}: required`;
  }
  return `${path === "" ? "(top level)" : path}: ${error.message ?? error.keyword}`;
}
