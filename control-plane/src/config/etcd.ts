// The `etcd` section: several control-plane replicas sharing their state in etcd (README,
// "Running several replicas"). Absent: the embedded single-process control plane (the audit log
// alone holds the state). Checked by its JSON Schema (schema-problems.ts), then given defaults.
import { hostname } from "node:os";
import { schemaProblems, type JsonSchema } from "./schema-problems.js";

export interface EtcdConfig {
  /** Client URLs of the etcd members, e.g. ["http://etcd-0.etcd:2379", ...]. */
  endpoints: string[];
  /** Every key this control plane writes starts with it; replicas of one mesh share it. */
  prefix: string;
  /** TTL of the leader's etcd lease, seconds (1..5): a dead leader is replaced within about
   *  this long. */
  leaseTtlS: number;
  /** This replica's name in the election and in logs. Default `<hostname>-<pid>`. */
  replicaId: string;
  /** How long a connection attempt to an etcd member may take, milliseconds. */
  dialTimeoutMs: number;
  /** host:port at which the other replicas reach this one's sidecar gRPC endpoint (the leader
   *  receives the followers' merged telemetry there). Default: grpc.host (127.0.0.1 when it
   *  listens on every address) and the bound gRPC port. */
  advertiseAddress?: string;
  /** How long an etcd commit may take before the write fails (outcome unknown), milliseconds. */
  commitTimeoutMs: number;
  /** Windows a new leader holds every breaker in the state it took over (overrides still act):
   *  it has no history of its own yet, so it must not reverse what the last leader decided. */
  takeoverHoldWindows: number;
  /** TLS to etcd (https:// endpoints): the CA that signed the members' certificates (absent: the
   *  system's roots) and this replica's client certificate (etcd --client-cert-auth). */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export const ETCD_DEFAULTS = {
  prefix: "/autoglm/",
  leaseTtlS: 5,
  dialTimeoutMs: 3000,
  commitTimeoutMs: 5000,
  takeoverHoldWindows: 3,
} as const;

/** The section as written (snake_case); the descriptions are docs/configuration.md's. */
export const etcdSchema: JsonSchema = {
  type: "object",
  description: "Several control-plane replicas sharing their state in etcd (README, \"Running several replicas\"); absent: one embedded process.",
  additionalProperties: false,
  required: ["endpoints"],
  properties: {
    endpoints: {
      type: "array",
      minItems: 1,
      items: { type: "string", pattern: "^https?://[^/\\s]+/?$" },
      description: "Client URLs of the etcd members, all http:// or all https:// (TLS).",
    },
    prefix: { type: "string", pattern: "^/([A-Za-z0-9._-]+/)*$", default: ETCD_DEFAULTS.prefix, description: "Every key this control plane writes starts with it; the replicas of one mesh share it." },
    lease_ttl_s: { type: "integer", minimum: 1, maximum: 5, default: ETCD_DEFAULTS.leaseTtlS, description: "TTL of the leader's lease, seconds: a dead leader is replaced within about this long (plus up to a third of it)." },
    replica_id: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", description: "This replica's name in the election and the logs; default <hostname>-<pid>." },
    advertise_address: {
      type: "string",
      pattern: "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+):[0-9]{1,5}$",
      description: "host:port at which the other replicas reach this one's gRPC endpoint (the leader gets the followers' telemetry there); default grpc.host (the host name when it listens on every address) and the bound port.",
    },
    dial_timeout_ms: { type: "integer", minimum: 100, maximum: 60_000, default: ETCD_DEFAULTS.dialTimeoutMs, description: "Start-up fails, naming the endpoints, when etcd cannot be read within it, milliseconds." },
    commit_timeout_ms: { type: "integer", minimum: 100, maximum: 60_000, default: ETCD_DEFAULTS.commitTimeoutMs, description: "An admin write etcd has not committed by then answers 503 (its outcome unknown), milliseconds." },
    takeover_hold_windows: { type: "integer", minimum: 0, maximum: 100, default: ETCD_DEFAULTS.takeoverHoldWindows, description: "Windows a new leader moves no breaker (overrides aside): it must not reverse the last leader's states on a thin history." },
    tls: {
      type: "object",
      additionalProperties: false,
      description: "TLS to etcd (https:// endpoints); without it, https:// endpoints are checked against the system's roots.",
      properties: {
        ca_file: { type: "string", minLength: 1, description: "Path of the CA bundle (PEM) that signed the etcd members' certificates; absent: the system's roots." },
        cert_file: { type: "string", minLength: 1, description: "Path of this replica's client certificate (PEM), for etcd's --client-cert-auth; with key_file." },
        key_file: { type: "string", minLength: 1, description: "Path of the client certificate's private key (PEM); with cert_file." },
      },
    },
  },
};

interface EtcdSection {
  endpoints: string[];
  prefix?: string;
  lease_ttl_s?: number;
  replica_id?: string;
  advertise_address?: string;
  dial_timeout_ms?: number;
  commit_timeout_ms?: number;
  takeover_hold_windows?: number;
  tls?: { ca_file?: string; cert_file?: string; key_file?: string };
}

/**
 * The `etcd` section of a configuration document: undefined when absent, else the validated
 * section with defaults, or the list of its problems (each `etcd.<field>: ...`).
 */
export function readEtcdSection(raw: unknown): { etcd?: EtcdConfig; problems: string[] } {
  if (raw === undefined) return { problems: [] };
  const problems = schemaProblems(etcdSchema, raw, "etcd");
  if (problems.length > 0) return { problems };
  const s = raw as EtcdSection;
  const schemes = new Set(s.endpoints.map((e) => e.slice(0, e.indexOf(":"))));
  if (schemes.size > 1) problems.push("etcd.endpoints: mixes http:// and https://; all members are reached the same way");
  if (s.tls !== undefined && !schemes.has("https")) problems.push("etcd.tls: the endpoints are http://; TLS needs https:// endpoints");
  if (s.tls !== undefined && (s.tls.cert_file === undefined) !== (s.tls.key_file === undefined)) {
    problems.push(`etcd.tls: ${s.tls.cert_file === undefined ? "key_file without cert_file" : "cert_file without key_file"}; a client certificate needs both`);
  }
  if (problems.length > 0) return { problems };
  const tls = s.tls === undefined
    ? undefined
    : {
        ...(s.tls.ca_file === undefined ? {} : { caFile: s.tls.ca_file }),
        ...(s.tls.cert_file === undefined ? {} : { certFile: s.tls.cert_file }),
        ...(s.tls.key_file === undefined ? {} : { keyFile: s.tls.key_file }),
      };
  return {
    problems: [],
    etcd: {
      endpoints: s.endpoints.map((e) => e.replace(/\/$/, "")),
      prefix: s.prefix ?? ETCD_DEFAULTS.prefix,
      leaseTtlS: s.lease_ttl_s ?? ETCD_DEFAULTS.leaseTtlS,
      replicaId: s.replica_id ?? `${hostname().replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 50)}-${process.pid}`,
      ...(s.advertise_address === undefined ? {} : { advertiseAddress: s.advertise_address }),
      dialTimeoutMs: s.dial_timeout_ms ?? ETCD_DEFAULTS.dialTimeoutMs,
      commitTimeoutMs: s.commit_timeout_ms ?? ETCD_DEFAULTS.commitTimeoutMs,
      takeoverHoldWindows: s.takeover_hold_windows ?? ETCD_DEFAULTS.takeoverHoldWindows,
      ...(tls === undefined ? {} : { tls }),
    },
  };
}
