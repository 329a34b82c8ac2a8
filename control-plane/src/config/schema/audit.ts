// The `audit` section: the append-only audit log the control plane restores its state from.
import { objectSchema } from "./common.js";
import { DEFAULTS } from "../defaults.js";

export const AUDIT_SCHEMA = objectSchema("The append-only audit log; the control plane restores its state from it at start.", {
  dir: {
    type: "string",
    minLength: 1,
    description: "Directory of the audit log files, created if missing; it must be writable at start. Absent: no audit log (state is not restored on restart).",
  },
  rotate_bytes: { type: "integer", minimum: 4096, maximum: Number.MAX_SAFE_INTEGER, default: DEFAULTS.auditRotateBytes, description: "A file is rotated once it reaches this size, bytes." },
  snapshot_max_bytes: {
    type: "integer", minimum: 4096, maximum: Number.MAX_SAFE_INTEGER, default: DEFAULTS.snapshotMaxBytes,
    description: "Fault snapshots (kept in the snapshots folder of audit.dir): most bytes all their files hold together; beyond, the oldest are removed.",
  },
  snapshot_max_files: { type: "integer", minimum: 1, maximum: 100_000, default: DEFAULTS.snapshotMaxFiles, description: "Most fault snapshot files kept; beyond, the oldest are removed." },
  // At most 10: a snapshot reads the windows a cluster's status keeps (core/cluster-runtime.ts).
  snapshot_windows_before: { type: "integer", minimum: 1, maximum: 10, default: DEFAULTS.snapshotWindowsBefore, description: "Windows of each cluster a fault snapshot keeps from before its event." },
  snapshot_windows_after: { type: "integer", minimum: 1, maximum: 10, default: DEFAULTS.snapshotWindowsAfter, description: "Windows of the event's cluster a fault snapshot waits for before it is complete." },
});
