// E-mail channel: alerts arrive on a local SMTP server (smtp-server on loopback) with their
// recipients, subject and body; the password comes from the environment; SMTP 4xx is retried,
// 5xx and a failed login are not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { alertPipeline } from "./support/alert-pipeline.js";
import { mailHeader, mailText, smtpReceiver } from "./support/alert-receivers.js";

function emailChannel(port: number, extra: Record<string, unknown> = {}, smtp: Record<string, unknown> = {}) {
  return {
    type: "email",
    smtp: { host: "127.0.0.1", port, require_tls: false, ...smtp },
    from: "Open-AutoGLM <autoglm@example.test>",
    to: ["oncall@example.test", "lead@example.test"],
    ...extra,
  };
}

test("a breaker opening arrives by e-mail with its recipients, subject and body", async (t) => {
  const smtp = await smtpReceiver();
  t.after(() => smtp.close());
  const { cp, notifier, deliveries } = alertPipeline({ channels: { mail: emailChannel(smtp.port) } });
  cp.openBreaker("llm-a", "p99 2300ms > slo 2000ms");
  await notifier.flush();
  await notifier.close();
  assert.equal(smtp.mails.length, 1);
  const mail = smtp.mails[0]!;
  assert.equal(mail.from, "autoglm@example.test");
  assert.deepEqual(mail.recipients, ["oncall@example.test", "lead@example.test"]);
  assert.equal(mailHeader(mail.raw, "subject"), "[autoglm] [CRITICAL] breaker_open llm-a: breaker of llm-a opened (closed -> open): p99 2300ms > slo 2000ms");
  assert.equal(mailHeader(mail.raw, "x-autoglm-alert-id"), deliveries[0]!.message.id);
  const body = mailText(mail.raw);
  for (const line of ["kind: breaker_open", "severity: critical", "cluster: llm-a", "at: 2027-01-15T08:00:00.000Z", "reason: p99 2300ms > slo 2000ms", `alert id: ${deliveries[0]!.message.id}`]) {
    assert.ok(body.split("\n").includes(line), `body has "${line}":\n${body}`);
  }
  assert.deepEqual(deliveries.map((d) => [d.channel, d.outcome, d.attempts]), [["mail", "sent", 1]]);
});

test("the SMTP password comes from the environment variable smtp.password_env names", async (t) => {
  const smtp = await smtpReceiver({ credentials: { user: "autoglm", password: "pa55-from-env" } });
  t.after(() => smtp.close());
  const { cp, notifier, deliveries } = alertPipeline(
    { channels: { mail: emailChannel(smtp.port, { subject_prefix: "" }, { user: "autoglm", password_env: "AUTOGLM_SMTP_PASSWORD" }) } },
    { env: { AUTOGLM_SMTP_PASSWORD: "pa55-from-env" } },
  );
  cp.halt("bad deploy", "ops");
  await notifier.close();
  assert.deepEqual(smtp.logins, [{ user: "autoglm", ok: true }]);
  assert.equal(smtp.mails[0]!.user, "autoglm");
  assert.equal(mailHeader(smtp.mails[0]!.raw, "subject"), "[CRITICAL] halt: mesh halted by ops: bad deploy");
  assert.equal(deliveries[0]!.outcome, "sent");
});

const failureCases: { name: string; rcptErrors?: number[]; wrongPassword?: boolean; attempts: number; outcome: "sent" | "failed"; sleeps: number[] }[] = [
  { name: "a 4xx answer (try again later) is retried with backoff until the server accepts", rcptErrors: [451, 451, 451, 451], attempts: 3, outcome: "sent", sleeps: [100, 200] },
  { name: "a 5xx answer (mailbox unavailable) is not retried", rcptErrors: [550, 550], attempts: 1, outcome: "failed", sleeps: [] },
  { name: "a refused login is not retried", wrongPassword: true, attempts: 1, outcome: "failed", sleeps: [] },
];

for (const c of failureCases) {
  test(c.name, async (t) => {
    // Two recipients: each attempt's RCPT TOs take two of the scripted answers.
    const smtp = await smtpReceiver({ ...(c.rcptErrors === undefined ? {} : { rcptErrors: [...c.rcptErrors] }), ...(c.wrongPassword ? { credentials: { user: "autoglm", password: "right" } } : {}) });
    t.after(() => smtp.close());
    const auth = c.wrongPassword ? { user: "autoglm", password_env: "PW" } : {};
    const { cp, notifier, deliveries, sleeps } = alertPipeline({ retries: 3, backoff_ms: 100, channels: { mail: emailChannel(smtp.port, {}, auth) } }, { env: { PW: "wrong" } });
    cp.openBreaker("llm-b", "e");
    await notifier.close();
    assert.deepEqual(deliveries.map((d) => [d.outcome, d.attempts]), [[c.outcome, c.attempts]], deliveries[0]?.detail);
    assert.deepEqual(sleeps, c.sleeps);
    assert.equal(smtp.mails.length, c.outcome === "sent" ? 1 : 0);
  });
}

test("a mail server that is not there is retried, then given up", async () => {
  const { cp, notifier, deliveries, sleeps } = alertPipeline({ retries: 2, backoff_ms: 100, channels: { mail: emailChannel(1) } });
  cp.openBreaker("llm-b", "e");
  await notifier.close();
  assert.deepEqual(deliveries.map((d) => [d.outcome, d.attempts]), [["failed", 3]]);
  assert.match(deliveries[0]!.detail, /ECONNECTION|ECONNREFUSED/);
  assert.deepEqual(sleeps, [100, 200]);
});
