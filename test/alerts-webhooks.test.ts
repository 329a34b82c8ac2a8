// Webhook channel: the JSON payload as before (the `webhooks` shorthand), the Slack-compatible
// payload, a secret from the environment, and the pipeline's cooldown, retries and queueing
// seen through webhooks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { modelFallbackAlert, type AlertPayload } from "../control-plane/src/alerts/index.js";
import { alertPipeline } from "./support/alert-pipeline.js";
import { httpReceiver } from "./support/alert-receivers.js";

const policy = { retries: 3, backoff_ms: 100 };

function bodies(r: Awaited<ReturnType<typeof httpReceiver>>): AlertPayload[] {
  return r.accepted.map((req) => JSON.parse(req.body) as AlertPayload);
}

test("a breaker opening is POSTed as JSON to every webhook target of the first configuration form", async (t) => {
  const [one, two] = [await httpReceiver(), await httpReceiver()];
  t.after(() => Promise.all([one.close(), two.close()]));
  const { cp, notifier } = alertPipeline({ ...policy, webhooks: [`${one.base}/hook`, { url: `${two.base}/hook`, headers: { Authorization: "Bearer hook" } }] });
  cp.openBreaker("llm-a", "p99 2300ms > slo 2000ms");
  await notifier.flush();
  for (const r of [one, two]) {
    assert.equal(r.accepted.length, 1);
    assert.equal(r.accepted[0]!.headers["content-type"], "application/json");
    const body = bodies(r)[0]!;
    assert.deepEqual(
      { kind: body.kind, cluster: body.cluster, severity: body.severity, summary: body.summary, source: body.source },
      { kind: "breaker_open", cluster: "llm-a", severity: "critical", summary: "breaker of llm-a opened (closed -> open): p99 2300ms > slo 2000ms", source: "open-autoglm" },
    );
  }
  assert.equal(two.accepted[0]!.headers.authorization, "Bearer hook");
  assert.equal(one.accepted[0]!.headers.authorization, undefined);
  assert.equal(bodies(one)[0]!.id, bodies(two)[0]!.id, "one id per alert across targets");
});

const slackCases: { name: string; blocks: boolean | undefined; expectBlocks: boolean }[] = [
  { name: "with Block Kit blocks by default", blocks: undefined, expectBlocks: true },
  { name: "with text only when blocks are turned off", blocks: false, expectBlocks: false },
];

for (const { name, blocks, expectBlocks } of slackCases) {
  test(`a Slack-format webhook receives {"text": ...} ${name}`, async (t) => {
    const hook = await httpReceiver();
    t.after(() => hook.close());
    const { cp, notifier } = alertPipeline({
      channels: { chat: { type: "webhook", url: `${hook.base}/services/T0/B0`, format: "slack", ...(blocks === undefined ? {} : { blocks }) } },
    });
    cp.openBreaker("llm-a", "error rate 0.4 > 0.05 <burst>");
    await notifier.flush();
    const body = JSON.parse(hook.accepted[0]!.body) as { text: string; blocks?: { type: string; text?: { text: string } }[] };
    assert.equal(body.text, "[CRITICAL] breaker_open llm-a: breaker of llm-a opened (closed -&gt; open): error rate 0.4 &gt; 0.05 &lt;burst&gt;");
    assert.equal(body.blocks !== undefined, expectBlocks);
    if (expectBlocks) {
      assert.deepEqual(body.blocks!.map((b) => b.type), ["section", "context"]);
      assert.match(body.blocks![0]!.text!.text, /^\*CRITICAL\* breaker_open · llm-a\n/);
    }
  });
}

test("a webhook's secret comes from the environment variable its token_env names", async (t) => {
  const hook = await httpReceiver();
  t.after(() => hook.close());
  const { cp, notifier } = alertPipeline(
    { channels: { ops: { type: "webhook", url: `${hook.base}/hooks/{{token}}`, headers: { "X-Api-Key": "k-{{token}}" }, token_env: "HOOK_SECRET" } } },
    { env: { HOOK_SECRET: "s3cr3t-path" } },
  );
  cp.halt("bad deploy", "ops");
  await notifier.flush();
  assert.equal(hook.accepted[0]!.url, "/hooks/s3cr3t-path");
  assert.equal(hook.accepted[0]!.headers["x-api-key"], "k-s3cr3t-path");
});

