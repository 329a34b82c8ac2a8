// What the filter reads from a streamed response's last bytes (filter/src/core/ssetail.ts), run as
// compiled AssemblyScript through the wire harness: the clean end ([DONE]), an error event, and
// usage.completion_tokens, by byte search.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { loadWireHarness, type WireHarness } from "./golden/as-harness.js";

let harness: WireHarness;
before(async () => {
  harness = await loadWireHarness();
});

const USAGE = 'data: {"id":"c","choices":[],"usage":{"prompt_tokens":12,"total_tokens":40,"completion_tokens":28}}\n\n';

const CASES: [string, string, string][] = [
  ["a clean end with usage (vLLM, OpenAI)", USAGE + "data: [DONE]\n\n", "true false 28"],
  ["a clean end without usage", 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n', "true false -1"],
  ["usage written with spaces", '"usage": {"completion_tokens": 512}}\n\ndata: [DONE]\n\n', "true false 512"],
  ["two usage values: the last one counts", '"completion_tokens":3}\n\n"completion_tokens":9}\n\n', "false false 9"],
  ["usage whose digits the tail cuts off", '"completion_tokens":12', "false false -1"],
  ["usage whose digits are missing", '"completion_tokens":}', "false false -1"],
  ["an error object after a 200 (vLLM, TGI)", 'data: {"error":{"message":"engine dead"}}\n\n', "false true -1"],
  ["an error event by name", "event: error\ndata: overloaded\n\n", "false true -1"],
  ["an OpenAI-style error object", 'data: {"object":"error","message":"x"}\n\ndata: [DONE]\n\n', "true true -1"],
  ["the word error inside generated text (quotes escaped)", 'data: {"choices":[{"delta":{"content":"an \\"error\\" here"}}]}\n\ndata: [DONE]\n\n', "true false -1"],
  ["a cut [DONE]", "data: [DON", "false false -1"],
  ["nothing", "", "false false -1"],
];

for (const [what, tail, expected] of CASES) {
  test(`the stream's last bytes read right: ${what}`, () => {
    assert.equal(harness.sseTail(tail), expected);
  });
}
