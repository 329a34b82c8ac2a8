import { test } from "node:test";
import assert from "node:assert/strict";
import { schemaProblems, type JsonSchema } from "../control-plane/src/config/schema-problems.js";

const schema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["url"],
  properties: {
    url: { type: "string", minLength: 1 },
    retries: { type: "integer", minimum: 0, maximum: 10 },
    headers: { type: "array", items: { type: "string" } },
  },
};

const cases: { name: string; value: unknown; problems: string[] }[] = [
  { name: "a valid section has no problem", value: { url: "http://x", retries: 2 }, problems: [] },
  {
    name: "every problem of a section is listed at once, each by its dotted path",
    value: { retries: 11, maxRetries: 1, headers: ["a", 3] },
    problems: [
      "alerts.maxRetries: unknown field",
      "alerts.url: required",
      "alerts.retries: must be <= 10",
      "alerts.headers[1]: must be string",
    ],
  },
];

for (const { name, value, problems } of cases) {
  test(name, () => {
    assert.deepEqual([...schemaProblems(schema, value, "alerts")].sort(), [...problems].sort());
  });
}
