// Triggers in scenarios: a scenario file may carry the control plane's trigger rules (the same
// `triggers` syntax as its configuration, control-plane/src/config/triggers.ts: name, when,
// for_s, action, clear, clear_after_s); the autoglm policies run them, and `bench scenarios`
// reports each firing and clearing with the value that fired it, on scenario time. The
// baselines have no triggers and ignore them.
import { readTriggers } from "../control-plane/src/config/triggers.js";
import { actionCluster, type TriggerEvent, type TriggerRule } from "../control-plane/src/core/triggers/types.js";

/** A trigger firing or clearing in a run, on scenario time (seconds from the start). */
export interface SimTriggerEvent {
  trigger: string;
  kind: "fired" | "cleared";
  /** halt, open or shed. */
  action: string;
  /** The cluster it opens or sheds (absent: the mesh). */
  cluster?: string;
  /** A shed's fraction of refused requests. */
  fraction?: number;
  at_s: number;
  /** The value that fired it and the rule's threshold. */
  value: number;
  threshold: number;
}

/** The rules of a scenario's `triggers` field, or its problems (each as "triggers[i].…: …"). */
export function scenarioTriggers(raw: unknown, clusters: readonly { name: string; weight: number }[]): { rules: TriggerRule[]; problems: string[] } {
  return readTriggers(raw, clusters.map((c) => ({ name: c.name, baseWeight: c.weight })));
}

/** A control plane's trigger event on scenario time (`epochMs`: the instant of scenario time 0). */
export function simTriggerEvent(event: TriggerEvent, epochMs: number): SimTriggerEvent {
  const a = event.action;
  return {
    trigger: event.trigger,
    kind: event.kind,
    action: a.kind,
    ...(actionCluster(a) === undefined ? {} : { cluster: actionCluster(a) }),
    ...(a.kind === "shed" ? { fraction: a.fraction } : {}),
    at_s: Math.round((event.atMs - epochMs) / 100) / 10,
    value: event.values.value,
    threshold: event.values.threshold,
  };
}

/** One line per event: "mesh-p99 fired at 212 s: shed 30% of the mesh (value 6120 > 5000)". */
export function triggerLines(events: readonly SimTriggerEvent[]): string[] {
  return events.map((e) => {
    const what = e.action === "halt" ? "halt the mesh" : e.action === "open" ? `open ${e.cluster}` : `shed ${Math.round((e.fraction ?? 0) * 100)}% of ${e.cluster ?? "the mesh"}`;
    const value = `${round(e.value)} > ${round(e.threshold)}`;
    return e.kind === "fired" ? `${e.trigger} fired at ${e.at_s} s: ${what} (value ${value})` : `${e.trigger} cleared at ${e.at_s} s`;
  });
}

function round(v: number): string {
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 1000) / 1000);
}
