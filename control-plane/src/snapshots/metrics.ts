// Metrics of fault snapshots, registered once in the registry given: snapshots written, and
// snapshots lost (a write that failed, e.g. an unwritable directory, or a full queue).
import { Counter, type Registry } from "prom-client";
import type { SnapshotHooks } from "./recorder.js";

export function snapshotMetrics(registry: Registry): SnapshotHooks & { writtenTotal: Counter; failuresTotal: Counter<"reason"> } {
  const writtenTotal = new Counter({ name: "autoglm_snapshot_writes_total", help: "Fault snapshot files written (a snapshot is written at capture and again once complete).", registers: [registry] });
  const failuresTotal = new Counter({
    name: "autoglm_snapshot_failures_total",
    help: "Fault snapshot writes lost, by reason (write: the file could not be written; queue_full: too many waiting).",
    labelNames: ["reason"],
    registers: [registry],
  });
  for (const reason of ["write", "queue_full"]) failuresTotal.inc({ reason }, 0);
  return {
    writtenTotal,
    failuresTotal,
    written: () => writtenTotal.inc(),
    failed: (reason) => failuresTotal.inc({ reason }),
  };
}
