// Routing by severity and kind, deduplication across channels, one bounded queue per channel
// (a full one drops its oldest and counts it, a slow channel holds back no other), backoff
// bounds, and delivery outcomes in the Prometheus metrics.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import {
  AlertNotifier,
  backoffDelay,
  channelsFor,
  type AlertChannel,
  type AlertKind,
  type AlertMessage,
  type SendResult,
  type Severity,
} from "../control-plane/src/alerts/index.js";
import { ControlPlaneMetrics, alertMetricsHooks } from "../control-plane/src/metrics/index.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { createLogger } from "../lib/log.js";
import { alertPipeline, alertsConfig, T0 } from "./support/alert-pipeline.js";
import { httpReceiver, mailHeader, smtpReceiver } from "./support/alert-receivers.js";

/** The README's routing: critical to SMS and e-mail, warning to the chat webhook, sidecar rejections also to e-mail. */
const routed = {
  channels: {
    pager: { type: "sms", url: "http://127.0.0.1:1/sms", body: { to: "{{to}}", text: "{{text}}" }, to: ["+15550100"] },
    mail: { type: "email", smtp: { host: "127.0.0.1", require_tls: false }, from: "a@example.test", to: ["b@example.test"] },
    chat: { type: "webhook", url: "http://127.0.0.1:1/chat", format: "slack" },
  },
  routes: [
    { severities: ["critical"], channels: ["pager", "mail"] },
    { severities: ["warning"], channels: ["chat"] },
    { kinds: ["sidecar_rejected"], channels: ["mail"] },
  ],
};

const routeCases: { kind: AlertKind; severity: Severity; anyKind?: boolean; channels: string[] }[] = [
  { kind: "breaker_open", severity: "critical", channels: ["pager", "mail"] },
  { kind: "halt", severity: "critical", channels: ["pager", "mail"] },
  { kind: "model_fallback", severity: "warning", channels: ["chat"] },
  { kind: "sidecar_rejected", severity: "warning", channels: ["mail", "chat"] },
  { kind: "breaker_closed", severity: "info", channels: [] },
  { kind: "test", severity: "info", anyKind: true, channels: ["mail"] },
];

for (const c of routeCases) {
  test(`${c.severity === "info" ? "an" : "a"} ${c.severity} ${c.kind} alert goes to ${c.channels.join(" and ") || "no channel"}${c.anyKind ? " (any kind)" : ""}`, () => {
    assert.deepEqual(channelsFor(alertsConfig(routed), c, c.anyKind), c.channels);
  });
}

test("without routes every alert goes to every channel", () => {
  const config = alertsConfig({ channels: routed.channels });
  assert.deepEqual(channelsFor(config, { kind: "breaker_closed", severity: "info" }), ["pager", "mail", "chat"]);
});

test("a critical alert reaches SMS and e-mail, a warning the webhook, each once across a cooldown", async (t) => {
  const [sms, chat, smtp] = [await httpReceiver(), await httpReceiver(), await smtpReceiver()];
  t.after(() => Promise.all([sms.close(), chat.close(), smtp.close()]));
  const { cp, notifier, outcomes, now } = alertPipeline({
    ...routed,
    channels: {
      pager: { ...routed.channels.pager, url: `${sms.base}/sms` },
      mail: { ...routed.channels.mail, smtp: { host: "127.0.0.1", port: smtp.port, require_tls: false } },
      chat: { ...routed.channels.chat, url: `${chat.base}/chat` },
    },
  });
  cp.openBreaker("llm-a", "errors");
  cp.openBreaker("llm-a", "errors again"); // same kind and cluster within the cooldown: once
  cp.emit("nack", { streamId: "s1", nodeId: "sidecar-1", version: 3, reason: "bad", enforcedVersion: 2, atMs: now() });
  cp.emit("transition", { cluster: "llm-a", from: "half_open", to: "closed", atMs: now(), reason: "healthy" }); // info: no route
  await notifier.close();
  assert.equal(sms.accepted.length, 1);
  assert.match(JSON.parse(sms.accepted[0]!.body).text as string, /^\[CRITICAL\] breaker_open llm-a/);
  assert.deepEqual(smtp.mails.map((m) => mailHeader(m.raw, "subject")!.split(":")[0]), ["[autoglm] [CRITICAL] breaker_open llm-a", "[autoglm] [WARNING] sidecar_rejected"]);
  assert.deepEqual(chat.accepted.map((r) => (JSON.parse(r.body) as { text: string }).text.split(":")[0]), ["[WARNING] sidecar_rejected"]);
  assert.deepEqual(outcomes().sort(), ["chat:sent", "mail:sent", "mail:sent", "pager:sent"]);
  assert.deepEqual([notifier.stats.routed, notifier.stats.suppressed, notifier.stats.unrouted], [2, 1, 1]);
});

