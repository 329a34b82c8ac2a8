// A trap inside the module during a request: fail-closed answers 500 and logs, fail-open passes
// the request on unchanged; either way the host replaces the failed VM and serves the next request.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Action, PluginTester } from "../filter/host/index.js";

const WASM = "build/passthrough.wasm";
const skip = existsSync(WASM) ? false : `${WASM} is missing: run \`npm run build:filter\` first`;

test("a trap fails closed with a 500 and an error log, and the next request is filtered again", { skip }, async () => {
  const t = await PluginTester.start({ wasm: WASM, configuration: "probe" });
  const before = t.request();
  assert.equal(before.requestHeaders["x-probe-count"], "1");

  const trapped = t.request({ headers: { "x-trap": "1" } });
  assert.equal(trapped.trapped, true);
  assert.equal(trapped.requestAction, Action.Pause);
  assert.equal(trapped.localReply?.status, 500);
  assert.equal(trapped.localReply?.details, "wasm_fail_stream");
  assert.equal(trapped.responseHeaders, null, "the request did not go upstream");
  assert.ok(t.logs("error").some((l) => /wasm VM 0 failed: trap in stream \d+: unreachable/.test(l.message)), "the trap is logged");

  const after = t.request();
  assert.equal(after.localReply, null);
  assert.equal(after.requestHeaders["x-probe-count"], "2", "a fresh VM serves it; shared data survived the restart");
  assert.equal(t.plugin.restarts, 1);
  assert.ok(t.logs("warn").some((l) => l.message.startsWith("wasm VM 0 restarted after: trap in stream")));
  t.close();
});

test("a trap fails open when configured: the request passes unchanged and later ones are filtered", { skip }, async () => {
  const t = await PluginTester.start({ wasm: WASM, configuration: "probe", failOpen: true });
  const trapped = t.request({ headers: { ":path": "/x", "x-trap": "1" }, response: { status: 200, body: "upstream" } });
  assert.equal(trapped.trapped, true);
  assert.equal(trapped.requestAction, Action.Continue);
  assert.equal(trapped.localReply, null);
  assert.equal(trapped.requestHeaders["x-probe-path"], undefined, "the module did not touch it");
  assert.equal(trapped.requestHeaders[":path"], "/x");
  assert.equal(trapped.responseHeaders?.["x-probe-status"], undefined, "the filter stayed bypassed for the response");
  assert.equal(new TextDecoder().decode(trapped.responseBody), "upstream");

  const after = t.request({ headers: { ":path": "/y" } });
  assert.equal(after.requestHeaders["x-probe-path"], "/y");
  assert.equal(after.responseHeaders?.["x-probe-status"], "200");
  t.close();
});

test("a trap ends only its own stream; other VM instances keep serving", { skip }, async () => {
  const t = await PluginTester.start({ wasm: WASM, configuration: "probe", workers: 2 });
  const trapped = t.request({ worker: 0, headers: { "x-trap": "1" } });
  assert.equal(trapped.localReply?.status, 500);
  const other = t.request({ worker: 1 });
  assert.equal(other.localReply, null);
  assert.ok(other.requestHeaders["x-probe-count"] !== undefined);
  assert.equal(t.plugin.vms[1]!.failed, false);
  t.close();
});
