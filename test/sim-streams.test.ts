// The simulator's streamed LLM answers (sim/stream.ts, sim/runner.ts, sim/report.ts): streams
// follow their distributions, faults act on them as the format says, the report's TTFT/TPOT p99
// and SLO seconds come from what the client measured, and a policy in the HTTP path sees the
// headers at once and each SSE chunk at its time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Xoshiro128 } from "../sim/random.js";
import { NO_EFFECT, type HostEffect } from "../sim/faults.js";
import { StreamModel, eventTimeMs, streamEndMs, streamTruth, tokensIn, type StreamPlan } from "../sim/stream.js";
import { runScenario, type RunResult } from "../sim/runner.js";
import { reportRun, sloViolationSeconds } from "../sim/report.js";
import { createNonePolicy } from "../sim/policies/none.js";
import type { Policy } from "../sim/policy.js";
import { quantileSorted } from "../sim/quantile.js";
import type { ScenarioLlm } from "../sim/scenario.js";
import { LLM_DEFAULTS, llmScenario } from "./sim-support.js";

const LLM: ScenarioLlm = {
  stream_fraction: 1, ttft_ms: { p50: 300, p99: 1500 }, tpot_ms: { p50: 25, p99: 70 },
  output_tokens: { p50: 150, p99: 800 }, tokens_per_event: 3, usage: true,
};

/** `n` plans from a fixed seed under an effect (no load: queueing multiplier 1). */
function plans(n: number, effect: Readonly<HostEffect> = NO_EFFECT, llm = LLM): StreamPlan[] {
  const model = new StreamModel(llm);
  const r = new Xoshiro128(1234, 9);
  return Array.from({ length: n }, () =>
    model.plan({ stream: r.next(), ttft: r.next(), tpot: r.next(), tokens: r.next(), cut: r.next(), cutPoint: r.next() }, effect, 1),
  );
}

function quantile(values: number[], q: number): number {
  return quantileSorted(Float64Array.from(values).sort(), q);
}

const distributions: Array<[string, (p: StreamPlan) => number, { p50: number; p99: number }]> = [
  ["time to first token", (p) => p.ttftMs, LLM.ttft_ms],
  ["time per output token", (p) => p.tpotMs, LLM.tpot_ms],
  ["count of output tokens", (p) => p.tokens, LLM.output_tokens],
];

for (const [what, pick, expected] of distributions) {
  test(`the ${what} of simulated streams has the scenario's p50 and p99 (within 5 % over 40 000 streams)`, () => {
    const values = plans(40_000).map(pick);
    for (const [q, want] of [[0.5, expected.p50], [0.99, expected.p99]] as const) {
      const got = quantile(values, q);
      assert.ok(Math.abs(got / want - 1) < 0.05, `${what} q${q}: got ${got}, want ${want}`);
    }
  });
}

const faultEffects: Array<[string, Partial<HostEffect>, (base: StreamPlan, faulty: StreamPlan) => void]> = [
  ["ttft_x multiplies the time to first token only", { ttftX: 4 }, (b, f) => {
    assert.ok(Math.abs(f.ttftMs / b.ttftMs - 4) < 1e-9);
    assert.equal(f.tpotMs, b.tpotMs);
    assert.equal(f.tokens, b.tokens);
  }],
  ["tpot_x multiplies the time per output token only", { tpotX: 3 }, (b, f) => {
    assert.equal(f.ttftMs, b.ttftMs);
    assert.ok(Math.abs(f.tpotMs / b.tpotMs - 3) < 1e-9);
  }],
  ["latency_x slows the whole stream", { latencyX: 2 }, (b, f) => {
    assert.ok(Math.abs(f.ttftMs / b.ttftMs - 2) < 1e-9);
    assert.ok(Math.abs(f.tpotMs / b.tpotMs - 2) < 1e-9);
  }],
];

