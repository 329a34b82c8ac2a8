// Audit export: turns the audit reader's records into NDJSON or CSV text, batched into chunks
// of about CHUNK_BYTES so a big export is neither one huge string nor a write per line. The
// consumer pulls (a Readable built on this generator), so memory stays bounded by one chunk
// plus the socket's buffer whatever the size of the log.
//
// NDJSON: each record as the files spell it today (../audit/record-codec.ts: snake_case, `kind`,
// `at_ms`), whatever spelling its file has. CSV: one row per record with a column per field (a
// decision set gives one row per cluster decision); a field a kind does not have is empty.
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { storedForm } from "../audit/record-codec.js";
import type { AuditRecord } from "../audit/records.js";
import { actionCluster } from "../core/triggers/types.js";

/** About this many bytes per chunk handed to the socket. */
export const CHUNK_BYTES = 64 * 1024;

export const CSV_COLUMNS = [
  "at_ms", // epoch ms of the record
  "at", // the same as ISO 8601 UTC
  "kind", // decisions, override, halt, resume, transition, nack, model_reload, trigger, incident, error_budget, rollback, rollback_end, source_limit, source_flag
  "cluster",
  "version", // decisions, nack: the decision set's version; rollback, rollback_end: the version rolled back to
  "state", // decisions: breaker state; override: open, closed or auto; trigger: fired or cleared; incident: opened, confirmed or ended
  "from", // transition
  "to", // transition
  "weight", // decisions
  "probe_fraction", // decisions
  "retry_after_s", // decisions
  "anomaly_score", // decisions
  "halted", // decisions: the set halts the mesh
  "ttl_ms", // decisions
  "until_ms", // override, rollback: expiry, epoch ms (empty: until replaced or released)
  "reason", // why (decisions: the cluster's; halt, resume, override, transition, nack, model_reload, trigger)
  "actor", // override, halt, resume, model_reload; trigger: who cleared it by hand
  "node_id", // nack
  "stream_id", // nack
  "enforced_version", // nack
  "path", // model_reload
  "outcome", // model_reload: loaded or rejected; rollback_end: released or expired
  "detail", // model_reload: why the file was rejected
  "trigger", // trigger: the rule's name
  "action", // trigger: halt, open or shed
  "fraction", // trigger (shed): the fraction refused
  "value", // trigger: the value that fired it
  "threshold", // trigger: the rule's threshold
  "bucket_start_ms", // error_budget: start of the period bucket (epoch ms; one row per bucket and scope)
  "good", // error_budget: good events in the bucket
  "total", // error_budget: events in the bucket
  "source", // source_limit, source_flag: the client identity (an address, or a hashed header value)
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];
type CsvRow = Partial<Record<CsvColumn, string | number | boolean | undefined>>;

