// Builds the configured channels: reads each one's secrets from the environment variables its
// configuration names (a variable that is not set is a configuration problem, named with the
// field), and wraps each channel so that no secret value reaches a delivery's detail (logged,
// answered by the admin API) and a channel that throws still yields a failure.
import type { Logger } from "../../../lib/log.js";
import { ConfigError } from "../config/validate.js";
import type { AlertChannel, SendResult } from "./channel.js";
import { channelType } from "./channels/index.js";
import type { AlertsConfig } from "./types.js";

export interface BuildOptions {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  fetch?: typeof fetch;
}

const REDACTED = "[redacted]";

/** `text` with every occurrence of each secret replaced. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== "") out = out.split(secret).join(REDACTED);
  return out;
}

function guarded(channel: AlertChannel, secrets: readonly string[]): AlertChannel {
  return {
    name: channel.name,
    type: channel.type,
    async send(message): Promise<SendResult> {
      let result: SendResult;
      try {
        result = await channel.send(message);
      } catch (error) {
        result = { ok: false, retryable: true, detail: `channel failed: ${(error as Error).message}` };
      }
      return { ...result, detail: scrub(result.detail, secrets) };
    },
    close: () => channel.close(),
  };
}

/** One channel per configured entry; throws ConfigError naming every missing secret variable. */
export function buildChannels(config: AlertsConfig, options: BuildOptions): AlertChannel[] {
  const problems: string[] = [];
  const built: AlertChannel[] = [];
  for (const entry of config.channels) {
    const type = channelType(entry.type);
    if (type === undefined) {
      problems.push(`alerts.channels.${entry.name}.type: unknown channel type ${JSON.stringify(entry.type)}`);
      continue;
    }
    const secrets = new Map<string, string>();
    for (const { field, variable } of type.secretVariables(entry.settings)) {
      const value = options.env[variable];
      if (value === undefined || value === "") problems.push(`alerts.channels.${entry.name}.${field}: the environment variable ${variable} is not set`);
      else secrets.set(field, value);
    }
    if (problems.length > 0) continue;
    const channel = type.create(entry.name, entry.settings, {
      secrets,
      timeoutMs: config.timeoutMs,
      logger: options.logger.child({ channel: entry.name }),
      fetch: options.fetch ?? fetch,
    });
    built.push(guarded(channel, [...secrets.values()]));
  }
  if (problems.length > 0) {
    for (const channel of built) void channel.close();
    throw new ConfigError(problems);
  }
  return built;
}

/**
 * The alerts configuration as logs may show it: where each channel sends (SMTP host, URL origin,
 * recipients), never URL paths or queries, header values, bodies or secrets (only the names of
 * the environment variables that hold them).
 */
export function alertsConfigView(config: AlertsConfig): Record<string, unknown> {
  return {
    channels: config.channels.map((c) => ({ name: c.name, type: c.type, ...targetOf(c.settings) })),
    routes: config.routes ?? "every alert to every channel",
    cooldown_s: config.cooldownS,
    retries: config.retries,
    backoff_ms: config.backoffMs,
    max_backoff_ms: config.maxBackoffMs,
    timeout_ms: config.timeoutMs,
    queue_limit: config.queueLimit,
  };
}

function targetOf(settings: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof settings.url === "string") out.url = originOf(settings.url);
  const smtp = settings.smtp as { host?: unknown; port?: unknown; password_env?: unknown } | undefined;
  if (smtp !== undefined) out.smtp = `${String(smtp.host)}${smtp.port === undefined ? "" : `:${String(smtp.port)}`}`;
  if (Array.isArray(settings.to)) out.to = settings.to;
  const envNames = [smtp?.password_env, settings.token_env].filter((v): v is string => typeof v === "string");
  if (envNames.length > 0) out.secrets_from = envNames;
  return out;
}

function originOf(url: string): string {
  try {
    const parsed = new URL(url.replace(/\{\{[^}]*\}\}/g, "x"));
    return parsed.pathname === "/" && parsed.search === "" ? parsed.origin : `${parsed.origin}/${REDACTED}`;
  } catch {
    return "(not a URL)";
  }
}