for (const [what, effect, check] of faultEffects) {
  test(`a fault's ${what}`, () => {
    const base = plans(200);
    const faulty = plans(200, { ...NO_EFFECT, ...effect });
    base.forEach((b, i) => check(b, faulty[i]!));
  });
}

test("a cut_rate of 0.3 cuts about 30 % of streams, each before one of its events, the way cut_as says", () => {
  const cut = plans(20_000, { ...NO_EFFECT, cutRate: 0.3, cutAs: "reset" }).filter((p) => p.cutBefore !== null);
  assert.ok(Math.abs(cut.length / 20_000 - 0.3) < 0.02, `cut share ${cut.length / 20_000}`);
  for (const p of cut) {
    assert.ok(p.cutBefore! >= 0 && p.cutBefore! < p.events);
    assert.equal(p.cutAs, "reset");
  }
  assert.ok(cut.some((p) => p.cutBefore === 0) && cut.some((p) => p.cutBefore! > 0), "cuts before and after the first token");
});

test("events leave at TTFT + k·TPOT, the first with one token and the others with tokens_per_event, the last with the rest", () => {
  const plan: StreamPlan = { ttftMs: 400, tpotMs: 20, tokens: 10, tokensPerEvent: 4, events: 4, cutBefore: null, cutAs: "error_event", usage: true };
  assert.deepEqual([0, 1, 2, 3].map((j) => eventTimeMs(plan, j)), [400, 480, 560, 580]);
  assert.deepEqual([0, 1, 2, 3].map((j) => tokensIn(plan, j)), [1, 4, 4, 1]);
  assert.equal(streamEndMs(plan), 580);
  assert.deepEqual(streamTruth(plan), { ttftMs: 400, tpotMs: 20, tokens: 10, cut: false });
  assert.deepEqual(streamTruth({ ...plan, cutBefore: 2 }), { ttftMs: 400, tpotMs: 20, tokens: 5, cut: true });
  assert.deepEqual(streamTruth({ ...plan, cutBefore: 0 }), { ttftMs: null, tpotMs: null, tokens: 0, cut: true });
  assert.equal(streamEndMs({ ...plan, cutBefore: 2 }), 560);
});

/** A `none` policy that records what a policy in the HTTP path is handed of each stream. */
function recordingPolicy(scenario: Parameters<typeof createNonePolicy>[0]) {
  const base = createNonePolicy(scenario);
  const seen = new Map<number, { headersS: number; chunks: Array<{ atS: number; text: string; end: boolean }>; completeS?: number; status?: number }>();
  const decoder = new TextDecoder();
  const policy: Policy = {
    ...base,
    complete(request, _cluster, _host, status, _latencyMs, nowS) {
      const s = seen.get(request.id);
      if (s !== undefined) {
        s.completeS = nowS;
        s.status = status;
      }
    },
    streams: {
      headers(request, nowS) {
        seen.set(request.id, { headersS: nowS, chunks: [] });
      },
      body(request, chunk, end, nowS) {
        seen.get(request.id)!.chunks.push({ atS: nowS, text: decoder.decode(chunk), end });
      },
    },
  };
  return { policy, seen };
}

