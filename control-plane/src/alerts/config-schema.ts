// The `alerts` section of the control plane's configuration: its JSON Schema (checked with
// ../config/schema-problems.ts, every problem by its dotted path), the checks a schema cannot
// express (routes naming channels that exist, each channel type's own checks), and the
// conversion to AlertsConfig. Each channel entry is checked against its type's schema
// (./channels/), so a new channel type brings its schema along.
//
// The first form of the section, `webhooks: [url | {url, headers}]`, stays valid: each entry is
// a channel of type webhook (format json) named webhook-1, webhook-2, ...
import { schemaProblems, type JsonSchema } from "../config/schema-problems.js";
import { CHANNEL_TYPES, channelType } from "./channels/index.js";
import { ALERT_KINDS, SEVERITIES, type AlertKind, type AlertsConfig, type ChannelConfig, type RouteConfig, type Severity } from "./types.js";

export const ALERT_DEFAULTS = {
  cooldownS: 300,
  retries: 3,
  backoffMs: 500,
  maxBackoffMs: 60_000,
  timeoutMs: 5000,
  queueLimit: 1000,
} as const;

/** Channel names: they are metric labels and paths in error messages. */
const CHANNEL_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const channelEntrySchema: JsonSchema = {
  type: "object",
  required: ["type"],
  properties: { type: { enum: CHANNEL_TYPES.map((t) => t.type) } },
  allOf: CHANNEL_TYPES.map((t) => ({
    if: { type: "object", properties: { type: { const: t.type } }, required: ["type"] },
    then: t.schema,
  })),
};

const routeSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["channels"],
  properties: {
    severities: { type: "array", minItems: 1, uniqueItems: true, items: { enum: [...SEVERITIES] } },
    kinds: { type: "array", minItems: 1, uniqueItems: true, items: { enum: [...ALERT_KINDS] } },
    channels: { type: "array", minItems: 1, uniqueItems: true, items: { type: "string", minLength: 1 } },
  },
};

export const ALERTS_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    cooldown_s: { type: "number", minimum: 0, maximum: 86_400 },
    retries: { type: "integer", minimum: 0, maximum: 20 },
    backoff_ms: { type: "integer", minimum: 0, maximum: 600_000 },
    max_backoff_ms: { type: "integer", minimum: 0, maximum: 3_600_000 },
    timeout_ms: { type: "integer", minimum: 1, maximum: 600_000 },
    queue_limit: { type: "integer", minimum: 1, maximum: 100_000 },
    webhooks: {
      type: "array",
      items: {
        anyOf: [
          { type: "string", minLength: 1 },
          {
            type: "object",
            additionalProperties: false,
            required: ["url"],
            properties: { url: { type: "string", minLength: 1 }, headers: { type: "object", additionalProperties: { type: "string" } } },
          },
        ],
      },
    },
    channels: { type: "object", additionalProperties: channelEntrySchema },
    routes: { type: "array", items: routeSchema },
  },
};

/** The section as written, once ALERTS_SCHEMA passed. */
interface AlertsSection {
  cooldown_s?: number;
  retries?: number;
  backoff_ms?: number;
  max_backoff_ms?: number;
  timeout_ms?: number;
  queue_limit?: number;
  webhooks?: (string | { url: string; headers?: Record<string, string> })[];
  channels?: Record<string, Record<string, unknown> & { type: string }>;
  routes?: { severities?: Severity[]; kinds?: AlertKind[]; channels: string[] }[];
}

/**
 * Reads the `alerts` section (undefined or null: no alerts). `labels` maps a dotted path to the
 * environment variable its value came from, named in the problems about it.
 */
