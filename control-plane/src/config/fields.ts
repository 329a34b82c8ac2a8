// A small reader of untyped configuration values that collects one error per bad field, each
// naming the field by its dotted path (e.g. `alerts.retries: expected an integer 0..20, got "x"`),
// so an operator sees every problem of a file at once. Only the sections without a JSON Schema
// yet (alerts) are read with it; the others are checked by their schemas (./schema/).

/** Renders a value the way an error message quotes it. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}

export type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class FieldReader {
  readonly errors: string[] = [];

  /** `path` of a field; `labels` maps a path to where its value came from (an env variable). */
  constructor(private readonly labels: ReadonlyMap<string, string> = new Map()) {}

  fail(path: string, message: string): void {
    const source = this.labels.get(path);
    this.errors.push(`${path}${source === undefined ? "" : ` (from ${source})`}: ${message}`);
  }

  /** An optional section: undefined and null read as an empty object. */
  section(parent: Obj, key: string, path: string, known: readonly string[]): Obj {
    const value = parent[key];
    if (value === undefined || value === null) return {};
    if (!isObject(value)) {
      this.fail(path, `expected an object, got ${describe(value)}`);
      return {};
    }
    this.unknownKeys(value, path, known);
    return value;
  }

  unknownKeys(value: Obj, path: string, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const where = path === "" ? key : `${path}.${key}`;
        this.fail(where, `unknown field; expected one of ${known.join(", ")}`);
      }
    }
  }

  int(obj: Obj, key: string, path: string, min: number, max: number, fallback: number): number {
    const value = obj[key];
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `expected an integer ${min}..${max}, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  /** A finite number in [min, max] (or (min, max] when `exclusiveMin`). */
  number(
    obj: Obj,
    key: string,
    path: string,
    range: { min: number; max: number; exclusiveMin?: boolean },
    fallback: number,
  ): number {
    const value = obj[key];
    if (value === undefined) return fallback;
    const below = typeof value === "number" && (range.exclusiveMin === true ? value <= range.min : value < range.min);
    if (typeof value !== "number" || !Number.isFinite(value) || below || value > range.max) {
      const open = range.exclusiveMin === true ? "(" : "[";
      const upper = range.max === Number.MAX_VALUE ? "∞)" : `${range.max}]`;
      this.fail(path, `expected a number in ${open}${range.min}, ${upper}, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  string(obj: Obj, key: string, path: string, fallback: string, allowEmpty = true): string {
    const value = obj[key];
    if (value === undefined) return fallback;
    if (typeof value !== "string" || (!allowEmpty && value === "")) {
      this.fail(path, `expected a ${allowEmpty ? "" : "non-empty "}string, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  list(obj: Obj, key: string, path: string): unknown[] {
    const value = obj[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.fail(path, `expected a list, got ${describe(value)}`);
      return [];
    }
    return value;
  }
}
