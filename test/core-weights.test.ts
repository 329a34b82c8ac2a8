// Shares to the integer weights the sidecars enforce: exact to one unit of the total, summing to it.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { sharesToWeights } from "../control-plane/src/core/weights.js";

const cases: Array<{ name: string; shares: Record<string, number>; total: number; weights: Record<string, number> }> = [
  { name: "the operator's 93 : 338 keeps its 27.5 %, not 28 %", shares: { a: 93 / 338, b: 245 / 338 }, total: 1000, weights: { a: 275, b: 725 } },
  { name: "three equal shares: the leftover unit goes to the first name", shares: { a: 1 / 3, b: 1 / 3, c: 1 / 3 }, total: 1000, weights: { a: 334, b: 333, c: 333 } },
  { name: "an open cluster stays at 0", shares: { a: 0, b: 0.6, c: 0.4 }, total: 1000, weights: { a: 0, b: 600, c: 400 } },
  { name: "a tiny positive share keeps one unit", shares: { a: 0.0001, b: 0.9999 }, total: 1000, weights: { a: 1, b: 999 } },
  { name: "shares below one unit each keep one, taken from the largest", shares: { a: 0.001, b: 0.001, c: 0.998 }, total: 100, weights: { a: 1, b: 1, c: 98 } },
  { name: "a finer total keeps finer shares", shares: { a: 0.12345, b: 0.87655 }, total: 10000, weights: { a: 1235, b: 8765 } },
];

for (const c of cases) {
  test(`weights from shares: ${c.name}`, () => {
    assert.deepEqual(Object.fromEntries(sharesToWeights(new Map(Object.entries(c.shares)), c.total)), c.weights);
  });
}

test("weights sum to the total and each is within a unit of its share of it (a few more when shares below one unit took some)", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 100, max: 100000 }), (raw, total) => {
      const sum = raw.reduce((a, b) => a + b, 0);
      fc.pre(sum > 0);
      const shares = new Map(raw.map((r, i) => [`c${i}`, r / sum]));
      const weights = sharesToWeights(shares, total);
      let out = 0;
      for (const [k, share] of shares) {
        const w = weights.get(k)!;
        out += w;
        // Within one unit, or two for the largest when it gave units to shares below one unit.
        assert.ok(Math.abs(w - share * total) <= 1 + raw.length + 1e-9, `${k}: ${w} for share ${share} of ${total}`);
        if (share === 0) assert.equal(w, 0);
      }
      assert.equal(out, total);
    }),
  );
});