test("a policy in the HTTP path gets 200 headers at arrival, then each chunk at its time, usage.completion_tokens and [DONE] at the end", async () => {
  // A nearly fixed stream: TTFT 500 ms, TPOT 20 ms, 10 tokens, 4 per event.
  const scenario = llmScenario({ ttft_ms: { p50: 500, p99: 500.001 }, tpot_ms: { p50: 20, p99: 20.0001 }, output_tokens: { p50: 10, p99: 10.0001 }, tokens_per_event: 4 });
  const { policy, seen } = recordingPolicy(scenario);
  await runScenario(scenario, policy);
  assert.ok(seen.size > 100);
  for (const s of seen.values()) {
    const offsets = s.chunks.map((c) => Math.round((c.atS - s.headersS) * 1000));
    assert.deepEqual(offsets, [500, 580, 660, 680]);
    assert.deepEqual(s.chunks.map((c) => c.end), [false, false, false, true]);
    assert.match(s.chunks[0]!.text, /^data: \{.*"role":"assistant"/);
    const last = s.chunks.at(-1)!.text;
    assert.match(last, /"usage":\{"prompt_tokens":12,"completion_tokens":10,/);
    assert.ok(last.endsWith("data: [DONE]\n\n"));
    assert.equal(s.status, 200);
    assert.equal(Math.round((s.completeS! - s.headersS) * 1000), 680, "complete() at the stream's end");
  }
});

const cutCases: Array<["error_event" | "reset", number, (chunks: Array<{ text: string; end: boolean }>) => void]> = [
  ["error_event", 200, (chunks) => {
    const last = chunks.at(-1)!;
    assert.ok(last.end && last.text.startsWith('data: {"error":'), last.text);
    assert.ok(!chunks.some((c) => c.text.includes("[DONE]")));
  }],
  ["reset", 502, (chunks) => {
    assert.ok(!chunks.some((c) => c.end || c.text.includes("[DONE]") || c.text.includes('"error"')));
  }],
];

for (const [cutAs, status, check] of cutCases) {
  test(`a stream cut as ${cutAs} ends ${cutAs === "reset" ? "without its end and reaches the meshes as a 502" : "with an error event inside the 200"}, and fails for the client`, async () => {
    const scenario = llmScenario({ output_tokens: { p50: 40, p99: 40.001 } }, (j: any) => {
      j.faults = [{ at_s: 0, cluster: "a", cut_rate: 1, cut_as: cutAs, for_s: 60 }];
    });
    const { policy, seen } = recordingPolicy(scenario);
    const result = await runScenario(scenario, policy);
    assert.equal(result.failed, result.requests, "every stream was cut");
    for (const s of seen.values()) {
      assert.equal(s.status, status);
      check(s.chunks);
    }
  });
}

test("the report gives the client's TTFT and TPOT p99 of a known stream, and none for a scenario without streams", async () => {
  const scenario = llmScenario({ ttft_ms: { p50: 500, p99: 500.001 }, tpot_ms: { p50: 20, p99: 20.0001 }, output_tokens: { p50: 10, p99: 10.0001 } });
  const report = reportRun(await runScenario(scenario, createNonePolicy(scenario)));
  assert.ok(Math.abs(report.ttft_p99_ms! - 500) < 1, `ttft ${report.ttft_p99_ms}`);
  assert.ok(Math.abs(report.tpot_p99_ms! - 20) < 0.01, `tpot ${report.tpot_p99_ms}`);
  assert.equal(report.failed, 0);
  const plain = llmScenario({}, (j: any) => {
    for (const c of j.clusters) delete c.llm;
    delete j.slo.ttft_ms;
    delete j.slo.tpot_ms;
  });
  const plainReport = reportRun(await runScenario(plain, createNonePolicy(plain)));
  assert.ok(!("ttft_p99_ms" in plainReport) && !("tpot_p99_ms" in plainReport));
});

test("load drives time to first token through the queueing model: at 90 % of capacity the TTFT p99 is well above its no-load value", async () => {
  const at = async (rps: number) => {
    const s = llmScenario({}, (j: any) => (j.traffic = [{ at_s: 0, rps }]));
    return (await runScenario(s, createNonePolicy(s))).ttftP99Ms;
  };
  const light = await at(20); // 10 % of capacity
  const busy = await at(180); // 90 %
  assert.ok(Math.abs(light / LLM_DEFAULTS.ttft_ms.p99 - 1) < 0.15, `light ${light}`);
  assert.ok(busy > 1.8 * light, `busy ${busy} vs light ${light}`);
});

/** A window with the given stream p99s (and nothing else wrong). */
function windowWith(ttftP99Ms: number, tpotP99Ms: number) {
  return { startS: 0, endS: 1, offered: 100, failed: 0, localRejects: 0, timeouts: 0, p99Ms: 10, streams: 100, ttftP99Ms, tpotP99Ms, clusters: [] };
}

test("a second counts against the SLO when its TTFT or TPOT p99 breaches slo.ttft_ms or slo.tpot_ms, and not when it has no streams", () => {
  const scenario = llmScenario({}); // slo.ttft_ms 2000, slo.tpot_ms 100
  const result: RunResult = {
    scenario, policy: "synthetic", requests: 500, failed: 0, p99Ms: 10, streams: 400, ttftP99Ms: NaN, tpotP99Ms: NaN,
    windows: [windowWith(1000, 50), windowWith(2500, 50), windowWith(1000, 150), windowWith(NaN, NaN), windowWith(2000, 100)]
      .map((w, i) => ({ ...w, startS: i, endS: i + 1 })),
  };
  assert.equal(sloViolationSeconds(result), 2);
  const noStreamSlo = { ...result, scenario: { ...scenario, slo: { ...scenario.slo, ttft_ms: undefined, tpot_ms: undefined } } };
  delete noStreamSlo.scenario.slo.ttft_ms;
  delete noStreamSlo.scenario.slo.tpot_ms;
  assert.equal(sloViolationSeconds(noStreamSlo), 0, "no stream objective: streams are not judged");
});

test("a stream without usage ends with finish_reason and [DONE] but no usage event; one with usage carries completion_tokens", async () => {
  const { SseEncoder } = await import("../sim/sse.js");
  const sse = new SseEncoder();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  const without = decode(sse.content(2, false, 7, false));
  const withUsage = decode(sse.content(2, false, 7, true));
  for (const text of [without, withUsage]) {
    assert.match(text, /"finish_reason":"stop"/);
    assert.ok(text.endsWith("data: [DONE]\n\n"));
  }
  assert.doesNotMatch(without, /usage/);
  assert.match(withUsage, /"choices":\[\],"usage":\{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19\}/);
  assert.equal(decode(sse.content(3, false, null, true)).split("data: ").length, 2, "a middle event is one data line");
});

test("the results table gains TTFT and TPOT p99 columns only when some scenario streams", async () => {
  const { resultsMarkdown } = await import("../sim/markdown.js");
  const base = { requests: 10, failed: 0, success_rate: 1, slo_violation_s: 0, p99_ms: 5, detect_s: [], recover_s: [], false_cuts: 0 };
  const plain = resultsMarkdown([{ name: "plain", policies: { none: base } }], "cmd", 1);
  assert.doesNotMatch(plain, /TTFT/);
  assert.match(plain, /^\| plain \| none \| 10 \| 0 \| 100\.000% \| 0 \| 5 \| – \| – \| 0 \|$/m);
  const mixed = resultsMarkdown([
    { name: "plain", policies: { none: base } },
    { name: "llm", policies: { none: { ...base, ttft_p99_ms: 812.5, tpot_p99_ms: 41.25 }, autoglm: { unavailable: "no filter" } } },
  ], "cmd", 1);
  assert.match(mixed, /\| p99 ms \| TTFT p99 ms \| TPOT p99 ms \| detect s \|/);
  assert.match(mixed, /^\| llm \| none \| 10 \| 0 \| 100\.000% \| 0 \| 5 \| 812\.5 \| 41\.25 \| – \| – \| 0 \|$/m);
  assert.match(mixed, /^\| plain \| none \| 10 \| 0 \| 100\.000% \| 0 \| 5 \| – \| – \| – \| – \| 0 \|$/m);
  const cells = (line: string) => line.split("|").length;
  const lines = mixed.trim().split("\n").filter((l) => l.startsWith("|"));
  assert.ok(lines.every((l) => cells(l) === cells(lines[0]!)), "every row has the header's cells");
});
