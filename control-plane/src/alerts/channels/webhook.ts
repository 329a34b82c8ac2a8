// Webhook channel: an HTTP POST of the alert as JSON, in one of two formats:
// - "json" (default): the payload of ../message.ts (AlertPayload), as the first webhook version;
// - "slack": a Slack-compatible incoming-webhook body, {"text": ...} plus optional Block Kit
//   `blocks` (https://api.slack.com/messaging/webhooks; Mattermost and Rocket.Chat take the
//   same "text" field). Slack's text escapes &, < and > (https://api.slack.com/reference/surfaces/formatting#escaping).
// A secret (a bearer token, or the secret path of a Slack webhook URL) comes from the environment
// variable `token_env` and is written where the {{token}} placeholder stands in `url` or `headers`.
import type { AlertChannel, ChannelSettings, ChannelType } from "../channel.js";
import { headline, jsonPayload, type AlertMessage } from "../message.js";
import { fill, headerSafe, httpAttempt, isHttpUrlTemplate, placeholdersIn, templateProblems } from "./http.js";

/** How the settings read once the schema passed. */
interface WebhookSettings {
  type: "webhook";
  url: string;
  format?: "json" | "slack";
  blocks?: boolean;
  headers?: Record<string, string>;
  token_env?: string;
}

export const ENV_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$";

const settingsOf = (s: ChannelSettings): WebhookSettings => s as unknown as WebhookSettings;

/** Slack's limit on a section block's text, characters. */
const SLACK_SECTION_MAX = 3000;

function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The Slack-compatible body: `text` always (the notification), `blocks` when asked for. */
export function slackPayload(message: AlertMessage, blocks: boolean): { text: string; blocks?: unknown[] } {
  const { alert } = message;
  const text = slackEscape(headline(message));
  if (!blocks) return { text };
  const title = `*${alert.severity.toUpperCase()}* ${alert.kind}${alert.cluster === "" ? "" : ` · ${slackEscape(alert.cluster)}`}`;
  const section = `${title}\n${slackEscape(alert.summary)}`.slice(0, SLACK_SECTION_MAX);
  const context = [
    new Date(alert.atMs).toISOString(),
    `id ${message.id}`,
    ...(message.suppressedSinceLast > 0 ? [`${message.suppressedSinceLast} held back by the cooldown`] : []),
  ].join(" · ");
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: section } },
      { type: "context", elements: [{ type: "mrkdwn", text: context }] },
    ],
  };
}

export const webhookChannel: ChannelType = {
  type: "webhook",
  schema: {
    type: "object",
    additionalProperties: false,
    required: ["type", "url"],
    properties: {
      type: { const: "webhook" },
      url: { type: "string", minLength: 1 },
      format: { enum: ["json", "slack"] },
      blocks: { type: "boolean" },
      headers: { type: "object", additionalProperties: { type: "string" } },
      token_env: { type: "string", pattern: ENV_NAME_PATTERN },
    },
  },
  check(raw) {
    const s = settingsOf(raw);
    const problems: string[] = [];
    if (!isHttpUrlTemplate(s.url)) problems.push(`url: expected an http:// or https:// URL, got ${JSON.stringify(s.url)}`);
    problems.push(...templateProblems(s.url, "url", ["token"]));
    for (const [name, value] of Object.entries(s.headers ?? {})) problems.push(...templateProblems(value, `headers.${name}`, ["token"]));
    const usesToken = [s.url, ...Object.values(s.headers ?? {})].some((t) => placeholdersIn(t).includes("token"));
    if (usesToken && s.token_env === undefined) problems.push("token_env: required where url or headers use {{token}}");
    if (!usesToken && s.token_env !== undefined) problems.push("token_env: set, but neither url nor headers use {{token}}");
    if (s.blocks !== undefined && s.format !== "slack") problems.push('blocks: only with format: "slack"');
    return problems;
  },
  secretVariables(raw) {
    const s = settingsOf(raw);
    return s.token_env === undefined ? [] : [{ field: "token_env", variable: s.token_env }];
  },
  create(name, raw, context): AlertChannel {
    const s = settingsOf(raw);
    const secrets = { token: context.secrets.get("token_env") ?? "" };
    const url = fill(s.url, secrets);
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "open-autoglm-alerts" };
    for (const [key, value] of Object.entries(s.headers ?? {})) headers[key.toLowerCase()] = headerSafe(fill(value, secrets));
    const slack = s.format === "slack";
    const blocks = s.blocks ?? true;
    return {
      name,
      type: "webhook",
      send: (message) =>
        httpAttempt(
          context.fetch,
          { url, method: "POST", headers, body: JSON.stringify(slack ? slackPayload(message, blocks) : jsonPayload(message)) },
          context.timeoutMs,
        ),
      close: async () => undefined,
    };
  },
};
