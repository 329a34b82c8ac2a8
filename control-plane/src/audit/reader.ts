// Streaming reader of the audit log: an async iterator over records, one line at a time, never
// the whole log in memory. Used on restart and by the admin API's export (/v1/audit).
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { listAuditFiles, type AuditCorruption } from "./files.js";
import type { SkipReason } from "./record-schema.js";
import { parseRecord, recordClusters, type AuditRecord, type AuditRecordKind } from "./records.js";

export type AuditLine = { ok: true; line: number; record: AuditRecord } | { ok: false; line: number; reason: SkipReason; error: string };

/** Every line of one file, parsed (blank lines skipped). */
export async function* readAuditFile(path: string): AsyncGenerator<AuditLine> {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      if (text.trim() === "") continue;
      const parsed = parseRecord(text);
      yield parsed.ok ? { ok: true, line: n, record: parsed.record } : { ok: false, line: n, reason: parsed.reason, error: parsed.error };
    }
  } finally {
    lines.close();
  }
}

export interface AuditQuery {
  /** Only records with atMs >= sinceMs. */
  sinceMs?: number;
  /** Only records with atMs < untilMs. */
  untilMs?: number;
  /** Only records concerning this cluster (overrides, transitions, decisions that list it) and
   *  mesh-wide ones (halts, resumes, model reloads, rollbacks). */
  cluster?: string;
  /** Only these record kinds. Default: all but "snapshot". */
  kinds?: readonly AuditRecordKind[];
  /** Called for each corrupt line (skipped). */
  onCorrupt?: (corruption: AuditCorruption) => void;
}

/** Mesh-wide record kinds: kept by a cluster filter. */
const MESH_WIDE = new Set<AuditRecordKind>(["halt", "resume", "model_reload", "rollback", "rollback_end"]);

/** Records of the log in `dir`, oldest first, filtered. */
export async function* readAudit(dir: string, query: AuditQuery = {}): AsyncGenerator<AuditRecord> {
  const kinds = new Set<AuditRecordKind>(query.kinds ?? ["decisions", "override", "halt", "resume", "transition", "nack", "model_reload", "rollback", "rollback_end"]);
  for (const file of await listAuditFiles(dir)) {
    for await (const item of readAuditFile(file.path)) {
      if (!item.ok) {
        query.onCorrupt?.({ file: file.path, line: item.line, reason: item.reason, error: item.error });
        continue;
      }
      const r = item.record;
      if (!kinds.has(r.kind)) continue;
      if (query.sinceMs !== undefined && r.atMs < query.sinceMs) continue;
      if (query.untilMs !== undefined && r.atMs >= query.untilMs) continue;
      if (query.cluster !== undefined) {
        const clusters = recordClusters(r);
        if (clusters.length > 0 && !clusters.includes(query.cluster)) continue;
        if (clusters.length === 0 && !MESH_WIDE.has(r.kind)) continue;
      }
      yield r;
    }
  }
}
