// The `alerts` section: its schema and checks name every bad field; the README's example is a
// valid configuration; secrets come only from environment variables, and no secret reaches a
// log line, a delivery's detail or the logged view of the configuration.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { pino } from "pino";
import { parse as parseYaml } from "yaml";
import { alertsConfigView, buildChannels, readAlertsConfig, scrub } from "../control-plane/src/alerts/index.js";
import { ConfigError } from "../control-plane/src/config/index.js";
import { createLogger } from "../lib/log.js";
import { alertPipeline, alertsConfig } from "./support/alert-pipeline.js";

const sms = { type: "sms", url: "https://sms.example.test/v1/messages", body: { to: "{{to}}", text: "{{text}}" }, to: ["+15550100"] };
const mail = { type: "email", smtp: { host: "smtp.example.test" }, from: "autoglm@example.test", to: ["oncall@example.test"] };

const badCases: { name: string; section: unknown; problem: string }[] = [
  { name: "an unknown field", section: { channel: {} }, problem: "alerts.channel: unknown field" },
  { name: "a channel of an unknown type", section: { channels: { x: { type: "pager" } } }, problem: "alerts.channels.x.type: expected one of email, webhook, sms" },
  { name: "a channel without a type", section: { channels: { x: { url: "http://a" } } }, problem: "alerts.channels.x.type: required" },
  { name: "a channel name that is not a label", section: { channels: { "Ops Mail": mail } }, problem: 'alerts.channels.Ops Mail: a channel name is lower-case letters, digits, "_" and "-" (at most 63, starting with a letter or digit)' },
  { name: "an e-mail channel without recipients", section: { channels: { m: { ...mail, to: [] } } }, problem: "alerts.channels.m.to: must NOT have fewer than 1 items" },
  { name: "an e-mail channel with a password written in the file", section: { channels: { m: { ...mail, smtp: { host: "h", user: "u", password: "p" } } } }, problem: "alerts.channels.m.smtp.password: unknown field" },
  { name: "an SMTP user without a password variable", section: { channels: { m: { ...mail, smtp: { host: "h", user: "u" } } } }, problem: "alerts.channels.m.smtp.password_env: required with smtp.user (the name of the environment variable holding the password)" },
  { name: "an SMTP port out of range", section: { channels: { m: { ...mail, smtp: { host: "h", port: 70000 } } } }, problem: "alerts.channels.m.smtp.port: must be <= 65535" },
  { name: "an SMS template with an unknown placeholder", section: { channels: { p: { ...sms, body: { to: "{{to}}", text: "{{message}}" } } } }, problem: "alerts.channels.p.body.text: unknown placeholder {{message}}; expected one of {{text}}, {{summary}}, {{kind}}, {{severity}}, {{cluster}}, {{id}}, {{at}}, {{to}}, {{token}}" },
  { name: "an SMS template that uses {{token}} without token_env", section: { channels: { p: { ...sms, headers: { authorization: "Bearer {{token}}" } } } }, problem: "alerts.channels.p.token_env: required where a template uses {{token}}" },
  { name: "an SMS channel that never names the recipient", section: { channels: { p: { ...sms, body: { text: "{{text}}" } } } }, problem: "alerts.channels.p.to: no template uses {{to}}, so the provider would not know the recipient (put it in url, headers or body)" },
  { name: "an SMS GET with a body", section: { channels: { p: { ...sms, method: "GET" } } }, problem: "alerts.channels.p.body: not with method GET (put the placeholders in the url)" },
  { name: "a form body that is not flat", section: { channels: { p: { ...sms, encoding: "form", body: { to: "{{to}}", x: { y: "z" } } } } }, problem: 'alerts.channels.p.body: expected an object of strings with encoding "form"' },
  { name: "a webhook URL that is not http", section: { channels: { w: { type: "webhook", url: "ftp://x/" } } }, problem: 'alerts.channels.w.url: expected an http:// or https:// URL, got "ftp://x/"' },
  { name: "Block Kit blocks on a JSON webhook", section: { channels: { w: { type: "webhook", url: "http://x/", blocks: true } } }, problem: 'alerts.channels.w.blocks: only with format: "slack"' },
  { name: "an environment variable name that is not one", section: { channels: { w: { type: "webhook", url: "http://x/{{token}}", token_env: "MY-TOKEN" } } }, problem: 'alerts.channels.w.token_env: must match pattern "^[A-Za-z_][A-Za-z0-9_]*$"' },
  { name: "a route to a channel that does not exist", section: { channels: { p: sms }, routes: [{ channels: ["p", "pager"] }] }, problem: 'alerts.routes[0].channels[1]: unknown channel "pager"; expected one of p' },
  { name: "a channel no route sends to", section: { channels: { p: sms, m: mail }, routes: [{ channels: ["p"] }] }, problem: 'alerts.channels.m: no route sends alerts to "m"; add it to a route\'s channels or remove it' },
  { name: "a route with an unknown severity", section: { channels: { p: sms }, routes: [{ severities: ["page"], channels: ["p"] }] }, problem: "alerts.routes[0].severities[0]: expected one of critical, warning, info" },
  { name: "a route with an unknown kind", section: { channels: { p: sms }, routes: [{ kinds: ["breaker_opened"], channels: ["p"] }] }, problem: "alerts.routes[0].kinds[0]: expected one of breaker_open, breaker_closed, halt, resume, model_fallback, sidecar_rejected, trigger_fired, trigger_cleared, error_budget_fast_burn, error_budget_slow_burn, error_budget_burn_resolved, source_flagged, source_cleared, test" },
  { name: "a channel named like the webhooks shorthand's", section: { webhooks: ["http://a/"], channels: { "webhook-1": { type: "webhook", url: "http://b/" } } }, problem: "alerts.channels.webhook-1: the name is taken by the webhooks shorthand (webhook-1, webhook-2, ...); choose another" },
  { name: "a webhooks entry of neither form", section: { webhooks: [5] }, problem: "alerts.webhooks[0]: expected a URL or { url, headers }" },
  { name: "a queue limit of zero", section: { queue_limit: 0 }, problem: "alerts.queue_limit: must be >= 1" },
];

