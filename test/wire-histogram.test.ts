import { test, before } from "node:test";
import assert from "node:assert/strict";
import {
  HISTOGRAM_BUCKETS,
  bucketBounds,
  bucketOf,
  fromDense,
  histogramOf,
  merge,
  mergeCounts,
  quantileFromCounts,
  toDense,
} from "../lib/histogram.js";
import { loadWireHarness, type WireHarness } from "./golden/as-harness.js";

let harness: WireHarness;
before(async () => {
  harness = await loadWireHarness();
});

/** The .proto's definition, written out independently with BigInt. */
function protoBucket(v: bigint): number {
  if (v < 16n) return Number(v);
  if (v >= 1n << 32n) return 239;
  const e = v.toString(2).length - 1;
  return 16 + (e - 4) * 8 + Number((v >> BigInt(e - 3)) & 7n);
}

/** Interesting values: every power of two and its neighbours, small values, random ones. */
function sampleValues(): bigint[] {
  const values = new Set<bigint>();
  for (let v = 0n; v < 2000n; v++) values.add(v);
  for (let p = 0n; p < 64n; p++) for (const d of [-1n, 0n, 1n]) if ((1n << p) + d >= 0n) values.add((1n << p) + d);
  let s = 0x9e3779b9;
  for (let i = 0; i < 20_000; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const bits = BigInt(1 + (s % 40));
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values.add(BigInt(s) % (1n << bits));
  }
  values.add(0xffffffffffffffffn);
  return [...values];
}

test("bucketOf follows the .proto's bucket formula, including the overflow bucket", () => {
  const cases: Array<[number | bigint, number]> = [
    [0, 0],
    [15, 15],
    [16, 16],
    [17, 16],
    [18, 17],
    [31, 23],
    [32, 24],
    [1000, 16 + 5 * 8 + ((1000 >> 6) & 7)],
    [2 ** 32 - 1, 239],
    [2 ** 32, 239],
    [2n ** 40n, 239],
    [-5, 0],
    [Number.NaN, 0],
    [16.9, 16],
  ];
  for (const [us, expected] of cases) assert.equal(bucketOf(us), expected, `bucketOf(${us})`);
  for (const v of sampleValues()) {
    assert.equal(bucketOf(v), protoBucket(v), `bigint ${v}`);
    if (v <= BigInt(Number.MAX_SAFE_INTEGER)) assert.equal(bucketOf(Number(v)), protoBucket(v), `number ${v}`);
  }
});

test("the AssemblyScript and TypeScript bucketOf agree on every sampled value", () => {
  for (const v of sampleValues()) {
    assert.equal(harness.histogramBucketOf(v), bucketOf(v), `${v} us`);
  }
});

test("bucket bounds tile the range, agree with AssemblyScript, and are at most 12.5% wide", () => {
  let expectedLo = 0;
  for (let b = 0; b < HISTOGRAM_BUCKETS; b++) {
    const { lo, hi } = bucketBounds(b);
    assert.equal(lo, expectedLo, `bucket ${b} starts where ${b - 1} ends`);
    assert.equal(BigInt(lo), harness.histogramLowerBound(b), `AS lower bound of ${b}`);
    assert.equal(bucketOf(lo), b);
    assert.equal(bucketOf(hi - 1), b);
    if (b >= 16) assert.ok((hi - lo) / lo <= 0.125, `bucket ${b} is ${(hi - lo) / lo} wide`);
    expectedLo = hi;
  }
  assert.equal(expectedLo, 2 ** 32);
  assert.throws(() => bucketBounds(240), /outside 0..239/);
});

test("recording in AssemblyScript gives the same trimmed histogram as histogramOf", () => {
  const values = [0n, 1n, 15n, 16n, 999n, 1000n, 1000n, 123_456n, 2_300_000n, 5_000_000_000n];
  const ours = JSON.parse(harness.histogramRecord(BigUint64Array.from(values))) as unknown;
  const h = histogramOf(values.map(Number));
  assert.deepEqual(ours, { firstBucket: h.firstBucket, counts: h.counts, sumUs: h.sumUs.toString(), maxUs: h.maxUs.toString() });
  assert.deepEqual(JSON.parse(harness.histogramRecord(new BigUint64Array(0))), { firstBucket: 0, counts: [], sumUs: "0", maxUs: "0" });
});

test("quantiles interpolate inside the bucket holding the rank", () => {
  // 100 values in bucket 16 ([16, 18)), 100 in bucket 40 ([128, 144)).
  const counts = new Array<number>(25).fill(0);
  counts[0] = 100;
  counts[24] = 100;
  assert.equal(quantileFromCounts(16, counts, 0), 16);
  assert.equal(quantileFromCounts(16, counts, 0.25), 17);
  assert.equal(quantileFromCounts(16, counts, 0.5), 18);
  assert.equal(quantileFromCounts(16, counts, 0.75), 136);
  assert.equal(quantileFromCounts(16, counts, 1), 144);
  assert.equal(quantileFromCounts(16, counts, 1, 140n), 140, "capped by the max");
  assert.ok(Number.isNaN(quantileFromCounts(0, [], 0.5)));
  assert.throws(() => quantileFromCounts(0, [1], 1.5), /outside \[0, 1\]/);
});

test("quantiles of recorded values stay within one bucket of the exact ones", () => {
  const values = Array.from({ length: 5000 }, (_, i) => 100 + ((i * 7919) % 100_000));
  const h = histogramOf(values);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99]) {
    const exact = sorted[Math.ceil(q * sorted.length) - 1];
    const estimate = quantileFromCounts(h.firstBucket, h.counts, q, h.maxUs);
    assert.ok(Math.abs(estimate - exact) / exact <= 0.125, `p${q * 100}: ${estimate} vs ${exact}`);
  }
});

test("merging histograms equals recording all values into one", () => {
  const a = [5, 17, 300, 300, 90_000];
  const b = [1, 2, 40_000_000, 6_000_000_000];
  assert.deepEqual(merge(histogramOf(a), histogramOf(b)), histogramOf([...a, ...b]));
  assert.deepEqual(merge(histogramOf([]), histogramOf(b)), histogramOf(b));
  assert.deepEqual(mergeCounts({ firstBucket: 3, counts: [1] }, { firstBucket: 0, counts: [] }), { firstBucket: 3, counts: [1] });
});

test("dense and sparse forms convert both ways and reject ranges past the last bucket", () => {
  const sparse = { firstBucket: 30, counts: [2, 0, 5] };
  assert.deepEqual(fromDense(toDense(sparse)), sparse);
  assert.deepEqual(fromDense(new Array(240).fill(0)), { firstBucket: 0, counts: [] });
  assert.throws(() => toDense({ firstBucket: 239, counts: [1, 1] }), /exceed the last bucket 239/);
});