test("alerts of one kind and cluster are held back for the cooldown, then counted in the next", async (t) => {
  const hook = await httpReceiver();
  t.after(() => hook.close());
  const { cp, notifier, advance } = alertPipeline({ ...policy, webhooks: [hook.base] });
  cp.openBreaker("llm-a", "errors");
  advance(10_000);
  cp.openBreaker("llm-a", "errors again");
  cp.openBreaker("llm-a", "errors again");
  cp.openBreaker("llm-b", "errors"); // another cluster: its own cooldown
  await notifier.flush();
  assert.deepEqual(bodies(hook).map((b) => b.cluster), ["llm-a", "llm-b"]);
  assert.equal(notifier.stats.suppressed, 2);
  advance(290_000); // 300 s (the default) after the first
  cp.openBreaker("llm-a", "still failing");
  await notifier.flush();
  assert.equal(hook.accepted.length, 3);
  assert.equal(bodies(hook)[2]!.suppressed_since_last, 2);
});

test("the cooldown is configurable per deployment", async (t) => {
  const hook = await httpReceiver();
  t.after(() => hook.close());
  const { cp, notifier, advance } = alertPipeline({ webhooks: [hook.base], cooldown_s: 5 });
  cp.openBreaker("llm-a", "e");
  advance(6_000);
  cp.openBreaker("llm-a", "e");
  await notifier.flush();
  assert.equal(hook.accepted.length, 2);
});

const retryCases: { name: string; statuses: number[]; retries: number; attempts: number; sleeps: number[]; outcome: "sent" | "failed" }[] = [
  { name: "a failing target is retried with exponential backoff until it accepts", statuses: [503, 500], retries: 3, attempts: 3, sleeps: [100, 200], outcome: "sent" },
  { name: "a target that keeps failing is given up after the configured retries", statuses: [503, 503, 503, 503], retries: 2, attempts: 3, sleeps: [100, 200], outcome: "failed" },
  { name: "429 and 408 are retried like 5xx", statuses: [429, 408], retries: 3, attempts: 3, sleeps: [100, 200], outcome: "sent" },
  { name: "a 4xx answer is not retried", statuses: [400], retries: 3, attempts: 1, sleeps: [], outcome: "failed" },
];

for (const c of retryCases) {
  test(c.name, async (t) => {
    const hook = await httpReceiver({ statuses: [...c.statuses] });
    t.after(() => hook.close());
    const { cp, notifier, sleeps, deliveries } = alertPipeline({ webhooks: [hook.base], retries: c.retries, backoff_ms: 100 });
    cp.halt("bad deploy", "ops");
    await notifier.flush();
    assert.equal(hook.requests.length, c.attempts);
    assert.deepEqual(sleeps, c.sleeps);
    assert.deepEqual(deliveries.map((d) => [d.outcome, d.attempts]), [[c.outcome, c.attempts]]);
  });
}

test("notifying never waits for the webhook: the decision loop goes on while a receiver hangs", async (t) => {
  const hook = await httpReceiver();
  t.after(() => hook.close());
  let release!: () => void;
  hook.holdUntil(new Promise<void>((resolve) => (release = resolve)));
  const { cp, notifier } = alertPipeline({ webhooks: [hook.base] });
  cp.openBreaker("llm-a", "e"); // emits transition -> notify(), synchronously
  cp.openBreaker("llm-b", "e");
  cp.halt("x", "ops");
  assert.equal(hook.accepted.length, 0, "nothing delivered yet, yet the calls returned");
  assert.equal(cp.currentDecisions().halted, true);
  await new Promise((r) => setTimeout(r, 50));
  release();
  await notifier.flush();
  assert.deepEqual(bodies(hook).map((b) => b.kind), ["breaker_open", "breaker_open", "halt"]);
});

test("sidecar rejections and model fallback become warnings", async (t) => {
  const hook = await httpReceiver();
  t.after(() => hook.close());
  const { cp, notifier, now } = alertPipeline({ webhooks: [hook.base] });
  cp.emit("nack", { streamId: "s3", nodeId: "sidecar-2", version: 7, reason: "clusters[1].weight: 0 with all others 0", enforcedVersion: 6, atMs: now() });
  notifier.notify(modelFallbackAlert("models/anomaly.onnx: ENOENT", now(), "models/anomaly.onnx"));
  await notifier.flush();
  assert.deepEqual(bodies(hook).map((b) => [b.kind, b.severity]), [
    ["sidecar_rejected", "warning"],
    ["model_fallback", "warning"],
  ]);
  assert.match(bodies(hook)[0]!.summary, /sidecar-2 rejected decisions v7 \(still enforcing v6\)/);
});

test("a breaker going half-open sends nothing; closing again sends a recovery", async (t) => {
  const hook = await httpReceiver();
  t.after(() => hook.close());
  const { cp, notifier, now } = alertPipeline({ webhooks: [hook.base] });
  cp.emit("transition", { cluster: "llm-a", from: "open", to: "half_open", atMs: now(), reason: "probe" });
  cp.emit("transition", { cluster: "llm-a", from: "half_open", to: "closed", atMs: now(), reason: "3 healthy probe windows" });
  await notifier.flush();
  assert.deepEqual(bodies(hook).map((b) => [b.kind, b.severity]), [["breaker_closed", "info"]]);
});
