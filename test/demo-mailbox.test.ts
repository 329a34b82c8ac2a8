// The demo's local mailbox (demo/mailbox.ts): the alerts section the demo gives its control plane
// passes the configuration's checks and delivers through the real e-mail channel (nodemailer) to
// the mailbox, which keeps each mail with its subject decoded and saves it as an .eml file; and
// RFC 2047 subjects (what nodemailer writes for non-ASCII text) read back as text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_MAIL_FROM, DEMO_MAIL_TO, decodeWords, mailboxAlerts, startMailbox } from "../demo/mailbox.js";
import { alertPipeline } from "./support/alert-pipeline.js";

test("an alert of the demo's control plane arrives in the mailbox, subject decoded, saved as an .eml file", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-demo-mail-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const mailbox = await startMailbox({ dir });
  t.after(() => mailbox.close());
  const announced: string[] = [];
  mailbox.onMail((m) => announced.push(m.subject));
  const { cp, notifier, deliveries } = alertPipeline(mailboxAlerts(mailbox));
  cp.openBreaker("llm-a", "p99 2300ms > slo 2000ms — slow");
  await notifier.flush();
  await notifier.close();
  assert.deepEqual(deliveries.map((d) => [d.channel, d.outcome]), [["demo-mail", "sent"]]);
  assert.equal(mailbox.mails.length, 1);
  const mail = mailbox.mails[0]!;
  const subject = "[autoglm demo] [CRITICAL] breaker_open llm-a: breaker of llm-a opened (closed -> open): p99 2300ms > slo 2000ms — slow";
  assert.equal(mail.subject, subject);
  assert.deepEqual(announced, [subject], "announced once kept");
  assert.deepEqual(mail.recipients, [DEMO_MAIL_TO]);
  assert.equal(mail.file, join(dir, "001.eml"));
  const saved = await readFile(mail.file!, "utf8");
  assert.equal(saved, mail.raw);
  assert.match(saved, new RegExp(`^From: ${DEMO_MAIL_FROM}`, "m"));
});

test("RFC 2047 encoded words read back as text", () => {
  const cases: [string, string][] = [
    ["plain text", "plain text"],
    ["=?UTF-8?Q?a_=E2=80=94_b?=", "a — b"],
    ["=?UTF-8?B?4oCU?=", "—"],
    ["=?UTF-8?Q?first?= =?UTF-8?Q?_second?=", "first second"],
    ["before =?utf-8?q?=C3=A9t=C3=A9?= after", "before été after"],
  ];
  for (const [raw, text] of cases) assert.equal(decodeWords(raw), text, raw);
});
