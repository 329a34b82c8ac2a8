// The configuration as a snapshot keeps it: every secret replaced. Secrets are the bearer tokens
// written in the file (grpc.token, admin.token, admin.read_token) and the values of the
// environment variables alert channels read theirs from (*_env); alert channels are shown as
// alerts/build-channels.ts alertsConfigView shows them to logs (no URL paths or queries, header
// values or bodies). secretValues() lists the values so that the serialised snapshot can be
// scrubbed once more as a last guard (scrubSnapshotText).
import { alertsConfigView } from "../alerts/build-channels.js";
import { channelType } from "../alerts/channels/index.js";
import type { ControlPlaneConfig, TlsConfig } from "../config/types.js";

export const REDACTED = "[redacted]";

function redact(secret: string): string {
  return secret === "" ? "" : REDACTED;
}

function tlsView(tls: TlsConfig | undefined): Record<string, string> | null {
  if (tls === undefined) return null;
  return { cert_file: tls.certFile, key_file: tls.keyFile, ...(tls.caFile === undefined ? {} : { ca_file: tls.caFile }) };
}

/** camelCase keys to snake_case, deeply (trigger rules are domain objects). */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = snakeKeys(v);
  return out;
}

/** The configuration in the file's spelling, secrets replaced by "[redacted]" ("" stays "": none set). */
export function redactedConfig(config: ControlPlaneConfig): Record<string, unknown> {
  return {
    grpc: {
      host: config.grpc.host,
      port: config.grpc.port,
      tls: tlsView(config.grpc.tls),
      token: redact(config.grpc.token),
      allow_unauthenticated_non_loopback: config.grpc.allowUnauthenticatedNonLoopback,
    },
    admin: {
      host: config.admin.host,
      port: config.admin.port,
      tls: tlsView(config.admin.tls),
      token: redact(config.admin.token),
      read_token: redact(config.admin.readToken),
      allow_unauthenticated_non_loopback: config.admin.allowUnauthenticatedNonLoopback,
    },
    xds: { enabled: config.xds.enabled, host: config.xds.host, port: config.xds.port },
    clusters: config.clusters.map((c) => ({ name: c.name, base_weight: c.baseWeight })),
    slo: { latency_ms: config.slo.latencyMs, success_rate: config.slo.successRate },
    detector: snakeKeys(config.detector),
    breaker: snakeKeys(config.breaker),
    model: { path: config.model.path ?? null },
    audit: snakeKeys(config.audit),
    alerts: alertsConfigView(config.alerts),
    triggers: snakeKeys(config.triggers),
    halt: snakeKeys(config.halt),
    etcd: config.etcd === undefined ? null : { ...(snakeKeys(config.etcd) as Record<string, unknown>), endpoints: config.etcd.endpoints.map(withoutUserinfo) },
  };
}

/** An endpoint URL without the user and password it may carry. */
function withoutUserinfo(endpoint: string): string {
  return endpoint.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, `$1${REDACTED}@`);
}

/** Every secret value of the configuration: the tokens, and the alert channels' secrets read from `env`. */
export function secretValues(config: ControlPlaneConfig, env: NodeJS.ProcessEnv): string[] {
  const values = [config.grpc.token, config.admin.token, config.admin.readToken];
  for (const entry of config.alerts.channels) {
    for (const { variable } of channelType(entry.type)?.secretVariables(entry.settings) ?? []) values.push(env[variable] ?? "");
  }
  return [...new Set(values.filter((v) => v !== ""))];
}

/**
 * `text` (a serialised snapshot) with every secret replaced, as written and as JSON escapes it
 * inside a string, so a secret that reached a reason or a peer name still never reaches the file.
 */
export function scrubSnapshotText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) if (form !== "") out = out.split(form).join(REDACTED);
  }
  return out;
}
