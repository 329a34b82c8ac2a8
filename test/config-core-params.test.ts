// The detector and breaker sections of the file are checked by schemas derived from the core's own
// table of ranges: the file and the core accept exactly the same values, and the core lists every
// bad parameter at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONFIG, PARAM_RANGES, inRange, resolveConfig, type ParamRange } from "../control-plane/src/core/config.js";
import { ControlPlaneError } from "../control-plane/src/core/errors.js";
import { schemaProblems, snakeCase } from "../control-plane/src/config/schema-problems.js";
import { BREAKER_SCHEMA } from "../control-plane/src/config/schema/breaker.js";
import { DETECTOR_SCHEMA } from "../control-plane/src/config/schema/detector.js";

/** Values on and around a range's bounds, and a fraction, as the file might give them. */
function probes(range: ParamRange): number[] {
  const out = [0, 0.5, 1, 2, 1e9, -1];
  for (const bound of [range.min, range.max]) if (bound !== undefined) out.push(bound, bound - 1e-6, bound + 1e-6, bound - 1, bound + 1);
  return out;
}

for (const [section, schema] of [["detector", DETECTOR_SCHEMA], ["breaker", BREAKER_SCHEMA]] as const) {
  test(`the file's ${section} section accepts exactly what the core accepts`, () => {
    const ranges = PARAM_RANGES[section] as Readonly<Record<string, ParamRange>>;
    const properties = Object.keys((schema as { properties: object }).properties);
    assert.deepEqual(properties.sort(), Object.keys(DEFAULT_CONFIG[section]).map(snakeCase).sort(), "one field per core parameter");
    for (const [key, range] of Object.entries(ranges)) {
      for (const value of probes(range)) {
        const fileAccepts = schemaProblems(schema, { [snakeCase(key)]: value }).length === 0;
        assert.equal(fileAccepts, inRange(value, range), `${section}.${snakeCase(key)} = ${value}`);
      }
    }
  });
}

test("resolveConfig lists every bad parameter at once, ranges and relations", () => {
  assert.throws(
    () => resolveConfig({ detector: { n: 0, ewmaAlpha: 2, hardN: 9 }, breaker: { openMaxMs: 1 } }),
    (e: unknown) => {
      assert.ok(e instanceof ControlPlaneError);
      assert.deepEqual(e.message.split("; "), [
        "config.detector.ewmaAlpha: expected in (0, 1], got 2",
        "config.detector.n: expected an integer >= 1, got 0",
        "config.detector.hardN: must not exceed config.detector.m (5), got 9",
        "config.breaker.openMaxMs: must be at least config.breaker.openBaseMs (5000), got 1",
      ]);
      return true;
    },
  );
});
