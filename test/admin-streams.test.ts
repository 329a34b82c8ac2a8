// GET /v1/clusters and /v1/clusters/{name} show each window's streamed responses (TTFT, TPOT, max
// gap, cuts, tokens) in snake_case, null when none ended in the window.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import type { AdminDeps } from "../control-plane/src/admin/deps.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { createLogger } from "../lib/log.js";
import { mergedStreams, times } from "./support/streams.js";

const NOW = 1_800_000_000_000;

test("the clusters' windows show their streams in snake_case, and null without any", async () => {
  const cp = new FakeControlPlane([{ name: "llm-a", baseWeight: 1 }, { name: "llm-b", baseWeight: 1 }], () => NOW);
  const streams = mergedStreams(
    { ttftMs: [...times(98, 200), ...times(2, 2500)], tpotMs: times(100, 30), maxGapMs: times(100, 90), cut: 3, failedInStream: 1, tokensOut: 12_000, tokensEstimated: 400 },
    { ttftMs: 1000, tpotMs: 50 },
  );
  cp.addWindow("llm-a", { streams });
  cp.addWindow("llm-b", {});
  const deps: AdminDeps = {
    controlPlane: cp,
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    now: () => NOW,
    logger: createLogger("test", "silent"),
    token: "",
  };
  const app = await buildAdminApp(deps);
  try {
    const list = (await app.inject({ method: "GET", url: "/v1/clusters" })).json() as { clusters: { name: string; last_window: { streams: Record<string, number | null> | null } }[] };
    const a = list.clusters.find((c) => c.name === "llm-a")!.last_window.streams!;
    assert.deepEqual(
      { streams: a.streams, cut: a.cut, failed_in_stream: a.failed_in_stream, tokens_out: a.tokens_out, tokens_estimated: a.tokens_estimated, tokens_per_second: a.tokens_per_second, ttft_over_slo: a.ttft_over_slo, tpot_over_slo: a.tpot_over_slo },
      { streams: 100, cut: 3, failed_in_stream: 1, tokens_out: 12_000, tokens_estimated: 400, tokens_per_second: 12_000, ttft_over_slo: 2, tpot_over_slo: 0 },
    );
    for (const [key, value] of [["ttft_p99_ms", streams.ttftP99Ms], ["ttft_p50_ms", streams.ttftP50Ms], ["tpot_p99_ms", streams.tpotP99Ms], ["tpot_p50_ms", streams.tpotP50Ms], ["max_gap_p99_ms", streams.maxGapP99Ms]] as const) {
      assert.equal(a[key], value, key);
    }
    assert.ok((a.ttft_p99_ms as number) > 2000, "the two slow first tokens are the p99");
    assert.equal(list.clusters.find((c) => c.name === "llm-b")!.last_window.streams, null);
    const one = (await app.inject({ method: "GET", url: "/v1/clusters/llm-a" })).json() as { recent: { streams: { streams: number } | null }[] };
    assert.equal(one.recent.at(-1)!.streams!.streams, 100);
  } finally {
    await app.close();
  }
});
