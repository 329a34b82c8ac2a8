// SMS channel: requests to a provider's HTTP API built from configuration (URL, method, headers,
// body template) arrive at a local HTTP server as configured, one per recipient; the token
// comes from the environment; on a retry only the recipients not yet accepted are sent again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { alertPipeline } from "./support/alert-pipeline.js";
import { httpReceiver, type ReceivedRequest } from "./support/alert-receivers.js";

const TOKEN = "tok-4f9a";

interface Case {
  name: string;
  channel: (base: string) => Record<string, unknown>;
  expect: (requests: ReceivedRequest[]) => void;
}

const cases: Case[] = [
  {
    name: "a JSON API gets a JSON body with the placeholders filled, one request per recipient",
    channel: (base) => ({
      type: "sms",
      url: `${base}/v1/messages`,
      headers: { Authorization: "Bearer {{token}}" },
      token_env: "SMS_TOKEN",
      body: { to: "{{to}}", text: "{{text}}", meta: { alert: "{{kind}}", tags: ["{{severity}}", "{{cluster}}"] } },
      to: ["+15550100", "+15550101"],
    }),
    expect: (requests) => {
      assert.deepEqual(requests.map((r) => [r.method, r.url, r.headers.authorization, r.headers["content-type"]]), [
        ["POST", "/v1/messages", `Bearer ${TOKEN}`, "application/json"],
        ["POST", "/v1/messages", `Bearer ${TOKEN}`, "application/json"],
      ]);
      assert.deepEqual(JSON.parse(requests[0]!.body), {
        to: "+15550100",
        text: '[CRITICAL] breaker_open llm-a: breaker of llm-a opened (closed -> open): error rate 0.4 > 0.05 "burst"',
        meta: { alert: "breaker_open", tags: ["critical", "llm-a"] },
      });
      assert.equal((JSON.parse(requests[1]!.body) as { to: string }).to, "+15550101");
    },
  },
  {
    name: "a form-encoded API (Twilio's shape) gets application/x-www-form-urlencoded fields, the text cut to max_length",
    channel: (base) => ({
      type: "sms",
      url: `${base}/2010-04-01/Accounts/AC1/Messages.json`,
      headers: { Authorization: "Basic {{token}}" },
      token_env: "SMS_TOKEN",
      encoding: "form",
      body: { To: "{{to}}", From: "+15550000", Body: "{{text}}" },
      to: ["+15550100"],
      max_length: 40,
    }),
    expect: (requests) => {
      assert.equal(requests.length, 1);
      assert.equal(requests[0]!.headers["content-type"], "application/x-www-form-urlencoded");
      assert.equal(requests[0]!.headers.authorization, `Basic ${TOKEN}`);
      const form = new URLSearchParams(requests[0]!.body);
      assert.deepEqual([form.get("To"), form.get("From")], ["+15550100", "+15550000"]);
      assert.equal(form.get("Body"), "[CRITICAL] breaker_open llm-a: breaker …");
      assert.equal(form.get("Body")!.length, 40);
    },
  },
  {
    name: "a GET API gets the placeholders percent-encoded in its URL, the token as configured",
    channel: (base) => ({
      type: "sms",
      method: "GET",
      url: `${base}/send?key={{token}}&to={{to}}&msg={{text}}`,
      token_env: "SMS_TOKEN",
      to: ["+15550100"],
    }),
    expect: (requests) => {
      assert.equal(requests[0]!.method, "GET");
      assert.equal(requests[0]!.body, "");
      const url = new URL(requests[0]!.url, "http://x");
      assert.equal(url.searchParams.get("key"), TOKEN);
      assert.equal(url.searchParams.get("to"), "+15550100");
      assert.match(url.searchParams.get("msg")!, /^\[CRITICAL\] breaker_open llm-a: .* > 0\.05 "burst"$/);
    },
  },
  {
    name: "a text API gets the body template as written, placeholders filled",
    channel: (base) => ({
      type: "sms",
      method: "PUT",
      url: `${base}/sms/{{to}}`,
      encoding: "text",
      headers: { "X-Token": "{{token}}" },
      token_env: "SMS_TOKEN",
      body: "{{severity}}|{{cluster}}|{{summary}}",
      to: ["+1 555 0100"],
    }),
    expect: (requests) => {
      assert.deepEqual([requests[0]!.method, requests[0]!.url, requests[0]!.headers["x-token"]], ["PUT", "/sms/%2B1%20555%200100", TOKEN]);
      assert.equal(requests[0]!.headers["content-type"], "text/plain; charset=utf-8");
      assert.equal(requests[0]!.body, 'critical|llm-a|breaker of llm-a opened (closed -> open): error rate 0.4 > 0.05 "burst"');
    },
  },
];

for (const c of cases) {
  test(c.name, async (t) => {
    const provider = await httpReceiver();
    t.after(() => provider.close());
    const { cp, notifier, deliveries } = alertPipeline({ channels: { pager: c.channel(provider.base) } }, { env: { SMS_TOKEN: TOKEN } });
    cp.openBreaker("llm-a", 'error rate 0.4 > 0.05 "burst"');
    await notifier.close();
    c.expect(provider.requests);
    assert.deepEqual(deliveries.map((d) => [d.channel, d.outcome]), [["pager", "sent"]]);
  });
}

test("a retry sends again only to the recipients the provider has not accepted, and none to one it refused", async (t) => {
  // +15550101 fails once with 503, +15550102 is refused for good with 400.
  const seen = new Map<string, number>();
  const provider = await httpReceiver({
    statusFor: (r) => {
      const to = (JSON.parse(r.body) as { to: string }).to;
      seen.set(to, (seen.get(to) ?? 0) + 1);
      if (to === "+15550102") return 400;
      return to === "+15550101" && seen.get(to) === 1 ? 503 : 200;
    },
  });
  t.after(() => provider.close());
  const { cp, notifier, deliveries, sleeps } = alertPipeline({
    retries: 3,
    backoff_ms: 100,
    channels: { pager: { type: "sms", url: `${provider.base}/m`, body: { to: "{{to}}", text: "{{text}}" }, to: ["+15550100", "+15550101", "+15550102"] } },
  });
  cp.halt("x", "ops");
  await notifier.close();
  assert.deepEqual(Object.fromEntries(seen), { "+15550100": 1, "+15550101": 2, "+15550102": 1 });
  assert.deepEqual(sleeps, [100]);
  assert.deepEqual(deliveries.map((d) => [d.outcome, d.attempts]), [["failed", 2]]);
  assert.match(deliveries[0]!.detail, /^2 of 3 recipients accepted; \+15550102: HTTP 400 \(refused\)$/);
});
