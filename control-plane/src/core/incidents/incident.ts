// An incident: a halt (by an operator or a trigger) or a trigger firing, from its start to its
// end (a resume, or the trigger clearing), with when the sidecars confirmed enforcing it and how
// many requests they refused locally meanwhile. Kept in the audit log (records.ts, kind
// "incident": the whole incident at each change), so it survives restarts. Times are epoch ms.
import type { FiringValues, TriggerAction } from "../triggers/types.js";
import type { HaltMode } from "../types.js";

/** Requests refused locally for one cluster while the incident was open, as the sidecars'
 *  reports counted them (ClusterWindow.local_rejects, of which shed). */
export interface IncidentRejects {
  cluster: string;
  /** Every local reject: halt, open breaker, shed, and the proxy's own overflow (UO). */
  localRejects: number;
  /** Of localRejects: refused by a shed decision (429). */
  shed: number;
}

/** A worker that confirmed enforcing the incident's decision version, and when. */
export interface IncidentConfirmation {
  nodeId: string;
  workerId: number;
  atMs: number;
}

export interface Incident {
  /** "inc-<start in epoch ms>" (with "-2", "-3"... when several start in the same ms). */
  id: string;
  /** "halt": an operator's POST /v1/halt; "trigger": a trigger rule fired (its action may halt). */
  kind: "halt" | "trigger";
  /** Who acted: the operator's actor, or "trigger <name>". */
  startedBy: string;
  reason: string;
  /** The rule that fired, its action and the figures that fired it (kind "trigger"). */
  trigger?: string;
  action?: TriggerAction;
  values?: FiringValues;
  /** For a halt (an operator's, or a trigger's halt action). */
  mode?: HaltMode;
  startedAtMs: number;
  /** The first decision version that carried it (what the sidecars confirm). */
  version: number;
  /** Clusters affected: every configured one for a halt or a mesh-wide shed, else the one named. */
  clusters: string[];
  /** When every connected worker confirmed enforcing `version` (unset: not yet, or never). */
  confirmedAtMs?: number;
  confirmations: IncidentConfirmation[];
  /** Workers that could not enforce it (their filter lacks the capability), by "node/worker". */
  cannotEnforce: string[];
  endedAtMs?: number;
  /** Who ended it: the operator's actor (resume, manual clear) or "condition" (auto clear). */
  endedBy?: string;
  endReason?: string;
  rejected: IncidentRejects[];
}

/** An incident's id from its start, unique among `taken`. */
export function incidentId(startedAtMs: number, taken: (id: string) => boolean): string {
  const base = `inc-${Math.floor(startedAtMs)}`;
  if (!taken(base)) return base;
  for (let n = 2; ; n++) if (!taken(`${base}-${n}`)) return `${base}-${n}`;
}
