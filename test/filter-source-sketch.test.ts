// The filter's heavy-hitters sketch in isolation (filter/src/core/sourcesketch.ts, space-saving,
// compiled in the wire harness): K is respected, the heavy hitters of known streams are found,
// and space-saving's bounds hold on any stream (a fast-check property).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { loadWireHarness, type WireHarness } from "./golden/as-harness.js";

interface SketchOut {
  total: number;
  sources: { source: string; requests: number; overestimate: number }[];
}

let harness: WireHarness;
before(async () => {
  harness = await loadWireHarness();
});

const run = (stream: string[], k: number): SketchOut => JSON.parse(harness.sketchRun(stream.join("\n"), k)) as SketchOut;
const repeat = (id: string, n: number): string[] => Array.from({ length: n }, () => id);
/** Interleaves streams round-robin (so no source comes in one block). */
const interleave = (...streams: string[][]): string[] => {
  const out: string[] = [];
  for (let i = 0; out.length < streams.reduce((s, x) => s + x.length, 0); i++) for (const s of streams) if (i < s.length) out.push(s[i]!);
  return out;
};
const noise = (n: number): string[] => Array.from({ length: n }, (_, i) => `noise-${i}`);

test("the sketch finds the known heavy hitters of each stream with at most K sources", () => {
  const cases: { name: string; stream: string[]; k: number; heavy: Record<string, number> }[] = [
    { name: "fewer sources than K: every count exact", stream: interleave(repeat("a", 5), repeat("b", 3), repeat("c", 1)), k: 4, heavy: { a: 5, b: 3, c: 1 } },
    { name: "one flood among many one-offs", stream: interleave(repeat("flood", 500), noise(500)), k: 8, heavy: { flood: 500 } },
    { name: "two heavy sources among noise", stream: interleave(repeat("x", 300), repeat("y", 200), noise(300)), k: 8, heavy: { x: 300, y: 200 } },
    { name: "a heavy source arriving last", stream: [...noise(100), ...repeat("late", 150)], k: 4, heavy: { late: 150 } },
    { name: "K = 1 keeps the majority", stream: interleave(repeat("m", 60), noise(40)), k: 1, heavy: { m: 60 } },
  ];
  for (const c of cases) {
    const out = run(c.stream, c.k);
    assert.equal(out.total, c.stream.length, c.name);
    assert.ok(out.sources.length <= c.k, `${c.name}: ${out.sources.length} sources > K ${c.k}`);
    for (const [id, count] of Object.entries(c.heavy)) {
      const s = out.sources.find((x) => x.source === id);
      assert.ok(s !== undefined, `${c.name}: ${id} kept`);
      assert.ok(s.requests - s.overestimate <= count && count <= s.requests, `${c.name}: ${id}'s true count ${count} within [${s.requests - s.overestimate}, ${s.requests}]`);
      assert.ok(s.overestimate <= c.stream.length / c.k, `${c.name}: ${id}'s overestimate ${s.overestimate} <= N / K`);
    }
  }
});

test("on any stream every kept count brackets the true count, no overestimate exceeds N / K, and every source above N / K is kept", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 400 }),
      fc.integer({ min: 1, max: 12 }),
      (ids, k) => {
        const stream = ids.map((i) => `s${i}`);
        const truth = new Map<string, number>();
        for (const id of stream) truth.set(id, (truth.get(id) ?? 0) + 1);
        const out = run(stream, k);
        if (out.total !== stream.length || out.sources.length > k) return false;
        if (new Set(out.sources.map((s) => s.source)).size !== out.sources.length) return false;
        for (const s of out.sources) {
          const t = truth.get(s.source) ?? 0;
          if (!(s.requests - s.overestimate <= t && t <= s.requests)) return false;
          if (s.overestimate > stream.length / k) return false;
        }
        for (const [id, t] of truth) if (t > stream.length / k && !out.sources.some((s) => s.source === id)) return false;
        return true;
      },
    ),
    { numRuns: 300, seed: 19 },
  );
});
