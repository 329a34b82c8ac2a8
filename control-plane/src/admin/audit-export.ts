// Audit export: turns the audit reader's records into NDJSON or CSV text, batched into chunks
// of about CHUNK_BYTES so a big export is neither one huge string nor a write per line. The
// consumer pulls (a Readable built on this generator), so memory stays bounded by one chunk
// plus the socket's buffer whatever the size of the log.
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { AuditEntry } from "./deps.js";

/** About this many bytes per chunk handed to the socket. */
export const CHUNK_BYTES = 64 * 1024;

export const CSV_COLUMNS = ["at_ms", "at", "kind", "cluster", "detail"] as const;

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV row: the common fields, then the kind-specific ones as a JSON object. */
export function csvRow(entry: AuditEntry): string {
  const { atMs, kind, cluster, ...detail } = entry;
  const iso = Number.isFinite(atMs) ? new Date(atMs).toISOString() : "";
  return [String(atMs), iso, kind, cluster ?? "", JSON.stringify(detail)].map(csvField).join(",") + "\r\n";
}

export function ndjsonRow(entry: AuditEntry): string {
  return JSON.stringify(entry) + "\n";
}

/**
 * Yields the export in chunks. Between chunks it yields to the event loop so a fast reader
 * (e.g. a cached file) cannot starve other requests.
 */
export async function* exportChunks(entries: AsyncIterable<AuditEntry>, format: "ndjson" | "csv"): AsyncGenerator<string> {
  const row = format === "csv" ? csvRow : ndjsonRow;
  let chunk = format === "csv" ? CSV_COLUMNS.join(",") + "\r\n" : "";
  for await (const entry of entries) {
    chunk += row(entry);
    if (chunk.length >= CHUNK_BYTES) {
      yield chunk;
      chunk = "";
      await yieldToLoop();
    }
  }
  if (chunk !== "") yield chunk;
}

/** Parses a time filter: epoch milliseconds, or an ISO 8601 date-time. NaN when neither. */
export function parseTime(text: string): number {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return Number.NaN;
  return Date.parse(text);
}
