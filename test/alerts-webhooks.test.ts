import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { AlertNotifier, bindAlerts, modelFallbackAlert, type AlertPayload } from "../control-plane/src/alerts/index.js";
import type { AlertsConfig } from "../control-plane/src/config/types.js";
import { createLogger } from "../lib/log.js";

/** A local webhook receiver: answers `statuses` in turn (then 200), records what it got. */
async function receiver(statuses: number[] = []) {
  const received: { body: AlertPayload; headers: IncomingHttpHeaders }[] = [];
  let attempts = 0;
  let hold: Promise<void> | undefined;
  const server: Server = createServer(async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    attempts++;
    if (hold !== undefined) await hold;
    const status = statuses.shift() ?? 200;
    if (status === 200) received.push({ body: JSON.parse(text) as AlertPayload, headers: req.headers });
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    attempts: () => attempts,
    holdUntil(p: Promise<void>) {
      hold = p;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function config(urls: string[], extra: Partial<AlertsConfig> = {}): AlertsConfig {
  return { webhooks: urls.map((url) => ({ url, headers: { authorization: "Bearer hook" } })), cooldownS: 300, retries: 3, backoffMs: 100, timeoutMs: 5000, ...extra };
}

function setup(cfg: AlertsConfig) {
  let now = 1_800_000_000_000;
  const sleeps: number[] = [];
  const cp = new FakeControlPlane([{ name: "llm-a", baseWeight: 1 }, { name: "llm-b", baseWeight: 1 }], () => now);
  const notifier = new AlertNotifier({
    config: cfg,
    logger: createLogger("alerts-test", "silent"),
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  bindAlerts(cp, (a) => notifier.notify(a));
  return { cp, notifier, sleeps, advance: (ms: number) => (now += ms), now: () => now };
}

test("a breaker opening is POSTed as JSON to every webhook target", async () => {
  const [one, two] = [await receiver(), await receiver()];
  const { cp, notifier } = setup(config([one.url, two.url]));
  cp.openBreaker("llm-a", "p99 2300ms > slo 2000ms");
  await notifier.flush();
  for (const r of [one, two]) {
    assert.equal(r.received.length, 1);
    const { body, headers } = r.received[0]!;
    assert.equal(headers["content-type"], "application/json");
    assert.equal(headers.authorization, "Bearer hook");
    assert.deepEqual(
      { kind: body.kind, cluster: body.cluster, severity: body.severity, summary: body.summary, source: body.source },
      { kind: "breaker_open", cluster: "llm-a", severity: "critical", summary: "breaker of llm-a opened (closed -> open): p99 2300ms > slo 2000ms", source: "open-autoglm" },
    );
  }
  assert.equal(one.received[0]!.body.id, two.received[0]!.body.id, "one id per alert across targets");
  await Promise.all([one.close(), two.close()]);
});

test("alerts of one kind and cluster are held back for the cooldown, then counted in the next", async () => {
  const hook = await receiver();
  const { cp, notifier, advance } = setup(config([hook.url]));
  cp.openBreaker("llm-a", "errors");
  advance(10_000);
  cp.openBreaker("llm-a", "errors again");
  cp.openBreaker("llm-a", "errors again");
  cp.openBreaker("llm-b", "errors"); // another cluster: its own cooldown
  await notifier.flush();
  assert.deepEqual(hook.received.map((r) => r.body.cluster), ["llm-a", "llm-b"]);
  assert.equal(notifier.stats.suppressed, 2);
  advance(300_000);
  cp.openBreaker("llm-a", "still failing");
  await notifier.flush();
  assert.equal(hook.received.length, 3);
  assert.equal(hook.received[2]!.body.suppressed_since_last, 2);
  await hook.close();
});

test("the cooldown is configurable per deployment", async () => {
  const hook = await receiver();
  const { cp, notifier, advance } = setup(config([hook.url], { cooldownS: 5 }));
  cp.openBreaker("llm-a", "e");
  advance(6_000);
  cp.openBreaker("llm-a", "e");
  await notifier.flush();
  assert.equal(hook.received.length, 2);
  await hook.close();
});

test("a failing target is retried with exponential backoff until it accepts", async () => {
  const hook = await receiver([503, 500]);
  const { cp, notifier, sleeps } = setup(config([hook.url]));
  cp.halt("bad deploy", "ops");
  await notifier.flush();
  assert.equal(hook.attempts(), 3);
  assert.deepEqual(sleeps, [100, 200]);
  assert.equal(hook.received[0]!.body.kind, "halt");
  assert.equal(notifier.stats.sent, 1);
  await hook.close();
});

test("a target that keeps failing is given up after the configured retries", async () => {
  const hook = await receiver([503, 503, 503, 503, 503]);
  const { cp, notifier, sleeps } = setup(config([hook.url], { retries: 2 }));
  cp.openBreaker("llm-b", "e");
  await notifier.flush();
  assert.equal(hook.attempts(), 3);
  assert.deepEqual(sleeps, [100, 200]);
  assert.equal(notifier.stats.failed, 1);
  await hook.close();
});

test("a 4xx answer is not retried", async () => {
  const hook = await receiver([400]);
  const { cp, notifier } = setup(config([hook.url]));
  cp.openBreaker("llm-b", "e");
  await notifier.flush();
  assert.equal(hook.attempts(), 1);
  assert.equal(notifier.stats.failed, 1);
  await hook.close();
});

test("notifying never waits for the webhook: the decision loop goes on while a receiver hangs", async () => {
  const hook = await receiver();
  let release!: () => void;
  hook.holdUntil(new Promise<void>((resolve) => (release = resolve)));
  const { cp, notifier } = setup(config([hook.url]));
  cp.openBreaker("llm-a", "e"); // emits transition -> notify(), synchronously
  cp.openBreaker("llm-b", "e");
  cp.halt("x", "ops");
  assert.equal(hook.received.length, 0, "nothing delivered yet, yet the calls returned");
  assert.equal(cp.currentDecisions().halted, true);
  await new Promise((r) => setTimeout(r, 50));
  release();
  await notifier.flush();
  assert.deepEqual(hook.received.map((r) => r.body.kind), ["breaker_open", "breaker_open", "halt"]);
  await hook.close();
});

test("sidecar rejections and model fallback become warnings", async () => {
  const hook = await receiver();
  const { cp, notifier, now } = setup(config([hook.url]));
  cp.emit("nack", { streamId: "s3", nodeId: "sidecar-2", version: 7, reason: "clusters[1].weight: 0 with all others 0", enforcedVersion: 6, atMs: now() });
  notifier.notify(modelFallbackAlert("models/anomaly.onnx: ENOENT", now(), "models/anomaly.onnx"));
  await notifier.flush();
  assert.deepEqual(hook.received.map((r) => [r.body.kind, r.body.severity]), [
    ["sidecar_rejected", "warning"],
    ["model_fallback", "warning"],
  ]);
  assert.match(hook.received[0]!.body.summary, /sidecar-2 rejected decisions v7 \(still enforcing v6\)/);
  await hook.close();
});

test("a breaker going half-open sends nothing; closing again sends a recovery", async () => {
  const hook = await receiver();
  const { cp, notifier, now } = setup(config([hook.url]));
  cp.emit("transition", { cluster: "llm-a", from: "open", to: "half_open", atMs: now(), reason: "probe" });
  cp.emit("transition", { cluster: "llm-a", from: "half_open", to: "closed", atMs: now(), reason: "3 healthy probe windows" });
  await notifier.flush();
  assert.deepEqual(hook.received.map((r) => [r.body.kind, r.body.severity]), [["breaker_closed", "info"]]);
  await hook.close();
});