for (const { name, section, problem } of badCases) {
  test(`an alerts section with ${name} is refused naming the field`, () => {
    const { problems } = readAlertsConfig(section);
    assert.ok(problems.includes(problem), `problems: ${JSON.stringify(problems, null, 2)}`);
  });
}

test("a section with several problems reports them all at once", () => {
  const { problems } = readAlertsConfig({ cooldown_s: -1, channels: { m: { ...mail, smtp: { host: "h", user: "u" } } }, routes: [{ channels: ["x"] }] });
  assert.deepEqual(problems, [
    "alerts.cooldown_s: must be >= 0",
    "alerts.channels.m.smtp.password_env: required with smtp.user (the name of the environment variable holding the password)",
    'alerts.routes[0].channels[0]: unknown channel "x"; expected one of m',
    'alerts.channels.m: no route sends alerts to "m"; add it to a route\'s channels or remove it',
  ]);
});

/** The README's alerts example: the first ```yaml block that has both `channels:` and `routes:`. */
function readmeExample(): unknown {
  const blocks = [...readFileSync("README.md", "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const block = blocks.find((b) => /^alerts:/m.test(b) && /^\s+routes:/m.test(b) && /^\s+channels:/m.test(b));
  assert.ok(block !== undefined, "the README has an alerts example");
  return (parseYaml(block) as { alerts: unknown }).alerts;
}

test("the README's alerts example is a valid configuration with all three channel types and routes", () => {
  const config = alertsConfig(readmeExample());
  assert.deepEqual([...new Set(config.channels.map((c) => c.type))].sort(), ["email", "sms", "webhook"]);
  assert.ok((config.routes ?? []).length >= 2);
  assert.equal(config.cooldownS, 300);
});

test("a secret variable that is not set is a configuration problem naming the field and the variable", () => {
  const config = alertsConfig({
    channels: { m: { ...mail, smtp: { host: "h", user: "u", password_env: "AUTOGLM_SMTP_PASSWORD" } }, p: { ...sms, headers: { authorization: "Bearer {{token}}" }, token_env: "AUTOGLM_SMS_TOKEN" } },
  });
  assert.throws(
    () => buildChannels(config, { env: { AUTOGLM_SMS_TOKEN: "" }, logger: createLogger("alerts-test", "silent") }),
    (error: unknown) =>
      error instanceof ConfigError &&
      JSON.stringify(error.problems) ===
        JSON.stringify([
          "alerts.channels.m.smtp.password_env: the environment variable AUTOGLM_SMTP_PASSWORD is not set",
          "alerts.channels.p.token_env: the environment variable AUTOGLM_SMS_TOKEN is not set",
        ]),
  );
});

test("the logged view of the configuration shows where alerts go, not URL paths, header values or secrets", () => {
  const config = alertsConfig({
    webhooks: [{ url: "https://hooks.example.test/services/T0/B0/XyZsecretpath", headers: { Authorization: "Bearer inline-hook-token" } }],
    channels: { m: { ...mail, smtp: { host: "smtp.example.test", port: 587, user: "u", password_env: "PW" } }, p: { ...sms, url: "https://sms.example.test/send?key={{token}}&to={{to}}", method: "GET", body: undefined, token_env: "SMS_TOKEN" } },
  });
  const view = JSON.stringify(alertsConfigView(config));
  for (const secret of ["XyZsecretpath", "inline-hook-token", "key="]) assert.ok(!view.includes(secret), `${secret} not in ${view}`);
  for (const shown of ["https://hooks.example.test/[redacted]", "smtp.example.test:587", "oncall@example.test", "PW", "SMS_TOKEN", "+15550100"]) {
    assert.ok(view.includes(shown), `${shown} in ${view}`);
  }
});

const scrubCases: { text: string; secrets: string[]; out: string }[] = [
  { text: "Failed to parse URL from http://h-s3 cr3t.test/", secrets: ["s3 cr3t"], out: "Failed to parse URL from http://h-[redacted].test/" },
  { text: "535 auth failed for pw pw", secrets: ["pw", ""], out: "535 auth failed for [redacted] [redacted]" },
  { text: "HTTP 503", secrets: [], out: "HTTP 503" },
];

for (const c of scrubCases) {
  test(`a delivery detail is scrubbed of secrets: ${JSON.stringify(c.text)}`, () => {
    assert.equal(scrub(c.text, c.secrets), c.out);
  });
}

test("a secret that ends up in an error message reaches neither the delivery report nor the log", async () => {
  let logged = "";
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  });
  const logger = pino({ level: "trace" }, sink);
  // A token with a space makes the URL unparsable; fetch's error quotes the URL.
  const { cp, notifier, deliveries } = alertPipeline(
    { retries: 1, channels: { hook: { type: "webhook", url: "http://hook-{{token}}.test/x", token_env: "HOOK_TOKEN" } } },
    { env: { HOOK_TOKEN: "s3cr3t tok" }, logger },
  );
  cp.halt("x", "ops");
  await notifier.close();
  assert.equal(deliveries[0]!.outcome, "failed");
  assert.match(deliveries[0]!.detail, /\[redacted\]/);
  assert.ok(!deliveries[0]!.detail.includes("s3cr3t"), deliveries[0]!.detail);
  assert.match(logged, /alert delivery failed/);
  assert.ok(!logged.includes("s3cr3t"), logged);
});
