import { test } from "node:test";
import assert from "node:assert/strict";
import type { BreakerKind, Transition } from "../control-plane/src/core/types.js";
import { breakerStories, summaryLine } from "../demo/summary.js";

const START = 1_000_000;
const t = (cluster: string, from: BreakerKind, to: BreakerKind, atS: number): Transition => ({ cluster, from, to, atMs: START + atS * 1000, reason: "test" });

const cases: Array<{ name: string; transitions: Transition[]; final: Record<string, BreakerKind>; line: string }> = [
  {
    name: "a cluster that opened, probed and closed is told as closed again, at its last closing",
    transitions: [t("llm-a", "closed", "open", 18), t("llm-a", "open", "half_open", 23), t("llm-a", "half_open", "open", 27), t("llm-a", "open", "half_open", 37), t("llm-a", "half_open", "closed", 70)],
    final: { "llm-a": "closed" },
    line: "done: 100 requests, 97.5% ok; llm-a opened at t=18s and closed again at t=70s (5 breaker transitions)",
  },
  {
    name: "a cluster still probing at the end is not told as closed",
    transitions: [t("llm-a", "closed", "open", 18), t("llm-a", "open", "half_open", 23)],
    final: { "llm-a": "half_open" },
    line: "done: 100 requests, 97.5% ok; llm-a opened at t=18s and is still half-open at the end (2 breaker transitions)",
  },
  {
    name: "a cluster that closed and opened again is still open",
    transitions: [t("llm-a", "closed", "open", 18), t("llm-a", "half_open", "closed", 40), t("llm-a", "closed", "open", 90)],
    final: { "llm-a": "open" },
    line: "done: 100 requests, 97.5% ok; llm-a opened at t=18s and is still open at the end (3 breaker transitions)",
  },
  {
    name: "clusters are told in order of first opening; one that never opened is left out",
    transitions: [t("llm-b", "closed", "open", 30), t("llm-a", "closed", "open", 12), t("llm-c", "closed", "half_open", 5)],
    final: { "llm-a": "open", "llm-b": "open", "llm-c": "half_open" },
    line: "done: 100 requests, 97.5% ok; llm-a opened at t=12s and is still open at the end; llm-b opened at t=30s and is still open at the end (3 breaker transitions)",
  },
  {
    name: "no transition says no breaker opened",
    transitions: [],
    final: { "llm-a": "closed" },
    line: "done: 100 requests, 97.5% ok; no breaker opened (0 breaker transitions)",
  },
];

for (const c of cases) {
  test(`the demo's summary line: ${c.name}`, () => {
    const stories = breakerStories(c.transitions, START, new Map(Object.entries(c.final)));
    assert.equal(summaryLine(100, 0.975, stories, c.transitions.length), c.line);
  });
}
