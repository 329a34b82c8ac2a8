// How audit records are spelled in the files, and in the admin API's export: one JSON object a
// line, snake_case keys like the rest of the API, `kind` and `at_ms` (epoch ms) first:
//   {"kind":"override","at_ms":1700000000000,"override":{"cluster":"llm-a","state":"open","until_ms":…}}
// Files written by earlier versions spelled the same records in camelCase with `type` and
// `atMs`, and logged a resume as `{"type":"halt","halted":false}`; they are read as if written
// today (decodeRecord), so an old log restores and exports in the current spelling.
//
// The conversion renames keys only, never values: every record is made of fixed-field objects
// (core/types.ts), with no map keyed by data such as cluster names.
import { checkRecordShape, type SkipReason } from "./record-schema.js";
import type { AuditRecord } from "./records.js";

/** A record as the files spell it. */
export type StoredRecord = { kind: string; at_ms: number } & Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** "issuedAtMs" -> "issued_at_ms"; snake_case stays. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** "issued_at_ms" -> "issuedAtMs"; camelCase stays. */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** A copy of `value` with every object key renamed by `rename`, at every depth. */
function renameKeys(value: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameKeys(v, rename));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[rename(key)] = renameKeys(v, rename);
  return out;
}

/** The record as the files (and the export) spell it. */
export function storedForm(record: AuditRecord): StoredRecord {
  return renameKeys(record, snakeCase) as StoredRecord;
}

/** One line of a file, without its newline. */
export function encodeRecord(record: AuditRecord): string {
  return JSON.stringify(storedForm(record));
}

/**
 * A record of the earlier spelling ({type, atMs, camelCase…}; a resume was a halt with
 * `halted: false`) in today's; other values unchanged. Undefined when `value` is not of the
 * earlier spelling. A halt whose `halted` is not a boolean is damaged: its problem is returned.
 */
export function upgradeLegacy(value: unknown): { value: unknown } | { problem: string } | undefined {
  if (!isObject(value) || Object.hasOwn(value, "kind") || typeof value.type !== "string") return undefined;
  const { type, halted, ...rest } = value;
  let kind = type;
  if (type === "halt") {
    if (typeof halted !== "boolean") return { problem: `halt.halted: expected a boolean, got ${halted === undefined ? "missing" : JSON.stringify(halted)}` };
    kind = halted ? "halt" : "resume";
  } else if (halted !== undefined) rest.halted = halted;
  return { value: renameKeys({ kind, ...rest }, snakeCase) };
}

/** Reads a parsed line of either spelling into a record, or says why it is damaged. */
export function decodeRecord(value: unknown): { ok: true; record: AuditRecord } | { ok: false; reason: SkipReason; error: string } {
  const legacy = upgradeLegacy(value);
  if (legacy !== undefined && "problem" in legacy) return { ok: false, reason: "bad_field", error: legacy.problem };
  const stored = legacy === undefined ? value : legacy.value;
  const bad = checkRecordShape(stored);
  if (bad !== undefined) return { ok: false, reason: bad.reason, error: bad.problem };
  return { ok: true, record: renameKeys(stored, camelCase) as AuditRecord };
}
