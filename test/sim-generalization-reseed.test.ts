// Harm under other seeds (sim/generalization-reseed.ts): a harmed scenario's runs under every seed
// give a verdict (systematic when harm holds in more than half of them), sums over the seeds, and
// a Markdown table; a reseeded scenario differs from its own only in its seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RESEED_STRIDE, reseedMarkdown, reseedVerdict, reseeded, type SeedRuns } from "../sim/generalization-reseed.js";
import { tuningScenarios } from "../models/src/scenario-generator.js";

const m = (failed: number, slo: number) => ({ requests: 10_000, failed, slo_violation_s: slo, false_cuts: 0 });
/** none 100 failed / 20 SLO s in every seed; the subject's figures per seed. */
const seeds = (...subject: Array<[number, number]>): SeedRuns[] => subject.map(([f, s], i) => ({ seed: 7 + i * RESEED_STRIDE, none: m(100, 20), subject: m(f, s) }));

const cases: Array<{ name: string; runs: SeedRuns[]; harmedIn: number; systematic: boolean }> = [
  { name: "harm in every seed is systematic", runs: seeds([400, 20], [300, 20], [500, 20]), harmedIn: 3, systematic: true },
  { name: "harm in two of three seeds is systematic", runs: seeds([400, 20], [100, 40], [100, 20]), harmedIn: 2, systematic: true },
  { name: "harm in half of the seeds is not", runs: seeds([400, 20], [100, 20]), harmedIn: 1, systematic: false },
  { name: "harm in one seed of three is luck", runs: seeds([161, 20], [90, 15], [100, 20]), harmedIn: 1, systematic: false },
  { name: "within the rule's slack is no harm (1.1 × 100 + 50 failed, 1.1 × 20 + 10 SLO s)", runs: seeds([160, 32], [160, 32], [161, 20]), harmedIn: 1, systematic: false },
];
for (const c of cases) {
  test(`the verdict on a harmed scenario under other seeds: ${c.name}`, () => {
    const v = reseedVerdict("gen-x", "autoglm", c.runs);
    assert.equal(v.harmedIn, c.harmedIn);
    assert.equal(v.systematic, c.systematic);
    assert.equal(v.runs.length, c.runs.length);
    assert.deepEqual(v.sums.none, [100 * c.runs.length, 20 * c.runs.length]);
    assert.deepEqual(v.sums.subject, [c.runs.reduce((a, r) => a + r.subject.failed, 0), c.runs.reduce((a, r) => a + r.subject.slo_violation_s, 0)]);
  });
}

test("a reseeded scenario is the same scenario with its seed moved by k strides", () => {
  const s = tuningScenarios(3, 1)[0]!;
  for (const k of [1, 2, 5]) {
    const again = reseeded(s, k);
    assert.equal(again.seed, s.seed + k * RESEED_STRIDE);
    assert.deepEqual({ ...again, seed: s.seed }, s);
  }
});

test("the Markdown names each subject's systematic harms, and is empty without verdicts", () => {
  assert.deepEqual(reseedMarkdown([], 3), []);
  const lines = reseedMarkdown([reseedVerdict("gen-a", "autoglm", seeds([400, 20], [300, 20])), reseedVerdict("gen-b", "autoglm", seeds([400, 20], [100, 20], [100, 20]))], 2).join("\n");
  assert.match(lines, /## Harm under other seeds/);
  assert.match(lines, /\*\*autoglm\*\*: systematic harm in 1 of the 2 harmed scenario\(s\)\./);
  assert.match(lines, /\| gen-a \| 2 of 2 \| 700 \/ 40 \| 200 \/ 40 \| yes \|/);
  assert.match(lines, /\| gen-b \| 1 of 3 \| 600 \/ 60 \| 300 \/ 60 \| no \|/);
});

test("with every scenario run again, the Markdown counts systematic harm out of all of them and lists only those harmed in some seed", () => {
  const verdicts = [
    reseedVerdict("gen-calm", "autoglm", seeds([100, 20], [90, 20], [110, 20])),
    // No harm at its own seed, harm in the two others: the harm a first-seed reseeding misses.
    reseedVerdict("gen-hidden", "autoglm", seeds([100, 20], [400, 20], [100, 40])),
    reseedVerdict("gen-luck", "autoglm", seeds([400, 20], [100, 20], [100, 20])),
  ];
  const lines = reseedMarkdown(verdicts, 2, "all").join("\n");
  assert.match(lines, /Every scenario again with `none` and the subject under 2 more seed\(s\)/);
  assert.match(lines, /\*\*autoglm\*\*: systematic harm in 1 of 3 scenario\(s\); harm in at least one of the 3 seeds in 2; at the scenarios' own seeds in 1\./);
  assert.match(lines, /\| gen-hidden \| 2 of 3 \| 600 \/ 80 \| 300 \/ 60 \| yes \|\n\| gen-luck \| 1 of 3 \|/);
  assert.doesNotMatch(lines, /gen-calm/);
});
