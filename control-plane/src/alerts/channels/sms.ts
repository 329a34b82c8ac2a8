// SMS channel: a text message per recipient through an SMS provider's HTTP API, described by
// configuration rather than code: URL, method, headers and a body template with {{placeholders}}
// (e.g. Twilio's form-encoded `To`/`From`/`Body`, or a JSON API's `{"to": ..., "text": ...}`).
// The provider's token comes from the environment variable `token_env` and stands where
// {{token}} is written. On a retry, recipients the provider already accepted are skipped.
import type { AlertChannel, ChannelSettings, ChannelType, SendResult } from "../channel.js";
import { messageFields, type AlertMessage } from "../message.js";
import { fill, headerSafe, httpAttempt, isHttpUrlTemplate, placeholdersIn, templateProblems, type HttpRequest } from "./http.js";
import { ENV_NAME_PATTERN } from "./webhook.js";

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

interface SmsSettings {
  type: "sms";
  url: string;
  method?: "POST" | "PUT" | "GET";
  headers?: Record<string, string>;
  token_env?: string;
  /** How `body` is sent: json (an object or list, placeholders filled in its strings), form
   *  (a flat object, application/x-www-form-urlencoded) or text (a string, as is). */
  encoding?: "json" | "form" | "text";
  body?: JsonValue;
  to: string[];
  max_length?: number;
}

const settingsOf = (s: ChannelSettings): SmsSettings => s as unknown as SmsSettings;

/** Placeholders of every template: the message's fields, the recipient and the secret. */
export const SMS_PLACEHOLDERS = ["text", "summary", "kind", "severity", "cluster", "id", "at", "to", "token"] as const;

/** Characters of {{text}} by default: one GSM-7 SMS. */
const DEFAULT_MAX_LENGTH = 160;

/** Every string inside a JSON value, with its path. */
function strings(value: JsonValue, path: string): { path: string; text: string }[] {
  if (typeof value === "string") return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
  return [];
}

function fillJson(value: JsonValue, values: Record<string, string>): JsonValue {
  if (typeof value === "string") return fill(value, values);
  if (Array.isArray(value)) return value.map((v) => fillJson(v, values));
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillJson(v, values)]));
  return value;
}

/** The request for one recipient. */
export function smsRequest(s: SmsSettings, values: Record<string, string>): HttpRequest {
  const encoding = s.encoding ?? "json";
  const method = s.method ?? "POST";
  // In the URL every value is percent-encoded but the secret, written as configured.
  const url = fill(s.url, values, (value, name) => (name === "token" ? value : encodeURIComponent(value)));
  const contentType = { json: "application/json", form: "application/x-www-form-urlencoded", text: "text/plain; charset=utf-8" }[encoding];
  const headers: Record<string, string> = { "user-agent": "open-autoglm-alerts", ...(s.body === undefined ? {} : { "content-type": contentType }) };
  for (const [key, value] of Object.entries(s.headers ?? {})) headers[key.toLowerCase()] = headerSafe(fill(value, values));
  let body: string | undefined;
  if (s.body !== undefined) {
    if (encoding === "text") body = fill(String(s.body), values);
    else if (encoding === "form") body = new URLSearchParams(Object.entries(fillJson(s.body, values) as Record<string, string>)).toString();
    else body = JSON.stringify(fillJson(s.body, values));
  }
  return { url, method, headers, ...(body === undefined ? {} : { body }) };
}