/** A channel whose sends wait until released; records the ids it was asked to send. */
class GatedChannel implements AlertChannel {
  readonly type = "gated";
  readonly sent: string[] = [];
  private release: (() => void) | undefined;
  private gate: Promise<void>;
  constructor(readonly name: string, closed = true) {
    this.gate = closed ? new Promise((r) => (this.release = r)) : Promise.resolve();
  }
  open(): void {
    this.release?.();
  }
  async send(message: AlertMessage): Promise<SendResult> {
    await this.gate;
    this.sent.push(message.alert.summary);
    return { ok: true, detail: "ok" };
  }
  async close(): Promise<void> {}
}

function gatedNotifier(channels: AlertChannel[], queueLimit: number) {
  const config = { ...alertsConfig({ queue_limit: queueLimit }), channels: channels.map((c) => ({ name: c.name, type: c.type, settings: {} })) };
  const registry = new Registry();
  const metrics = new ControlPlaneMetrics(registry, new FakeControlPlane([]), () => T0, { processMetrics: false });
  let clock = T0;
  const notifier = new AlertNotifier({ config, channels, logger: createLogger("alerts-test", "silent"), now: () => clock, sleep: async () => undefined, ...alertMetricsHooks(metrics) });
  const raise = (i: number) => {
    clock += 1000;
    notifier.notify({ kind: "breaker_open", cluster: `c${i}`, severity: "critical", summary: `alert ${i}`, atMs: clock, details: {} });
  };
  return { notifier, registry, raise };
}

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  return values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))?.value ?? 0;
}

