import { test } from "node:test";
import assert from "node:assert/strict";
import type { BreakerKind, Transition } from "../control-plane/src/core/types.js";
import { breakerStories, summaryLine, topSourcesLine } from "../demo/summary.js";
import { DEMO_CLIENTS, pickClient } from "../demo/load.js";
import type { SourceStat } from "../control-plane/src/core/sources/index.js";

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

const source = (name: string, share: number, qps: number, errorRate?: number): SourceStat => ({
  source: name, requests: 100, minRequests: 100, maxRequests: 100, errors: 0, limited: 0, qps, share, ...(errorRate === undefined ? {} : { errorRate }),
});

const sourceCases: Array<{ name: string; sources: SourceStat[]; line: string }> = [
  {
    name: "top sources are told most requests first, with share, rate and error rate",
    sources: [source("203.0.113.10", 0.512, 25.06, 0.004), source("203.0.113.11", 0.25, 12.3, 0)],
    line: "top sources (last minute): 203.0.113.10 51% 25.1 qps 0.4% errors | 203.0.113.11 25% 12.3 qps 0.0% errors",
  },
  { name: "a source with nothing counted since it entered the sketches has no error rate", sources: [source("203.0.113.12", 1, 3)], line: "top sources (last minute): 203.0.113.12 100% 3.0 qps" },
  { name: "no source counted yet says so", sources: [], line: "top sources (last minute): none counted" },
];

for (const c of sourceCases) {
  test(c.name, () => {
    assert.equal(topSourcesLine(c.sources), c.line);
  });
}

test("the demo's clients are drawn by weight: each draw lands on the client whose part of [0, 1) holds it", () => {
  const total = DEMO_CLIENTS.reduce((a, c) => a + c.weight, 0);
  let start = 0;
  for (const client of DEMO_CLIENTS) {
    assert.equal(pickClient(DEMO_CLIENTS, start / total), client, `at the start of ${client.address}'s part`);
    assert.equal(pickClient(DEMO_CLIENTS, (start + client.weight * 0.999) / total), client, `at the end of ${client.address}'s part`);
    start += client.weight;
  }
  assert.equal(pickClient(DEMO_CLIENTS, 0.999999999), DEMO_CLIENTS.at(-1));
  // The heaviest client sends about half of the requests, each next one half as many.
  assert.ok(Math.abs(DEMO_CLIENTS[0]!.weight / total - 0.5) < 0.02);
});
