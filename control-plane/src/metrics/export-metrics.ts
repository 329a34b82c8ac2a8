// Prometheus metrics of the audit export (GET /v1/audit): exports running, bytes sent, how long
// exports take, and exports refused by a limit (admin.export, ../admin/export-limiter.ts).
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export class ExportMetrics {
  readonly active: Gauge;
  readonly bytes: Counter;
  readonly duration: Histogram<"outcome">;
  readonly refused: Counter<"limit">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.active = new Gauge({ name: "autoglm_audit_exports_active", help: "Audit exports being streamed now.", registers });
    this.bytes = new Counter({ name: "autoglm_audit_export_bytes_total", help: "Bytes of audit exports handed to clients.", registers });
    this.duration = new Histogram({
      name: "autoglm_audit_export_duration_seconds",
      help: "Duration of audit exports, by outcome (done, failed, aborted: the client went away).",
      labelNames: ["outcome"],
      buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      registers,
    });
    this.refused = new Counter({
      name: "autoglm_audit_exports_refused_total",
      help: "Audit exports refused with 429, by the limit that refused them (max_concurrent, max_concurrent_per_client).",
      labelNames: ["limit"],
      registers,
    });
  }
}
