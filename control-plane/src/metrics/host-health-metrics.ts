// Prometheus metrics of mesh-wide host ejection (xds/host-health.ts): load reports taken over LRS,
// hosts served UNHEALTHY now, and every ejection and return by cluster.
import { Counter, Gauge, type Registry } from "prom-client";
import type { EndpointHealthEvent } from "../xds/host-health.js";

export class HostHealthMetrics {
  readonly loadReports: Counter;
  readonly unhealthy: Gauge<"cluster">;
  readonly changes: Counter<"cluster" | "kind">;
  readonly ejections: Counter<"cluster" | "reason">;

  constructor(registry: Registry, clusters: readonly string[]) {
    const registers = [registry];
    this.loadReports = new Counter({ name: "autoglm_lrs_reports_total", help: "Load reports taken from Envoys over LRS (reports with per-endpoint counts).", registers });
    this.unhealthy = new Gauge({
      name: "autoglm_hosts_ejected",
      help: "Endpoints served as UNHEALTHY over EDS now by mesh-wide host ejection, by cluster.",
      labelNames: ["cluster"],
      registers,
    });
    this.changes = new Counter({
      name: "autoglm_host_ejection_changes_total",
      help: "Host ejection changes by cluster and kind (eject; return: its time served; rollback: the hosts left went bad).",
      labelNames: ["cluster", "kind"],
      registers,
    });
    this.ejections = new Counter({
      name: "autoglm_host_ejections_total",
      help: "Hosts ejected, by cluster and reason (errors: it failed clearly more than its peers; latency: it was clearly slower, judged from its requests in flight).",
      labelNames: ["cluster", "reason"],
      registers,
    });
    for (const cluster of clusters) this.unhealthy.set({ cluster }, 0);
  }

  /** Records one judgement's changes and the endpoints UNHEALTHY after it. */
  judged(events: readonly EndpointHealthEvent[], unhealthy: ReadonlyMap<string, ReadonlySet<string>>, clusters: readonly string[]): void {
    for (const e of events) {
      this.changes.inc({ cluster: e.cluster, kind: e.kind });
      if (e.kind === "eject" && e.reason !== undefined) this.ejections.inc({ cluster: e.cluster, reason: e.reason });
    }
    for (const cluster of clusters) this.unhealthy.set({ cluster }, unhealthy.get(cluster)?.size ?? 0);
  }
}
