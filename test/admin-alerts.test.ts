// POST /v1/alerts/test: a test alert through the routed (or named) channels, one attempt each,
// answered with each channel's outcome; admin token only; clear errors otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import type { AdminDeps } from "../control-plane/src/admin/deps.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { AlertNotifier, buildChannels, type AlertPayload } from "../control-plane/src/alerts/index.js";
import { createLogger } from "../lib/log.js";
import { alertsConfig, T0 } from "./support/alert-pipeline.js";
import { httpReceiver } from "./support/alert-receivers.js";

const TOKEN = "s3cret-admin-token";
const READ_TOKEN = "s3cret-read-token";

interface TestAnswer {
  id: string;
  kind: string;
  severity: string;
  summary: string;
  sent: number;
  failed: number;
  deliveries: { channel: string; type: string; outcome: string; detail: string }[];
}

async function setup(t: { after: (fn: () => unknown) => void }, options: { withAlerts?: boolean } = {}) {
  const [ops, broken, chat] = [await httpReceiver(), await httpReceiver({ statusFor: () => 500 }), await httpReceiver()];
  t.after(() => Promise.all([ops.close(), broken.close(), chat.close()]));
  const config = alertsConfig({
    retries: 3,
    channels: {
      ops: { type: "webhook", url: `${ops.base}/ops` },
      broken: { type: "webhook", url: `${broken.base}/broken` },
      chat: { type: "webhook", url: `${chat.base}/chat`, format: "slack" },
    },
    routes: [
      { severities: ["critical"], channels: ["ops", "broken"] },
      { severities: ["warning"], kinds: ["model_fallback"], channels: ["chat"] },
    ],
  });
  const logger = createLogger("admin-alerts-test", "silent");
  const notifier = new AlertNotifier({ config, channels: buildChannels(config, { env: {}, logger }), logger, now: () => T0, sleep: async () => undefined });
  t.after(() => notifier.close());
  const deps: AdminDeps = {
    controlPlane: new FakeControlPlane([{ name: "llm-a", baseWeight: 1 }], () => T0),
    model: { status: () => ({ mode: "model" }), reload: async () => ({ mode: "model" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: TOKEN,
    readToken: READ_TOKEN,
    logger,
    now: () => T0,
    ...(options.withAlerts === false ? {} : { alerts: notifier }),
  };
  const app = await buildAdminApp(deps);
  t.after(() => app.close());
  const post = (body: unknown, token = TOKEN) =>
    app.inject({ method: "POST", url: "/v1/alerts/test", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, payload: JSON.stringify(body) });
  return { post, ops, broken, chat };
}

test("a test alert goes through each routed channel once and the answer gives each channel's outcome", async (t) => {
  const { post, ops, broken, chat } = await setup(t);
  const res = await post({ severity: "critical" });
  assert.equal(res.statusCode, 200, res.body);
  const answer = res.json<TestAnswer>();
  assert.deepEqual([answer.kind, answer.severity, answer.sent, answer.failed], ["test", "critical", 1, 1]);
  assert.match(answer.summary, /^test alert \(critical\) requested by admin@/);
  assert.deepEqual(answer.deliveries, [
    { channel: "ops", type: "webhook", outcome: "sent", detail: "HTTP 200" },
    { channel: "broken", type: "webhook", outcome: "failed", detail: "HTTP 500" },
  ]);
  assert.equal(broken.requests.length, 1, "one attempt, no retries");
  const body = JSON.parse(ops.accepted[0]!.body) as AlertPayload;
  assert.deepEqual([body.kind, body.severity, body.id], ["test", "critical", answer.id]);
  assert.equal(chat.requests.length, 0);
});

test("a test alert of a severity whose routes filter by kind still reaches their channels", async (t) => {
  const { post, chat } = await setup(t);
  const res = await post({ severity: "warning" });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json<TestAnswer>().deliveries.map((d) => [d.channel, d.outcome]), [["chat", "sent"]]);
  assert.match((JSON.parse(chat.accepted[0]!.body) as { text: string }).text, /^\[WARNING\] test: test alert \(warning\)/);
});

test("a test alert sent twice is sent twice: no cooldown", async (t) => {
  const { post, ops } = await setup(t);
  for (let i = 0; i < 2; i++) assert.equal((await post({ severity: "critical", channels: ["ops"] })).statusCode, 200);
  assert.equal(ops.accepted.length, 2);
});

const refusals: { name: string; body: unknown; token?: string; withAlerts?: boolean; status: number; code: string; message?: RegExp }[] = [
  { name: "without a route for the severity", body: { severity: "info" }, status: 422, code: "AUTOGLM_ERR_ALERT_NOT_ROUTED", message: /no channel receives info alerts/ },
  { name: "naming a channel that does not exist", body: { severity: "critical", channels: ["ops", "pager"] }, status: 400, code: "AUTOGLM_ERR_BAD_REQUEST", message: /channels: unknown channel "pager"; configured: ops, broken, chat/ },
  { name: "with a severity that is not one", body: { severity: "urgent" }, status: 400, code: "AUTOGLM_ERR_BAD_REQUEST", message: /severity/ },
  { name: "without a severity", body: {}, status: 400, code: "AUTOGLM_ERR_BAD_REQUEST" },
  { name: "with the read token", body: { severity: "critical" }, token: READ_TOKEN, status: 403, code: "AUTOGLM_ERR_FORBIDDEN" },
  { name: "with a wrong token", body: { severity: "critical" }, token: "nope", status: 403, code: "AUTOGLM_ERR_FORBIDDEN" },
  { name: "on a control plane without an alert pipeline", body: { severity: "critical" }, withAlerts: false, status: 503, code: "AUTOGLM_ERR_ALERTS_UNAVAILABLE" },
];

for (const r of refusals) {
  test(`a test alert ${r.name} is refused with ${r.status} ${r.code}`, async (t) => {
    const { post, ops, broken } = await setup(t, { withAlerts: r.withAlerts ?? true });
    const res = await post(r.body, r.token ?? TOKEN);
    assert.equal(res.statusCode, r.status, res.body);
    const body = res.json<{ code: string; message: string }>();
    assert.equal(body.code, r.code);
    if (r.message !== undefined) assert.match(body.message, r.message);
    assert.equal(ops.requests.length + broken.requests.length, 0, "nothing sent");
  });
}
