// The `admin.export` subsection: limits of the audit export (GET /v1/audit), read against a
// JSON Schema (./schema-problems.ts). Example (YAML), every key with its default:
//
//   admin:
//     export:
//       max_concurrent: 4             # exports running at once, all clients together
//       max_concurrent_per_client: 2  # exports running at once from one client address
//       bytes_per_second: 8388608     # per client address, all its exports together (8 MiB/s)
//       burst_bytes: 1048576          # sent at full speed before the rate applies (1 MiB)
//       retry_after_s: 5              # Retry-After of a refused export (429)
import { schemaProblems, type JsonSchema } from "./schema-problems.js";

export interface ExportLimits {
  maxConcurrent: number;
  maxConcurrentPerClient: number;
  /** Bytes per second per client (token bucket rate). */
  bytesPerSecond: number;
  /** Token bucket capacity, bytes. */
  burstBytes: number;
  /** Seconds a refused client is told to wait. */
  retryAfterS: number;
}

export const DEFAULT_EXPORT_LIMITS: ExportLimits = {
  maxConcurrent: 4,
  maxConcurrentPerClient: 2,
  bytesPerSecond: 8 * 1024 * 1024,
  burstBytes: 1024 * 1024,
  retryAfterS: 5,
};

export const EXPORT_LIMITS_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  description: "Limits of the audit export (GET /v1/audit); a refused export gets 429 with Retry-After naming the limit.",
  properties: {
    max_concurrent: { type: "integer", minimum: 1, maximum: 1000, default: DEFAULT_EXPORT_LIMITS.maxConcurrent, description: "Exports running at once, all clients together." },
    max_concurrent_per_client: {
      type: "integer",
      minimum: 1,
      maximum: 1000,
      default: DEFAULT_EXPORT_LIMITS.maxConcurrentPerClient,
      description: "Exports running at once from one client address; at most max_concurrent.",
    },
    bytes_per_second: {
      type: "integer",
      minimum: 1024,
      maximum: 10_737_418_240,
      default: DEFAULT_EXPORT_LIMITS.bytesPerSecond,
      description: "Bytes per second per client address, its exports together (token bucket rate).",
    },
    burst_bytes: {
      type: "integer",
      minimum: 1024,
      maximum: 10_737_418_240,
      default: DEFAULT_EXPORT_LIMITS.burstBytes,
      description: "Bytes sent at full speed before the rate applies (token bucket capacity).",
    },
    retry_after_s: { type: "integer", minimum: 1, maximum: 3600, default: DEFAULT_EXPORT_LIMITS.retryAfterS, description: "Retry-After of a refused export, seconds." },
  },
};

interface RawExportLimits {
  max_concurrent?: number;
  max_concurrent_per_client?: number;
  bytes_per_second?: number;
  burst_bytes?: number;
  retry_after_s?: number;
}

/** The limits of an `admin.export` section (defaults when absent), or every problem. */
export function readExportLimits(raw: unknown): { limits: ExportLimits; problems: string[] } {
  if (raw === undefined || raw === null) return { limits: DEFAULT_EXPORT_LIMITS, problems: [] };
  const problems = schemaProblems(EXPORT_LIMITS_SCHEMA, raw, "admin.export");
  if (problems.length > 0) return { limits: DEFAULT_EXPORT_LIMITS, problems };
  const r = raw as RawExportLimits;
  const d = DEFAULT_EXPORT_LIMITS;
  const limits = {
    maxConcurrent: r.max_concurrent ?? d.maxConcurrent,
    maxConcurrentPerClient: r.max_concurrent_per_client ?? d.maxConcurrentPerClient,
    bytesPerSecond: r.bytes_per_second ?? d.bytesPerSecond,
    burstBytes: r.burst_bytes ?? d.burstBytes,
    retryAfterS: r.retry_after_s ?? d.retryAfterS,
  };
  if (limits.maxConcurrentPerClient > limits.maxConcurrent) {
    problems.push(`admin.export.max_concurrent_per_client: must not exceed max_concurrent (${limits.maxConcurrent})`);
  }
  return { limits, problems };
}
