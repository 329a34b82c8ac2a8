// docs/configuration.md documents every field of the configuration schemas, and is what
// scripts/config-docs.ts renders from them (regenerate with `npx tsx scripts/config-docs.ts`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CONFIGURATION_DOC, fieldRows, renderConfigurationDoc } from "../scripts/config-docs.js";
import { ENV_VARIABLES } from "../control-plane/src/config/env.js";
import { HAND_CHECKED_SECTIONS, SECTION_SCHEMAS } from "../control-plane/src/config/schema/index.js";
import { SIDECAR_SCHEMA } from "../sidecar/config-schema.js";

const controlPlaneRows = Object.entries(SECTION_SCHEMAS).flatMap(([key, schema]) => fieldRows(key, schema, false));
const sidecarRows = fieldRows("", SIDECAR_SCHEMA, true).slice(1).map((row) => ({ ...row, path: row.path.slice(1) }));

test("docs/configuration.md is what the schemas render (regenerate with npx tsx scripts/config-docs.ts)", () => {
  assert.equal(readFileSync(CONFIGURATION_DOC, "utf8"), renderConfigurationDoc());
});

test("every field of every configuration schema has a description and a row in docs/configuration.md", () => {
  const doc = readFileSync(CONFIGURATION_DOC, "utf8");
  const rows = [...controlPlaneRows.filter((row) => row.path.includes(".") || row.path.includes("[")), ...sidecarRows];
  assert.ok(rows.length > 60, `found ${rows.length} fields`);
  for (const { path, schema } of rows) {
    assert.ok(typeof schema.description === "string" && schema.description.length > 10, `${path} has a description`);
    assert.ok(doc.includes(`| \`${path}\` |`), `${path} is documented`);
  }
});

test("every AUTOGLM_* variable sets a field that exists", () => {
  const paths = new Set(controlPlaneRows.map((row) => row.path));
  for (const [name, { path }] of Object.entries(ENV_VARIABLES)) {
    const section = path.split(".")[0]!;
    if (section in HAND_CHECKED_SECTIONS) continue;
    assert.ok(paths.has(path), `${name} sets ${path}, a field of the schemas`);
  }
});
