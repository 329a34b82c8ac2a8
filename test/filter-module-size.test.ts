// The release filter module's size budget: 65,536 bytes (README, "Benchmarks"). A feature that
// pushes build/filter.wasm past it fails here, not at the next size check by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";

/** The budget for build/filter.wasm, bytes. */
const BUDGET_BYTES = 65_536;

test("the release filter module fits its 65,536-byte budget", () => {
  const bytes = statSync("build/filter.wasm").size;
  assert.ok(bytes <= BUDGET_BYTES, `build/filter.wasm is ${bytes} bytes, ${bytes - BUDGET_BYTES} over the budget of ${BUDGET_BYTES}`);
});