export function readAlertsConfig(raw: unknown, labels: ReadonlyMap<string, string> = new Map()): { config: AlertsConfig; problems: string[] } {
  const value = raw ?? {};
  const schema = polish(schemaProblems(ALERTS_SCHEMA, value, "alerts"));
  const names = isRecord(value) && isRecord(value.channels) ? nameProblems(Object.keys(value.channels)) : [];
  // The checks beyond the schema read webhooks, channels and routes: only once those are well formed.
  const listsWellFormed = !schema.some((p) => /^alerts\.(webhooks|channels|routes)\b/.test(p));
  const problems = [...schema, ...names, ...(listsWellFormed ? crossProblems(value as AlertsSection) : [])];
  const config = problems.length > 0 ? emptyConfig() : toConfig(value as AlertsSection);
  return { config, problems: problems.map((p) => withSource(p, labels)) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nameProblems(names: readonly string[]): string[] {
  return names
    .filter((name) => !CHANNEL_NAME.test(name))
    .map((name) => `alerts.channels.${name}: a channel name is lower-case letters, digits, "_" and "-" (at most 63, starting with a letter or digit)`);
}

/** Allowed values named in ajv's enum messages, by the path they occur at. */
const ENUMS: readonly [RegExp, readonly string[]][] = [
  [/^alerts\.channels\.[^.]+\.type$/, CHANNEL_TYPES.map((t) => t.type)],
  [/^alerts\.routes\[\d+\]\.severities\[\d+\]$/, SEVERITIES],
  [/^alerts\.routes\[\d+\]\.kinds\[\d+\]$/, ALERT_KINDS],
];

/**
 * ajv's lines made plainer: the note that a `then` branch failed goes (the branch's own problems
 * say more), enum problems name the allowed values, and a `webhooks` item that is neither form
 * gets one line instead of three.
 */
function polish(problems: readonly string[]): string[] {
  const notEither = new Set(problems.filter((p) => p.endsWith(": must match a schema in anyOf")).map((p) => p.slice(0, p.indexOf(": "))));
  const out: string[] = [];
  for (const problem of problems) {
    if (problem.endsWith(': must match "then" schema')) continue;
    const path = problem.slice(0, problem.indexOf(": "));
    if (notEither.has(path)) {
      if (problem.endsWith("anyOf")) out.push(`${path}: expected a URL or { url, headers }`);
      continue;
    }
    const allowed = problem.endsWith(": must be equal to one of the allowed values") ? ENUMS.find(([re]) => re.test(path))?.[1] : undefined;
    out.push(allowed === undefined ? problem : `${path}: expected one of ${allowed.join(", ")}`);
  }
  return out;
}

function emptyConfig(): AlertsConfig {
  return { channels: [], ...ALERT_DEFAULTS };
}

/** Channels of the `webhooks` shorthand, then those of `channels`. */
function channelsOf(section: AlertsSection): ChannelConfig[] {
  const shorthand = (section.webhooks ?? []).map((entry, i): ChannelConfig => {
    const { url, headers } = typeof entry === "string" ? { url: entry, headers: undefined } : entry;
    return { name: `webhook-${i + 1}`, type: "webhook", settings: { type: "webhook", url, ...(headers === undefined ? {} : { headers }) } };
  });
  const named = Object.entries(section.channels ?? {}).map(([name, settings]): ChannelConfig => ({ name, type: settings.type, settings }));
  return [...shorthand, ...named];
}

function crossProblems(section: AlertsSection): string[] {
  const problems: string[] = [];
  const shorthandCount = section.webhooks?.length ?? 0;
  const channels = channelsOf(section);
  channels.forEach((channel, i) => {
    const path = i < shorthandCount ? `alerts.webhooks[${i}]` : `alerts.channels.${channel.name}`;
    for (const problem of channelType(channel.type)!.check(channel.settings)) problems.push(`${path}.${problem}`);
    if (i >= shorthandCount && channels.findIndex((c) => c.name === channel.name) < i) {
      problems.push(`${path}: the name is taken by the webhooks shorthand (webhook-1, webhook-2, ...); choose another`);
    }
  });
  const names = channels.map((c) => c.name);
  const routed = new Set<string>();
  (section.routes ?? []).forEach((route, i) => {
    route.channels.forEach((name, j) => {
      routed.add(name);
      if (!names.includes(name)) {
        problems.push(`alerts.routes[${i}].channels[${j}]: unknown channel ${JSON.stringify(name)}; expected one of ${names.join(", ") || "(no channel configured)"}`);
      }
    });
  });
  if (section.routes !== undefined) {
    channels.forEach((channel, i) => {
      if (!routed.has(channel.name)) {
        const path = i < shorthandCount ? `alerts.webhooks[${i}]` : `alerts.channels.${channel.name}`;
        problems.push(`${path}: no route sends alerts to ${JSON.stringify(channel.name)}; add it to a route's channels or remove it`);
      }
    });
  }
  return problems;
}

function toConfig(section: AlertsSection): AlertsConfig {
  const routes = section.routes?.map(
    (r): RouteConfig => ({
      channels: r.channels,
      ...(r.severities === undefined ? {} : { severities: r.severities }),
      ...(r.kinds === undefined ? {} : { kinds: r.kinds }),
    }),
  );
  return {
    channels: channelsOf(section),
    ...(routes === undefined ? {} : { routes }),
    cooldownS: section.cooldown_s ?? ALERT_DEFAULTS.cooldownS,
    retries: section.retries ?? ALERT_DEFAULTS.retries,
    backoffMs: section.backoff_ms ?? ALERT_DEFAULTS.backoffMs,
    maxBackoffMs: section.max_backoff_ms ?? ALERT_DEFAULTS.maxBackoffMs,
    timeoutMs: section.timeout_ms ?? ALERT_DEFAULTS.timeoutMs,
    queueLimit: section.queue_limit ?? ALERT_DEFAULTS.queueLimit,
  };
}

/** "alerts.cooldown_s: ..." -> "alerts.cooldown_s (from AUTOGLM_ALERTS_COOLDOWN_S): ..." */
function withSource(problem: string, labels: ReadonlyMap<string, string>): string {
  for (const [path, variable] of labels) {
    const rest = problem.startsWith(path) ? problem.slice(path.length) : undefined;
    if (rest === undefined || !/^[:.[]/.test(rest)) continue;
    const colon = problem.indexOf(": ");
    return `${problem.slice(0, colon)} (from ${variable})${problem.slice(colon)}`;
  }
  return problem;
}
