// E-mail channel: one message per alert to every recipient, over SMTP with nodemailer
// (https://nodemailer.com/smtp/). TLS: `secure: true` speaks TLS from the start (port 465);
// otherwise STARTTLS is used when offered, and required unless `require_tls: false` (a relay on
// loopback without TLS). The password comes from the environment variable `smtp.password_env`.
import nodemailer from "nodemailer";
import type { AlertChannel, ChannelSettings, ChannelType, SendResult } from "../channel.js";
import { headline, textBody } from "../message.js";
import { ENV_NAME_PATTERN } from "./webhook.js";

interface EmailSettings {
  type: "email";
  smtp: {
    host: string;
    /** Default 465 with secure, 587 otherwise. */
    port?: number;
    secure?: boolean;
    require_tls?: boolean;
    user?: string;
    password_env?: string;
  };
  from: string;
  to: string[];
  /** Put before the headline in the subject; default "[autoglm]". */
  subject_prefix?: string;
}

const settingsOf = (s: ChannelSettings): EmailSettings => s as unknown as EmailSettings;

/** An address as SMTP's envelope takes it: local@domain, no spaces or angle brackets. */
const ADDRESS = "^[^\\s@<>]+@[^\\s@<>]+$";

/** SMTP errors after which a later attempt may succeed: 4xx replies (RFC 5321 §4.2.1) and
 *  connection problems; 5xx replies, a failed login, a refused envelope or missing STARTTLS are
 *  final. */
export function classifySmtpError(error: unknown): SendResult & { ok: false } {
  const e = error as { code?: string; responseCode?: number; response?: string; message?: string };
  const detail = [e.code, e.responseCode, e.response ?? e.message].filter((part) => part !== undefined && part !== "").join(" ");
  if (typeof e.responseCode === "number") return { ok: false, retryable: e.responseCode < 500, detail };
  const final = ["EAUTH", "ETLS", "EENVELOPE", "EMESSAGE", "EREQUIRETLS"].includes(e.code ?? "");
  return { ok: false, retryable: !final, detail };
}

export const emailChannel: ChannelType = {
  type: "email",
  schema: {
    type: "object",
    additionalProperties: false,
    required: ["type", "smtp", "from", "to"],
    properties: {
      type: { const: "email" },
      smtp: {
        type: "object",
        additionalProperties: false,
        required: ["host"],
        properties: {
          host: { type: "string", minLength: 1 },
          port: { type: "integer", minimum: 1, maximum: 65535 },
          secure: { type: "boolean" },
          require_tls: { type: "boolean" },
          user: { type: "string", minLength: 1 },
          password_env: { type: "string", pattern: ENV_NAME_PATTERN },
        },
      },
      from: { type: "string", minLength: 3, maxLength: 320 },
      to: { type: "array", minItems: 1, uniqueItems: true, items: { type: "string", pattern: ADDRESS, maxLength: 320 } },
      subject_prefix: { type: "string", maxLength: 100 },
    },
  },
  check(raw) {
    const s = settingsOf(raw);
    const problems: string[] = [];
    if (s.smtp.password_env !== undefined && s.smtp.user === undefined) problems.push("smtp.user: required with smtp.password_env");
    if (s.smtp.user !== undefined && s.smtp.password_env === undefined) {
      problems.push("smtp.password_env: required with smtp.user (the name of the environment variable holding the password)");
    }
    if (!s.from.includes("@")) problems.push(`from: expected an address, e.g. "Open-AutoGLM <autoglm@example.com>", got ${JSON.stringify(s.from)}`);
    return problems;
  },
  secretVariables(raw) {
    const s = settingsOf(raw);
    return s.smtp.password_env === undefined ? [] : [{ field: "smtp.password_env", variable: s.smtp.password_env }];
  },
  create(name, raw, context): AlertChannel {
    const s = settingsOf(raw);
    const secure = s.smtp.secure ?? false;
    const password = context.secrets.get("smtp.password_env");
    const transport = nodemailer.createTransport({
      host: s.smtp.host,
      port: s.smtp.port ?? (secure ? 465 : 587),
      secure,
      requireTLS: !secure && (s.smtp.require_tls ?? true),
      ...(s.smtp.user === undefined ? {} : { auth: { user: s.smtp.user, pass: password ?? "" } }),
      connectionTimeout: context.timeoutMs,
      greetingTimeout: context.timeoutMs,
      socketTimeout: context.timeoutMs,
      logger: false,
    });
    const prefix = s.subject_prefix ?? "[autoglm]";
    return {
      name,
      type: "email",
      async send(message): Promise<SendResult> {
        try {
          const info = await transport.sendMail({
            from: s.from,
            to: s.to,
            subject: prefix === "" ? headline(message) : `${prefix} ${headline(message)}`,
            text: textBody(message),
            priority: message.alert.severity === "critical" ? "high" : "normal",
            headers: { "X-Autoglm-Alert-Id": message.id, "X-Autoglm-Severity": message.alert.severity, "X-Autoglm-Kind": message.alert.kind },
          });
          const rejected = info.rejected.map(String);
          return { ok: true, detail: `accepted by ${info.accepted.length} of ${s.to.length} recipients${rejected.length === 0 ? "" : `; rejected ${rejected.join(", ")}`}` };
        } catch (error) {
          return classifySmtpError(error);
        }
      },
      close: async () => transport.close(),
    };
  },
};
