// Records of the audit log as the control plane handles them (camelCase TypeScript; every time is
// epoch ms on the control-plane clock). How they are spelled in the files, snake_case with `kind`
// and `at_ms`, and how files of earlier versions are read: ./record-codec.ts.
import type { DecisionSet, HaltMode, HaltState, NackEvent, Override, PersistedState, Rollback, Transition } from "../core/types.js";
import type { FiredTrigger, TriggerEvent } from "../core/triggers/types.js";
import type { SourceFlagEvent, SourceLimitEntry } from "../core/sources/types.js";
import type { PersistedBudget } from "../core/error-budget/types.js";
import { MESH_SCOPE } from "../core/error-budget/types.js";
import { MAX_INCIDENTS } from "../core/incidents/incident-book.js";
import type { Incident } from "../core/incidents/incident.js";
import { decodeRecord } from "./record-codec.js";
import type { SkipReason } from "./record-schema.js";
import { actionCluster } from "../core/triggers/types.js";

export type { HaltState };
/** What the control plane gets back after a restart. */
export type RestoredState = PersistedState;

/** A model file an operator asked to load (POST /v1/model/reload), and what came of it. */
export interface ModelReload {
  actor: string;
  /** The file read. */
  path: string;
  /** "loaded": now in use; "rejected": invalid, the previous model (or rules-only) stays. */
  outcome: "loaded" | "rejected";
  /** The operator's reason, when the request gave one. */
  reason?: string;
  /** Why it was rejected. */
  detail?: string;
}

export type AuditRecord =
  | { kind: "decisions"; atMs: number; decisions: DecisionSet }
  | { kind: "override"; atMs: number; override: Override }
  /** The mesh is halted (every sidecar answers 503) until a resume. */
  | { kind: "halt"; atMs: number; reason: string; actor: string; mode?: HaltMode }
  | { kind: "resume"; atMs: number; reason: string; actor: string }
  | { kind: "transition"; atMs: number; transition: Transition }
  | { kind: "nack"; atMs: number; nack: NackEvent }
  | ({ kind: "model_reload"; atMs: number } & ModelReload)
  /** A trigger fired or cleared; `inForce`: the triggers fired after it (restored on restart). */
  | { kind: "trigger"; atMs: number; event: TriggerEvent; inForce: FiredTrigger[] }
  /** Error budget counts of the period buckets written since the last such record (they
   *  replace the buckets of the same scope and start; restored on restart). */
  | { kind: "error_budget"; atMs: number; budget: PersistedBudget }
  /** An incident as it now is (opened, confirmed or ended): the newest copy of each id wins. */
  | { kind: "incident"; atMs: number; incident: Incident }
  /** An earlier decision set pinned by an operator (POST /v1/decisions/rollback; restored on restart). */
  | { kind: "rollback"; atMs: number; rollback: Rollback }
  /** The rollback ended: released by an operator (actor, reason) or at its expiry. */
  | { kind: "rollback_end"; atMs: number; rollback: Rollback; cause: "released" | "expired"; actor?: string; reason?: string }
  /** A source limit set (or replaced), removed by an operator (actor, reason), or expired
   *  (core/sources/; the limits in force are restored on restart). */
  | { kind: "source_limit"; atMs: number; limit: SourceLimitEntry; cause: "set" | "removed" | "expired"; actor?: string; reason?: string }
  /** A source's share or rate jumped above its threshold (flagged) or came back (cleared). */
  | { kind: "source_flag"; atMs: number; flag: SourceFlagEvent }
  /** First record of every file: the state so far, so restoring needs only the newest files. */
  | { kind: "snapshot"; atMs: number; state: RestoredState };

export type AuditRecordKind = AuditRecord["kind"];

/** Parses one line of either spelling and checks its shape (./record-schema.ts); an error
 *  names what is wrong. */
export function parseRecord(line: string): { ok: true; record: AuditRecord } | { ok: false; reason: SkipReason; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: "not_json", error: `not JSON: ${(err as Error).message}` };
  }
  return decodeRecord(value);
}

/** The clusters a record concerns (empty: mesh-wide, e.g. halt, resume, a model reload). */
export function recordClusters(record: AuditRecord): string[] {
  switch (record.kind) {
    case "override":
      return [record.override.cluster];
    case "transition":
      return [record.transition.cluster];
    case "decisions":
      return record.decisions.clusters.map((c) => c.cluster);
    case "incident":
      return [...record.incident.clusters];
    case "trigger": {
      const a = record.event.action;
      const cluster = actionCluster(a);
      return cluster === undefined ? [] : [cluster];
    }
    case "error_budget":
      return [...new Set(record.budget.buckets.map((b) => b.scope).filter((s) => s !== MESH_SCOPE))];
    default:
      return [];
  }
}

/** Applies a record to a restored state (in log order). */
export function applyRecord(state: RestoredState, record: AuditRecord): RestoredState {
  switch (record.kind) {
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
    case "resume":
      return {
        ...state,
        halt: { halted: record.kind === "halt", reason: record.reason, actor: record.actor, atMs: record.atMs, ...(record.kind === "halt" && record.mode !== undefined ? { mode: record.mode } : {}) },
      };
    case "trigger":
      return { ...state, triggers: record.inForce };
    case "error_budget":
      return { ...state, errorBudget: mergeBudget(state.errorBudget, record.budget, record.atMs) };
    case "incident":
      return { ...state, incidents: keepIncident(state.incidents ?? [], record.incident) };
    case "rollback":
      return { ...state, rollback: record.rollback };
    case "rollback_end": {
      const { rollback: _ended, ...rest } = state;
      return rest;
    }
    case "source_limit": {
      const others = (state.sourceLimits ?? []).filter((l) => l.source !== record.limit.source);
      return { ...state, sourceLimits: record.cause === "set" ? [...others, record.limit] : others };
    }
    default:
      return state;
  }
}

/** `saved` with the buckets of `update` in place of those of the same scope and start, without
 *  buckets that ended a period before `atMs` (so the state stays bounded by the period). */
export function mergeBudget(saved: PersistedBudget | undefined, update: PersistedBudget, atMs: number): PersistedBudget {
  const kept = saved !== undefined && saved.bucketMs === update.bucketMs ? saved.buckets : [];
  const key = (b: { scope: string; startMs: number }) => `${b.startMs}\u0000${b.scope}`;
  const byKey = new Map(kept.map((b) => [key(b), b]));
  for (const b of update.buckets) byKey.set(key(b), b);
  const oldest = atMs - update.periodMs;
  const buckets = [...byKey.values()].filter((b) => b.startMs + update.bucketMs > oldest).sort((a, b) => a.startMs - b.startMs || a.scope.localeCompare(b.scope));
  return { bucketMs: update.bucketMs, periodMs: update.periodMs, buckets };
}

/** `incidents` with `incident` replacing its earlier copy (or added), at most MAX_INCIDENTS:
 *  the oldest ended ones go first. */
export function keepIncident<T extends Pick<Incident, "id" | "startedAtMs" | "endedAtMs">>(incidents: readonly T[], incident: T): T[] {
  const out = incidents.filter((i) => i.id !== incident.id);
  out.push(incident);
  out.sort((a, b) => a.startedAtMs - b.startedAtMs);
  while (out.length > MAX_INCIDENTS) {
    const oldestEnded = out.findIndex((i) => i.endedAtMs !== undefined);
    if (oldestEnded < 0) break;
    out.splice(oldestEnded, 1);
  }
  return out;
}
