// The demo's stand-in LLM servers stream as the simulator does: TTFT, TPOT and output tokens from
// the cluster's llm block (a chat model's usual shape without one), the host's queueing on TTFT,
// and each stream fault (ttft_x, tpot_x, cut_rate as an error event or a reset) played for real.
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { demoStreams, drawStream, startLlmServer } from "../demo/llm-server.js";
import { FaultTimeline } from "../sim/faults.js";
import { queueingMultiplier } from "../sim/upstream.js";
import type { Scenario } from "../sim/scenario.js";
import { llmScenario } from "./sim-support.js";

/** A fixed sequence of uniforms (cycled). */
function fixed(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

function withFault(fault: Record<string, unknown>, llm: Record<string, unknown> = {}): Scenario {
  return llmScenario(llm, (j: any) => (j.faults = [{ at_s: 0, cluster: "a", for_s: 60, ...fault }]));
}

/** The draw of one stream at scenario second 1 with uniforms 0.5 (0.99 for the cut chance: no cut). */
function draw(scenario: Scenario, utilisation = 0, random = fixed(0.5, 0.5, 0.5, 0.99, 0.5, 0.5)) {
  const drawn = drawStream({ scenario, cluster: 0, host: 0, faults: new FaultTimeline(scenario), latencyScale: 0.5 }, 1, utilisation, random);
  assert.equal(drawn.kind, "stream");
  return (drawn as Extract<typeof drawn, { kind: "stream" }>).plan;
}

test("a stand-in stream has the cluster's median TTFT, TPOT and tokens at median draws, scaled by latencyScale, and its TTFT grows with the host's load", () => {
  const scenario = llmScenario({});
  const plan = draw(scenario);
  const llm = scenario.clusters[0]!.llm!;
  assert.ok(Math.abs(plan.ttftMs - llm.ttft_ms.p50 * 0.5) < 1e-6);
  assert.ok(Math.abs(plan.tpotMs - llm.tpot_ms.p50 * 0.5) < 1e-6);
  assert.equal(plan.tokens, llm.output_tokens.p50);
  assert.ok(Math.abs(draw(scenario, 0.9).ttftMs / plan.ttftMs - queueingMultiplier(0.9)) < 1e-9);
});

const faults: Array<[string, Record<string, unknown>, (plan: ReturnType<typeof draw>, base: ReturnType<typeof draw>) => void]> = [
  ["ttft_x multiplies the time to first token", { ttft_x: 4 }, (p, b) => assert.ok(Math.abs(p.ttftMs / b.ttftMs - 4) < 1e-9)],
  ["tpot_x multiplies the time per output token", { tpot_x: 3 }, (p, b) => assert.ok(Math.abs(p.tpotMs / b.tpotMs - 3) < 1e-9)],
  ["cut_rate cuts the stream the way cut_as says", { cut_rate: 1, cut_as: "reset" }, (p) => {
    assert.ok(p.cutBefore !== null);
    assert.equal(p.cutAs, "reset");
  }],
];
for (const [what, fault, check] of faults) {
  test(`a stand-in server's fault ${what}`, () => check(draw(withFault(fault)), draw(llmScenario({}))));
}

test("a cluster without an llm block streams eight words, the first after a third of its latency and the rest over the other two thirds", () => {
  const scenario = llmScenario({}, (j: any) => {
    delete j.clusters[0].llm;
    delete j.slo.ttft_ms;
    delete j.slo.tpot_ms;
  });
  const plan = draw(scenario);
  // latency_ms p50 100 at median draws, latencyScale 0.5: TTFT 100 / 3 × 0.5, then 7 × TPOT to the last word.
  assert.ok(Math.abs(plan.ttftMs - (100 / 3) * 0.5) < 1e-9);
  assert.equal(plan.tokens, 8);
  assert.ok(Math.abs(plan.ttftMs + 7 * plan.tpotMs - 100 * 0.5) < 1e-9, "the last word at the cluster's latency");
  assert.deepEqual(demoStreams({ p50: 300, p99: 900 }).ttft_ms, { p50: 100, p99: 300 });
});

/** Posts a streamed chat request to a stand-in and collects the body, or the error that ended it. */
function streamFrom(address: string): Promise<{ status: number; contentType: string; body: string; error: string | null }> {
  return new Promise((resolve, reject) => {
    const [host, port] = address.split(":");
    const req = request({ host, port: Number(port), method: "POST", path: "/v1/chat/completions", headers: { "content-type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      const done = (error: string | null) =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"]), body: Buffer.concat(chunks).toString("utf8"), error });
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done(null));
      res.on("aborted", () => done("aborted"));
      res.on("error", (e) => done(e.message));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ model: "m", stream: true, messages: [] }));
  });
}

const served: Array<[string, Record<string, unknown> | null, (r: Awaited<ReturnType<typeof streamFrom>>) => void]> = [
  ["a whole stream: one event per tokens_per_event tokens, then usage.completion_tokens and [DONE]", null, (r) => {
    assert.equal(r.error, null);
    const events = r.body.split("\n\n").filter((e) => e !== "");
    // 10 tokens, 4 per event after the first: 4 content events, finish, usage, [DONE].
    assert.equal(events.length, 7, r.body);
    assert.match(events[0]!, /"role":"assistant"/);
    assert.match(events[5]!, /"usage":\{"prompt_tokens":12,"completion_tokens":10,/);
    assert.equal(events[6], "data: [DONE]");
  }],
  ["a stream cut by an error event inside the 200", { cut_rate: 1, cut_as: "error_event" }, (r) => {
    assert.equal(r.error, null);
    assert.match(r.body, /data: \{"error":\{"message":"a host 0 failed while generating"/);
    assert.doesNotMatch(r.body, /\[DONE\]/);
  }],
  ["a stream cut by a reset", { cut_rate: 1, cut_as: "reset" }, (r) => {
    assert.notEqual(r.error, null, "the connection was reset before the end");
    assert.doesNotMatch(r.body, /\[DONE\]/);
  }],
];
for (const [what, fault, check] of served) {
  test(`a stand-in server sends 200 text/event-stream and ${what}`, async () => {
    const llm = { ttft_ms: { p50: 5, p99: 5.001 }, tpot_ms: { p50: 1, p99: 1.001 }, output_tokens: { p50: 10, p99: 10.001 }, tokens_per_event: 4 };
    const scenario = fault === null ? llmScenario(llm) : withFault(fault, llm);
    const server = await startLlmServer({ scenario, cluster: 0, host: 0, faults: new FaultTimeline(scenario), scenarioSeconds: () => 1, latencyScale: 1, random: fixed(0.5) });
    try {
      const r = await streamFrom(server.address);
      assert.equal(r.status, 200);
      assert.equal(r.contentType, "text/event-stream");
      check(r);
    } finally {
      await server.close();
    }
  });
}

test("the demo's LLM scenario loads and plays each stream fault", async () => {
  const { loadScenarioFile } = await import("../sim/scenario.js");
  const s = loadScenarioFile("demo/scenarios/llm-streams.json");
  assert.ok(s.clusters.every((c) => c.llm !== undefined));
  assert.deepEqual(s.faults.map((f) => [f.ttft_x !== undefined, f.tpot_x !== undefined, f.cut_rate !== undefined]), [[true, false, false], [false, true, false], [false, false, true]]);
});
