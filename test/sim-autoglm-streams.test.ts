// The autoglm policy passes streamed answers through the real filter as Envoy would: 200 and
// text/event-stream headers at once, each SSE chunk on its own body callback with end_of_stream on
// the last, and a cut stream ending without its end (reset: response flag UR). Needs
// build/filter.wasm (`npm run build:filter`; `npm test` builds it) and fails without it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createAutoglmPolicy } from "../sim/policies/autoglm.js";
import { runScenario } from "../sim/runner.js";
import { llmScenario } from "./sim-support.js";

test("autoglm passes every streamed answer through the filter to its last chunk, and a reset stream ends without its end", async () => {
  // 20 s at 10 requests/s; every stream 10 tokens, 4 per event; half of them reset from 5 s on.
  const scenario = llmScenario({ output_tokens: { p50: 10, p99: 10.001 } }, (j: any) => {
    j.duration_s = 20;
    j.faults = [{ at_s: 5, cluster: "a", cut_rate: 0.5, cut_as: "reset", for_s: 15 }];
  });
  const decoder = new TextDecoder();
  const seen: Array<{ contentType: string; lastChunk: string; status: number; trapped: boolean; flagged: boolean }> = [];
  const policy = await createAutoglmPolicy(scenario, scenario.seed, {
    modelPath: "",
    onStreamComplete(stream, status) {
      seen.push({
        contentType: stream.responseHeaders?.get("content-type") ?? "", lastChunk: decoder.decode(stream.forwardedBody), status,
        trapped: stream.trapped || stream.bypassed, flagged: stream.properties !== null,
      });
    },
  });
  const result = await runScenario(scenario, policy);
  assert.ok(result.streams > 150);
  const clean = seen.filter((s) => s.status === 200);
  const reset = seen.filter((s) => s.status === 502);
  assert.ok(clean.length > 50 && reset.length > 20, `${clean.length} clean, ${reset.length} reset`);
  for (const s of seen) {
    assert.equal(s.trapped, false, "the filter never trapped");
    assert.match(s.contentType, /^text\/event-stream/);
  }
  for (const s of clean) {
    assert.match(s.lastChunk, /"completion_tokens":10,/);
    assert.ok(s.lastChunk.endsWith("data: [DONE]\n\n"), "the last chunk went through the filter");
    assert.equal(s.flagged, false);
  }
  for (const s of reset) {
    assert.ok(!s.lastChunk.includes("[DONE]"));
    assert.ok(s.flagged, "a reset carries Envoy's response flag");
  }
});
