// The incidents, open and ended (the most recent MAX_INCIDENTS): opened on a halt or a trigger
// firing, confirmed, counted and ended as the control plane tells it. Each change returns the
// incident as it now is, for the caller to record in the audit log. Pure: times passed in.
import type { TriggerEvent } from "../triggers/types.js";
import type { HaltMode, WorkerClusterWindow } from "../types.js";
import { incidentId, type Incident, type IncidentConfirmation } from "./incident.js";

/** Incidents kept (ended ones beyond it are dropped, oldest first; open ones are always kept). */
export const MAX_INCIDENTS = 200;

export class IncidentBook {
  private readonly incidents: Incident[] = [];

  constructor(
    /** Every configured cluster (what a halt or a mesh-wide action affects). */
    private readonly allClusters: readonly string[],
  ) {}

  /** Restores incidents from the audit log (the newest copy of each), oldest first. */
  restore(incidents: readonly Incident[]): void {
    this.incidents.length = 0;
    for (const i of incidents) this.incidents.push(structuredClone(i));
    this.incidents.sort((a, b) => a.startedAtMs - b.startedAtMs);
  }

  /** Every incident, the most recent first. */
  list(): Incident[] {
    return [...this.incidents].reverse().map((i) => structuredClone(i));
  }

  get(id: string): Incident | undefined {
    const found = this.incidents.find((i) => i.id === id);
    return found === undefined ? undefined : structuredClone(found);
  }

  open(): Incident[] {
    return this.incidents.filter((i) => i.endedAtMs === undefined).map((i) => structuredClone(i));
  }

  /** An operator halted the mesh (decision `version`). When an operator's halt is already open
   *  (halted again, e.g. to change the mode), that one continues with the new mode. */
  openHalt(actor: string, reason: string, mode: HaltMode, version: number, atMs: number): { incident: Incident; opened: boolean } {
    const running = this.incidents.find((i) => i.kind === "halt" && i.endedAtMs === undefined);
    if (running !== undefined) {
      if (running.mode !== mode) {
        running.mode = mode;
        running.version = version;
        delete running.confirmedAtMs;
        running.confirmations = [];
        running.cannotEnforce = [];
      }
      return { incident: structuredClone(running), opened: false };
    }
    return {
      incident: this.add({ kind: "halt", startedBy: actor, reason, mode, startedAtMs: atMs, version, clusters: [...this.allClusters] }),
      opened: true,
    };
  }

  /** A trigger fired (decision `version` carries its action). */
  openTrigger(event: TriggerEvent, version: number): Incident {
    const a = event.action;
    const clusters = a.kind === "open" ? [a.cluster] : a.kind === "shed" && a.cluster !== undefined ? [a.cluster] : [...this.allClusters];
    return this.add({
      kind: "trigger",
      startedBy: `trigger ${event.trigger}`,
      reason: event.values.reason,
      trigger: event.trigger,
      action: a,
      values: event.values,
      ...(a.kind === "halt" ? { mode: "drain" as const } : {}),
      startedAtMs: event.atMs,
      version,
      clusters,
    });
  }

  /** The operator's halt ended (resume); undefined when none was open. */
  endHalt(actor: string, reason: string, atMs: number): Incident | undefined {
    return this.end((i) => i.kind === "halt", actor, reason, atMs);
  }

  /** A trigger cleared (by itself: clearedBy "condition", or by an operator). */
  endTrigger(event: TriggerEvent): Incident | undefined {
    return this.end((i) => i.kind === "trigger" && i.trigger === event.trigger, event.clearedBy ?? "condition", event.clearReason ?? "condition no longer holds", event.atMs);
  }

  /** Every connected worker confirmed incident `id`'s version; undefined when unknown or
   *  already confirmed. */
  confirm(id: string, atMs: number, confirmations: readonly IncidentConfirmation[], cannotEnforce: readonly string[]): Incident | undefined {
    const i = this.incidents.find((x) => x.id === id);
    if (i === undefined || i.confirmedAtMs !== undefined || i.endedAtMs !== undefined) return undefined;
    i.confirmedAtMs = atMs;
    i.confirmations = confirmations.map((c) => ({ ...c }));
    i.cannotEnforce = [...cannotEnforce];
    return structuredClone(i);
  }

  /** Adds one accepted report window's local rejects to every open incident that affects the
   *  window's clusters. A window that straddles an incident's start is counted whole. */
  countRejects(clusters: readonly WorkerClusterWindow[]): void {
    for (const i of this.incidents) {
      if (i.endedAtMs !== undefined) continue;
      for (const c of clusters) {
        if (c.localRejects === 0 || !i.clusters.includes(c.cluster)) continue;
        let row = i.rejected.find((r) => r.cluster === c.cluster);
        if (row === undefined) {
          row = { cluster: c.cluster, localRejects: 0, shed: 0 };
          i.rejected.push(row);
          i.rejected.sort((a, b) => a.cluster.localeCompare(b.cluster));
        }
        row.localRejects += c.localRejects;
        row.shed += c.shed ?? 0;
      }
    }
  }

  private end(match: (i: Incident) => boolean, by: string, reason: string, atMs: number): Incident | undefined {
    const i = this.incidents.find((x) => x.endedAtMs === undefined && match(x));
    if (i === undefined) return undefined;
    i.endedAtMs = atMs;
    i.endedBy = by;
    i.endReason = reason;
    return structuredClone(i);
  }

  private add(fields: Omit<Incident, "id" | "confirmations" | "cannotEnforce" | "rejected">): Incident {
    const incident: Incident = {
      id: incidentId(fields.startedAtMs, (id) => this.incidents.some((i) => i.id === id)),
      ...fields,
      confirmations: [],
      cannotEnforce: [],
      rejected: [],
    };
    this.incidents.push(incident);
    while (this.incidents.length > MAX_INCIDENTS) {
      const oldestEnded = this.incidents.findIndex((i) => i.endedAtMs !== undefined);
      if (oldestEnded < 0) break;
      this.incidents.splice(oldestEnded, 1);
    }
    return structuredClone(incident);
  }
}
