// Turns control-plane events into alerts: breakers opening and closing, halts and resumes,
// sidecars rejecting decisions, sources whose traffic jumped. (Model fallback is raised by whoever loads the model, through
// modelFallbackAlert.)
import type { ControlPlaneEvents, HaltEvent, NackEvent, Transition } from "../core/types.js";
import { actionCluster, type TriggerAction, type TriggerEvent } from "../core/triggers/types.js";
import type { EventSource } from "../metrics/bind.js";
import type { Alert } from "./types.js";
import type { SourceFlagEvent } from "../core/sources/types.js";

export function transitionAlert(t: Transition): Alert | undefined {
  if (t.to === "half_open") return undefined; // probing is routine; open and closed matter
  return t.to === "open"
    ? {
        kind: "breaker_open",
        cluster: t.cluster,
        severity: "critical",
        summary: `breaker of ${t.cluster} opened (${t.from} -> open): ${t.reason}`,
        atMs: t.atMs,
        details: { from: t.from, to: t.to, reason: t.reason },
      }
    : {
        kind: "breaker_closed",
        cluster: t.cluster,
        severity: "info",
        summary: `breaker of ${t.cluster} closed (${t.from} -> closed): ${t.reason}`,
        atMs: t.atMs,
        details: { from: t.from, to: t.to, reason: t.reason },
      };
}

export function haltAlert(h: HaltEvent): Alert {
  return {
    kind: h.halted ? "halt" : "resume",
    cluster: "",
    severity: h.halted ? "critical" : "info",
    summary: h.halted ? `mesh halted by ${h.actor}: ${h.reason}` : `mesh resumed by ${h.actor}: ${h.reason}`,
    atMs: h.atMs,
    details: { actor: h.actor, reason: h.reason },
  };
}

export function nackAlert(n: NackEvent): Alert {
  return {
    kind: "sidecar_rejected",
    cluster: "",
    severity: "warning",
    summary: `sidecar ${n.nodeId} rejected decisions v${n.version} (still enforcing v${n.enforcedVersion}): ${n.reason}`,
    atMs: n.atMs,
    details: { node_id: n.nodeId, stream_id: n.streamId, version: n.version, enforced_version: n.enforcedVersion, reason: n.reason },
  };
}

/** What a trigger's action does, in words. */
export function actionText(a: TriggerAction): string {
  if (a.kind === "halt") return "halt the mesh";
  if (a.kind === "open") return `open ${a.cluster}`;
  if (a.kind === "limit_source") {
    const what = a.deny ? "deny" : `cap at ${a.capPerS} requests/s`;
    return `${what} source ${a.source ?? "(the top flagged one)"} for ${a.ttlMs / 1000} s`;
  }
  return `shed ${Math.round(a.fraction * 1000) / 10} % of ${a.cluster ?? "the mesh"}'s requests`;
}

export function triggerAlert(e: TriggerEvent): Alert {
  const cluster = actionCluster(e.action) ?? "";
  const fired = e.kind === "fired";
  const by = e.clearedBy === undefined || e.clearedBy === "condition" ? "its condition no longer holds" : `cleared by ${e.clearedBy}: ${e.clearReason ?? ""}`;
  return {
    kind: fired ? "trigger_fired" : "trigger_cleared",
    cluster,
    // Refusing part of the load (a shed, one source) warns; a halt or an open cluster is critical.
    severity: fired ? (e.action.kind === "shed" || e.action.kind === "limit_source" ? "warning" : "critical") : "info",
    summary: fired ? `${e.values.reason}: ${actionText(e.action)}` : `trigger ${e.trigger} cleared (${by}); no longer: ${actionText(e.action)}`,
    atMs: e.atMs,
    details: {
      trigger: e.trigger,
      action: e.action.kind,
      value: e.values.value,
      peak: e.values.peak,
      threshold: e.values.threshold,
      held_ms: e.values.heldMs,
      ...(e.action.kind === "shed" ? { fraction: e.action.fraction } : {}),
      ...(e.action.kind === "limit_source"
        ? { deny: e.action.deny, ttl_s: e.action.ttlMs / 1000, ...(e.action.source === undefined ? {} : { source: e.action.source }), ...(e.action.capPerS === undefined ? {} : { cap_per_s: e.action.capPerS }) }
        : {}),
      ...(e.clearedBy === undefined ? {} : { cleared_by: e.clearedBy }),
    },
  };
}

/** A source's jump flag raised (warning) or cleared (info). */
export function sourceFlagAlert(f: SourceFlagEvent): Alert {
  const pct = (x: number): string => `${Math.round(x * 1000) / 10} %`;
  const shown = (x: number): string => (f.metric === "share" ? pct(x) : `${Math.round(x * 10) / 10} req/s`);
  return f.kind === "flagged"
    ? {
        kind: "source_flagged",
        cluster: "",
        severity: "warning",
        summary: `source ${f.source === "" ? "(none)" : f.source} jumped: ${f.metric} ${shown(f.value)} above its threshold ${shown(f.threshold)}`,
        atMs: f.atMs,
        details: { source: f.source, metric: f.metric, value: f.value, threshold: f.threshold, window_start_ms: f.windowStartMs },
      }
    : {
        kind: "source_cleared",
        cluster: "",
        severity: "info",
        summary: `source ${f.source === "" ? "(none)" : f.source} is back within its thresholds`,
        atMs: f.atMs,
        details: { source: f.source, window_start_ms: f.windowStartMs },
      };
}

export function modelFallbackAlert(reason: string, atMs: number, path?: string): Alert {
  return {
    kind: "model_fallback",
    cluster: "",
    severity: "warning",
    summary: `anomaly model not in use, rules-only scoring: ${reason}`,
    atMs,
    details: { reason, ...(path === undefined ? {} : { path }) },
  };
}

/** Subscribes `notify` to the control plane's events; returns the function that unsubscribes. */
export function bindAlerts(cp: EventSource, notify: (alert: Alert) => void): () => void {
  const onTransition = (t: ControlPlaneEvents["transition"]) => {
    const alert = transitionAlert(t);
    if (alert !== undefined) notify(alert);
  };
  const onHalt = (h: ControlPlaneEvents["halt"]) => notify(haltAlert(h));
  const onNack = (n: ControlPlaneEvents["nack"]) => notify(nackAlert(n));
  const onTrigger = (e: ControlPlaneEvents["trigger"]) => notify(triggerAlert(e));
  const onSourceFlag = (f: ControlPlaneEvents["source_flag"]) => notify(sourceFlagAlert(f));
  cp.on("transition", onTransition);
  cp.on("halt", onHalt);
  cp.on("nack", onNack);
  cp.on("trigger", onTrigger);
  cp.on("source_flag", onSourceFlag);
  return () => {
    cp.off("transition", onTransition);
    cp.off("halt", onHalt);
    cp.off("nack", onNack);
    cp.off("trigger", onTrigger);
    cp.off("source_flag", onSourceFlag);
  };
}
