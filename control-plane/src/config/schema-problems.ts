// Checks a configuration value against a JSON Schema (draft 2020-12 subset that ajv compiles)
// and renders every violation as one line `path: message`, the path dotted in the file's own
// spelling (snake_case keys, `[i]` for list items), so an operator sees all problems at once.
// An unknown camelCase key whose snake_case form is a field of its object says so
// (`grpc.allowUnauthenticatedNonLoopback: unknown field; did you mean `allow_unauthenticated_non_loopback``).
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

// verbose: each error carries its parent schema, which names the fields an unknown key may have meant.
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: false, coerceTypes: false, verbose: true });
const compiled = new WeakMap<object, ValidateFunction>();

/** A JSON Schema as a plain object (kept beside the code that reads the section). */
export type JsonSchema = Record<string, unknown>;

/** One violation: its rendered line, and where in the value it is. */
export interface SchemaFinding {
  /** `path: message`, as schemaProblems returns it. */
  text: string;
  /** Dotted path of the offending value in the file's spelling ("" for the value itself). */
  path: string;
  /**
   * Keys and indexes from `value` to the value that is wrong (for an unknown field, the field
   * itself); undefined when nothing there is wrong but something is missing (`required`).
   */
  at?: (string | number)[];
  /** The offending value, when the problem is about a value (not a missing or unknown field). */
  value?: unknown;
}

/** Every problem of `value` against `schema`, each prefixed with `prefix` (e.g. "alerts"). */
export function schemaProblems(schema: JsonSchema, value: unknown, prefix = ""): string[] {
  return schemaFindings(schema, value, prefix).map((finding) => finding.text);
}

/** As schemaProblems, with where each problem lies (so a reader can drop the bad values). */
export function schemaFindings(schema: JsonSchema, value: unknown, prefix = ""): SchemaFinding[] {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => renderProblem(error, prefix));
}

/** "allowUnauthenticated" -> "allow_unauthenticated"; a key without capitals stays. */
export function snakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function renderProblem(error: ErrorObject, prefix: string): SchemaFinding {
  const segments = error.instancePath
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
  let path = prefix;
  for (const segment of segments) path = /^\d+$/.test(segment) ? `${path}[${segment}]` : join(path, segment);
  const at = segments.map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "additionalProperties") {
    const key = String(params.additionalProperty);
    const known = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
    const meant = snakeCase(key);
    const hint = meant !== key && Object.hasOwn(known, meant) ? `; did you mean \`${meant}\`` : "";
    return { text: `${join(path, key)}: unknown field${hint}`, path: join(path, key), at: [...at, key] };
  }
  if (error.keyword === "required") {
    const key = String(params.missingProperty);
    return { text: `${join(path, key)}: required`, path: join(path, key) };
  }
  return { text: `${path === "" ? "(top level)" : path}: ${error.message ?? error.keyword}`, path, at, value: error.data };
}

/** The finding's line, followed by the offending value when it is a scalar (`..., got "x"`). */
export function textWithValue(finding: SchemaFinding): string {
  const v = finding.value;
  const scalar = v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";
  return scalar ? `${finding.text}, got ${JSON.stringify(v)}` : finding.text;
}
