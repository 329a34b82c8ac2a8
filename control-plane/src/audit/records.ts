// Records of the audit log: one JSON object per line (NDJSON), each with a `type` and `atMs`
// (epoch ms, control-plane clock).
import type { DecisionSet, HaltState, NackEvent, Override, PersistedState, Transition } from "../core/types.js";
import type { FiredTrigger, TriggerEvent } from "../core/triggers/types.js";
import { checkRecordShape, type SkipReason } from "./record-schema.js";

export type { HaltState };
/** What the control plane gets back after a restart. */
export type RestoredState = PersistedState;

export type AuditRecord =
  | { type: "decisions"; atMs: number; decisions: DecisionSet }
  | { type: "override"; atMs: number; override: Override }
  | { type: "halt"; atMs: number; halted: boolean; reason: string; actor: string }
  | { type: "transition"; atMs: number; transition: Transition }
  | { type: "nack"; atMs: number; nack: NackEvent }
  /** A trigger fired or cleared; `inForce`: the triggers fired after it (restored on restart). */
  | { type: "trigger"; atMs: number; event: TriggerEvent; inForce: FiredTrigger[] }
  /** First record of every file: the state so far, so restoring needs only the newest files. */
  | { type: "snapshot"; atMs: number; state: RestoredState };

export type AuditRecordType = AuditRecord["type"];


/** Parses one line and checks its shape (./record-schema.ts); an error names what is wrong. */
export function parseRecord(line: string): { ok: true; record: AuditRecord } | { ok: false; reason: SkipReason; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: "not_json", error: `not JSON: ${(err as Error).message}` };
  }
  const bad = checkRecordShape(value);
  if (bad !== undefined) return { ok: false, reason: bad.reason, error: bad.problem };
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
    case "trigger": {
      const a = record.event.action;
      return a.kind === "open" || (a.kind === "shed" && a.cluster !== undefined) ? [a.cluster!] : [];
    }
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
      // The highest version wins: restore continues above every version ever published.
      return state.decisions !== undefined && state.decisions.version > record.decisions.version ? state : { ...state, decisions: record.decisions };
    case "override": {
      const others = state.overrides.filter((o) => o.cluster !== record.override.cluster);
      return { ...state, overrides: record.override.state === "auto" ? others : [...others, record.override] };
    }
    case "halt":
      return { ...state, halt: { halted: record.halted, reason: record.reason, actor: record.actor, atMs: record.atMs } };
    case "trigger":
      return { ...state, triggers: record.inForce };
    default:
      return state;
  }
}
