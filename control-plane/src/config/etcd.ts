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
}

export const ETCD_DEFAULTS = {
  prefix: "/autoglm/",
  leaseTtlS: 5,
  dialTimeoutMs: 3000,
  commitTimeoutMs: 5000,
  takeoverHoldWindows: 3,
} as const;

/** The section as written (snake_case). */
export const etcdSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["endpoints"],
  properties: {
    endpoints: {
      type: "array",
      minItems: 1,
      items: { type: "string", pattern: "^https?://[^/\\s]+/?$" },
    },
    prefix: { type: "string", pattern: "^/([A-Za-z0-9._-]+/)*$" },
    lease_ttl_s: { type: "integer", minimum: 1, maximum: 5 },
    replica_id: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$" },
    advertise_address: { type: "string", pattern: "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+):[0-9]{1,5}$" },
    dial_timeout_ms: { type: "integer", minimum: 100, maximum: 60_000 },
    commit_timeout_ms: { type: "integer", minimum: 100, maximum: 60_000 },
    takeover_hold_windows: { type: "integer", minimum: 0, maximum: 100 },
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
    },
  };
}
