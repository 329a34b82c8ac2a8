// Formats JSON-schema validation failures as one line naming the field, e.g.
// `body.state: must be one of open, closed, auto, got "half"`.

/** The subset of an Ajv error object used here. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  data?: unknown;
}

function fieldPath(dataVar: string, instancePath: string): string {
  const parts = instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : `${path}.${part}`), dataVar);
}

function got(data: unknown): string {
  return data === undefined ? "" : `, got ${JSON.stringify(data)}`;
}

export function describeSchemaError(error: SchemaError, dataVar: string): string {
  const path = fieldPath(dataVar, error.instancePath);
  switch (error.keyword) {
    case "required":
      return `${path}.${String(error.params.missingProperty)}: required`;
    case "additionalProperties":
      return `${path}.${String(error.params.additionalProperty)}: unknown field`;
    case "enum":
      return `${path}: must be one of ${(error.params.allowedValues as unknown[]).join(", ")}${got(error.data)}`;
    case "type":
      return `${path}: expected ${String(error.params.type)}${got(error.data)}`;
    default:
      return `${path}: ${error.message ?? error.keyword}${got(error.data)}`;
  }
}
