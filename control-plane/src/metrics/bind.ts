// Feeds the counters and histograms of ControlPlaneMetrics from the control plane's events and
// from the alert notifier's hooks, and wraps a scorer so each inference call is timed.
import type { DeliveryReport } from "../alerts/delivery-queue.js";
import type { AlertOutcome } from "../alerts/notifier.js";
import type { Alert } from "../alerts/types.js";
import type { ControlPlaneEvents, Scorer } from "../core/types.js";
import { reasonLabel, type ControlPlaneMetrics } from "./control-plane-metrics.js";

/** The event side of the control plane (ControlPlane satisfies it). */
export interface EventSource {
  on<K extends keyof ControlPlaneEvents>(event: K, listener: (payload: ControlPlaneEvents[K]) => void): unknown;
  off<K extends keyof ControlPlaneEvents>(event: K, listener: (payload: ControlPlaneEvents[K]) => void): unknown;
}

/** Subscribes the metrics to `cp`; returns the function that unsubscribes. */
export function bindMetrics(cp: EventSource, m: ControlPlaneMetrics): () => void {
  const streamsOpen = new Map<string, number>();
  const handlers: { [K in keyof ControlPlaneEvents]?: (payload: ControlPlaneEvents[K]) => void } = {
    decisions: (set) => {
      m.decisionSets.inc({ halted: String(set.halted) });
      for (const d of set.clusters) m.clusterDecisions.inc({ cluster: d.cluster, state: d.state, reason: reasonLabel(d.reason) });
      // One push per connected stream.
      const streams = [...streamsOpen.values()].reduce((a, b) => a + b, 0);
      if (streams > 0) m.grpcMessagesSent.inc({ kind: "decisions" }, streams);
    },
    transition: (t) => m.transitions.inc({ cluster: t.cluster, from: t.from, to: t.to, reason: reasonLabel(t.reason) }),
    round: (r) => {
      m.decisionRounds.inc({ changed: String(r.changed) });
      m.decisionRoundSeconds.observe(r.durationMs / 1000);
    },
    report: (r) => {
      m.reports.inc({ outcome: r.outcome });
      if (r.refusal !== undefined) m.reportsRefused.inc({ reason: r.refusal });
      m.grpcMessagesReceived.inc({ kind: "report" });
    },
    nack: (n) => {
      // A recorded NACK stands for itself and the repeats suppressed before it.
      const count = 1 + (n.suppressed ?? 0);
      m.nacks.inc({ node_id: m.sidecarLabels.label(n.nodeId) }, count);
      m.grpcMessagesReceived.inc({ kind: "nack" }, count);
    },
    override: (o) => m.overrides.inc({ cluster: o.override.cluster, state: o.override.state }),
    halt: (h) => m.halts.inc({ action: h.halted ? "halt" : "resume" }),
    windows: (closed) => {
      // Each merged window once, as it closes (late reports folded in afterwards are not recounted).
      for (const w of closed.flat()) {
        const b = w.bodyScan;
        if (b === undefined) continue;
        m.bannedOutput.inc({ cluster: w.cluster }, b.matched);
        m.responseBodies.inc({ cluster: w.cluster, scan: "scanned" }, b.scanned);
        m.responseBodies.inc({ cluster: w.cluster, scan: "compressed" }, b.compressed);
      }
    },
    sidecar: (e) => {
      const transport = e.status.transport;
      if (e.kind === "connected") {
        m.grpcStreamsOpened.inc({ transport });
        m.grpcMessagesReceived.inc({ kind: "hello" });
        streamsOpen.set(transport, (streamsOpen.get(transport) ?? 0) + 1);
        m.sidecarLabels.connected(e.status.nodeId);
      } else {
        m.grpcStreamsClosed.inc({ transport });
        streamsOpen.set(transport, Math.max(0, (streamsOpen.get(transport) ?? 0) - 1));
        const released = m.sidecarLabels.disconnected(e.status.nodeId);
        if (released !== undefined) m.nacks.remove({ node_id: released });
      }
    },
  };
  for (const [event, handler] of Object.entries(handlers)) cp.on(event as keyof ControlPlaneEvents, handler as never);
  return () => {
    for (const [event, handler] of Object.entries(handlers)) cp.off(event as keyof ControlPlaneEvents, handler as never);
  };
}

/** A scorer that records each call's duration in autoglm_model_inference_duration_seconds. */
export function timedScorer(scorer: Scorer, m: ControlPlaneMetrics): Scorer {
  return {
    name: scorer.name,
    async score(history, nowMs) {
      const end = m.modelInferenceSeconds.startTimer({ scorer: scorer.name });
      try {
        return await scorer.score(history, nowMs);
      } finally {
        end();
      }
    },
  };
}

/** The alert notifier's hooks (NotifierOptions) that count alerts, deliveries and retries. */
export function alertMetricsHooks(m: ControlPlaneMetrics): {
  onAlert: (alert: Alert, outcome: AlertOutcome) => void;
  onDelivery: (report: DeliveryReport) => void;
  onRetry: (channel: string) => void;
} {
  return {
    onAlert: (alert, outcome) => m.alerts.inc({ kind: alert.kind, outcome }),
    onDelivery: (report) => m.alertDeliveries.inc({ channel: report.channel, outcome: report.outcome }),
    onRetry: (channel) => m.alertDeliveryRetries.inc({ channel }),
  };
}
