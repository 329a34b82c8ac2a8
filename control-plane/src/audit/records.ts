// Records of the audit log: one JSON object per line (NDJSON), each with a `type` and `atMs`
// (epoch ms, control-plane clock).
import type { DecisionSet, HaltState, NackEvent, Override, PersistedState, Transition } from "../core/types.js";

export type { HaltState };
/** What the control plane gets back after a restart. */
export type RestoredState = PersistedState;

export type AuditRecord =
  | { type: "decisions"; atMs: number; decisions: DecisionSet }
  | { type: "override"; atMs: number; override: Override }
  | { type: "halt"; atMs: number; halted: boolean; reason: string; actor: string }
  | { type: "transition"; atMs: number; transition: Transition }
  | { type: "nack"; atMs: number; nack: NackEvent }
  /** First record of every file: the state so far, so restoring needs only the newest files. */
  | { type: "snapshot"; atMs: number; state: RestoredState };

export type AuditRecordType = AuditRecord["type"];


const TYPES = new Set<string>(["decisions", "override", "halt", "transition", "nack", "snapshot"]);

/** Parses one line; an error message names what is wrong. */
export function parseRecord(line: string): { ok: true; record: AuditRecord } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== "object" || value === null) return { ok: false, error: "not a JSON object" };
  const rec = value as Record<string, unknown>;
  if (typeof rec.type !== "string" || !TYPES.has(rec.type)) return { ok: false, error: `type: unknown ${JSON.stringify(rec.type)}` };
  if (typeof rec.atMs !== "number" || !Number.isFinite(rec.atMs)) return { ok: false, error: "atMs: expected a number" };
  const need = (key: string): string | undefined =>
    typeof rec[key] === "object" && rec[key] !== null ? undefined : `${key}: expected an object`;
  const missing =
    rec.type === "decisions" ? need("decisions")
    : rec.type === "override" ? need("override")
    : rec.type === "transition" ? need("transition")
    : rec.type === "nack" ? need("nack")
    : rec.type === "snapshot" ? need("state")
    : typeof rec.halted === "boolean" ? undefined : "halted: expected a boolean";
  if (missing !== undefined) return { ok: false, error: missing };
  if (rec.type === "decisions") {
    const d = rec.decisions as Record<string, unknown>;
    if (typeof d.version !== "number" || !Array.isArray(d.clusters)) return { ok: false, error: "decisions: expected version and clusters" };
  }
  return { ok: true, record: value as AuditRecord };
}

/** The clusters a record concerns (empty: mesh-wide, e.g. halt, decisions). */
export function recordClusters(record: AuditRecord): string[] {
  switch (record.type) {
    case "override":
      return [record.override.cluster];
    case "transition":
      return [record.transition.cluster];
    case "decisions":
      return record.decisions.clusters.map((c) => c.cluster);
    default:
      return [];
  }
}

/** Applies a record to a restored state (in log order). */
export function applyRecord(state: RestoredState, record: AuditRecord): RestoredState {
  switch (record.type) {
    case "snapshot":
      return { ...record.state, overrides: [...record.state.overrides] };
    case "decisions":
      return { ...state, decisions: record.decisions };
    case "override": {
      const others = state.overrides.filter((o) => o.cluster !== record.override.cluster);
      return { ...state, overrides: record.override.state === "auto" ? others : [...others, record.override] };
    }
    case "halt":
      return { ...state, halt: { halted: record.halted, reason: record.reason, actor: record.actor, atMs: record.atMs } };
    default:
      return state;
  }
}
