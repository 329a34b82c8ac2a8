import { test } from "node:test";
import assert from "node:assert/strict";
import { schemaFindings, schemaProblems, snakeCase, textWithValue, type JsonSchema } from "../control-plane/src/config/schema-problems.js";

const schema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["url"],
  properties: {
    url: { type: "string", minLength: 1 },
    cooldown_s: { type: "number", minimum: 0 },
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
  {
    name: "a camelCase key whose snake_case form is a field is told that field",
    value: { url: "http://x", cooldownS: 1 },
    problems: ["alerts.cooldownS: unknown field; did you mean `cooldown_s`"],
  },
];

for (const { name, value, problems } of cases) {
  test(name, () => {
    assert.deepEqual([...schemaProblems(schema, value, "alerts")].sort(), [...problems].sort());
  });
}

test("a finding says where the bad value is, so a reader can leave it out", () => {
  const findings = schemaFindings(schema, { url: "", headers: ["a", 3], extra: 1 }, "alerts");
  const byPath = new Map(findings.map((f) => [f.path, f]));
  assert.deepEqual(byPath.get("alerts.url")?.at, ["url"]);
  assert.deepEqual(byPath.get("alerts.headers[1]")?.at, ["headers", 1]);
  assert.deepEqual(byPath.get("alerts.extra")?.at, ["extra"]);
  assert.equal(textWithValue(byPath.get("alerts.headers[1]")!), "alerts.headers[1]: must be string, got 3");
  assert.equal(textWithValue(byPath.get("alerts.url")!), 'alerts.url: must NOT have fewer than 1 characters, got ""');
  assert.equal(schemaFindings(schema, { retries: 1 }, "alerts")[0]?.at, undefined, "a missing field has no value to leave out");
});

test("snake_case spellings of camelCase keys", () => {
  const table: [string, string][] = [
    ["minRequests", "min_requests"],
    ["p99SloFactor", "p99_slo_factor"],
    ["hardN", "hard_n"],
    ["allowUnauthenticatedNonLoopback", "allow_unauthenticated_non_loopback"],
    ["already_snake", "already_snake"],
  ];
  for (const [camel, snake] of table) assert.equal(snakeCase(camel), snake);
});
