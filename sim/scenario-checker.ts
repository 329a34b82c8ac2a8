// The checks the scenario parser (sim/scenario.ts) runs on a JSON value: each records a problem as
// "<field path>: <problem>" and returns the value, or undefined when it is not valid.

export type Json = unknown;
export type JsonObject = Record<string, Json>;

export function isObject(value: Json): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Collects problems while walking a JSON value; each check returns the value or undefined. */
export class Checker {
  readonly problems: string[] = [];

  problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  object(value: Json, path: string, allowed: readonly string[], required: readonly string[]): JsonObject | undefined {
    if (!isObject(value)) {
      this.problem(path, `must be an object, got ${describe(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.problem(join2(path, key), `unknown field (allowed: ${allowed.join(", ")})`);
    }
    for (const key of required) {
      if (!(key in value)) this.problem(join2(path, key), "is required");
    }
    return value;
  }

  number(
    value: Json,
    path: string,
    rules: { integer?: boolean; min?: number; minExclusive?: boolean; max?: number; maxExclusive?: boolean },
  ): number | undefined {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.problem(path, `must be a ${rules.integer === true ? "whole number" : "number"}, got ${describe(value)}`);
      return undefined;
    }
    if (rules.integer === true && !Number.isSafeInteger(value)) {
      this.problem(path, `must be a whole number, got ${value}`);
      return undefined;
    }
    if (rules.min !== undefined && (rules.minExclusive === true ? value <= rules.min : value < rules.min)) {
      this.problem(path, `must be ${rules.minExclusive === true ? ">" : ">="} ${rules.min}, got ${value}`);
      return undefined;
    }
    if (rules.max !== undefined && (rules.maxExclusive === true ? value >= rules.max : value > rules.max)) {
      this.problem(path, `must be ${rules.maxExclusive === true ? "<" : "<="} ${rules.max}, got ${value}`);
      return undefined;
    }
    return value;
  }

  string(value: Json, path: string, nonEmpty: boolean): string | undefined {
    if (typeof value !== "string") {
      this.problem(path, `must be a string, got ${describe(value)}`);
      return undefined;
    }
    if (nonEmpty && value.trim() === "") {
      this.problem(path, "must not be empty");
      return undefined;
    }
    return value;
  }

  boolean(value: Json, path: string): boolean | undefined {
    if (typeof value !== "boolean") {
      this.problem(path, `must be true or false, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  array(value: Json, path: string, nonEmpty: boolean): Json[] | undefined {
    if (!Array.isArray(value)) {
      this.problem(path, `must be an array, got ${describe(value)}`);
      return undefined;
    }
    if (nonEmpty && value.length === 0) {
      this.problem(path, "must have at least one entry");
      return undefined;
    }
    return value;
  }
}

export function join2(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** A distribution given by its median and 99th percentile (both > 0, p99 > p50). */
export interface P50P99 {
  p50: number;
  p99: number;
}

/** Checks a `{ "p50": …, "p99": … }` object: both numbers above `min` (exclusive), p99 > p50. */
export function checkP50P99(c: Checker, value: Json, path: string, max = Infinity): P50P99 | undefined {
  const o = c.object(value, path, ["p50", "p99"], ["p50", "p99"]);
  if (o === undefined) return undefined;
  const rules = Number.isFinite(max) ? { min: 0, minExclusive: true, max } : { min: 0, minExclusive: true };
  const p50 = "p50" in o ? c.number(o.p50, `${path}.p50`, rules) : undefined;
  const p99 = "p99" in o ? c.number(o.p99, `${path}.p99`, rules) : undefined;
  if (p50 === undefined || p99 === undefined) return undefined;
  if (p99 <= p50) {
    c.problem(`${path}.p99`, `must be > p50 (${p50}), got ${p99}`);
    return undefined;
  }
  return { p50, p99 };
}