test("a full channel queue drops its oldest waiting alert and counts it; a slow channel holds back no other", async () => {
  const slow = new GatedChannel("slow");
  const fast = new GatedChannel("fast", false);
  const { notifier, registry, raise } = gatedNotifier([slow, fast], 2);
  // One alert at a time; the fast channel delivers each before the next comes. The slow one
  // holds alert 1 in delivery while 2..5 queue behind it, with room for 2.
  for (let i = 1; i <= 5; i++) {
    raise(i);
    for (let turn = 0; turn < 1000 && fast.sent.length < i; turn++) await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(fast.sent, ["alert 1", "alert 2", "alert 3", "alert 4", "alert 5"], "the fast channel delivered everything while the slow one waits");
  assert.deepEqual(slow.sent, []);
  slow.open();
  await notifier.close();
  assert.deepEqual(slow.sent, ["alert 1", "alert 4", "alert 5"], "2 and 3 were the oldest waiting when 4 and 5 came");
  assert.equal(await counter(registry, "autoglm_alert_deliveries_total", { channel: "slow", outcome: "dropped" }), 2);
  assert.equal(await counter(registry, "autoglm_alert_deliveries_total", { channel: "slow", outcome: "sent" }), 3);
  assert.equal(await counter(registry, "autoglm_alert_deliveries_total", { channel: "fast", outcome: "sent" }), 5);
  assert.equal(await counter(registry, "autoglm_alerts_total", { kind: "breaker_open", outcome: "routed" }), 5);
});

test("failed deliveries and retries are counted per channel", async (t) => {
  const hook = await httpReceiver({ statuses: [503, 503, 503] });
  t.after(() => hook.close());
  const registry = new Registry();
  const metrics = new ControlPlaneMetrics(registry, new FakeControlPlane([]), () => T0, { processMetrics: false });
  const config = alertsConfig({ retries: 2, channels: { ops: { type: "webhook", url: hook.base } } });
  const { buildChannels } = await import("../control-plane/src/alerts/index.js");
  const logger = createLogger("alerts-test", "silent");
  const notifier = new AlertNotifier({ config, channels: buildChannels(config, { env: {}, logger }), logger, now: () => T0, sleep: async () => undefined, ...alertMetricsHooks(metrics) });
  notifier.notify({ kind: "halt", cluster: "", severity: "critical", summary: "halt", atMs: T0, details: {} });
  await notifier.close();
  assert.equal(await counter(registry, "autoglm_alert_deliveries_total", { channel: "ops", outcome: "failed" }), 1);
  assert.equal(await counter(registry, "autoglm_alert_delivery_retries_total", { channel: "ops" }), 2);
});

const backoffCases: { backoffMs: number; maxBackoffMs: number; delays: number[] }[] = [
  { backoffMs: 500, maxBackoffMs: 60_000, delays: [500, 1000, 2000, 4000, 8000] },
  { backoffMs: 500, maxBackoffMs: 3000, delays: [500, 1000, 2000, 3000, 3000] },
  { backoffMs: 0, maxBackoffMs: 60_000, delays: [0, 0, 0, 0, 0] },
];

for (const c of backoffCases) {
  test(`retry delays from ${c.backoffMs} ms double up to ${c.maxBackoffMs} ms`, () => {
    const policy = { retries: 5, backoffMs: c.backoffMs, maxBackoffMs: c.maxBackoffMs };
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n)), c.delays);
  });
}

test("an alert raised just as a channel's queue runs empty is still delivered", async () => {
  const channel = new GatedChannel("ops", false);
  const config = { ...alertsConfig({}), channels: [{ name: "ops", type: "gated", settings: {} }] };
  const alert = (n: number) => ({ kind: "breaker_open" as const, cluster: `c${n}`, severity: "critical" as const, summary: `alert ${n}`, atMs: T0, details: {} });
  let raised = false;
  const notifier: AlertNotifier = new AlertNotifier({
    config,
    channels: [channel],
    logger: createLogger("alerts-test", "silent"),
    now: () => T0,
    // Raised in a microtask queued while the sender reports its last message: it runs after the
    // sender found its queue empty and before anything that follows the sender's end.
    onDelivery: () => {
      if (!raised) queueMicrotask(() => notifier.notify(alert(2)));
      raised = true;
    },
  });
  notifier.notify(alert(1));
  await notifier.flush();
  await notifier.close();
  assert.deepEqual(channel.sent, ["alert 1", "alert 2"]);
});

test("a channel that throws counts as a failed delivery and the queue goes on", async () => {
  let calls = 0;
  const throwing: AlertChannel = {
    name: "flaky",
    type: "custom",
    async send(message) {
      calls++;
      if (message.alert.summary === "alert 1") throw new Error("boom");
      return { ok: true, detail: "ok" };
    },
    close: async () => undefined,
  };
  const config = { ...alertsConfig({}), channels: [{ name: "flaky", type: "custom", settings: {} }] };
  const reports: string[] = [];
  const notifier = new AlertNotifier({ config, channels: [throwing], logger: createLogger("alerts-test", "silent"), now: () => T0, onDelivery: (r) => reports.push(`${r.message.alert.summary}:${r.outcome}:${r.detail}`) });
  for (const n of [1, 2]) notifier.notify({ kind: "halt", cluster: `c${n}`, severity: "critical", summary: `alert ${n}`, atMs: T0, details: {} });
  await notifier.close();
  assert.deepEqual(reports, ["alert 1:failed:channel failed: boom", "alert 2:sent:ok"]);
  assert.equal(calls, 2);
});