function csvField(value: string | number | boolean | undefined): string {
  const text = value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The rows of one record (several for a decision set; with `cluster`, only that cluster's). */
export function csvRows(record: AuditRecord, cluster?: string): CsvRow[] {
  const common = { at_ms: record.atMs, at: Number.isFinite(record.atMs) ? new Date(record.atMs).toISOString() : "", kind: record.kind };
  switch (record.kind) {
    case "decisions": {
      const set = record.decisions;
      const perSet = { ...common, version: set.version, halted: set.halted, ttl_ms: set.ttlMs };
      const decisions = set.clusters.filter((d) => cluster === undefined || d.cluster === cluster);
      if (decisions.length === 0) return [{ ...perSet, reason: set.haltReason }];
      return decisions.map((d) => ({
        ...perSet,
        cluster: d.cluster,
        state: d.state,
        weight: d.weight,
        probe_fraction: d.probeFraction,
        retry_after_s: d.retryAfterS,
        anomaly_score: d.anomalyScore,
        reason: set.halted && d.reason === "" ? set.haltReason : d.reason,
      }));
    }
    case "override": {
      const o = record.override;
      return [{ ...common, cluster: o.cluster, state: o.state, until_ms: o.untilMs, reason: o.reason, actor: o.actor }];
    }
    case "halt":
    case "resume":
      return [{ ...common, reason: record.reason, actor: record.actor }];
    case "transition": {
      const t = record.transition;
      return [{ ...common, cluster: t.cluster, from: t.from, to: t.to, reason: t.reason }];
    }
    case "nack": {
      const n = record.nack;
      return [{ ...common, version: n.version, reason: n.reason, node_id: n.nodeId, stream_id: n.streamId, enforced_version: n.enforcedVersion }];
    }
    case "model_reload":
      return [{ ...common, reason: record.reason, actor: record.actor, path: record.path, outcome: record.outcome, detail: record.detail }];
    case "trigger": {
      const e = record.event;
      const a = e.action;
      return [
        {
          ...common,
          cluster: actionCluster(a),
          state: e.kind,
          trigger: e.trigger,
          action: e.action.kind,
          fraction: a.kind === "shed" ? a.fraction : undefined,
          value: e.values.value,
          threshold: e.values.threshold,
          reason: e.kind === "cleared" ? (e.clearReason ?? e.values.reason) : e.values.reason,
          actor: e.clearedBy,
        },
      ];
    }
    case "error_budget":
      return record.budget.buckets
        .filter((b) => cluster === undefined || b.scope === cluster)
        .map((b) => ({ ...common, cluster: b.scope, bucket_start_ms: b.startMs, good: b.good, total: b.total }));
    case "incident": {
      // One row per change: state opened, confirmed or ended; actor: who started or ended it.
      const i = record.incident;
      const state = i.endedAtMs !== undefined ? "ended" : i.confirmedAtMs !== undefined ? "confirmed" : "opened";
      return [{ ...common, version: i.version, state, reason: state === "ended" ? i.endReason : i.reason, actor: state === "ended" ? i.endedBy : i.startedBy, trigger: i.trigger, action: i.action?.kind ?? "halt" }];
    }
    case "rollback": {
      const r = record.rollback;
      return [{ ...common, version: r.fromVersion, until_ms: r.untilMs, reason: r.reason, actor: r.actor }];
    }
    case "rollback_end":
      return [{ ...common, version: record.rollback.fromVersion, outcome: record.cause, reason: record.reason, actor: record.actor }];
    case "source_limit": {
      // state: set, removed or expired; action: deny or cap (value: the cap, requests/s).
      const l = record.limit;
      return [{ ...common, source: l.source, state: record.cause, action: l.action, value: l.capPerS, until_ms: l.untilMs, reason: record.reason ?? l.reason, actor: record.actor ?? l.actor }];
    }
    case "source_flag": {
      // state: flagged or cleared; trigger: the measure (share or qps).
      const f = record.flag;
      return [{ ...common, source: f.source, state: f.kind, trigger: f.metric, value: f.value, threshold: f.threshold }];
    }
    case "snapshot":
      return [common];
  }
}

export function csvText(row: CsvRow): string {
  return CSV_COLUMNS.map((column) => csvField(row[column])).join(",") + "\r\n";
}

export function ndjsonRow(record: AuditRecord): string {
  return JSON.stringify(storedForm(record)) + "\n";
}

/**
 * Yields the export in chunks. Between chunks it yields to the event loop so a fast reader
 * (e.g. a cached file) cannot starve other requests. `cluster`: the export's cluster filter
 * (CSV rows of a decision set are limited to it).
 */
export async function* exportChunks(records: AsyncIterable<AuditRecord>, format: "ndjson" | "csv", cluster?: string): AsyncGenerator<string> {
  const text = format === "csv" ? (r: AuditRecord) => csvRows(r, cluster).map(csvText).join("") : ndjsonRow;
  let chunk = format === "csv" ? CSV_COLUMNS.join(",") + "\r\n" : "";
  for await (const record of records) {
    chunk += text(record);
    if (chunk.length >= CHUNK_BYTES) {
      yield chunk;
      chunk = "";
      await yieldToLoop();
    }
  }
  if (chunk !== "") yield chunk;
}

/** The latest time a JavaScript Date holds, epoch ms (+275760-09-13). */
export const MAX_EPOCH_MS = 8.64e15;

/**
 * Parses a time filter: epoch milliseconds (digits only), or an ISO 8601 date-time. An error
 * message when it is neither, or when epoch milliseconds lie beyond what a date can hold.
 */
export function parseTime(text: string): { ms: number } | { error: string } {
  if (/^-?\d+$/.test(text)) {
    const ms = Number(text);
    if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_EPOCH_MS) {
      return { error: `epoch milliseconds out of range: expected 0 to ${MAX_EPOCH_MS} (${new Date(MAX_EPOCH_MS).toISOString()}), got ${text}` };
    }
    return { ms };
  }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(ms) ? { error: `expected epoch milliseconds or an ISO 8601 time, got ${JSON.stringify(text)}` } : { ms };
}
