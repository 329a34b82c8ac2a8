// The extension point of alerts: a channel type is one file (./channels/<type>.ts) that holds the
// JSON Schema of its configuration entry, its checks beyond the schema, the environment
// variables holding its secrets, and a factory of channels; ./channels/index.ts lists the types.
// The notifier (./notifier.ts) owns queueing, retries, backoff, cooldown and metrics; a channel
// only makes one delivery attempt at a time.
import type { Logger } from "../../../lib/log.js";
import type { JsonSchema } from "../config/schema-problems.js";
import type { AlertMessage } from "./message.js";

/** The outcome of one delivery attempt. */
export type SendResult =
  | { ok: true; detail: string }
  /** `retryable`: a later attempt may succeed (network error, timeout, 429, 5xx, SMTP 4xx). */
  | { ok: false; retryable: boolean; detail: string };

export interface AlertChannel {
  /** The configured name (key under `alerts.channels`). */
  readonly name: string;
  readonly type: string;
  /**
   * One delivery attempt. Never rejects: every failure is a SendResult. Called again with the
   * same `message` object on a retry (a channel with several recipients may skip those done).
   */
  send(message: AlertMessage): Promise<SendResult>;
  /** Releases connections; no send() after it. */
  close(): Promise<void>;
}

/** The entry of a channel as written, after its JSON Schema passed. */
export type ChannelSettings = Readonly<Record<string, unknown>>;

/** What a channel is built with. */
export interface ChannelContext {
  /** Values of the secrets the type named (secretVariables), by field. */
  secrets: ReadonlyMap<string, string>;
  /** Per-attempt timeout, milliseconds (alerts.timeout_ms). */
  timeoutMs: number;
  logger: Logger;
  /** HTTP client of webhook and SMS channels; tests may pass their own. */
  fetch: typeof fetch;
}

export interface ChannelType {
  /** The `type` value of entries of this type. */
  readonly type: string;
  /**
   * JSON Schema of an entry (snake_case, `type` included as a constant), checked with
   * ../config/schema-problems.ts; every problem is reported by its path under the channel.
   */
  readonly schema: JsonSchema;
  /** Problems the schema cannot express, as "field: message" relative to the entry. */
  check(settings: ChannelSettings): string[];
  /** Secret-holding fields and the environment variable each names (e.g. smtp.password_env). */
  secretVariables(settings: ChannelSettings): { field: string; variable: string }[];
  create(name: string, settings: ChannelSettings, context: ChannelContext): AlertChannel;
}
