// Naming and listing of the audit log's files.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { SkipReason } from "./record-schema.js";

/** A line that could not be read, reported when opening or reading. */
export interface AuditCorruption {
  file: string;
  /** 1-based line number. */
  line: number;
  /** Kind of damage (a metric label). */
  reason: SkipReason;
  /** What is wrong, e.g. "snapshot.state.overrides: missing". */
  error: string;
}

const FILE_PATTERN = /^audit-(\d{6,})\.ndjson$/;

export function auditFileName(index: number): string {
  return `audit-${String(index).padStart(6, "0")}.ndjson`;
}

/** The log's files, oldest first. */
export async function listAuditFiles(dir: string): Promise<{ index: number; path: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return names
    .flatMap((name) => {
      const m = FILE_PATTERN.exec(name);
      return m === null ? [] : [{ index: Number(m[1]), path: join(dir, name) }];
    })
    .sort((a, b) => a.index - b.index);
}