export const smsChannel: ChannelType = {
  type: "sms",
  schema: {
    type: "object",
    additionalProperties: false,
    required: ["type", "url", "to"],
    properties: {
      type: { const: "sms" },
      url: { type: "string", minLength: 1 },
      method: { enum: ["POST", "PUT", "GET"] },
      headers: { type: "object", additionalProperties: { type: "string" } },
      token_env: { type: "string", pattern: ENV_NAME_PATTERN },
      encoding: { enum: ["json", "form", "text"] },
      body: { type: ["string", "object", "array"] },
      to: { type: "array", minItems: 1, uniqueItems: true, items: { type: "string", minLength: 1, maxLength: 64 } },
      max_length: { type: "integer", minimum: 20, maximum: 1600 },
    },
  },
  check(raw) {
    const s = settingsOf(raw);
    const encoding = s.encoding ?? "json";
    const method = s.method ?? "POST";
    const problems: string[] = [];
    if (!isHttpUrlTemplate(s.url)) problems.push(`url: expected an http:// or https:// URL, got ${JSON.stringify(s.url)}`);
    const templates = [
      { path: "url", text: s.url },
      ...Object.entries(s.headers ?? {}).map(([name, text]) => ({ path: `headers.${name}`, text })),
      ...(s.body === undefined ? [] : strings(s.body, "body")),
    ];
    for (const t of templates) problems.push(...templateProblems(t.text, t.path, SMS_PLACEHOLDERS));
    const used = new Set(templates.flatMap((t) => placeholdersIn(t.text)));
    if (used.has("token") && s.token_env === undefined) problems.push("token_env: required where a template uses {{token}}");
    if (!used.has("token") && s.token_env !== undefined) problems.push("token_env: set, but no template uses {{token}}");
    if (!used.has("to")) problems.push("to: no template uses {{to}}, so the provider would not know the recipient (put it in url, headers or body)");
    if (method === "GET" && s.body !== undefined) problems.push("body: not with method GET (put the placeholders in the url)");
    if (method !== "GET" && s.body === undefined) problems.push(`body: required with method ${method}`);
    if (s.body !== undefined) {
      if (encoding === "text" && typeof s.body !== "string") problems.push('body: expected a string with encoding "text"');
      if (encoding === "json" && typeof s.body === "string") problems.push('body: expected an object or a list with encoding "json" (placeholders are filled in its strings); for a string body set encoding: "text"');
      if (encoding === "form" && (typeof s.body !== "object" || Array.isArray(s.body) || s.body === null || Object.values(s.body).some((v) => typeof v !== "string"))) {
        problems.push('body: expected an object of strings with encoding "form"');
      }
    }
    return problems;
  },
  secretVariables(raw) {
    const s = settingsOf(raw);
    return s.token_env === undefined ? [] : [{ field: "token_env", variable: s.token_env }];
  },
  create(name, raw, context): AlertChannel {
    const s = settingsOf(raw);
    const token = context.secrets.get("token_env") ?? "";
    const maxLength = s.max_length ?? DEFAULT_MAX_LENGTH;
    /** Per message (kept across its retries): recipients accepted, and those refused for good. */
    const progress = new WeakMap<AlertMessage, { accepted: Set<string>; refused: Map<string, string> }>();
    return {
      name,
      type: "sms",
      async send(message): Promise<SendResult> {
        const state = progress.get(message) ?? { accepted: new Set<string>(), refused: new Map<string, string>() };
        progress.set(message, state);
        const fields = messageFields(message, maxLength);
        const pending: string[] = [];
        for (const to of s.to) {
          if (state.accepted.has(to) || state.refused.has(to)) continue;
          const result = await httpAttempt(context.fetch, smsRequest(s, { ...fields, to, token }), context.timeoutMs);
          if (result.ok) state.accepted.add(to);
          else if (result.retryable) pending.push(`${to}: ${result.detail}`);
          else state.refused.set(to, result.detail);
        }
        const count = `${state.accepted.size} of ${s.to.length} recipients accepted`;
        if (state.accepted.size === s.to.length) return { ok: true, detail: count };
        const failures = [...pending, ...[...state.refused].map(([to, detail]) => `${to}: ${detail} (refused)`)];
        // A recipient the provider refused (4xx) is not tried again; the others are, on a retry.
        return { ok: false, retryable: pending.length > 0, detail: `${count}; ${failures.join("; ")}` };
      },
      close: async () => undefined,
    };
  },
};
